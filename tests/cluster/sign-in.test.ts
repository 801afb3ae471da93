/**
 * Sign-in limits and logouts across a cluster (issue 16): two platform instances in this process
 * share a real redis-server, one PostgreSQL database (the lab) and one InfluxDB database. Failed
 * password checks through one instance count on the other; a logout through one ends that login's
 * MQTT-over-WebSocket connection on the other at once (the periodic re-check is an hour away here).
 * Then the Redis-backed limiter on its own: bounded keys, window expiry, and its fallback when Redis
 * does not answer.
 */
import { request } from 'node:http';
import { Redis } from 'ioredis';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisSignInLimits } from '../../cluster/index.ts';
import { redisKey, SIGN_IN_KEY_PREFIX } from '../../cluster/sign-in-limits.ts';
import {
  createInfluxDatabase,
  freePort,
  type RunningPostgres,
  type RunningServer,
  startInfluxd,
  startPostgres,
  startRedis,
} from '../../harness/index.ts';
import { DEFAULT_SIGN_IN_LIMITS, People, signInKeys } from '../../lab-api/index.ts';
import { connect, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

const PASSWORD = 'correct-horse-battery';
const SYSTEM = { kind: 'service', name: 'test-setup' } as const;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP request from a chosen loopback address (the limiter counts per address). */
function call(
  platform: TestPlatform,
  method: string,
  path: string,
  options: { from?: string; body?: object; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const body = options.body ? JSON.stringify(options.body) : undefined;
  const url = new URL(path, platform.httpUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        localAddress: options.from ?? '127.0.0.1',
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...options.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

const login = (
  platform: TestPlatform,
  username: string,
  password: string,
  from: string,
  cookie?: string,
): Promise<Answer> =>
  call(platform, 'POST', '/api/v1/auth/login', {
    from,
    body: { username, password },
    ...(cookie ? { headers: { cookie } } : {}),
  });

/** Resolves when the client's connection closes; rejects after `ms`. */
function closedWithin(client: MqttClient, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!client.connected) return resolve();
    const timer = setTimeout(() => reject(new Error(`still connected after ${ms} ms`)), ms);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describeWithServer('redis-server', 'sign-in across a cluster', () => {
  describeWithServer('influxd', 'with InfluxDB', () => {
    describeWithServer('postgres', 'and PostgreSQL', () => {
      let redis: RunningServer;
      let influx: RunningServer;
      let postgres: RunningPostgres;
      let a: TestPlatform;
      let b: TestPlatform;
      let people: People;
      const open: MqttClient[] = [];

      beforeAll(async () => {
        [redis, influx, postgres] = await Promise.all([startRedis(), startInfluxd(), startPostgres()]);
        await createInfluxDatabase(influx.url, 'iotlab');
        const shared = {
          cluster: { redisUrl: redis.url },
          store: { influx: { url: influx.url, apiVersion: 1 as const, database: 'iotlab' } },
          lab: { databaseUrl: await postgres.createDatabase('cluster_sign_in') },
          // Only the periodic re-check would end a login's connection elsewhere: keep it out of the way.
          mqtt: { credentialRecheckSeconds: 3_600 },
        };
        // One after the other: the first runs the lab database's migrations.
        a = await startTestPlatform(shared);
        b = await startTestPlatform(shared);
        people = new People(a.platform.labDb);
      });
      afterEach(async () => {
        await Promise.all(open.splice(0).map((client) => client.endAsync(true)));
      });
      afterAll(async () => {
        await a?.close();
        await b?.close();
        await Promise.all([redis?.stop(), influx?.stop(), postgres?.stop()]);
      });

      let counter = 0;
      async function addPerson(role: 'instructor' | 'student'): Promise<string> {
        counter++;
        const username = `${role}-${counter}`;
        await people.createUser(SYSTEM, {
          username,
          displayName: `${role} ${counter}`,
          role,
          password: PASSWORD,
          organisationId: null,
          studentNumber: role === 'student' ? `2026${String(counter).padStart(6, '0')}` : null,
        });
        return username;
      }

      it("counts wrong passwords through A on B: B refuses with 429 once the account's limit at the address is reached", async () => {
        const teacher = await addPerson('instructor');
        const classroom = '127.0.0.21';
        // Signed in from this browser before: it has a device cookie (kept in the shared database).
        const earlier = await login(a, teacher, PASSWORD, classroom);
        expect(earlier.status).toBe(200);
        const device = String(earlier.headers['set-cookie']).split(';')[0] as string;
        expect(device).toMatch(/^iotlab_device=/);

        // Five wrong passwords (the limit per account and address) from another browser there, over both.
        for (let i = 0; i < 3; i++)
          expect((await login(a, teacher, `guess-${i}`, classroom)).status).toBe(401);
        for (let i = 3; i < 5; i++)
          expect((await login(b, teacher, `guess-${i}`, classroom)).status).toBe(401);
        const limited = await login(b, teacher, PASSWORD, classroom);
        expect(limited.status).toBe(429);
        expect(JSON.parse(limited.body)).toMatchObject({ code: 'TOO_MANY_ATTEMPTS' });
        const retryAfter = Number(limited.headers['retry-after']);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(DEFAULT_SIGN_IN_LIMITS.windowMs / 1000);
        expect((await login(a, teacher, PASSWORD, classroom)).status).toBe(429);

        // The person guessed at still signs in: from another address, and with their own browser's
        // cookie at the attacker's address, through either instance.
        expect((await login(b, teacher, PASSWORD, '127.0.0.22')).status).toBe(200);
        expect((await login(b, teacher, PASSWORD, classroom, device)).status).toBe(200);
        expect((await login(a, teacher, PASSWORD, classroom, device)).status).toBe(200);
      });

      it('locks an address that tries many usernames over both instances, and nobody else', async () => {
        const teacher = await addPerson('instructor');
        const attacker = '127.0.0.31';
        const { perAddress } = DEFAULT_SIGN_IN_LIMITS;
        for (let i = 0; i < perAddress; i++) {
          const through = i % 2 === 0 ? a : b;
          expect((await login(through, `made-up-${i}`, 'whatever-123', attacker)).status).toBe(401);
        }
        expect((await login(a, teacher, PASSWORD, attacker)).status).toBe(429);
        expect((await login(b, teacher, PASSWORD, attacker)).status).toBe(429);
        expect((await login(b, teacher, PASSWORD, '127.0.0.32')).status).toBe(200);
      }, 60_000);

      it("ends a login's MQTT WebSocket connection on B at once when the person logs out through A", async () => {
        const student = await addPerson('student');
        const tokenOf = async (platform: TestPlatform) => {
          const answer = await login(platform, student, PASSWORD, '127.0.0.41');
          expect(answer.status).toBe(200);
          return (JSON.parse(answer.body) as { token: string }).token;
        };
        const [leaving, staying] = [await tokenOf(a), await tokenOf(b)];
        const dashboard = async (token: string) => {
          const client = await connect(b.wsUrl, {
            username: `user:${student}`,
            password: token,
            protocolVersion: 4,
          });
          open.push(client);
          return client;
        };
        const onB = await dashboard(leaving);
        const otherLogin = await dashboard(staying);

        const started = Date.now();
        const logout = await call(a, 'POST', '/api/v1/auth/logout', {
          headers: { authorization: `Bearer ${leaving}` },
        });
        expect(logout.status).toBe(204);
        // The re-check is an hour away: only the logout itself can close it this soon.
        await closedWithin(onB, 5_000);
        expect(Date.now() - started).toBeLessThan(5_000);
        // The same person's other login (another browser) stays connected.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(otherLogin.connected).toBe(true);
        // The ended token opens no connection on either instance.
        for (const platform of [a, b])
          await expect(
            connect(platform.wsUrl, { username: `user:${student}`, password: leaving, protocolVersion: 4 }),
          ).rejects.toThrow(/Bad username or password/i);
      });

      describe('the Redis-backed limiter', () => {
        // A database of its own on the same server: its keys are only this test's.
        let own: Redis;
        beforeAll(async () => {
          own = new Redis(`${redis.url}/5`);
          await own.flushdb();
        });
        afterAll(async () => {
          await own?.quit();
        });
        const signInKeysIn = (client: Redis) => client.keys(`${SIGN_IN_KEY_PREFIX}*`);

        it('keeps at most the limit of failures per key, names no one in Redis, and forgets a key after the window', async () => {
          const limits = { perAddress: 8, perAccountAndAddress: 3, windowMs: 1_000 };
          const limiter = new RedisSignInLimits(own, { limits });
          const client = { address: '192.0.2.7' };
          for (let i = 0; i < 20; i++) await limiter.fail('Someone.Secret', client);
          expect(await limiter.retryAfter('someone.secret', client)).toBe(1);
          const keys = signInKeys('someone.secret', client, { ...DEFAULT_SIGN_IN_LIMITS, ...limits });
          for (const key of keys) {
            const name = redisKey(key);
            expect(await own.zcard(name)).toBe(key.limit);
            const ttl = await own.pttl(name);
            expect(ttl).toBeGreaterThan(0);
            expect(ttl).toBeLessThanOrEqual(limits.windowMs);
          }
          const stored = await signInKeysIn(own);
          expect(stored.sort()).toEqual(keys.map(redisKey).sort());
          expect(stored.join(' ')).not.toMatch(/someone|secret|192\.0\.2\.7/i);
          // The window is the caller's clock: a window later, the key may be tried again…
          expect(await limiter.retryAfter('someone.secret', client, Date.now() + limits.windowMs)).toBe(0);
          // …and Redis itself forgets the keys.
          await new Promise((resolve) => setTimeout(resolve, limits.windowMs + 200));
          expect(await signInKeysIn(own)).toEqual([]);
          expect(await limiter.retryAfter('someone.secret', client)).toBe(0);
        });

        it("shares counts between instances; a right password clears the account's, not the address's", async () => {
          const limits = { perAddress: 4, perAccountAndAddress: 2 };
          const first = new RedisSignInLimits(own, { limits });
          const second = new RedisSignInLimits(own, { limits });
          const client = { address: '192.0.2.8' };
          await first.fail('ann', client);
          await second.fail('ann', client);
          expect(await first.retryAfter('ann', client)).toBeGreaterThan(0);
          await second.succeed('ann', client);
          expect(await first.retryAfter('ann', client)).toBe(0);
          await first.fail('bob', client);
          await second.fail('cid', client);
          // Four from the address (two of them ann's, cleared for ann only): the address is full.
          expect(await first.retryAfter('dan', client)).toBeGreaterThan(0);
          // A known device of an account is counted apart from the address.
          expect(await first.retryAfter('dan', { ...client, device: 'hash-of-cookie' })).toBe(0);
        });

        it('counts on this instance alone when Redis does not answer: neither unlimited nor locked for everyone', async () => {
          const port = await freePort(); // nothing listens there
          const gone = new Redis(port, { host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 200 });
          gone.on('error', () => {});
          const warnings: string[] = [];
          const limiter = new RedisSignInLimits(gone, {
            timeoutMs: 200,
            log: { warn: (_object, message) => warnings.push(message) },
          });
          const client = { address: '192.0.2.9' };
          try {
            expect(await limiter.retryAfter('eve', client)).toBe(0);
            for (let i = 0; i < DEFAULT_SIGN_IN_LIMITS.perAccountAndAddress; i++)
              await limiter.fail('eve', client);
            expect(await limiter.retryAfter('eve', client)).toBeGreaterThan(0);
            expect(await limiter.retryAfter('fay', { address: '192.0.2.10' })).toBe(0);
            expect(warnings).toHaveLength(1); // once a minute, not once a check
            expect(warnings[0]).toMatch(/Redis did not answer/);
          } finally {
            gone.disconnect();
          }
        });
      });
    });
  });
});
