import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pino from 'pino';
import {
  type DeepPartial,
  loadConfig,
  type Platform,
  type PlatformConfig,
  startPlatform,
} from '../../cli/index.ts';
import { SERVICE_SCOPES, type ServiceScope } from '../../labdb/index.ts';
import { freshLabDatabase, type TestPostgresDatabase } from './lab-db.ts';

export interface TestPlatform {
  platform: Platform;
  dataDir: string;
  mqttUrl: string;
  wsUrl: string;
  httpUrl: string;
  /** Registers a kit and returns its secret. */
  addKit(id: string): Promise<string>;
  /**
   * Creates a service account (by default with every scope, as a platform's own services have;
   * pass `['read']` for a read-only one); returns its MQTT/HTTP credentials.
   */
  addService(
    name: string,
    scopes?: readonly ServiceScope[],
  ): Promise<{ username: string; name: string; secret: string }>;
  /** Stops the platform (gracefully) and removes its data directory. */
  close(): Promise<void>;
}

/**
 * The real platform (broker, ingest, store, HTTP) on free loopback ports with a temporary data dir.
 * Its lab database is the embedded file, or with IOTLAB_TEST_LAB_DB=postgres (and no
 * `lab.databaseUrl` given) a fresh database on the suite's PostgreSQL (tests/helpers/lab-db.ts).
 */
export async function startTestPlatform(overrides: DeepPartial<PlatformConfig> = {}): Promise<TestPlatform> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'iotlab-test-'));
  const postgres =
    overrides.lab?.databaseUrl === undefined ? await labDatabaseFor(overrides.dataDir) : undefined;
  const config = loadConfig({
    env: {},
    overrides: {
      ...overrides,
      dataDir,
      lab: { ...(postgres ? { databaseUrl: postgres.url } : {}), ...overrides.lab },
      http: { host: '127.0.0.1', port: 0, ...overrides.http },
      mqtt: { host: '127.0.0.1', port: 0, ...overrides.mqtt },
      ingest: { flushIntervalMs: 50, ...overrides.ingest },
      log: { level: 'silent', statusIntervalSeconds: 0, ...overrides.log },
      // Node-RED (one per process) only where a test asks for it: tests/flows.
      flows: { enabled: false, ...overrides.flows },
    },
  });
  let platform: Platform;
  try {
    platform = await startPlatform(config, pino({ level: 'silent' }));
  } catch (error) {
    if (!overrides.dataDir) await postgres?.drop();
    throw error;
  }
  return {
    platform,
    dataDir,
    mqttUrl: `mqtt://127.0.0.1:${platform.ports.mqtt}`,
    wsUrl: `ws://127.0.0.1:${platform.ports.http}/mqtt`,
    httpUrl: `http://127.0.0.1:${platform.ports.http}`,
    async addKit(id) {
      return (await platform.registry.addKit({ id })).secret;
    },
    async addService(name, scopes = SERVICE_SCOPES) {
      const { secret } = await platform.registry.addService(name, '', scopes);
      return { username: `service:${name}`, name, secret };
    },
    async close() {
      await platform.close();
      if (!overrides.dataDir) await postgres?.drop();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A platform restarted on a data dir it was given finds its lab database again (PostgreSQL: the same one). */
const databaseOfDataDir = new Map<string, TestPostgresDatabase>();

async function labDatabaseFor(dataDir: string | undefined): Promise<TestPostgresDatabase | undefined> {
  const known = dataDir === undefined ? undefined : databaseOfDataDir.get(dataDir);
  if (known) return known;
  const fresh = await freshLabDatabase();
  if (fresh && dataDir !== undefined) databaseOfDataDir.set(dataDir, fresh);
  return fresh;
}

/** Connects an MQTT client; rejects with the broker's refusal (e.g. "Bad username or password"). */
export function connect(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
}

/** Collects messages on a topic filter; `next(n)` waits until n have arrived. */
export async function collect(client: MqttClient, filter: string) {
  const messages: { topic: string; payload: Buffer; retain: boolean }[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  client.on('message', (topic, payload, packet) => {
    if (!topicMatches(filter, topic)) return;
    messages.push({ topic, payload, retain: packet.retain });
    for (const waiter of waiters.filter((w) => messages.length >= w.n)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const granted = await client.subscribeAsync(filter, { qos: 1 });
  return {
    granted,
    messages,
    json: () => messages.map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>),
    next(n: number, timeoutMs = 5_000): Promise<void> {
      if (messages.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${n} messages on ${filter}, got ${messages.length}`)),
          timeoutMs,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Polls `check` until it returns true (or throws after `timeoutMs`). */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
