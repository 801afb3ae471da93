import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { createBroker, Ingest, type MqttBroker, startExternalIngest } from '../broker/index.ts';
import { connectCluster, RedisSignInLimits, shareKitStatus, shareLiveGrading } from '../cluster/index.ts';
import { serveDashboards } from '../dashboards/index.ts';
import { FlowsEditor } from '../flows/index.ts';
import { type GatewayOptions, SerialGateway } from '../gateway/index.ts';
import { LiveGrader } from '../grading/index.ts';
import {
  AutomaticGrading,
  buildApp,
  LabLiveSource,
  labSignIn,
  MqttPersonAccess,
  PasswordChecks,
  type Principal,
  RecentKitErrors,
  recordAudit,
} from '../lab-api/index.ts';
import { type KitRegistry, type LabDb, openLabDatabase, KitRegistry as Registry } from '../labdb/index.ts';
import {
  createEmbeddedStore,
  createInfluxStore,
  type TelemetryStore,
  TelemetryWriter,
} from '../telemetry/index.ts';
import { ConfigError, type PlatformConfig } from './config.ts';
import { tuneHeapForServer } from './heap.ts';
import { Lifecycle } from './lifecycle.ts';

export const VERSION = '0.1.0';

export interface Platform {
  config: PlatformConfig;
  labDb: LabDb;
  registry: KitRegistry;
  store: TelemetryStore;
  writer: TelemetryWriter;
  ingest: Ingest;
  broker: MqttBroker;
  /** Live grading of running attempts and competition leaderboards. */
  liveGrader: LiveGrader;
  /** The embedded Node-RED (editor at /flows), when `flows.enabled`. */
  flows?: FlowsEditor;
  /** The serial gateway, when `gateway.enabled` runs it on this machine. */
  gateway?: SerialGateway;
  /** Bound ports (differ from the config when it asked for port 0). */
  ports: { http: number; mqtt: number; mqtts?: number };
  /** Graceful stop: no new connections, every accepted reading written or spooled, then close. */
  close(): Promise<void>;
  /** The parts in their start and stop order; names the stop step that runs (for a stop that takes long). */
  lifecycle: Lifecycle;
}

export function labDbPath(config: PlatformConfig): string {
  return join(resolve(config.dataDir), 'lab.sqlite');
}

/**
 * Opens the configured lab database, for the platform and every CLI command: PostgreSQL when
 * `lab.databaseUrl` is set, else the embedded file in the data dir. A bad URL or a server that
 * cannot be reached is a ConfigError naming the setting.
 */
