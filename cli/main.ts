import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { Logger } from 'pino';
import { greenhouseReadings, SimulatedEsp32Kit } from '../firmware-sim/index.ts';
import { SerialGateway } from '../gateway/index.ts';
import { KIT_KINDS, type KitKind, KitRegistry, openLabDb, RegistryError } from '../labdb/index.ts';
import { ConfigError, type DeepPartial, loadConfig, type PlatformConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { labDbPath, openStore, type Platform, startPlatform, VERSION } from './platform.ts';

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
    logger.info(
      {
        readingsPerSecond: Math.round(rate),
        kitsOnline: platform.broker.liveKits().filter((kit) => kit.online).length,
        stored: writer.stored,
        spooled: writer.spooled,
        refusedMessages: ingest.refused,
      },
      `ingest ${Math.round(rate)} readings/s · messages stored ${writer.stored}, spooled ${writer.spooled}, refused ${ingest.refused}`,
    );
  }, everySeconds * 1000);
  timer.unref();
  return timer;
}

/** Stops gracefully on SIGINT/SIGTERM (every accepted reading is written or spooled); a second signal forces exit. */
function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: flushing readings to the store');
    stop().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function runPlatform(settings: PlatformConfig): Promise<{ platform: Platform; logger: Logger }> {
  const logger = createLogger(settings.log.level);
  const platform = await startPlatform(settings, logger);
  logger.info(
    {
      http: platform.ports.http,
      mqtt: platform.ports.mqtt,
      store: platform.store.kind,
      dataDir: settings.dataDir,
      sandbox: settings.mqtt.sandbox,
    },
    `platform up: HTTP :${platform.ports.http} (MQTT over WebSocket at /mqtt, API docs at /docs), MQTT :${platform.ports.mqtt}, store ${platform.store.kind}`,
  );
  const statusTimer = reportStatus(platform, logger, settings.log.statusIntervalSeconds);
  stopOnSignals(logger, async () => {
    if (statusTimer) clearInterval(statusTimer);
    await platform.close();
  });
  return { platform, logger };
}

program
  .command('start')
  .description('run the platform: broker, ingest, store and HTTP API')
  .action(async () => {
    await runPlatform(config());
  });

program
  .command('demo')
  .description('run the platform with simulated ESP32 kits publishing, so you can watch data arrive')
  .option('-k, --kits <n>', 'number of simulated kits', '3')
  .action(async (options: { kits: string }) => {
    const settings = config(process.env.IOTLAB_DATA_DIR ? {} : { dataDir: './var/demo' });
    const { platform, logger } = await runPlatform(settings);
    const count = Math.max(1, Math.min(200, Number(options.kits) || 3));
    const viewerSecret = await ensureService(platform.registry, 'demo-viewer');
    const kits: SimulatedEsp32Kit[] = [];
    for (let i = 1; i <= count; i++) {
      const kitId = `demo-esp32-${String(i).padStart(2, '0')}`;
      const secret = await ensureKit(platform.registry, kitId);
      // The last kit connects over WebSocket, as a browser or a kit behind a proxy would.
      const url =
        i === count && count > 1
          ? `ws://127.0.0.1:${platform.ports.http}/mqtt`
          : `mqtt://127.0.0.1:${platform.ports.mqtt}`;
      const kit = new SimulatedEsp32Kit({ kitId, secret, url, readings: greenhouseReadings(i) });
      await kit.start();
      kits.push(kit);
    }
    const base = `http://127.0.0.1:${platform.ports.http}`;
    logger.info(
      `demo: ${count} simulated kits publishing every second. Try:\n` +
        `  curl -u demo-viewer:${viewerSecret} '${base}/api/v1/kits/demo-esp32-01'\n` +
        `  curl -u demo-viewer:${viewerSecret} '${base}/api/v1/kits/demo-esp32-01/telemetry?sensor=temperature'\n` +
        `  IOTLAB_DATA_DIR=${settings.dataDir} npx iotlab query demo-esp32-01 temperature --every 60000\n` +
        `  API docs: ${base}/docs`,
    );
    process.prependListener('SIGINT', () => void Promise.all(kits.map((kit) => kit.stop())));
    process.prependListener('SIGTERM', () => void Promise.all(kits.map((kit) => kit.stop())));
  });

async function ensureKit(registry: KitRegistry, kitId: string): Promise<string> {
  return (await registry.getKit(kitId))
    ? registry.rotateKitSecret(kitId)
    : (await registry.addKit({ id: kitId, name: `Demo kit ${kitId.slice(-2)}`, kind: 'esp32' })).secret;
}

async function ensureService(registry: KitRegistry, name: string): Promise<string> {
  return (await registry.getService(name))
    ? registry.rotateServiceSecret(name)
    : (await registry.addService(name, 'created by iotlab demo')).secret;
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
    const logger = createLogger(settings.log.level);
    const gateway = new SerialGateway({
      service: { name, secret: serviceSecret },
      brokerUrl,
      ports: settings.gateway.ports,
      usbSerials: settings.gateway.usbSerials,
      kitSecrets: settings.gateway.kitSecrets,
      scanUsb: settings.gateway.scanUsb,
      baudRate: settings.gateway.baudRate,
      outboxDir: join(resolve(settings.dataDir), 'gateway-outbox'),
      logger: logger.child({ module: 'gateway' }),
    });
    await gateway.start();
    logger.info({ name, brokerUrl, ports: settings.gateway.ports.map((p) => p.path) }, 'gateway up');
    stopOnSignals(logger, () => gateway.stop());
  });

const services = program.command('services').description('platform accounts (MQTT wildcards, HTTP API)');
services
  .command('add <name>')
  .option('-d, --description <text>', 'what it is for')
  .description('create a service account; prints its secret once')
  .action(async (name: string, options: { description?: string }) => {
    const { secret } = await withRegistry((registry) => registry.addService(name, options.description ?? ''));
    console.log(
      `service ${name} created.\nMQTT username: service:${name}   HTTP: -u ${name}:<secret>\nsecret (shown once): ${secret}`,
    );
  });
services.command('list').action(async () => {
  for (const service of await withRegistry((registry) => registry.listServices())) {
    console.log(`${service.name.padEnd(24)} ${service.description}`);
  }
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
      const store = openStore(config());
      try {
        const to = options.to ? Date.parse(options.to) : Date.now();
        const minutesAgo = /^(\d+)m$/.exec(options.from);
        const from = minutesAgo ? to - Number(minutesAgo[1]) * 60_000 : Date.parse(options.from);
        if (!Number.isFinite(from) || !Number.isFinite(to))
          throw new ConfigError('--from/--to must be ISO times (or --from 30m)');
        const query = { kitId, sensor, from, to, limit: Number(options.limit) };
        if (options.every) {
          for (const w of await store.aggregate({ ...query, every: Number(options.every) })) {
            console.log(
              `${new Date(w.ts).toISOString()}  mean ${w.mean.toFixed(2)}  min ${w.min}  max ${w.max}  n ${w.count}`,
            );
          }
        } else {
          for (const point of await store.readings(query))
            console.log(`${new Date(point.ts).toISOString()}  ${point.value}`);
        }
      } finally {
        await store.close();
      }
    },
  );

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
