/**
 * A cluster as an operator runs it: two `iotlab start` processes sharing Redis, PostgreSQL and
 * InfluxDB (real servers from the harness), behind HAProxy running deploy/haproxy.cfg (moved onto
 * loopback). Kits and people reach the platform through the proxy, or one instance directly where
 * a test needs to know which. The last test `kill -9`s the instance that grades the lab session,
 * under QoS 1 load.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, openStore, seedDemoLab, startDemoSession } from '../../cli/index.ts';
import { LiveGrader, type LiveState } from '../../grading/index.ts';
import {
  createInfluxDatabase,
  freePort,
  type RunningHaproxy,
  type RunningPostgres,
  type RunningServer,
  spawnIotlab,
  startHaproxy,
  startInfluxd,
  startPostgres,
  startRedis,
  untilHealthy,
} from '../../harness/index.ts';
import { LabLiveSource } from '../../lab-api/index.ts';
import { KitRegistry, openPostgresLabDb } from '../../labdb/index.ts';
import { attemptGradingTopic, kitTopic } from '../../protocol/index.ts';
import type { TelemetryStore } from '../../telemetry/index.ts';
import { connect, eventually } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

const ROOT = join(import.meta.dirname, '../..');
/** Kits with an attempt in the running session (the demo seed binds them to teams). */
const ATTEMPT_KITS = ['fo-1', 'fo-2', 'fo-3', 'fo-4'];
const KITS = [...ATTEMPT_KITS, 'fo-revoked', 'fo-will', 'fo-nowill'];
/** A kit's last will, as the firmware sets it. */
const willOf = (kitId: string) => ({
  topic: kitTopic(kitId, 'status'),
  payload: Buffer.from('{"state":"offline"}'),
  qos: 1 as const,
  retain: true,
});

interface Instance {
  name: string;
  mqttPort: number;
  httpPort: number;
  /** Its name in the cluster (/health `instance`): the leases name it so. */
  id: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, and the exit awaited. */
  stop(): Promise<void>;
}