export async function openLabDatabaseFor(config: PlatformConfig): Promise<LabDb> {
  try {
    return await openLabDatabase({ url: config.lab.databaseUrl, sqlitePath: labDbPath(config) });
  } catch (error) {
    if (config.lab.databaseUrl === '') throw error;
    throw new ConfigError(`lab.databaseUrl (env IOTLAB_LAB_DATABASE_URL): ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Opens the configured telemetry store: InfluxDB when a URL is set, else the embedded one. */
export function openStore(config: PlatformConfig): TelemetryStore {
  const influx = config.store.influx;
  if (influx.url === '') {
    return createEmbeddedStore({
      path: join(resolve(config.dataDir), 'telemetry.sqlite'),
      retentionDays: config.store.retentionDays,
    });
  }
  const { compressResponses, compressWrites } = influx;
  return createInfluxStore(
    influx.apiVersion === 1
      ? {
          url: influx.url,
          apiVersion: 1,
          database: influx.database,
          compressResponses,
          compressWrites,
          ...(influx.retentionPolicy ? { retentionPolicy: influx.retentionPolicy } : {}),
          ...(influx.username ? { username: influx.username, password: influx.password } : {}),
        }
      : {
          url: influx.url,
          apiVersion: 2,
          token: influx.token,
          org: influx.org,
          bucket: influx.bucket,
          compressResponses,
          compressWrites,
        },
  );
}

/** The composition root: opens the stores, starts broker, ingest and HTTP, and stops them in order. */
export async function startPlatform(config: PlatformConfig, logger: Logger): Promise<Platform> {
  tuneHeapForServer();
  const dataDir = resolve(config.dataDir);
  const lifecycle = new Lifecycle();
  try {
    return await startParts(config, logger, dataDir, lifecycle);
  } catch (error) {
    // A start that fails half-way stops what had started (ports, files, the flows' process).
    await lifecycle.stop().catch(() => {});
    throw error;
  }
}

async function startParts(
  config: PlatformConfig,
  logger: Logger,
  dataDir: string,
  lifecycle: Lifecycle,
): Promise<Platform> {
  const labDb = await openLabDatabaseFor(config);
  lifecycle.started('the lab database', () => labDb.close());
  // Cluster mode: the instances share MQTT, live grading's partitions and more through Redis.
  const cluster = config.cluster.redisUrl
    ? await connectCluster(config.cluster.redisUrl, logger.child({ module: 'cluster' }), {
        heartbeatMs: config.cluster.heartbeatSeconds * 1000,
      })
    : undefined;
  if (cluster) lifecycle.started('the cluster connection', () => cluster.close());
  const registry = new Registry(labDb);
  const store = openStore(config);
  lifecycle.started('the telemetry store', () => store.close());
  const writerLog = logger.child({ module: 'writer' });
  const writer = new TelemetryWriter({
    store,
    spoolDir: dataDir,
    batchSize: config.ingest.batchSize,
    flushIntervalMs: config.ingest.flushIntervalMs,
    onEvent(event) {
      if (event.type === 'spooled')
        writerLog.warn(
          { records: event.records, reason: event.reason },
          'store unavailable: readings spooled to disk',
        );
      else if (event.type === 'replayed')
        writerLog.info({ records: event.records }, 'spooled readings written to the store');
      else
        writerLog.error(
          { records: event.records, reason: event.reason, file: event.file },
          'store refused readings for good; kept in the dead-letter file',
        );
    },
  });
  lifecycle.started('writing the last readings', () => writer.close());
  if (writer.stats.spooled > 0)
    writerLog.info({ records: writer.stats.spooled }, 'replaying readings spooled before the last stop');

  const ingestLog = logger.child({ module: 'ingest' });
  const ingest = new Ingest({
    sink: (record) => writer.add(record),
    // A kit's QoS 1 message is acknowledged once its readings are stored or spooled on disk.
    whenDurable: (done) => writer.whenDurable(done),
    maxPayloadBytes: config.mqtt.maxPayloadBytes,
    maxFutureMs: config.ingest.maxFutureSeconds * 1000,
    maxPastMs: config.ingest.maxPastHours * 3_600_000,
    maxSensorsPerKit: config.ingest.maxSensorsPerKit,
    // The series each kit already has, so the cap holds across restarts.
    knownSeries: (kitId) => store.seriesNames(kitId),
    log: ({ kitId, problem, occurrences }) =>
      ingestLog.warn(
        { kitId, code: problem.code, severity: problem.severity, sensor: problem.sensor, occurrences },
        problem.message,
      ),
  });

  const broker = await createBroker({
    credentials: registry,
    ingest,
    // People's browsers (dashboards): `user:<username>` + their login token, subscribe-only.
    people: new MqttPersonAccess(labDb),
    credentialRecheckMs: config.mqtt.credentialRecheckSeconds * 1000,
    maxPayloadBytes: config.mqtt.maxPayloadBytes,
    keepaliveLimit: config.mqtt.keepaliveLimit,
    // Cluster mode: one broker with the other instances (config checks the shared stores).
    ...(cluster ? { cluster: cluster.broker } : {}),
    ...(config.mqtt.sandbox ? { sandboxPrefix: config.mqtt.sandboxPrefix } : {}),
    sandboxRetained: {
      maxMessages: config.mqtt.sandboxMaxRetained,
      maxBytes: config.mqtt.sandboxMaxRetainedBytes,
    },
    logger: logger.child({ module: 'broker' }),
  });
  lifecycle.started('the MQTT broker', () => broker.close());
  // In a cluster, a kit's connection status is the cluster's, whichever instance holds it.
  const kitStatus = cluster
    ? shareKitStatus(cluster.redis, cluster.leases.instanceId, broker, logger.child({ module: 'cluster' }))
    : undefined;
  if (kitStatus) lifecycle.started("sharing kits' status", () => kitStatus.close());

  // Live grading learns about attempts, tasks and teams from the lab database, through its port.
  const liveGrader = new LiveGrader({
    source: new LabLiveSource(labDb),
    store,
    aedes: broker.aedes,
    log: logger.child({ module: 'live-grading' }),
    ...(cluster ? { partitions: cluster.leases, settleMs: config.grading.settleMs } : {}),
  });
  if (cluster) {
    // Records reach the instance that grades their attempt, states every instance's viewers.
    const shared = await shareLiveGrading(
      liveGrader,
      broker.routing,
      ingest,
      logger.child({ module: 'cluster' }),
    );
    lifecycle.started('sharing live grading', () => shared.close());
  } else {
    ingest.addListener((record) => liveGrader.record(record));
  }
  const kitErrors = new RecentKitErrors();
  ingest.addNotifier(kitErrors.add);

  // One limiter for every password check: the API's sign-in and the flow editor's (in a cluster,
  // counted in Redis for every instance; this instance's memory when Redis does not answer).
  const passwordChecks = new PasswordChecks(
    labDb,
    cluster ? new RedisSignInLimits(cluster.redis, { log: logger.child({ module: 'sign-in' }) }) : undefined,
  );
  const tls = config.mqtt.tlsCert
    ? { cert: readFileSync(config.mqtt.tlsCert), key: readFileSync(config.mqtt.tlsKey) }
    : undefined;
  // Ended attempts are graded once their last readings are stored (settleMs > the flush interval).
  const automaticGrading = new AutomaticGrading({
    db: labDb,
    store,
    log: logger.child({ module: 'grading' }),
    sweepMs: config.grading.sweepSeconds * 1000,
    settleMs: config.grading.settleMs,
  });
  const app = await buildApp(
    {
      automaticGrading,
      db: labDb,
      store,
      registry,
      liveStatus: kitStatus
        ? {
            kitStatus: (kitId) => kitStatus.kitStatus(kitId),
            disconnectKit: (kitId) => broker.disconnectKit(kitId),
            disconnectPerson: (username) => broker.disconnectPerson(username),
          }
        : broker,
      liveGrading: liveGrader,
      recentKitErrors: kitErrors,
      mqttOverWebSocket: (stream, request) => broker.handleStream(stream, request),
      // A WebSocket message carries MQTT packets: a full one (payload, topic, headers) and some room.
      mqttMaxMessageBytes: config.mqtt.maxPayloadBytes + 8 * 1024,
      passwordChecks,
      timeZone: config.lab.timeZone,
      stats: () => ({ ingest: ingest.stats, writer: writer.stats }),
      version: VERSION,
      ...(cluster ? { clusterInstance: cluster.leases.instanceId } : {}),
    },
    {
      loggerInstance: logger.child({ module: 'http' }),
      ...(tls ? { https: tls } : {}),
      // Behind HAProxy: the client's address from X-Forwarded-For, sent by the proxies named only.
      ...(config.http.trustProxy ? { trustProxy: config.http.trustProxy } : {}),
    },
  );
  lifecycle.started('the HTTP server', () => app.close());
  // The web app (dashboards/dist) at `/`, outside /api, /docs, /mqtt and /flows.
  await serveDashboards(app);

  // Node-RED (flows/): mounted before the server listens, started once the broker does.
  const flows = config.flows.enabled
    ? await mountFlows(config, app, labDb, passwordChecks, logger)
    : undefined;
  if (flows) lifecycle.started('the flows (Node-RED)', () => flows.stop());

  const ports: Platform['ports'] = { http: 0, mqtt: 0 };
  // Without the plain port, plain MQTT stays on loopback for this machine's flows and gateway.
  ports.mqtt = await broker.listen({
    port: config.mqtt.port,
    host: config.mqtt.plainPort ? config.mqtt.host : '127.0.0.1',
  });
  if (tls) ports.mqtts = await broker.listen({ port: config.mqtt.tlsPort, host: config.mqtt.host, tls });
  await app.listen({ port: config.http.port, host: config.http.host });
  const address = app.server.address();
  ports.http = typeof address === 'object' && address ? address.port : config.http.port;
  if (config.ingest.externalBrokerUrl) {
    const external = await startExternalIngest({
      url: config.ingest.externalBrokerUrl,
      ...(config.ingest.externalBrokerUsername ? { username: config.ingest.externalBrokerUsername } : {}),
      ...(config.ingest.externalBrokerPassword ? { password: config.ingest.externalBrokerPassword } : {}),
      ingest,
      kitExists: (kitId) => registry.kitExists(kitId),
    });
    lifecycle.started('ingest from the external broker', () => external.close());
    logger.info({ url: config.ingest.externalBrokerUrl }, 'ingesting from the external broker');
  }
  liveGrader.start();
  lifecycle.started('live grading', () => liveGrader.close());
  automaticGrading.start();
  lifecycle.started('automatic grading', () => automaticGrading.close());
  lifecycle.started('the sign-in token purge', purgeEveryHour(passwordChecks, logger));
  if (flows) await startFlows(flows, config, registry, ports.mqtt);

  let gateway: SerialGateway | undefined;
  if (config.gateway.enabled) {
    const local = await startLocalGateway(config, registry, ports.mqtt, logger);
    gateway = local.gateway;
    lifecycle.started('the serial gateway', () => {
      clearInterval(local.bindingsTimer);
      return local.gateway.stop();
    });
  }

  return {
    config,
    labDb,
    registry,
    store,
    writer,
    ingest,
    broker,
    liveGrader,
    ports,
    ...(gateway ? { gateway } : {}),
    ...(flows ? { flows } : {}),
    lifecycle,
    close: () => lifecycle.stop(),
  };
}

/** Deletes expired sign-in tokens and long-unused devices now and every hour; returns the stop. */
function purgeEveryHour(passwordChecks: PasswordChecks, logger: Logger): () => void {
  const purge = () =>
    passwordChecks.purge().catch((error: Error) => logger.warn({ err: error.message }, 'token purge failed'));
  void purge();
  const timer = setInterval(purge, 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The gateway inside `iotlab start` (one-machine install): it gets a fresh secret for its service
 * account at each start, connects to this platform's broker over loopback, and follows the
 * registry's USB bindings.
 */
async function startLocalGateway(
  config: PlatformConfig,
  registry: KitRegistry,
  mqttPort: number,
  logger: Logger,
): Promise<{ gateway: SerialGateway; bindingsTimer: NodeJS.Timeout }> {
  const { name } = config.gateway;
  const secret = await registry.ensureService(name, 'serial gateway of this machine', ['read', 'gateway']);
  const gateway = new SerialGateway(
    gatewayOptions(
      config,
      { name, secret },
      `mqtt://127.0.0.1:${mqttPort}`,
      logger,
      await registry.usbBindings(),
    ),
  );
  await gateway.start();
  const bindingsTimer = setInterval(() => {
    registry.usbBindings().then(
      (bindings) => gateway.setUsbSerials(bindings),
      () => {},
    );
  }, 5_000);
  bindingsTimer.unref();
  return { gateway, bindingsTimer };
}

