/**
 * Ingest benchmark (`npm run bench`; never part of `npm test`). Simulated kits publish over MQTT
 * into the platform running as its own process; one JSON line per run:
 * - throughput: kits flood QoS 1 telemetry; readings/s stored, readings lost, platform CPU and RSS;
 * - latency: a steady 5,000 readings/s; p50/p99 from publish to queryable in the store;
 * - mosquitto: the same flood into Mosquitto (configured for zero loss) with one plain subscriber,
 *   and our broker's fan-in throughput as a ratio of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import {
  createInfluxDatabase,
  freePort,
  type RunningServer,
  serverAvailable,
  startInfluxd,
  startMosquitto,
} from '../harness/index.ts';
import { openLabDb } from '../labdb/index.ts';
import { allKitsTopic } from '../protocol/index.ts';
import { createEmbeddedStore, createInfluxStore, type TelemetryStore } from '../telemetry/index.ts';
import {
  connectKits,
  disconnect,
  flood,
  percentile,
  registerKits,
  SENSORS_PER_MESSAGE,
  steady,
  totalStored,
} from './load.ts';
import { processUsage, startPlatformProcess } from './platform-process.ts';
import { emitResult, sleep } from './report.ts';

export interface IngestBenchOptions {
  kits: number;
  seconds: number;
  /** QoS 1 messages each kit keeps in flight (unacknowledged). */
  window: number;
  stores: ('embedded' | 'influxdb')[];
  mosquitto: boolean;
}

const DAY = 86_400_000;

const emit = (result: Record<string, unknown>) => emitResult('ingest', result);

interface StoreUnderTest {
  name: 'embedded' | 'influxdb';
  env: Record<string, string>;
  open(): TelemetryStore;
  stop(): Promise<void>;
}

async function prepareStore(name: 'embedded' | 'influxdb', dataDir: string): Promise<StoreUnderTest> {
  if (name === 'embedded') {
    return {
      name,
      env: {},
      open: () => createEmbeddedStore({ path: join(dataDir, 'telemetry.sqlite'), retentionDays: 0 }),
      stop: async () => {},
    };
  }
  const influx: RunningServer = await startInfluxd();
  await createInfluxDatabase(influx.url, 'bench');
  return {
    name,
    env: {
      IOTLAB_STORE_INFLUX_URL: influx.url,
      IOTLAB_STORE_INFLUX_API_VERSION: '1',
      IOTLAB_STORE_INFLUX_DATABASE: 'bench',
    },
    open: () => createInfluxStore({ url: influx.url, apiVersion: 1, database: 'bench' }),
    stop: () => influx.stop(),
  };
}

async function runStore(
  name: 'embedded' | 'influxdb',
  opts: IngestBenchOptions,
): Promise<number | undefined> {
  const dataDir = mkdtempSync(join(tmpdir(), `iotlab-bench-${name}-`));
  const target = await prepareStore(name, dataDir);
  const floodKits = await registerKits(openLabDb(join(dataDir, 'lab.sqlite')), 'flood', opts.kits);
  const steadyKits = await registerKits(openLabDb(join(dataDir, 'lab.sqlite')), 'steady', 25);
  const platform = await startPlatformProcess({
    IOTLAB_DATA_DIR: dataDir,
    IOTLAB_HTTP_PORT: String(await freePort()),
    IOTLAB_MQTT_PORT: String(await freePort()),
    ...target.env,
  });
  const store = target.open();
  let messagesPerSecond: number | undefined;
  try {
    // Throughput: flood, then wait until everything acknowledged is queryable.
    const kits = await connectKits(platform.mqttUrl, floodKits);
    const before = platform.usage();
    const generatorBefore = process.cpuUsage();
    const start = Date.now();
    await flood(kits, opts.seconds, opts.window);
    const floodSeconds = (Date.now() - start) / 1000;
    // The kits are simulated in this process, on the platform's cores: what they cost is reported.
    const generator = process.cpuUsage(generatorBefore);
    const duringFlood = platform.usage();
    const acked = kits.reduce((n, kit) => n + kit.acked, 0);
    const expected = acked * SENSORS_PER_MESSAGE;
    const ids = floodKits.map((kit) => kit.kitId);
    let stored = 0;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      stored = await totalStored(store, ids);
      if (stored >= expected) break;
      await sleep(250);
    }
    const elapsed = (Date.now() - start) / 1000;
    const after = platform.usage();
    // Fan-in: what the broker took in (authenticated, ACL-checked, validated, acknowledged) per second.
    messagesPerSecond = acked / floodSeconds;
    emit({
      run: 'throughput',
      store: name,
      kits: opts.kits,
      seconds: opts.seconds,
      window: opts.window,
      messagesAcked: acked,
      brokerMessagesPerSecond: Math.round(messagesPerSecond),
      readingsStored: stored,
      readingsPerSecond: Math.round(stored / elapsed),
      readingsLost: expected - stored,
      platformCpuPercent: Math.round(((after.cpuSeconds - before.cpuSeconds) / elapsed) * 100),
      platformCpuPercentDuringFlood: Math.round(
        ((duringFlood.cpuSeconds - before.cpuSeconds) / floodSeconds) * 100,
      ),
      loadGeneratorCpuPercent: Math.round(((generator.user + generator.system) / 1e6 / floodSeconds) * 100),
      platformRssMB: after.rssMB,
      platformPeakRssMB: after.peakRssMB,
    });
    await disconnect(kits);

    // Latency: a steady 5,000 readings/s; every message of the first kit is timed until queryable.
    const steadyClients = await connectKits(platform.mqttUrl, steadyKits);
    const probe = steadyClients[0];
    if (!probe) throw new Error('no probe kit');
    const latencies: number[] = [];
    const seen = new Set<number>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const points = await store.sequence({
          kitId: probe.kitId,
          from: Date.now() - DAY,
          to: Date.now() + DAY,
        });
        const now = Date.now();
        for (const { value } of points) {
          if (seen.has(value)) continue;
          seen.add(value);
          const sentAt = probe.publishedAt.get(value);
          if (sentAt !== undefined) latencies.push(now - sentAt);
        }
        await sleep(10);
      }
    })();
    const latencyBefore = platform.usage();
    const latencyStart = Date.now();
    await steady(steadyClients, 5_000 / SENSORS_PER_MESSAGE, opts.seconds);
    const drainUntil = Date.now() + 10_000;
    while (seen.size < probe.sent && Date.now() < drainUntil) await sleep(20);
    polling = false;
    await poller;
    const latencyAfter = platform.usage();
    latencies.sort((a, b) => a - b);
    const steadyAcked = steadyClients.reduce((n, kit) => n + kit.acked, 0);
    const steadyIds = steadyKits.map((kit) => kit.kitId);
    let steadyStored = 0;
    const storedUntil = Date.now() + 30_000;
    while (Date.now() < storedUntil) {
      steadyStored = await totalStored(store, steadyIds);
      if (steadyStored >= steadyAcked * SENSORS_PER_MESSAGE) break;
      await sleep(100);
    }
    emit({
      run: 'latency',
      store: name,
      readingsPerSecond: 5_000,
      seconds: opts.seconds,
      samples: latencies.length,
      messagesSent: steadyClients.reduce((n, kit) => n + kit.sent, 0),
      messagesAcked: steadyAcked,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1),
      readingsLost: steadyAcked * SENSORS_PER_MESSAGE - steadyStored,
      platformCpuPercent: Math.round(
        ((latencyAfter.cpuSeconds - latencyBefore.cpuSeconds) / ((Date.now() - latencyStart) / 1000)) * 100,
      ),
    });
    await disconnect(steadyClients);
  } finally {
    await store.close();
    await platform.stop();
    await target.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return messagesPerSecond;
}

