/**
 * The cluster suite (`npm run bench -- --suite cluster`): `iotlab start` processes sharing Redis,
 * PostgreSQL and InfluxDB, behind HAProxy running deploy/haproxy.cfg on loopback.
 * - flood: kits flood QoS 1 telemetry through the proxy to 1, then 2 instances; messages/s
 *   acknowledged, readings stored, CPU and RSS per instance, and of Redis, InfluxDB and HAProxy;
 * - failover: two instances, a lab session graded live, kits publishing steadily through the proxy;
 *   `kill -9` of the instance grading the session; the time to the first reading of a kit that was
 *   on it stored through the other, and to the first live state the other publishes;
 * - capacity: a zone's estimate (colleges × kits × sensors at 1 Hz) from the measured costs.
 * Everything runs on this machine's cores, load generator included: the absolute numbers are
 * conservative, and the second instance shares the cores of the first.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { seedDemoLab, startDemoSession } from '../cli/index.ts';
import {
  createInfluxDatabase,
  freePort,
  type IotlabProcess,
  type RunningHaproxy,
  type RunningPostgres,
  type RunningServer,
  startHaproxy,
  startInfluxd,
  startPostgres,
  startRedis,
  untilHealthy,
} from '../harness/index.ts';
import { KitRegistry, openPostgresLabDb } from '../labdb/index.ts';
import { attemptGradingTopic, kitTopic } from '../protocol/index.ts';
import { createInfluxStore, type TelemetryStore } from '../telemetry/index.ts';
import { connectKits, disconnect, flood, registerKits, SENSORS_PER_MESSAGE, totalStored } from './load.ts';
import { processUsage, spawnBenchIotlab, type Usage } from './platform-process.ts';
import { emitResult, sleep } from './report.ts';

export interface ClusterBenchOptions {
  kits: number;
  seconds: number;
  /** The zone the capacity is estimated for. */
  zone: { colleges: number; kitsPerCollege: number; sensorsPerKit: number };
}

const emit = (result: Record<string, unknown>) => emitResult('cluster', result);

interface Instance extends IotlabProcess {
  name: string;
  mqttPort: number;
  httpPort: number;
  /** Its name in the cluster (/health `instance`). */
  id: string;
}

interface Engines {
  redis: RunningServer;
  influx: RunningServer;
  postgres: RunningPostgres;
  databaseUrl: string;
  env: Record<string, string>;
}

async function startInstance(name: string, engines: Engines, dataDir: string): Promise<Instance> {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const platform = spawnBenchIotlab('start', {
    ...engines.env,
    IOTLAB_DATA_DIR: join(dataDir, name),
    IOTLAB_HTTP_PORT: String(httpPort),
    IOTLAB_HTTP_TRUST_PROXY: '127.0.0.1',
    IOTLAB_MQTT_PORT: String(mqttPort),
    IOTLAB_FLOWS_ENABLED: 'false',
  });
  const { instance } = (await untilHealthy(platform, httpPort)) as { instance: string };
  return { ...platform, name, mqttPort, httpPort, id: instance };
}

function proxyFor(instances: Instance[]): Promise<RunningHaproxy> {
  return startHaproxy(
    readFileSync('deploy/haproxy.cfg', 'utf8'),
    instances.map(({ name, mqttPort, httpPort }) => ({ name, mqttPort, httpPort })),
  );
}

const cpuPercent = (before: Usage, after: Usage, seconds: number) =>
  Math.round(((after.cpuSeconds - before.cpuSeconds) / seconds) * 100);

