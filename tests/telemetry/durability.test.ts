import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createInfluxDatabase,
  freePort,
  type RunningServer,
  spawnIotlab,
  startInfluxd,
} from '../../harness/index.ts';
import { KitRegistry, openLabDb } from '../../labdb/index.ts';
import { kitTopic } from '../../protocol/index.ts';
import { createEmbeddedStore } from '../../telemetry/index.ts';
import { connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

const DAY = 86_400_000;

/** A kit publishing QoS 1 telemetry as fast as the broker acknowledges; remembers every acknowledged seq. */
function publishContinuously(client: MqttClient, kitId: string) {
  const acked: number[] = [];
  let seq = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const mine = seq++;
      try {
        await client.publishAsync(
          kitTopic(kitId, 'telemetry'),
          JSON.stringify({
            seq: mine,
            readings: { temperature: 20 + (mine % 50) / 10, humidity: 40 + (mine % 7) },
          }),
          { qos: 1 },
        );
        acked.push(mine);
      } catch {
        return; // the connection went away: this message was never acknowledged
      }
      if (mine % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    acked,
    sent: () => seq,
    async stop() {
      running = false;
      await done;
    },
  };
}

describeWithServer('influxd', 'no reading is lost when InfluxDB goes away mid-stream', () => {
  let influx: RunningServer;
  let lab: TestPlatform;
  const database = 'durability';

  beforeAll(async () => {
    influx = await startInfluxd();
    await createInfluxDatabase(influx.url, database);
    lab = await startTestPlatform({ store: { influx: { url: influx.url, apiVersion: 1, database } } });
  }, 60_000);
  afterAll(async () => {
    await lab?.close();
    await influx?.stop();
  }, 30_000);

  it('spools while the server is down and replays on recovery: stored equals sent, exactly', async () => {
    const kits = ['durable-1', 'durable-2', 'durable-3'];
    const publishers = [];
    for (const kitId of kits) {
      const secret = await lab.addKit(kitId);
      const client = await connect(lab.mqttUrl, { username: kitId, password: secret, clientId: kitId });
      publishers.push({ client, ...publishContinuously(client, kitId) });
    }
    await eventually(
      () => lab.platform.writer.stats.stored > 500,
      10_000,
      'readings stored before the outage',
    );

    await influx.stop({ keepData: true });
    await eventually(
      () => lab.platform.writer.stats.spooled > 0,
      10_000,
      'readings spooled during the outage',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    influx = await startInfluxd({ port: influx.port, dataDir: influx.dataDir });
    await new Promise((resolve) => setTimeout(resolve, 500));

    for (const publisher of publishers) await publisher.stop();
    await lab.platform.writer.flush();
    await eventually(() => lab.platform.writer.stats.spooled === 0, 20_000, 'the spool to drain');

    const range = { from: Date.now() - DAY, to: Date.now() + DAY };
    for (const [i, kitId] of kits.entries()) {
      const publisher = publishers[i];
      if (!publisher) throw new Error('missing publisher');
      const sent = publisher.acked.length;
      expect(sent).toBeGreaterThan(100);
      expect(await lab.platform.store.count({ kitId, ...range }), kitId).toBe(sent * 2);
      const seqs = (await lab.platform.store.sequence({ kitId, ...range })).map((p) => p.value);
      expect(seqs).toEqual(publisher.acked);
      await publisher.client.endAsync();
    }
    expect(lab.platform.writer.stats.deadLettered).toBe(0);
  }, 90_000);
});

/**
 * The platform in a process of its own, a kit publishing QoS 1 as fast as it is acknowledged, then
 * `signal`: every acknowledged reading must be in the store afterwards (after a restart for a
 * SIGKILL, whose spool the next start replays).
 */
async function stopUnderLoad(dataDir: string, signal: 'SIGTERM' | 'SIGKILL') {
  const kitId = `${signal.toLowerCase()}-kit`;
  const db = openLabDb(join(dataDir, 'lab.sqlite'));
  const { secret } = await new KitRegistry(db).addKit({ id: kitId });
  await db.close();
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const start = () => {
    const platform = spawnIotlab({
      command: 'start',
      fromSources: true,
      env: {
        IOTLAB_DATA_DIR: dataDir,
        IOTLAB_HTTP_PORT: String(httpPort),
        IOTLAB_MQTT_PORT: String(mqttPort),
        // A long batching window: readings nobody waits for would still be in memory at the signal.
        IOTLAB_INGEST_FLUSH_INTERVAL_MS: '5000',
        IOTLAB_GRADING_SETTLE_MS: '6000',
        IOTLAB_INGEST_BATCH_SIZE: '100000',
      },
    });
    children.push(platform.child);
    return platform;
  };
  const connectKit = async (output: () => string) => {
    let client: MqttClient | undefined;
    await eventually(
      async () => {
        client = await connect(`mqtt://127.0.0.1:${mqttPort}`, { username: kitId, password: secret }).catch(
          () => undefined,
        );
        return client !== undefined;
      },
      20_000,
      `the platform to accept connections (${output()})`,
    );
    return client as MqttClient;
  };

  const first = start();
  const client = await connectKit(first.output);
  const publisher = publishContinuously(client, kitId);
  await eventually(() => publisher.acked.length > 300, 10_000, 'acknowledged readings');
  first.child.kill(signal);
  const code = await first.exited;
  if (signal === 'SIGTERM') expect(code, first.output()).toBe(0);
  // Publishes still waiting for an acknowledgement never get one: stop without waiting for them.
  void publisher.stop();
  client.end(true);

  if (signal === 'SIGKILL') {
    // The next start replays what was spooled; a graceful stop of it writes everything.
    const second = start();
    (await connectKit(second.output)).end(true);
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toBe(0);
  }

  const store = createEmbeddedStore({ path: join(dataDir, 'telemetry.sqlite'), retentionDays: 0 });
  const stored = (await store.sequence({ kitId, from: Date.now() - DAY, to: Date.now() + DAY })).map(
    (p) => p.value,
  );
  await store.close();
  const storedSet = new Set(stored);
  const missing = publisher.acked.filter((seq) => !storedSet.has(seq));
  expect(missing).toEqual([]);
  // Nothing invented: every stored seq was sent.
  expect(stored.every((seq) => seq < publisher.sent())).toBe(true);
}

const children: ChildProcess[] = [];

describe('acknowledged means stored', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'iotlab-stop-'));
  });
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGTERM mid-stream writes every acknowledged reading before the process exits', async () => {
    await stopUnderLoad(join(dataDir, 'term'), 'SIGTERM');
  }, 60_000);

  it('kill -9 mid-stream loses no acknowledged reading: a PUBACK comes only once its readings are stored', async () => {
    await stopUnderLoad(join(dataDir, 'kill'), 'SIGKILL');
  }, 90_000);
});
