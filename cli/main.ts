import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { Logger } from 'pino';
import { findSocat, loadScenario, type Scenario, Simulation, scenarioNames } from '../firmware-sim/index.ts';
import { SerialGateway } from '../gateway/index.ts';
import { ApiError, People, ROLES, type Role } from '../lab-api/index.ts';
import {
  DEFAULT_SERVICE_SCOPES,
  KIT_KINDS,
  type KitKind,
  KitRegistry,
  openLabDb,
  RegistryError,
  SERVICE_SCOPES,
  type ServiceScope,
} from '../labdb/index.ts';
import { kitTopic } from '../protocol/index.ts';
import type { TelemetryStore } from '../telemetry/index.ts';
import { ConfigError, type DeepPartial, loadConfig, type PlatformConfig } from './config.ts';
import { DEMO_ALARM_KIT, deployDemoFlows, FLOW_TASK_TITLE, seedFlowTask } from './demo-flows.ts';
import { demoKitName, seedDemoLab, startDemoSession } from './demo-seed.ts';
import { runDoctor } from './doctor.ts';
import type { Lifecycle } from './lifecycle.ts';
import { createLogger } from './logger.ts';
import { gatewayOptions, labDbPath, openStore, type Platform, startPlatform, VERSION } from './platform.ts';

const program = new Command('iotlab')
  .description('IoT Industry College training-lab platform')
  .version(VERSION)
  .option('-c, --config <file>', 'JSON config file (default: $IOTLAB_CONFIG or ./iotlab.config.json)');

function config(overrides: DeepPartial<PlatformConfig> = {}): PlatformConfig {
  const file = program.opts<{ config?: string }>().config;
  return loadConfig({ ...(file ? { file } : {}), overrides });
}

/** Runs `work` with the kit registry of the configured lab database. */
async function withRegistry<T>(work: (registry: KitRegistry) => Promise<T>): Promise<T> {
  const db = openLabDb(labDbPath(config()));
  try {
    return await work(new KitRegistry(db));
  } finally {
    await db.close();
  }
}

function reportStatus(platform: Platform, logger: Logger, everySeconds: number): NodeJS.Timeout | undefined {
  if (everySeconds <= 0) return undefined;
  let lastReadings = platform.ingest.stats.readings;
  const timer = setInterval(() => {
    const ingest = platform.ingest.stats;
    const writer = platform.writer.stats;
    const rate = (ingest.readings - lastReadings) / everySeconds;
    lastReadings = ingest.readings;
    const kitsOnline = platform.broker.liveKits().filter((kit) => kit.online).length;
    // One line a person can read at a glance; the same numbers as fields for JSON logs.
    logger.info(
      {
        readingsPerSecond: Math.round(rate),
        kitsOnline,
        stored: writer.stored,
        spooled: writer.spooled,
        refusedMessages: ingest.refused,
      },
      `status: ${kitsOnline} ${kitsOnline === 1 ? 'kit' : 'kits'} online · ${Math.round(rate)} readings/s · messages stored ${writer.stored}, spooled ${writer.spooled}, refused ${ingest.refused}`,
    );
  }, everySeconds * 1000);
  timer.unref();
  return timer;
}

/** Signals this close after the first are the same request delivered twice. */
const DUPLICATE_SIGNAL_MS = 1_000;
/** How long a stop runs before it says what it waits for (and again as often while it waits). */
const SLOW_STOP_WARNING_MS = 10_000;

/**
 * Stops gracefully on SIGINT/SIGTERM (every accepted reading is written or spooled) and says
 * "stopped" last; a second signal forces exit.
 */