/** The flood through the proxy to `count` instances; returns the per-instance cost measured. */
async function floodRun(
  count: number,
  engines: Engines,
  store: TelemetryStore,
  opts: ClusterBenchOptions,
): Promise<{
  messagesPerSecond: number;
  cpuSecondsPerMessage: number;
  redisCpuSecondsPerMessage: number;
  influxCpuSecondsPerMessage: number;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-bench-cluster-'));
  const instances: Instance[] = [];
  let proxy: RunningHaproxy | undefined;
  try {
    for (let i = 0; i < count; i++) instances.push(await startInstance('abc'[i] as string, engines, dataDir));
    proxy = await proxyFor(instances);
    const floodKits = await registerKits(
      await openPostgresLabDb(engines.databaseUrl),
      `flood${count}`,
      opts.kits,
    );
    const kits = await connectKits(`mqtt://127.0.0.1:${proxy.mqttPort}`, floodKits);
    const pids = [...instances.map((i) => i.pid), engines.redis.pid, engines.influx.pid, proxy.pid];
    const before = pids.map(processUsage);
    const start = Date.now();
    await flood(kits, opts.seconds);
    const floodSeconds = (Date.now() - start) / 1000;
    const duringFlood = pids.map(processUsage);
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
    await disconnect(kits);
    const usage = (index: number) => ({
      cpuPercent: cpuPercent(before[index] as Usage, duringFlood[index] as Usage, floodSeconds),
      rssMB: (duringFlood[index] as Usage).rssMB,
    });
    const perInstance = instances.map((instance, index) => ({ instance: instance.name, ...usage(index) }));
    const instanceCpuSeconds = instances.reduce(
      (sum, _, index) =>
        sum + ((duringFlood[index] as Usage).cpuSeconds - (before[index] as Usage).cpuSeconds),
      0,
    );
    const redisIndex = instances.length;
    const cpuSecondsOf = (index: number) =>
      (duringFlood[index] as Usage).cpuSeconds - (before[index] as Usage).cpuSeconds;
    const messagesPerSecond = acked / floodSeconds;
    emit({
      run: 'flood',
      instances: count,
      kits: opts.kits,
      seconds: opts.seconds,
      messagesAcked: acked,
      messagesPerSecond: Math.round(messagesPerSecond),
      readingsStored: stored,
      readingsLost: expected - stored,
      perInstance,
      redis: usage(redisIndex),
      influxdb: usage(redisIndex + 1),
      haproxy: usage(redisIndex + 2),
    });
    return {
      messagesPerSecond,
      cpuSecondsPerMessage: instanceCpuSeconds / acked,
      redisCpuSecondsPerMessage: cpuSecondsOf(redisIndex) / acked,
      influxCpuSecondsPerMessage: cpuSecondsOf(redisIndex + 1) / acked,
    };
  } finally {
    await proxy?.stop();
    await Promise.all(instances.map((instance) => instance.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** kill -9 of the instance grading a session, under steady QoS 1 load through the proxy. */
async function failoverRun(engines: Engines): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-bench-failover-'));
  const kitIds = Array.from({ length: 10 }, (_, i) => `team-kit-${i + 1}`);
  const db = await openPostgresLabDb(engines.databaseUrl);
  const registry = new KitRegistry(db);
  const secrets: Record<string, string> = {};
  for (const kitId of kitIds) secrets[kitId] = (await registry.addKit({ id: kitId })).secret;
  // Reads the live states' arrival (kits may not subscribe to grading topics).
  const service = await registry.addService('bench-watcher', '', ['read']);
  await seedDemoLab(db, registry, kitIds);
  const { sessionId, attemptIds } = await startDemoSession(db, kitIds);
  await db.close();

  const instances = [await startInstance('a', engines, dataDir), await startInstance('b', engines, dataDir)];
  const proxy = await proxyFor(instances);
  const clients: MqttClient[] = [];
  try {
    const leases = new Redis(engines.redis.url);
    let holder: string | null = null;
    for (let i = 0; i < 100 && holder === null; i++) {
      holder = await leases.get(`iotlab:live-lease:session:${sessionId}`);
      if (holder === null) await sleep(100);
    }
    await leases.quit();
    const doomed = instances.find((instance) => instance.id === holder);
    const survivor = instances.find((instance) => instance.id !== holder);
    if (!doomed || !survivor) throw new Error("no instance holds the session's lease");

    // The survivor's view of the live states (a subscriber on it directly).
    const firstStateAfter = new Map<string, number>();
    let killedAt = Number.POSITIVE_INFINITY;
    const viewer = await mqtt.connectAsync(`mqtt://127.0.0.1:${survivor.mqttPort}`, {
      username: 'service:bench-watcher',
      password: service.secret,
      reconnectPeriod: 0,
    });
    clients.push(viewer);
    viewer.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      const { evaluatedAt } = JSON.parse(payload.toString()) as { evaluatedAt: number };
      if (evaluatedAt > killedAt && !firstStateAfter.has(topic)) firstStateAfter.set(topic, Date.now());
    });
    await viewer.subscribeAsync(attemptGradingTopic('+'));

    // Every kit 10 QoS 1 messages a second through the proxy; the first acknowledgement after the kill is noted.
    const firstAckAfter = new Map<string, number>();
    const reconnected = new Set<string>();
    const kits: MqttClient[] = [];
    for (const kitId of kitIds) {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${proxy.mqttPort}`, {
        clientId: kitId,
        username: kitId,
        password: secrets[kitId],
        reconnectPeriod: 100,
        connectTimeout: 2_000,
      });
      client.on('reconnect', () => reconnected.add(kitId));
      kits.push(client);
      clients.push(client);
    }
    let seq = 0;
    const load = setInterval(() => {
      seq++;
      for (const [index, kitId] of kitIds.entries()) {
        const client = kits[index] as MqttClient;
        const body = JSON.stringify({
          seq,
          readings: { temperature: 22 + Math.random(), humidity: 55 + Math.random() },
        });
        client.publish(kitTopic(kitId, 'telemetry'), body, { qos: 1 }, (error) => {
          if (!error && Date.now() > killedAt && !firstAckAfter.has(kitId))
            firstAckAfter.set(kitId, Date.now());
        });
      }
    }, 100);
    await sleep(5_000);
    killedAt = Date.now();
    doomed.child.kill('SIGKILL');
    const until = Date.now() + 30_000;
    const attempts = Object.keys(attemptIds).length;
    while (Date.now() < until && (firstStateAfter.size < attempts || firstAckAfter.size < kitIds.length)) {
      await sleep(50);
    }
    clearInterval(load);
    const moved = [...reconnected];
    const after = (times: Iterable<number>) =>
      [...times].map((time) => time - killedAt).sort((x, y) => x - y);
    const acks = after(
      [...firstAckAfter].filter(([kitId]) => reconnected.has(kitId)).map(([, time]) => time),
    );
    const states = after(firstStateAfter.values());
    emit({
      run: 'failover',
      kits: kitIds.length,
      kitsOnKilledInstance: moved.length,
      firstReadingStoredAfterKillMs: { first: acks[0], last: acks.at(-1) },
      liveStatesRepublished: `${states.length}/${attempts}`,
      firstLiveStateAfterKillMs: { first: states[0], last: states.at(-1) },
    });
  } finally {
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => {})));
    await proxy.stop();
    await Promise.all(instances.map((instance) => instance.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function clusterBench(opts: ClusterBenchOptions): Promise<void> {
  const [redis, influx, postgres] = await Promise.all([startRedis(), startInfluxd(), startPostgres()]);
  let store: TelemetryStore | undefined;
  try {
    await createInfluxDatabase(influx.url, 'bench');
    const databaseUrl = await postgres.createDatabase('bench_cluster');
    const engines: Engines = {
      redis,
      influx,
      postgres,
      databaseUrl,
      env: {
        IOTLAB_CLUSTER_REDIS_URL: redis.url,
        IOTLAB_LAB_DATABASE_URL: databaseUrl,
        IOTLAB_STORE_INFLUX_URL: influx.url,
        IOTLAB_STORE_INFLUX_API_VERSION: '1',
        IOTLAB_STORE_INFLUX_DATABASE: 'bench',
      },
    };
    // The first start runs the lab database's migrations; the kits are registered after it.
    store = createInfluxStore({ url: influx.url, apiVersion: 1, database: 'bench' });
    const one = await floodRun(1, engines, store, opts);
    const two = await floodRun(2, engines, store, opts);
    await failoverRun(engines);

    // A zone: every kit one message a second with its sensors (8 readings a message in the flood).
    const { colleges, kitsPerCollege, sensorsPerKit } = opts.zone;
    const messagesPerSecond = colleges * kitsPerCollege;
    const readingsPerSecond = messagesPerSecond * sensorsPerKit;
    const coresForInstances = messagesPerSecond * two.cpuSecondsPerMessage;
    const coresForRedis = messagesPerSecond * two.redisCpuSecondsPerMessage;
    const coresForInflux = messagesPerSecond * two.influxCpuSecondsPerMessage;
    emit({
      run: 'capacity',
      zone: { colleges, kitsPerCollege, sensorsPerKit, messagesPerSecond, readingsPerSecond },
      measured: {
        instanceCpuMsPerThousandMessages: Math.round(two.cpuSecondsPerMessage * 1e6),
        redisCpuMsPerThousandMessages: Math.round(two.redisCpuSecondsPerMessage * 1e6),
        influxdbCpuMsPerThousandMessages: Math.round(two.influxCpuSecondsPerMessage * 1e6),
        floodMessagesPerSecond: {
          oneInstance: Math.round(one.messagesPerSecond),
          twoInstances: Math.round(two.messagesPerSecond),
        },
      },
      estimate: {
        instanceCores: Number(coresForInstances.toFixed(2)),
        redisCores: Number(coresForRedis.toFixed(2)),
        influxdbCores: Number(coresForInflux.toFixed(2)),
        // Instances at half load each, so that one can fail and the rest carry its kits.
        instancesAtHalfLoad: Math.max(2, Math.ceil(coresForInstances / 0.5)),
      },
      note: "flood costs on this machine (load generator on the same cores); live grading not included (1,000 kits' live grading took 5.5–7.8 % of a core: --suite grading); InfluxDB's ingest only, not its queries",
    });
  } finally {
    await store?.close();
    await Promise.all([redis.stop(), influx.stop(), postgres.stop()]);
  }
}