/** The same flood into Mosquitto with one plain subscriber; returns messages/s delivered. */
async function runMosquitto(opts: IngestBenchOptions): Promise<number> {
  const mosquitto = await startMosquitto();
  try {
    const subscriber = await mqtt.connectAsync(mosquitto.url, {
      clientId: 'bench-subscriber',
      reconnectPeriod: 0,
    });
    let received = 0;
    let lastAt = Date.now();
    subscriber.on('message', () => {
      received++;
      lastAt = Date.now();
    });
    await subscriber.subscribeAsync(allKitsTopic('telemetry'), { qos: 1 });
    const kits = await connectKits(
      mosquitto.url,
      Array.from({ length: opts.kits }, (_, i) => ({ kitId: `flood-${String(i).padStart(4, '0')}` })),
    );
    const before = processUsage(mosquitto.pid);
    const start = Date.now();
    await flood(kits, opts.seconds, opts.window);
    const acked = kits.reduce((n, kit) => n + kit.acked, 0);
    const deadline = Date.now() + 60_000;
    while (received < acked && Date.now() < deadline) await sleep(100);
    const cpu = processUsage(mosquitto.pid).cpuSeconds - before.cpuSeconds;
    // Delivered to the subscriber per second (Mosquitto acknowledges before it delivers).
    const rate = received / ((lastAt - start) / 1000);
    emit({
      run: 'mosquitto',
      kits: opts.kits,
      seconds: opts.seconds,
      messagesAcked: acked,
      messagesReceived: received,
      messagesLost: acked - received,
      messagesPerSecond: Math.round(rate),
      readingsPerSecond: Math.round(rate * SENSORS_PER_MESSAGE),
      mosquittoCpuPercent: Math.round((cpu / ((lastAt - start) / 1000)) * 100),
    });
    await disconnect(kits);
    await subscriber.endAsync();
    return rate;
  } finally {
    await mosquitto.stop();
  }
}

export async function ingestBench(opts: IngestBenchOptions): Promise<void> {
  const ours: Record<string, number | undefined> = {};
  for (const name of opts.stores) {
    if (name === 'influxdb' && !serverAvailable('influxd')) {
      emit({ run: 'throughput', store: name, skipped: 'influxd not installed (apt-get install influxdb)' });
      continue;
    }
    ours[name] = await runStore(name, opts);
  }
  if (opts.mosquitto && serverAvailable('mosquitto')) {
    const mosquittoRate = await runMosquitto(opts);
    for (const [name, rate] of Object.entries(ours)) {
      if (rate !== undefined) {
        emit({
          run: 'fan-in ratio',
          store: name,
          oursVsMosquitto: Math.round((rate / mosquittoRate) * 100) / 100,
        });
      }
    }
  }
}
