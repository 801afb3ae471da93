/**
 * Cluster mode (`cluster.redisUrl`): two platform instances in this process act as one MQTT broker
 * through a real redis-server, sharing one InfluxDB database (telemetry) and one PostgreSQL
 * database (the lab), each with its own ports and data dir.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, expect, it, onTestFinished } from 'vitest';
import { ConfigError, loadConfig } from '../../cli/index.ts';
import {
  createInfluxDatabase,
  freePort,
  type RunningPostgres,
  type RunningServer,
  startInfluxd,
  startPostgres,
  startRedis,
} from '../../harness/index.ts';
import { kitTopic } from '../../protocol/index.ts';
import { collect, connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

const HOUR = 3_600_000;
const run = promisify(execFile);

describeWithServer('redis-server', 'cluster over Redis', () => {
  describeWithServer('influxd', 'with InfluxDB', () => {
    describeWithServer('postgres', 'and PostgreSQL', () => {
      let redis: RunningServer;
      let influx: RunningServer;
      let postgres: RunningPostgres;
      let a: TestPlatform;
      let b: TestPlatform;
      const secrets: Record<string, string> = {};
      let viewer: { username: string; secret: string };
      let databaseUrl: string;
      const open: MqttClient[] = [];

      beforeAll(async () => {
        [redis, influx, postgres] = await Promise.all([startRedis(), startInfluxd(), startPostgres()]);
        await createInfluxDatabase(influx.url, 'iotlab');
        databaseUrl = await postgres.createDatabase('cluster_lab');
        const shared = {
          cluster: { redisUrl: redis.url },
          store: { influx: { url: influx.url, apiVersion: 1 as const, database: 'iotlab' } },
          lab: { databaseUrl },
          // Only the periodic re-check would drop a revoked kit elsewhere: keep it out of the way.
          mqtt: { credentialRecheckSeconds: 3_600 },
        };
        // One after the other: the first runs the lab database's migrations.
        a = await startTestPlatform(shared);
        b = await startTestPlatform(shared);
        for (const id of ['kit-1', 'kit-2', 'kit-3', 'kit-4', 'kit-5', 'kit-6'])
          secrets[id] = await a.addKit(id);
        const service = await a.addService('cluster-viewer', ['read']);
        viewer = { username: service.username, secret: service.secret };
      });
      afterEach(async () => {
        await Promise.all(open.splice(0).map((client) => client.endAsync(true)));
      });
      afterAll(async () => {
        await a?.close();
        await b?.close();
        await Promise.all([redis?.stop(), influx?.stop(), postgres?.stop()]);
      });

      async function kitOn(platform: TestPlatform, kitId: string, clientId = `${kitId}-client`) {
        const client = await connect(platform.mqttUrl, {
          clientId,
          username: kitId,
          password: secrets[kitId] as string,
        });
        open.push(client);
        return client;
      }
      async function viewerOn(platform: TestPlatform) {
        const client = await connect(platform.mqttUrl, {
          username: viewer.username,
          password: viewer.secret,
        });
        open.push(client);
        return client;
      }
      const statusOf = (messages: { payload: Buffer }[]) =>
        messages.map((m) => (JSON.parse(m.payload.toString()) as { state: string }).state);

      it("(a) a subscriber on A receives a kit's QoS 1 telemetry published through B, stored once", async () => {
        const subscriber = await collect(await viewerOn(a), kitTopic('kit-1', 'telemetry'));
        const acceptedBefore = { a: a.platform.writer.stats.accepted, b: b.platform.writer.stats.accepted };
        const kit = await kitOn(b, 'kit-1');
        const start = Date.now() - 10_000;
        for (let seq = 0; seq < 5; seq++) {
          await kit.publishAsync(
            kitTopic('kit-1', 'telemetry'),
            JSON.stringify({ seq, ts: start + seq * 1000, readings: { temperature: 20 + seq } }),
            { qos: 1 },
          );
        }
        await subscriber.next(5);
        expect(subscriber.json().map((m) => m.seq)).toEqual([0, 1, 2, 3, 4]);
        // Acknowledged means stored: all 5 are in the shared InfluxDB, seen through either instance.
        const count = () => a.platform.store.count({ kitId: 'kit-1', from: start - HOUR, to: start + HOUR });
        await eventually(async () => (await count()) === 5, 10_000, '5 readings of kit-1 in InfluxDB');
        await new Promise((resolve) => setTimeout(resolve, 300)); // longer than a flush
        // Only B, the instance the kit publishes through, ingested them; A only routed them.
        expect(b.platform.writer.stats.accepted - acceptedBefore.b).toBe(5);
        expect(a.platform.writer.stats.accepted - acceptedBefore.a).toBe(0);
        expect(await count()).toBe(5);
      });

      it('(b) a retained kit status set when the kit connects through B is seen by a new subscriber on A', async () => {
        await kitOn(b, 'kit-2');
        await eventually(
          () => b.platform.broker.kitStatus('kit-2')?.online === true,
          5_000,
          'kit-2 online on B',
        );
        const topic = kitTopic('kit-2', 'status');
        await eventually(
          async () => {
            const client = await viewerOn(a);
            const seen = await collect(client, topic);
            await seen.next(1, 1_000).catch(() => {});
            await client.endAsync(true);
            return (
              seen.messages.length === 1 &&
              seen.messages[0]?.retain === true &&
              statusOf(seen.messages)[0] === 'online'
            );
          },
          5_000,
          'the retained "online" of kit-2 through A',
        );
      });

      it("keeps a persistent session's subscriptions and its QoS 1 messages while the client is away, for its return through the other instance", async () => {
        const options = {
          username: viewer.username,
          password: viewer.secret,
          clientId: 'persistent-viewer',
          clean: false,
        };
        const first = await connect(a.mqttUrl, options);
        await first.subscribeAsync(kitTopic('kit-2', 'telemetry'), { qos: 1 });
        await first.endAsync();
        // While it is away, kit-2 publishes through B.
        const kit = await kitOn(b, 'kit-2', 'kit-2-persistent');
        const body = JSON.stringify({ seq: 1, ts: Date.now() - 1_000, readings: { temperature: 23.5 } });
        await kit.publishAsync(kitTopic('kit-2', 'telemetry'), body, { qos: 1 });
        // It comes back through B, without subscribing again.
        const received: string[] = [];
        // Listening before its CONNACK: the kept message follows it at once.
        const back = mqtt.connect(b.mqttUrl, { ...options, reconnectPeriod: 0 });
        back.on('message', (_topic, payload) => received.push(payload.toString()));
        open.push(back);
        await eventually(() => received.includes(body), 5_000, 'the message kept for the persistent session');
        expect(received).toEqual([body]);
      });

      it('(c) a kit that moves from B to A stays "online" for a dashboard on A when its old connection ends late', async () => {
        const topic = kitTopic('kit-3', 'status');
        const dashboard = await collect(await viewerOn(a), topic);
        const onB = await kitOn(b, 'kit-3', 'kit-3-old');
        await eventually(() => statusOf(dashboard.messages).includes('online'), 5_000, 'kit-3 online');
        // It reconnects through A (a new client id) while its old connection on B is still open,
        // as when Wi-Fi roams and B has not noticed yet; then B's connection ends.
        const onA = await kitOn(a, 'kit-3', 'kit-3-new');
        await eventually(() => dashboard.messages.length >= 2, 5_000, "A's online");
        await onB.endAsync(true);
        await eventually(
          () => b.platform.broker.kitStatus('kit-3')?.online === false,
          5_000,
          'B let go of kit-3',
        );
        await new Promise((resolve) => setTimeout(resolve, 500));
        // The last status the dashboard got, and what a new one gets, is "online".
        expect(statusOf(dashboard.messages)).toEqual(['online', 'online']);
        const late = await collect(await viewerOn(a), topic);
        await late.next(1);
        expect(statusOf(late.messages)).toEqual(['online']);
        // When it leaves A too, nobody holds it: "offline".
        await onA.endAsync(true);
        await eventually(() => statusOf(dashboard.messages).at(-1) === 'offline', 5_000, 'kit-3 offline');
      });

      it('drops a kit on every instance at once when its secret is revoked through one of them', async () => {
        const kit = await kitOn(b, 'kit-4');
        const closed = new Promise<void>((resolve) => kit.once('close', () => resolve()));
        // What the API's revoke does on the instance it reached: the change, then drop the kit.
        await a.platform.registry.revokeKit('kit-4');
        a.platform.broker.disconnectKit('kit-4');
        await closed;
        kit.end(true);
        await expect(kitOn(b, 'kit-4')).rejects.toThrow();
      });

      it("shows through A's API the connection of a kit connected through B: online, its messages, then offline", async () => {
        const basic = `Basic ${Buffer.from(`${viewer.username.replace(/^service:/, '')}:${viewer.secret}`).toString('base64')}`;
        const connection = async () => {
          const response = await fetch(`${a.httpUrl}/api/v1/kits/kit-6`, {
            headers: { authorization: basic },
          });
          expect(response.status).toBe(200);
          return ((await response.json()) as { connection: { online: boolean; messages: number } | null })
            .connection;
        };
        const kit = await kitOn(b, 'kit-6');
        for (const seq of [0, 1]) {
          await kit.publishAsync(
            kitTopic('kit-6', 'telemetry'),
            JSON.stringify({ seq, readings: { temperature: 21 } }),
            {
              qos: 1,
            },
          );
        }
        await eventually(
          async () => (await connection())?.online === true && (await connection())?.messages === 2,
          10_000,
          'kit-6 online with 2 messages, through A',
        );
        await kit.endAsync(true);
        await eventually(
          async () => (await connection())?.online === false,
          10_000,
          'kit-6 offline, through A',
        );
      });

      it('drops a kit on every instance at once when the CLI revokes it (not at the next recheck)', async () => {
        const onA = await kitOn(a, 'kit-5', 'kit-5-a');
        const onB = await kitOn(b, 'kit-5', 'kit-5-b');
        const closed = (client: MqttClient) =>
          new Promise<void>((resolve) => client.once('close', () => resolve()));
        const bothClosed = Promise.all([closed(onA), closed(onB)]);
        const { stdout } = await run(process.execPath, ['bin/iotlab-dev.js', 'kits', 'revoke', 'kit-5'], {
          env: {
            ...process.env,
            IOTLAB_DATA_DIR: a.dataDir,
            IOTLAB_CLUSTER_REDIS_URL: redis.url,
            IOTLAB_LAB_DATABASE_URL: databaseUrl,
            IOTLAB_STORE_INFLUX_URL: influx.url,
            IOTLAB_STORE_INFLUX_API_VERSION: '1',
          },
        });
        expect(stdout).toContain('kit kit-5 revoked; its connections were dropped on every instance');
        // The credential recheck is an hour away here: only the drop can close them.
        await bothClosed;
        await expect(kitOn(b, 'kit-5')).rejects.toThrow();
      });

      it('refuses to start when Redis does not answer, naming the setting', async () => {
        const closedPort = await freePort();
        const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-cluster-refused-'));
        onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
        await expect(
          startTestPlatform({
            dataDir,
            cluster: { redisUrl: `redis://127.0.0.1:${closedPort}` },
            store: { influx: { url: influx.url, apiVersion: 1, database: 'iotlab' } },
            lab: { databaseUrl: await postgres.createDatabase('cluster_refused') },
          }),
        ).rejects.toThrow(/cluster\.redisUrl: Redis at redis:\/\/127\.0\.0\.1:\d+ does not answer/);
      });

      it('(d) start-up refuses cluster mode with the embedded stores, naming the settings', () => {
        const start = (overrides: Parameters<typeof loadConfig>[0]) => () =>
          loadConfig({ env: {}, ...overrides });
        expect(start({ overrides: { cluster: { redisUrl: redis.url } } })).toThrow(ConfigError);
        expect(start({ overrides: { cluster: { redisUrl: redis.url } } })).toThrow(
          /store\.influx\.url \(env IOTLAB_STORE_INFLUX_URL\).*lab\.databaseUrl \(env IOTLAB_LAB_DATABASE_URL\)/,
        );
        expect(
          start({
            env: {
              IOTLAB_CLUSTER_REDIS_URL: redis.url,
              IOTLAB_LAB_DATABASE_URL: 'postgres://x@127.0.0.1/lab',
            },
          }),
        ).toThrow(/store\.influx\.url/);
        expect(
          start({
            overrides: {
              cluster: { redisUrl: redis.url },
              store: { influx: { url: influx.url, apiVersion: 1 } },
            },
          }),
        ).toThrow(/Set lab\.databaseUrl/);
        expect(start({ overrides: { cluster: { redisUrl: 'http://127.0.0.1:6379' } } })).toThrow(
          /cluster\.redisUrl .* redis:\/\//,
        );
      });
    });
  });
});
