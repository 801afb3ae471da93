import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { FirmataKitError, FirmataPinMapSchema, planFirmataPinMap } from '../gateway/index.ts';
import { labDatabaseUrlProblem } from '../labdb/index.ts';

/**
 * The platform's settings: one schema with defaults, read from an optional JSON file and then
 * overridden key by key from the environment (`IOTLAB_<SECTION>_<KEY>`, e.g. IOTLAB_HTTP_PORT,
 * IOTLAB_STORE_INFLUX_URL). Validated at start; an error names the bad key.
 */
const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({
      default: './var',
      description: 'Where the lab database, the embedded store and the spool live',
    }),
    lab: Type.Object(
      {
        timeZone: Type.String({
          default: 'Asia/Shanghai',
          description: "The college's IANA time zone: times in grade exports are in it",
        }),
        databaseUrl: Type.String({
          default: '',
          description:
            'The lab database (people, projects, classes, grades, kits): postgres://user:password@host:5432/database for PostgreSQL; empty: the embedded SQLite file <dataDir>/lab.sqlite',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    cluster: Type.Object(
      {
        redisUrl: Type.String({
          default: '',
          description:
            'redis://host:6379: several platform instances act as one MQTT broker (routing, retained messages, wills, sessions in Redis); needs store.influx.url and lab.databaseUrl. Empty: one process',
        }),
        heartbeatSeconds: Type.Number({
          default: 6,
          minimum: 0.5,
          maximum: 60,
          description:
            'How often an instance tells the others it is alive. One that stops for 2.5 × this counts as gone: its kits no longer keep their status online, and 3–7 × this after it stopped, the last wills of its clients are published (those that did not reconnect elsewhere)',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    http: Type.Object(
      {
        host: Type.String({ default: '0.0.0.0' }),
        port: { ...Port, default: 8080 },
        trustProxy: Type.String({
          default: '',
          description:
            "Load balancers in front (addresses or CIDR ranges, comma-separated, e.g. '10.0.0.5' or '10.0.0.0/24') whose X-Forwarded-For names the client: sign-in limits and the audit then see each person's own address, not the proxy's. Empty: no proxy is trusted",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    mqtt: Type.Object(
      {
        host: Type.String({ default: '0.0.0.0' }),
        port: { ...Port, default: 1883 },
        plainPort: Type.Boolean({
          default: true,
          description:
            'Serve unencrypted MQTT on `port` to the network. false (needs tlsCert/tlsKey): kits use TLS or WebSocket over HTTPS only, and the plain port listens on 127.0.0.1 alone, for the flows and the local gateway of this machine',
        }),
        tlsPort: {
          ...Port,
          default: 8883,
          description: 'MQTT over TLS, served when tlsCert and tlsKey are set',
        },
        tlsCert: Type.String({ default: '', description: 'PEM certificate file (also used for HTTPS)' }),
        tlsKey: Type.String({ default: '', description: 'PEM private key file' }),
        sandbox: Type.Boolean({
          default: false,
          description: 'Let anyone connect without credentials under sandboxPrefix/',
        }),
        sandboxPrefix: Type.String({ default: 'sandbox', pattern: '^[a-z][a-z0-9_-]*$' }),
        sandboxMaxRetained: Type.Integer({
          default: 200,
          minimum: 0,
          description:
            'Most retained messages kept under sandboxPrefix/ (any more are delivered but not retained)',
        }),
        sandboxMaxRetainedBytes: Type.Integer({
          default: 4096,
          minimum: 1,
          maximum: 262144,
          description:
            'Largest retained message kept under sandboxPrefix/, topic and payload together (bytes; a larger one is delivered but not retained)',
        }),
        maxPayloadBytes: Type.Integer({
          default: 16384,
          minimum: 256,
          maximum: 262144,
          description:
            'Largest payload a kit may publish (bytes). Any MQTT packet larger than this + 1028 bytes (topic and headers), and a CONNECT over 4096 bytes, closes the connection as soon as its header arrives',
        }),
        keepaliveLimit: Type.Integer({
          default: 300,
          minimum: 1,
          description:
            'Idle limit (s): a client silent for more than 1.5 × this is disconnected, whatever keep-alive it asked for (every keep-alive, 0 included, is accepted)',
        }),
        credentialRecheckSeconds: Type.Number({
          default: 30,
          minimum: 0.1,
          description:
            "How often MQTT connections are checked against current credentials: people's logins (ended ones are disconnected) and kit secrets rotated or revoked by another process, e.g. the CLI (s)",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    store: Type.Object(
      {
        retentionDays: Type.Integer({
          default: 365,
          minimum: 0,
          description: 'Embedded store: delete older readings (0 keeps all)',
        }),
        influx: Type.Object(
          {
            url: Type.String({
              default: '',
              description: 'Set to use InfluxDB instead of the embedded store',
            }),
            apiVersion: Type.Union([Type.Literal(1), Type.Literal(2)], {
              default: 2,
              description: '1 for InfluxDB 1.x, 2 for InfluxDB 2.x and 3.x',
            }),
            token: Type.String({ default: '' }),
            org: Type.String({ default: '' }),
            bucket: Type.String({ default: 'iotlab' }),
            database: Type.String({ default: 'iotlab' }),
            retentionPolicy: Type.String({ default: '' }),
            username: Type.String({ default: '' }),
            password: Type.String({ default: '' }),
            compressResponses: Type.Boolean({
              default: false,
              description:
                'Ask InfluxDB for gzipped query answers: ~5× fewer bytes but slower on a fast network (the server compresses); worth it below ~50 Mbit/s',
            }),
            compressWrites: Type.Boolean({
              default: false,
              description:
                'Gzip the readings written to InfluxDB: ~5× fewer bytes but more CPU on both sides; worth it on a link slower than the write rate (a flood of 250,000 readings/s is ~160 Mbit/s uncompressed)',
            }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    ingest: Type.Object(
      {
        maxFutureSeconds: Type.Integer({ default: 300, minimum: 0 }),
        maxPastHours: Type.Integer({ default: 168, minimum: 1 }),
        batchSize: Type.Integer({ default: 5000, minimum: 1 }),
        flushIntervalMs: Type.Integer({ default: 200, minimum: 1 }),
        maxSensorsPerKit: Type.Integer({
          default: 64,
          minimum: 1,
          description:
            'Most distinct series one kit may have: its sensors plus one per event name and command name (further new names are dropped with SENSOR_LIMIT)',
        }),
        externalBrokerUrl: Type.String({
          default: '',
          description: 'Also ingest from this broker (e.g. mqtt://mosquitto:1883)',
        }),
        externalBrokerUsername: Type.String({ default: '' }),
        externalBrokerPassword: Type.String({ default: '' }),
      },
      { default: {}, additionalProperties: false },
    ),
    gateway: Type.Object(
      {
        enabled: Type.Boolean({
          default: false,
          description: '`iotlab start` also runs the serial gateway on this machine',
        }),
        name: Type.String({
          default: 'local-gateway',
          pattern: '^[a-z][a-z0-9-]{1,47}$',
          description: 'The gateway service account (it connects USB kits as <kit>@<name>)',
        }),
        brokerUrl: Type.String({
          default: '',
          description: '`iotlab gateway`: the platform broker, e.g. mqtt://lab-server:1883',
        }),
        serviceSecret: Type.String({
          default: '',
          description: '`iotlab gateway`: the secret of the service account `name`',
        }),
        scanUsb: Type.Boolean({
          default: true,
          description: 'Open USB ports of known boards (needs udevadm)',
        }),
        baudRate: Type.Integer({ default: 115200, minimum: 300 }),
        ports: Type.Array(
          Type.Object(
            {
              path: Type.String({ minLength: 1 }),
              kitId: Type.Optional(Type.String()),
              baudRate: Type.Optional(Type.Integer({ minimum: 300 })),
              mode: Type.Optional(Type.Union([Type.Literal('lines'), Type.Literal('firmata')])),
              pinMap: Type.Optional(FirmataPinMapSchema),
              sampleIntervalMs: Type.Optional(Type.Integer({ minimum: 20 })),
            },
            { additionalProperties: false },
          ),
          { default: [], description: 'Ports to watch (JSON, or comma-separated paths in the environment)' },
        ),
        usbSerials: Type.Record(Type.String(), Type.String(), {
          default: {},
          description: '`iotlab gateway`: USB serial number → kit id (`iotlab start` reads the registry)',
        }),
        kitSecrets: Type.Record(Type.String(), Type.String(), {
          default: {},
          description: 'Kits that connect with their own secret instead of the gateway account',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    flows: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'Serve the Node-RED editor at /flows and run its flows (`iotlab start`)',
        }),
        studentAccess: Type.Union([Type.Literal('none'), Type.Literal('read')], {
          default: 'read',
          description: 'Students in the flow editor: none, or read (see flows, change nothing)',
        }),
        serviceName: Type.String({
          default: 'node-red',
          pattern: '^[a-z][a-z0-9-]{1,47}$',
          description: 'The service account the flows use on the broker (MQTT username service:<name>)',
        }),
        credentialSecret: Type.String({
          default: '',
          description: "Encrypts the flows' credentials; empty: generated and kept in <dataDir>/node-red",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    grading: Type.Object(
      {
        sweepSeconds: Type.Integer({
          default: 10,
          minimum: 0,
          description:
            'How often ended attempts that have no grade yet are graded (after a restart, another instance); 0 turns automatic grading off',
        }),
        settleMs: Type.Integer({
          default: 2_000,
          minimum: 1,
          description:
            'How long after its end an attempt is graded: its last readings must be stored by then (more than ingest.flushIntervalMs)',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    log: Type.Object(
      {
        json: Type.Boolean({
          default: false,
          description: 'JSON lines even on a terminal (off a terminal they are JSON anyway)',
        }),
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
          { default: 'info' },
        ),
        statusIntervalSeconds: Type.Integer({
          default: 10,
          minimum: 0,
          description: 'Status line period (0: off)',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type PlatformConfig = Static<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `http.port` → `IOTLAB_HTTP_PORT`; `store.influx.apiVersion` → `IOTLAB_STORE_INFLUX_API_VERSION`. */
export function envName(path: string[]): string {
  return `IOTLAB_${path.map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

function applyEnv(
  target: Record<string, unknown>,
  schema: TObject,
  env: NodeJS.ProcessEnv,
  path: string[],
): void {
  for (const [key, child] of Object.entries(schema.properties) as [string, TSchema][]) {
    const here = [...path, key];
    if (child.type === 'object' && !child.patternProperties) {
      target[key] ??= {};
      const nested = target[key] as Record<string, unknown>;
      applyEnv(nested, child as TObject, env, here);
      continue;
    }
    const raw = env[envName(here)];
    if (raw === undefined) continue;
    if (child.type === 'array' || (child.type === 'object' && child.patternProperties)) {
      target[key] = parseStructured(envName(here), raw, child.type === 'array');
      continue;
    }
    const wantsNumber =
      child.type === 'integer' || child.type === 'number' || child.anyOf?.[0]?.type === 'number';
    if (child.type === 'boolean') {
      if (!/^(true|false|1|0)$/i.test(raw)) {
        throw new ConfigError(`${envName(here)}="${raw}" must be true or false`);
      }
      target[key] = /^(true|1)$/i.test(raw);
    } else if (wantsNumber) {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) {
        throw new ConfigError(`${envName(here)}="${raw}" must be a number`);
      }
      target[key] = value;
    } else target[key] = raw;
  }
}

/** Lists and maps from the environment: JSON, or for lists of ports simply comma-separated paths. */
function parseStructured(name: string, raw: string, isList: boolean): unknown {
  const text = raw.trim();
  if (isList && !text.startsWith('[')) {
    return text === '' ? [] : text.split(',').map((path) => ({ path: path.trim() }));
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${name} must be JSON: ${(error as Error).message}`);
  }
}

export interface LoadConfigOptions {
  /** JSON file; defaults to $IOTLAB_CONFIG, else ./iotlab.config.json when present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last (the CLI's flags, the demo's choices). */
  overrides?: DeepPartial<PlatformConfig>;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

function merge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      target[key] ??= {};
      const nested = target[key] as Record<string, unknown>;
      merge(nested, value as Record<string, unknown>);
    } else if (value !== undefined) target[key] = value;
  }
}

/**
 * Firmata pin maps are checked by the gateway's own rules before the schema is: a problem then
 * reads as the gateway words it (every problem, each naming its pin) instead of TypeBox's
 * "Expected union value".
 */
function checkPinMaps(config: unknown): void {
  const ports = (config as { gateway?: { ports?: unknown } }).gateway?.ports;
  if (!Array.isArray(ports)) return;
  ports.forEach((port: unknown, index) => {
    const pinMap = (port as { pinMap?: unknown } | null)?.pinMap;
    if (pinMap === undefined) return;
    try {
      planFirmataPinMap(pinMap);
    } catch (error) {
      if (!(error instanceof FirmataKitError)) throw error;
      throw new ConfigError(
        `invalid setting gateway.ports.${index}.pinMap (env ${envName(['gateway', 'ports'])}): ${error.message}`,
      );
    }
  });
}

export function loadConfig(options: LoadConfigOptions = {}): PlatformConfig {
  const env = options.env ?? process.env;
  const file =
    options.file ??
    env.IOTLAB_CONFIG ??
    (existsSync('iotlab.config.json') ? 'iotlab.config.json' : undefined);
  let raw: Record<string, unknown> = {};
  if (file) {
    try {
      raw = JSON.parse(readFileSync(resolve(file), 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
    }
  }
  applyEnv(raw, ConfigSchema, env, []);
  if (options.overrides) merge(raw, options.overrides as Record<string, unknown>);
  const config = Value.Default(ConfigSchema, raw);
  checkPinMaps(config);
  const [first] = Value.Errors(ConfigSchema, config);
  if (first) {
    const key = first.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    const path = key.split('.');
    throw new ConfigError(
      `invalid setting ${key} (env ${envName(path)}): ${first.message}${first.value !== undefined ? `, got ${JSON.stringify(first.value)}` : ''}`,
    );
  }
  const checked = config as PlatformConfig;
  try {
    new Intl.DateTimeFormat('en', { timeZone: checked.lab.timeZone });
  } catch {
    throw new ConfigError(
      `lab.timeZone (env IOTLAB_LAB_TIME_ZONE) "${checked.lab.timeZone}" is not a time zone: use an IANA name such as Asia/Shanghai`,
    );
  }
  const databaseUrlProblem = labDatabaseUrlProblem(checked.lab.databaseUrl);
  if (databaseUrlProblem) {
    throw new ConfigError(`lab.databaseUrl (env IOTLAB_LAB_DATABASE_URL): ${databaseUrlProblem}`);
  }
  if ((checked.mqtt.tlsCert === '') !== (checked.mqtt.tlsKey === '')) {
    throw new ConfigError('mqtt.tlsCert and mqtt.tlsKey must be set together');
  }
  if (!checked.mqtt.plainPort && checked.mqtt.tlsCert === '') {
    throw new ConfigError(
      'mqtt.plainPort (env IOTLAB_MQTT_PLAIN_PORT) can be false only with mqtt.tlsCert and mqtt.tlsKey set: kits would have no MQTT port',
    );
  }
  if (
    checked.store.influx.url !== '' &&
    checked.store.influx.apiVersion === 2 &&
    checked.store.influx.token === ''
  ) {
    throw new ConfigError('store.influx.token (env IOTLAB_STORE_INFLUX_TOKEN) is required with apiVersion 2');
  }
  checkCluster(checked);
  if (checked.grading.settleMs <= checked.ingest.flushIntervalMs) {
    throw new ConfigError(
      `grading.settleMs (env IOTLAB_GRADING_SETTLE_MS) ${checked.grading.settleMs} must be more than ingest.flushIntervalMs (env IOTLAB_INGEST_FLUSH_INTERVAL_MS) ${checked.ingest.flushIntervalMs}: an attempt would be graded before its last readings are stored`,
    );
  }
  return checked;
}

/**
 * Cluster mode (`cluster.redisUrl`): every instance must see the same lab and the same telemetry,
 * so the embedded stores, files in one instance's data dir, are refused.
 */
function checkCluster(config: PlatformConfig): void {
  const url = config.cluster.redisUrl;
  if (url === '') return;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new ConfigError(
      'cluster.redisUrl (env IOTLAB_CLUSTER_REDIS_URL) must be a redis:// or rediss:// URL, e.g. redis://10.0.0.5:6379',
    );
  }
  const missing = [
    ...(config.store.influx.url === ''
      ? [
          'store.influx.url (env IOTLAB_STORE_INFLUX_URL): telemetry in InfluxDB instead of the embedded store',
        ]
      : []),
    ...(config.lab.databaseUrl === ''
      ? [
          'lab.databaseUrl (env IOTLAB_LAB_DATABASE_URL): the lab database on PostgreSQL instead of the embedded SQLite file',
        ]
      : []),
  ];
  if (missing.length > 0) {
    throw new ConfigError(
      `cluster.redisUrl is set, so every instance must share its stores; the embedded ones are per instance. Set ${missing.join('; and ')}`,
    );
  }
}