function stopOnSignals(
  logger: Logger,
  stop: () => Promise<void>,
  signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'],
  waitingFor: () => string | undefined = () => undefined,
): void {
  let stoppingSince: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // One Ctrl-C can arrive twice (a wrapper such as `timeout` passes it on to the process
      // group the terminal already signalled): only a later one is a person asking again.
      if (Date.now() - stoppingSince < DUPLICATE_SIGNAL_MS) return;
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stoppingSince = Date.now();
    logger.info({ signal }, 'stopping: flushing readings to the store');
    // A stop that takes long says what it waits for (nothing is cut short: readings come first).
    const slow = setInterval(() => {
      const step = waitingFor();
      logger.warn(
        { seconds: Math.round((Date.now() - (stoppingSince ?? Date.now())) / 1000) },
        `still stopping: waiting for ${step ?? 'the platform to start'} (Ctrl-C again exits now)`,
      );
    }, SLOW_STOP_WARNING_MS);
    slow.unref();
    stop().then(
      () => {
        clearInterval(slow);
        logger.info('stopped');
        process.exit(0);
      },
      (error: Error) => {
        clearInterval(slow);
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
}

/**
 * The simulator's socat processes run in a session of their own (a Ctrl-C must not pull the
 * simulated cables before the gateway lets go of them), so a closed terminal does not reach them:
 * the commands that simulate stop on its hang-up too, and stop socat with everything else.
 */
const SIMULATING_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Runs the platform (with the demo's simulated kits, stopped after the gateway) until a signal stops it. */
async function runPlatform(
  settings: PlatformConfig,
  simulation?: Simulation,
): Promise<{ platform: Platform; logger: Logger }> {
  const logger = createLogger(settings.log.level, settings.log.json ? { pretty: false } : {});
  // Signals are heard from the start: a SIGTERM while the platform still starts (Node-RED takes a
  // second or two, and kits may already be publishing) waits for the start, then stops in order.
  let statusTimer: NodeJS.Timeout | undefined;
  const starting = startPlatform(settings, logger);
  let lifecycle: Lifecycle | undefined;
  stopOnSignals(
    logger,
    async () => {
      const platform = await starting;
      lifecycle = platform.lifecycle;
      if (statusTimer) clearInterval(statusTimer);
      // The gateway lets go of its serial ports before simulated boards behind them go away (a
      // planned stop, not an unplug); platform.close() then finds it stopped.
      await lifecycle.run('the serial gateway', () => platform.gateway?.stop());
      await lifecycle.run('the simulated kits', () => simulation?.stop());
      await platform.close();
    },
    simulation ? SIMULATING_SIGNALS : undefined,
    () => lifecycle?.current,
  );
  const platform = await starting;
  logger.info(
    {
      http: platform.ports.http,
      mqtt: platform.ports.mqtt,
      store: platform.store.kind,
      dataDir: settings.dataDir,
      sandbox: settings.mqtt.sandbox,
      gateway: settings.gateway.enabled,
    },
    `platform up: HTTP :${platform.ports.http} (MQTT over WebSocket at /mqtt, API docs at /docs), MQTT :${platform.ports.mqtt}, store ${platform.store.kind}`,
  );
  statusTimer = reportStatus(platform, logger, settings.log.statusIntervalSeconds);
  return { platform, logger };
}

program
  .command('start')
  .description('run the platform: broker, ingest, store and HTTP API (and the serial gateway when enabled)')
  .action(async () => {
    await runPlatform(config());
  });

/** Loads a scenario; without socat, its USB kits are left out (with a note) so the demo still runs. */
function scenarioFor(name: string, log: (message: string) => void): Scenario {
  const scenario = loadScenario(name);
  if (findSocat() || scenario.kits.every((kit) => kit.kind === 'esp32')) return scenario;
  log(
    'socat is not installed: the simulated USB kits (Arduino, Firmata) are left out. apt-get install socat to see them.',
  );
  return { ...scenario, kits: scenario.kits.filter((kit) => kit.kind === 'esp32') };
}

/** Registers the scenario's kits (kind as simulated) and issues fresh secrets to the Wi-Fi ones. */
async function registerScenarioKits(
  registry: KitRegistry,
  scenario: Scenario,
): Promise<Record<string, string>> {
  const secrets: Record<string, string> = {};
  for (const [index, spec] of scenario.kits.entries()) {
    const existing = await registry.getKit(spec.id);
    secrets[spec.id] = existing
      ? await registry.rotateKitSecret(spec.id)
      : (
          await registry.addKit({
            id: spec.id,
            kind: spec.kind,
            name: demoKitName(spec.profile, index + 1),
          })
        ).secret;
  }
  return secrets;
}

program
  .command('demo')
  .description(
    'run the platform with simulated kits of every kind (Wi-Fi, USB, Firmata), so you can watch data arrive',
  )
  .option('-s, --scenario <name|file>', 'scenario of simulated kits', 'demo')
  .action(async (options: { scenario: string }) => {
    const base = config(process.env.IOTLAB_DATA_DIR ? {} : { dataDir: './var/demo' });
    const scenario = scenarioFor(options.scenario, (message) => console.warn(`iotlab demo: ${message}`));
    const simulation = await Simulation.prepare(scenario);
    const settings: PlatformConfig = {
      ...base,
      gateway: {
        ...base.gateway,
        enabled: true,
        ports: [...base.gateway.ports, ...simulation.gatewayPorts()],
      },
    };
    const { platform, logger } = await runPlatform(settings, simulation);
    const secrets = await registerScenarioKits(platform.registry, scenario);
    // The kits start at once: the gateway already has their ports open, and a Firmata board that
    // does not answer within 10 s is reported as a problem (seeding the lab takes longer on a busy PC).
    await simulation.start({
      brokerUrl: `mqtt://127.0.0.1:${platform.ports.mqtt}`,
      credentials: (kitId) => ({ username: kitId, password: secrets[kitId] as string }),
    });
    // Read-only: the printed curl line shows data, and the secret can change nothing.
    const viewerSecret = await ensureService(platform.registry, 'demo-viewer', ['read']);
    const accounts = await seedDemoLab(
      platform.labDb,
      platform.registry,
      scenario.kits.map((kit) => kit.id),
      join(resolve(settings.dataDir), 'demo-accounts.json'),
    );
    const session = await startDemoSession(
      platform.labDb,
      scenario.kits.map((kit) => kit.id),
    );
    // Node-RED (flows/): the curriculum flows on the simulated kits, and a lab task graded on a flow.
    if (platform.flows) {
      await seedFlowTask(platform.labDb);
      await deployDemoFlows(platform.flows);
    }
    const first = scenario.kits[0]?.id ?? 'demo-01';
    const url = `http://127.0.0.1:${platform.ports.http}`;
    const viewer = `-u demo-viewer:${viewerSecret}`;
    // The kit a person can be by hand: the first Wi-Fi kit (its secret is renewed at each start).
    const handKit = scenario.kits.find((kit) => kit.kind === 'esp32')?.id;
    const handPayload = JSON.stringify({ readings: { temperature: 23.5, humidity: 61 } });
    const liveKit = Object.keys(session.attemptIds)[0];
    const kinds = [...new Set(scenario.kits.map((k) => k.kind))].join(', ');
    const lines = [
      `demo: ${scenario.kits.length} simulated kits (${kinds}) from scenario "${scenario.name}". Try:`,
      `  Dashboards (sign in with an account below): ${url}/`,
      `  API docs: ${url}/docs`,
      `Read the kits' data as the read-only service demo-viewer:`,
      `  curl ${viewer} '${url}/api/v1/kits'`,
      `  curl ${viewer} '${url}/api/v1/kits/${first}/telemetry?sensor=temperature'`,
      `  IOTLAB_DATA_DIR=${settings.dataDir} npx iotlab query ${first} temperature`,
      ...(handKit
        ? [
            `Publish as kit ${handKit} yourself (MQTT username ${handKit}, password ${secrets[handKit]}, renewed at each start; topics and payloads: docs/protocol.md):`,
            `  npx mqtt pub -h 127.0.0.1 -p ${platform.ports.mqtt} -i ${handKit}-by-hand -u ${handKit} --password=${secrets[handKit]} -q 1 -t ${kitTopic(handKit, 'telemetry')} -m '${handPayload}'`,
          ]
        : []),
      `Lab accounts (the same at every start, unless someone changed their password; kept in ${join(resolve(settings.dataDir), 'demo-accounts.json')}):`,
      ...accounts.map((a) => `  ${a.role.padEnd(10)} ${a.username.padEnd(14)} ${a.password}`),
      ...(platform.flows
        ? [
            `Node-RED editor: ${url}/flows/ (sign in with a lab account; teacher.chen and mentor.liu edit, students look). The curriculum flows run on the kits; the task "${FLOW_TASK_TITLE}" grades the gas alarm flow by the buzzer commands ${DEMO_ALARM_KIT} receives.`,
          ]
        : []),
      `Lab session ${session.sessionId} is running with ${session.attempts} attempts graded live:`,
      `  curl ${viewer} '${url}/api/v1/sessions/${session.sessionId}/leaderboard'   # the teams' ranking (JSON)`,
      ...(liveKit
        ? [
            `  curl -N ${viewer} '${url}/api/v1/attempts/${session.attemptIds[liveKit]}/live'   # ${liveKit}'s grading as it happens (server-sent events; Ctrl-C ends it)`,
          ]
        : []),
    ];
    logger.info(lines.join('\n'));
  });

program
  .command('sim')
  .description("run a scenario of simulated kits against a platform (this machine's, or --broker)")
  .option('-s, --scenario <name|file>', `scenario: ${scenarioNames().join(', ')}, or a JSON file`, 'demo')
  .option('--broker <url>', 'broker of a remote platform, e.g. mqtt://lab-server:1883')
  .option('--service <name>', 'with --broker: a service account that connects the kits on their behalf')
  .option('--secret <secret>', "with --broker: the service account's secret")
  .action(async (options: { scenario: string; broker?: string; service?: string; secret?: string }) => {
    const settings = config();
    const logger = createLogger(settings.log.level, settings.log.json ? { pretty: false } : {});
    const scenario = scenarioFor(options.scenario, (message) => logger.warn(message));
    let brokerUrl: string;
    let service: { name: string; secret: string };
    let credentials: (kitId: string) => { username: string; password: string };
    if (options.broker) {
      if (!options.service || !options.secret) throw new ConfigError('--broker needs --service and --secret');
      brokerUrl = options.broker;
      service = { name: options.service, secret: options.secret };
      credentials = (kitId) => ({ username: `${kitId}@${service.name}`, password: service.secret });
    } else {
      // This machine's platform: register the kits in its lab database and use fresh secrets.
      brokerUrl = `mqtt://127.0.0.1:${settings.mqtt.port}`;
      const secrets = await withRegistry((registry) => registerScenarioKits(registry, scenario));
      service = {
        name: 'sim-gateway',
        secret: await withRegistry((registry) => ensureService(registry, 'sim-gateway', ['read', 'gateway'])),
      };
      credentials = (kitId) => ({ username: kitId, password: secrets[kitId] as string });
    }
    const simulation = await Simulation.prepare(scenario);
    const gatewayPorts = simulation.gatewayPorts();
    const gateway =
      gatewayPorts.length > 0
        ? new SerialGateway({
            service,
            brokerUrl,
            ports: gatewayPorts,
            scanUsb: false,
            baudRate: 115200,
            outboxDir: join(resolve(settings.dataDir), 'sim-gateway-outbox'),
            logger: logger.child({ module: 'gateway' }),
          })
        : undefined;
    await gateway?.start();
    await simulation.start({ brokerUrl, credentials });
    logger.info({ scenario: scenario.name, kits: scenario.kits.length, brokerUrl }, 'simulation running');
    stopOnSignals(
      logger,
      async () => {
        // The gateway lets go of the ports before the simulated boards behind them go away.
        await gateway?.stop();
        await simulation.stop();
      },
      SIMULATING_SIGNALS,
    );
  });

/** A service account of the demo or simulator, with only the scopes it needs, and a fresh secret. */
function ensureService(
  registry: KitRegistry,
  name: string,
  scopes: readonly ServiceScope[],
): Promise<string> {
  return registry.ensureService(name, 'created by iotlab', scopes);
}

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
  });
kits
  .command('revoke <id>')
  .description('revoke the secret; the kit can no longer connect, its data stays')
  .action(async (id: string) => {
    await withRegistry((registry) => registry.revokeKit(id));
    console.log(`kit ${id} revoked`);
  });
kits
  .command('remove <id>')
  .description('delete the kit from the registry (its stored readings stay)')
  .action(async (id: string) => {
    await withRegistry((registry) => registry.removeKit(id));
    console.log(`kit ${id} removed`);
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

program
  .command('gateway')
  .description('run the serial gateway on this machine (USB kits → the platform broker)')
  .action(async () => {
    const settings = config();
    const { brokerUrl, serviceSecret, name } = settings.gateway;
    if (!brokerUrl || !serviceSecret) {
      throw new ConfigError(
        `the gateway needs gateway.brokerUrl and gateway.serviceSecret (env IOTLAB_GATEWAY_BROKER_URL, IOTLAB_GATEWAY_SERVICE_SECRET): create its account on the platform with "iotlab services add ${name}"`,
      );
    }
    const logger = createLogger(settings.log.level, settings.log.json ? { pretty: false } : {});
    const gateway = new SerialGateway(
      gatewayOptions(settings, { name, secret: serviceSecret }, brokerUrl, logger),
    );
    await gateway.start();
    logger.info({ name, brokerUrl, ports: settings.gateway.ports.map((p) => p.path) }, 'gateway up');
    stopOnSignals(logger, () => gateway.stop());
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
      const db = openLabDb(labDbPath(config()));
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
async function checkQuery(
  settings: PlatformConfig,
  store: TelemetryStore,
  kitId: string,
  sensor: string,
): Promise<void> {
  const sensors = [...(await store.seriesNames(kitId))].sort();
  if (sensors.includes(sensor)) return;
  if (sensors.length === 0) {
    const db = openLabDb(labDbPath(settings));
    const registered = await new KitRegistry(db).kitExists(kitId).finally(() => db.close());
    const lower = kitId.toLowerCase();
    const hint =
      lower !== kitId && (await store.seriesNames(lower)).length > 0
        ? ` (kit ids are lower case: did you mean "${lower}"?)`
        : '';
    throw new ConfigError(
      registered
        ? `kit ${kitId} has not sent any readings yet, so it has no sensor "${sensor}"`
        : `no kit "${kitId}" in the registry or the store${hint}: iotlab kits list shows the registered kits`,
    );
  }
  const lower = sensor.toLowerCase();
  const hint =
    lower !== sensor && sensors.includes(lower)
      ? ` (sensor names are lower case: did you mean "${lower}"?)`
      : '';
  throw new ConfigError(`kit ${kitId} has no sensor "${sensor}"${hint}; its sensors: ${sensors.join(', ')}`);
}

program
  .command('query <kitId> <sensor>')
  .description("print a kit's readings of one sensor from the configured store")
  .option('--from <time>', 'start: ISO time or minutes ago (e.g. 30m)', '60m')
  .option('--to <time>', 'end: ISO time (default now)')
  .option('--every <ms>', 'aggregate in windows of this many ms')
  .option('--limit <n>', 'most points', '1000')
  .action(
    async (
      kitId: string,
      sensor: string,
      options: { from: string; to?: string; every?: string; limit: string },
    ) => {
      const settings = config();
      const to = options.to ? Date.parse(options.to) : Date.now();
      const minutesAgo = /^(\d+)m$/.exec(options.from);
      const from = minutesAgo ? to - Number(minutesAgo[1]) * 60_000 : Date.parse(options.from);
      if (!Number.isFinite(from) || !Number.isFinite(to))
        throw new ConfigError('--from/--to must be ISO times (or --from 30m)');
      const store = openStore(settings);
      try {
        await checkQuery(settings, store, kitId, sensor);
        const query = { kitId, sensor, from, to, limit: Number(options.limit) };
        let printed = 0;
        if (options.every) {
          for (const w of await store.aggregate({ ...query, every: Number(options.every) })) {
            console.log(
              `${new Date(w.ts).toISOString()}  mean ${w.mean.toFixed(2)}  min ${w.min}  max ${w.max}  n ${w.count}`,
            );
            printed++;
          }
        } else {
          for (const point of await store.readings(query)) {
            console.log(`${new Date(point.ts).toISOString()}  ${point.value}`);
            printed++;
          }
        }
        if (printed === 0) {
          console.error(
            `no ${sensor} readings from ${kitId} between ${new Date(from).toISOString()} and ${new Date(to).toISOString()} (look further back with --from, e.g. --from 1440m)`,
          );
        }
      } finally {
        await store.close();
      }
    },
  );

program
  .command('doctor')
  .description('check this machine for the platform: Node.js, data directory, ports, store, TLS files, socat')
  .action(async () => {
    const checks = await runDoctor(config());
    const marks = { ok: '✓', warn: '!', fail: '✗' } as const;
    for (const check of checks) console.log(`${marks[check.status]} ${check.subject}: ${check.detail}`);
    const failed = checks.filter((check) => check.status === 'fail').length;
    console.log(failed ? `${failed} problem(s) to fix before \`iotlab start\`` : 'ready to start');
    if (failed) process.exitCode = 1;
  });

program.parseAsync().catch((error: Error) => {
  if (error instanceof ConfigError || error instanceof RegistryError) {
    console.error(`iotlab: ${error.message}`);
    process.exit(2);
  }
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(
      `iotlab: ${error.message} — another program uses that port; set IOTLAB_HTTP_PORT / IOTLAB_MQTT_PORT`,
    );
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