/** The gateway's settings from the platform configuration (for `iotlab start` and `iotlab gateway`). */
export function gatewayOptions(
  config: PlatformConfig,
  service: { name: string; secret: string },
  brokerUrl: string,
  logger: Logger,
  usbSerials: Record<string, string> = config.gateway.usbSerials,
): GatewayOptions {
  return {
    service,
    brokerUrl,
    ports: config.gateway.ports,
    usbSerials,
    kitSecrets: config.gateway.kitSecrets,
    scanUsb: config.gateway.scanUsb,
    baudRate: config.gateway.baudRate,
    outboxDir: join(resolve(config.dataDir), 'gateway-outbox'),
    logger: logger.child({ module: 'gateway' }),
  };
}

/**
 * Node-RED for the platform: its runtime in a process of its own, the editor served from the HTTP
 * app at /flows (lab accounts, the API's password limiter), its userDir under dataDir.
 */
async function mountFlows(
  config: PlatformConfig,
  app: Parameters<typeof FlowsEditor.mount>[0]['app'],
  labDb: LabDb,
  passwordChecks: PasswordChecks,
  logger: Logger,
): Promise<FlowsEditor> {
  return FlowsEditor.mount({
    app,
    userDir: join(resolve(config.dataDir), 'node-red'),
    // Outside userDir: the flows' process may write there.
    settingsFile: join(resolve(config.dataDir), 'flows-settings.json'),
    labSignIn: labSignIn(labDb, passwordChecks),
    studentAccess: config.flows.studentAccess,
    credentialSecret: config.flows.credentialSecret,
    audit: (actor, change) => recordAudit(labDb, actor as Principal, change),
    log: logger.child({ module: 'flows' }),
  });
}

/**
 * Starts the flows with their own service account on this broker (a fresh secret at each start,
 * as for the local gateway), and, when the store is InfluxDB and its nodes are installed, an
 * InfluxDB config node from the store settings.
 */
async function startFlows(
  flows: FlowsEditor,
  config: PlatformConfig,
  registry: KitRegistry,
  mqttPort: number,
): Promise<void> {
  const name = config.flows.serviceName;
  // The curriculum's flows derive sensors, raise events and command kits; they read everything.
  const secret = await registry.ensureService(name, 'Node-RED flows of this platform', [
    'read',
    'publish',
    'command',
  ]);
  await flows.start({ host: '127.0.0.1', port: mqttPort, username: `service:${name}`, password: secret });
  if (config.store.influx.url) await flows.configureInflux(config.store.influx);
}
