/**
 * `iotlab kits`, `users` and `services`: the accounts of kits, people and platform services.
 */
import { randomBytes } from 'node:crypto';
import { type Command, Option } from 'commander';
import { dropKitOnEveryInstance } from '../../cluster/index.ts';
import { ApiError, People, ROLES, type Role } from '../../lab-api/index.ts';
import { DEFAULT_SERVICE_SCOPES, KIT_KINDS, type KitKind, SERVICE_SCOPES } from '../../labdb/index.ts';
import { ConfigError } from '../config.ts';
import { openLabDatabaseFor } from '../platform.ts';
import type { CliContext } from './context.ts';

export function accountCommands(program: Command, { config, withRegistry }: CliContext): void {
  /**
   * A running platform notices a changed kit secret at its next credential recheck; in a cluster
   * every instance drops the kit at once (no single process can be told otherwise).
   */
  const dropKit = async (kitId: string): Promise<string> => {
    const redisUrl = config().cluster.redisUrl;
    if (!redisUrl) return ' (a running platform drops its connections at its next credential recheck)';
    await dropKitOnEveryInstance(redisUrl, kitId);
    return '; its connections were dropped on every instance';
  };
  const kits = program.command('kits').description('register kits and manage their secrets');
  kits
    .command('add <id>')
    .description('register a kit; prints its secret once')
    .option('-n, --name <name>', 'a name people recognise, e.g. "Greenhouse bench 7"')
    .addOption(new Option('-k, --kind <kind>', 'kind of board').choices(KIT_KINDS).default('esp32'))
    .action(async (id: string, options: { name?: string; kind: KitKind }) => {
      const { kit, secret } = await withRegistry((registry) =>
        registry.addKit({ id, kind: options.kind, ...(options.name ? { name: options.name } : {}) }),
      );
      console.log(
        `kit ${kit.id} (${kit.kind}) registered.\nMQTT username: ${kit.id}\nMQTT password (shown once): ${secret}`,
      );
    });
  kits
    .command('list')
    .description('list registered kits')
    .action(async () => {
      const list = await withRegistry((registry) => registry.listKits());
      if (list.length === 0) console.log('no kits yet: iotlab kits add <id>');
      for (const kit of list) {
        console.log(
          `${kit.id.padEnd(24)} ${kit.kind.padEnd(8)} ${kit.active ? 'active ' : 'revoked'} ${kit.name}`,
        );
      }
    });
  kits
    .command('rotate <id>')
    .description('issue a new secret (the old one stops working); prints it once')
    .action(async (id: string) => {
      const secret = await withRegistry((registry) => registry.rotateKitSecret(id));
      console.log(`new secret for ${id} (shown once): ${secret}`);
      console.log(`the old secret stops working${await dropKit(id)}`);
    });
  kits
    .command('revoke <id>')
    .description('revoke the secret; the kit can no longer connect, its data stays')
    .action(async (id: string) => {
      await withRegistry((registry) => registry.revokeKit(id));
      console.log(`kit ${id} revoked${await dropKit(id)}`);
    });
  kits
    .command('remove <id>')
    .description('delete the kit from the registry (its stored readings stay)')
    .action(async (id: string) => {
      await withRegistry((registry) => registry.removeKit(id));
      console.log(`kit ${id} removed${await dropKit(id)}`);
    });

  kits
    .command('bind-usb <id> <usbSerial>')
    .description(
      'bind a kit to its board\'s USB serial number, so the gateway recognises it without a "# kit=" line',
    )
    .action(async (id: string, usbSerial: string) => {
      await withRegistry((registry) => registry.bindUsbSerial(id, usbSerial));
      console.log(`kit ${id} bound to USB serial ${usbSerial}`);
    });
  kits
    .command('unbind-usb <id>')
    .description('remove the USB serial binding')
    .action(async (id: string) => {
      await withRegistry((registry) => registry.bindUsbSerial(id, null));
      console.log(`kit ${id} unbound`);
    });

  const users = program.command('users').description('people: the first admin, and accounts created by hand');
  users
    .command('add <username>')
    .description('create a person; prints a generated password once (they change it after signing in)')
    .addOption(new Option('-r, --role <role>', 'role').choices([...ROLES]).makeOptionMandatory())
    .option('-n, --name <name>', 'display name (default: the username)')
    .option('-o, --organisation <name>', 'organisation by name (an enterprise for mentors)')
    .option('-s, --student-number <number>', '学号, for students')
    .action(
      async (
        username: string,
        options: { role: Role; name?: string; organisation?: string; studentNumber?: string },
      ) => {
        const db = await openLabDatabaseFor(config());
        try {
          const people = new People(db);
          const organisation = options.organisation
            ? (await people.listOrganisations()).find((org) => org.name === options.organisation)
            : undefined;
          if (options.organisation && !organisation)
            throw new ConfigError(`no organisation named "${options.organisation}"`);
          const password = randomBytes(12).toString('base64url');
          const user = await people.createUser(
            { kind: 'service', name: 'cli' },
            {
              username,
              displayName: options.name ?? username,
              role: options.role,
              password,
              organisationId: organisation?.id ?? null,
              studentNumber: options.studentNumber ?? null,
            },
          );
          console.log(`${user.role} ${user.username} created.\npassword (shown once): ${password}`);
        } catch (error) {
          if (error instanceof ApiError) throw new ConfigError(error.message);
          throw error;
        } finally {
          await db.close();
        }
      },
    );

  const services = program.command('services').description('platform accounts (MQTT wildcards, HTTP API)');
  const SCOPES_HELP = `comma-separated, of ${SERVICE_SCOPES.join(', ')}`;
  services
    .command('add <name>')
    .option('-d, --description <text>', 'what it is for')
    .option('-s, --scopes <scopes>', `what it may do (${SCOPES_HELP})`, DEFAULT_SERVICE_SCOPES.join(','))
    .description('create a service account; prints its secret once')
    .action(async (name: string, options: { description?: string; scopes: string }) => {
      const scopes = options.scopes.split(',').map((scope) => scope.trim());
      const { service, secret } = await withRegistry((registry) =>
        registry.addService(name, options.description ?? '', scopes),
      );
      console.log(
        `service ${name} created, scopes: ${service.scopes.join(', ')}.\nMQTT username: service:${name}   HTTP: -u ${name}:<secret>\nsecret (shown once): ${secret}`,
      );
    });
  services.command('list').action(async () => {
    for (const service of await withRegistry((registry) => registry.listServices())) {
      console.log(`${service.name.padEnd(24)} ${service.scopes.join(',').padEnd(34)} ${service.description}`);
    }
  });
  services
    .command('scopes <name> <scopes>')
    .description(`set what a service may do (${SCOPES_HELP})`)
    .action(async (name: string, scopes: string) => {
      const service = await withRegistry((registry) =>
        registry.setServiceScopes(
          name,
          scopes.split(',').map((scope) => scope.trim()),
        ),
      );
      console.log(`service ${name}: ${service.scopes.join(', ')}`);
    });
  services.command('rotate <name>').action(async (name: string) => {
    console.log(
      `new secret for ${name} (shown once): ${await withRegistry((registry) => registry.rotateServiceSecret(name))}`,
    );
  });
  services.command('remove <name>').action(async (name: string) => {
    await withRegistry((registry) => registry.removeService(name));
    console.log(`service ${name} removed`);
  });

  /**
   * A kit the registry does not know and the store has nothing of, or a sensor the kit never sent,
   * is a usage error: say so (with the kit's sensors, and the name in lower case when that is one).
   */
}