/** `iotlab start` from the sources, in a process of its own, with this configuration. */
async function startInstance(name: string, settings: object): Promise<Instance> {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), `iotlab-cluster-${name}-`));
  const configFile = join(dataDir, 'iotlab.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      ...settings,
      dataDir,
      http: { host: '127.0.0.1', port: httpPort, trustProxy: '127.0.0.1' },
      mqtt: { host: '127.0.0.1', port: mqttPort },
      flows: { enabled: false },
      log: { level: 'warn', json: true, statusIntervalSeconds: 0 },
    }),
  );
  const platform = spawnIotlab({ command: 'start', fromSources: true, env: { IOTLAB_CONFIG: configFile } });
  const { instance } = (await untilHealthy(platform, httpPort)) as { instance: string };
  return {
    name,
    mqttPort,
    httpPort,
    id: instance,
    child: platform.child,
    output: platform.output,
    async stop() {
      await platform.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describeWithServer('redis-server', 'a cluster behind HAProxy', () => {
  describeWithServer('influxd', 'with InfluxDB', () => {
    describeWithServer('postgres', 'and PostgreSQL', () => {
      describeWithServer('haproxy', 'two `iotlab start` processes', () => {
        let redis: RunningServer;
        let influx: RunningServer;
        let postgres: RunningPostgres;
        let proxy: RunningHaproxy;
        let a: Instance;
        let b: Instance;
        let store: TelemetryStore;
        let databaseUrl: string;
        let sessionId: string;
        let attemptIds: Record<string, string>;
        let admin: { username: string; password: string };
        const secrets: Record<string, string> = {};
        const open: MqttClient[] = [];
        let viewer: { username: string; secret: string };

        beforeAll(async () => {
          [redis, influx, postgres] = await Promise.all([startRedis(), startInfluxd(), startPostgres()]);
          await createInfluxDatabase(influx.url, 'iotlab');
          databaseUrl = await postgres.createDatabase('cluster_failover');
          const settings = {
            // A heartbeat a second: a dead instance's wills go out 3–7 s after it stopped.
            cluster: { redisUrl: redis.url, heartbeatSeconds: 1 },
            store: { influx: { url: influx.url, apiVersion: 1 as const, database: 'iotlab' } },
            lab: { databaseUrl },
          };
          // The lab as the demo seeds it (a class in teams, kits bound), with a session running.
          const db = await openPostgresLabDb(databaseUrl);
          const registry = new KitRegistry(db);
          for (const id of KITS) secrets[id] = (await registry.addKit({ id })).secret;
          const service = await registry.addService('failover-viewer', '', ['read']);
          viewer = { username: 'service:failover-viewer', secret: service.secret };
          const accounts = await seedDemoLab(db, registry, ATTEMPT_KITS);
          admin = accounts.find((account) => account.role === 'admin') as typeof admin;
          ({ sessionId, attemptIds } = await startDemoSession(db, ATTEMPT_KITS));
          // Started ten minutes ago, so the kits' history below falls within the attempts.
          await db.run('UPDATE lab_sessions SET started_at = started_at - ? WHERE id = ?', [
            600_000,
            sessionId,
          ]);
          await db.run('UPDATE attempts SET started_at = started_at - ? WHERE session_id = ?', [
            600_000,
            sessionId,
          ]);
          await db.close();
          store = openStore(loadConfig({ env: {}, overrides: settings }));

          a = await startInstance('a', settings);
          b = await startInstance('b', settings);
          proxy = await startHaproxy(readFileSync(join(ROOT, 'deploy/haproxy.cfg'), 'utf8'), [
            { name: 'a', mqttPort: a.mqttPort, httpPort: a.httpPort },
            { name: 'b', mqttPort: b.mqttPort, httpPort: b.httpPort },
          ]);
        }, 180_000);

        afterAll(async () => {
          await Promise.all(open.splice(0).map((client) => client.endAsync(true)));
          await Promise.all([a?.stop(), b?.stop()]);
          await store?.close();
          await Promise.all([proxy?.stop(), redis?.stop(), influx?.stop(), postgres?.stop()]);
        }, 60_000);

        const httpOf = (instance: Instance) => `http://127.0.0.1:${instance.httpPort}`;
        async function signIn(base: string): Promise<string> {
          const response = await fetch(`${base}/api/v1/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: admin.username, password: admin.password }),
          });
          expect(response.status, await response.clone().text()).toBe(200);
          return ((await response.json()) as { token: string }).token;
        }
        async function kit(kitId: string, port: number, extra: object = {}): Promise<MqttClient> {
          const client = await connect(`mqtt://127.0.0.1:${port}`, {
            clientId: `${kitId}-${Math.random().toString(36).slice(2, 8)}`,
            username: kitId,
            password: secrets[kitId] as string,
            ...extra,
          });
          open.push(client);
          return client;
        }

        it('answers through the proxy, and a lab-API write through one instance is read through the other', async () => {
          const token = await signIn(proxy.url);
          const created = await fetch(`${httpOf(a)}/api/v1/kits`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ id: 'fo-new', name: '新工位' }),
          });
          expect(created.status, await created.clone().text()).toBe(201);
          const read = await fetch(`${httpOf(b)}/api/v1/kits/fo-new`, {
            headers: { authorization: `Bearer ${token}` },
          });
          expect(read.status).toBe(200);
          expect(((await read.json()) as { name: string }).name).toBe('新工位');
        });

        it("shows a browser's subscriber on A (MQTT over WebSocket, signed in) the telemetry of a kit on B", async () => {
          const token = await signIn(httpOf(a));
          const browser = await connect(`ws://127.0.0.1:${a.httpPort}/mqtt`, {
            username: `user:${admin.username}`,
            password: token,
          });
          open.push(browser);
          const seen: string[] = [];
          browser.on('message', (_topic, payload) => seen.push(payload.toString()));
          await browser.subscribeAsync(kitTopic('fo-1', 'telemetry'), { qos: 0 });
          const onB = await kit('fo-1', b.mqttPort);
          const body = JSON.stringify({ ts: Date.now() - 60_000, readings: { temperature: 21.5 } });
          await onB.publishAsync(kitTopic('fo-1', 'telemetry'), body, { qos: 1 });
          await eventually(() => seen.includes(body), 5_000, 'the reading through A');
          await onB.endAsync(true);
        });

        it('drops a kit connected through B at once when its secret is revoked through A', async () => {
          const token = await signIn(proxy.url);
          const victim = await kit('fo-revoked', b.mqttPort, { reconnectPeriod: 0 });
          const closed = new Promise<void>((resolve) => victim.once('close', () => resolve()));
          const revoked = await fetch(`${httpOf(a)}/api/v1/kits/fo-revoked/secret`, {
            method: 'DELETE',
            headers: { authorization: `Bearer ${token}` },
          });
          expect(revoked.status).toBe(200);
          await closed;
          await expect(kit('fo-revoked', b.mqttPort, { reconnectPeriod: 0 })).rejects.toThrow();
        });

        it('kill -9 of the instance grading the session under QoS 1 load: its kits go on through the other, no acknowledged reading is lost, live grading resumes there within 10 s with the scores the store gives', async () => {
          // The viewer follows the session's live grading on each instance (the one that dies drops it).
          const states = new Map<string, LiveState[]>();
          /** Each kit's last status (retained status topic), as the watchers see it. */
          const status = new Map<string, string>();
          for (const instance of [a, b]) {
            const watcher = await connect(`mqtt://127.0.0.1:${instance.mqttPort}`, {
              username: viewer.username,
              password: viewer.secret,
              reconnectPeriod: 0,
            });
            open.push(watcher);
            watcher.on('message', (topic, payload) => {
              if (payload.length === 0) return;
              if (topic.endsWith('/status')) {
                status.set(
                  topic.split('/')[3] as string,
                  (JSON.parse(payload.toString()) as { state: string }).state,
                );
                return;
              }
              const state = JSON.parse(payload.toString()) as LiveState;
              states.set(state.attemptId, [...(states.get(state.attemptId) ?? []), state]);
            });
            await watcher.subscribeAsync([attemptGradingTopic('+'), kitTopic('+', 'status')], { qos: 0 });
          }

          // Which instance holds the session's lease (the one to kill), by its cluster name.
          const leases = new Redis(redis.url);
          let holderId: string | null = null;
          await eventually(
            async () => {
              holderId = await leases.get(`iotlab:live-lease:session:${sessionId}`);
              return holderId !== null;
            },
            10_000,
            "the session's lease",
          );
          await leases.quit();
          const [doomed, survivor] = holderId === a.id ? [a, b] : [b, a];
          expect([a.id, b.id]).toContain(holderId);
          // A kit on the doomed instance that will not come back: its last will must go out.
          await kit('fo-will', doomed.mqttPort, { will: willOf('fo-will'), reconnectPeriod: 0 });
          // …and one that set no will: the survivor says "offline" for it.
          await kit('fo-nowill', doomed.mqttPort, { reconnectPeriod: 0 });

          // Four kits through the proxy (least connections: two on each). First the last three
          // minutes' readings (1 Hz), so that criteria are judged, not pending; then 50 QoS 1
          // readings a second each.
          const reading = (seq: number) => ({
            temperature: 22 + Math.sin(seq / 7) + Math.random() * 0.2,
            humidity: 55 + Math.random(),
          });
          const base = Date.now();
          const kits = await Promise.all(
            ATTEMPT_KITS.map(async (kitId) => {
              const client = await kit(kitId, proxy.mqttPort, {
                reconnectPeriod: 200,
                connectTimeout: 2_000,
                will: willOf(kitId),
              });
              let reconnects = 0;
              client.on('reconnect', () => reconnects++);
              return { kitId, client, acked: [] as number[], seq: 0, reconnects: () => reconnects };
            }),
          );
          for (const k of kits) {
            for (let i = 0; i < 180; i++) {
              const body = JSON.stringify({ ts: base - 180_000 + i * 1000, readings: reading(i) });
              await k.client.publishAsync(kitTopic(k.kitId, 'telemetry'), body, { qos: 1 });
            }
          }
          const load = setInterval(() => {
            for (const k of kits) {
              const seq = k.seq++;
              const ts = base + seq * 20;
              const body = JSON.stringify({
                seq,
                ts,
                readings: reading(180 + seq),
              });
              k.client.publishAsync(kitTopic(k.kitId, 'telemetry'), body, { qos: 1 }).then(
                () => k.acked.push(ts),
                () => {},
              );
            }
          }, 20);
          try {
            await eventually(
              () => ATTEMPT_KITS.every((kitId) => (states.get(attemptIds[kitId] as string)?.length ?? 0) > 0),
              15_000,
              'live states of every attempt',
            );
            await new Promise((resolve) => setTimeout(resolve, 2_000));
            const killedAt = Date.now();
            const ackedBefore = kits.map((k) => k.acked.length);
            doomed.child.kill('SIGKILL');

            // Live grading resumes on the survivor: a state of every attempt evaluated after the kill.
            let resumed: number[] = [];
            await eventually(
              () => {
                const firsts = ATTEMPT_KITS.map((kitId) =>
                  states.get(attemptIds[kitId] as string)?.find((state) => state.evaluatedAt > killedAt),
                );
                resumed = firsts.map((state) => state?.evaluatedAt ?? Number.NaN);
                return firsts.every(Boolean);
              },
              20_000,
              'live states from the survivor',
            );
            const takeoverMs = Math.max(...resumed) - killedAt;
            expect(takeoverMs).toBeLessThan(10_000);

            // Every kit is acknowledged again (those on the dead instance reconnected through the proxy).
            await eventually(
              () => kits.every((k, i) => k.acked.length > (ackedBefore[i] as number) + 25),
              15_000,
              'every kit acknowledged after the kill',
            );
            expect(kits.some((k) => k.reconnects() > 0)).toBe(true);
            // The dead instance's wills: out for the kit that stayed away, not for those that moved.
            await eventually(() => status.get('fo-will') === 'offline', 15_000, "fo-will's last will");
            await eventually(() => status.get('fo-nowill') === 'offline', 15_000, 'fo-nowill offline');
            expect(ATTEMPT_KITS.map((kitId) => status.get(kitId))).toEqual(ATTEMPT_KITS.map(() => 'online'));
            console.info(
              `failover: live grading resumed ${takeoverMs} ms after kill -9 of ${doomed.name}; kits reconnected: ${kits
                .filter((k) => k.reconnects() > 0)
                .map((k) => k.kitId)
                .join(', ')}`,
            );
          } finally {
            clearInterval(load);
          }
          await Promise.all(kits.map((k) => k.client.endAsync()));

          // No acknowledged reading lost: each is in InfluxDB.
          for (const k of kits) {
            const stored = new Set(
              (
                await store.readings({
                  kitId: k.kitId,
                  sensor: 'temperature',
                  from: base,
                  to: base + k.seq * 20 + 1,
                  limit: 1_000_000,
                })
              ).map((point) => point.ts),
            );
            const lost = k.acked.filter((ts) => !stored.has(ts));
            expect(lost, `${k.kitId}: acknowledged but not stored`).toEqual([]);
          }

          // The survivor's live scores are those a grader rebuilding from the store finds for the
          // same window (one grader per attempt, its clock at the end of the survivor's last window).
          await new Promise((resolve) => setTimeout(resolve, 2_000));
          const db = await openPostgresLabDb(databaseUrl);
          try {
            for (const kitId of ATTEMPT_KITS) {
              const attemptId = attemptIds[kitId] as string;
              const live = states.get(attemptId)?.at(-1) as LiveState;
              const fresh = new LiveGrader({
                source: new LabLiveSource(db),
                store,
                now: () => live.window.to,
              });
              fresh.start();
              await eventually(() => fresh.current(attemptId) !== undefined, 10_000, 'a rebuilt state');
              const rebuilt = fresh.current(attemptId) as LiveState;
              await fresh.close();
              console.info(
                `failover: ${kitId} live score ${live.score} (state ${live.seq}), rebuilt from the store ${rebuilt.score}`,
              );
              expect(rebuilt.window).toEqual(live.window);
              expect(live.score, kitId).toBeCloseTo(rebuilt.score, 2);
              expect(
                live.criteria.map((c) => [c.id, c.score, c.passed, c.pending]),
                kitId,
              ).toEqual(rebuilt.criteria.map((c) => [c.id, c.score, c.passed, c.pending]));
            }
          } finally {
            await db.close();
          }
          expect(survivor.child.exitCode).toBeNull();
        }, 120_000);
      });
    });
  });
});
