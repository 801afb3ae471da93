/**
 * Live grading's leases on a real Redis: which instance grades which lab session, as instances
 * come, go and crash. Short times (a lease of 1 s, settling in 1.5 s) stand for the product's
 * 5 s and 10 s; each "instance" polls as the live grader does.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { RedisLeases } from '../../cluster/index.ts';
import { type RunningServer, startRedis } from '../../harness/index.ts';
import { describeWithServer } from '../helpers/suites.ts';

const TTL_MS = 1_000;
const SETTLE_MS = 1_500;
const SESSIONS = Array.from({ length: 24 }, (_, i) => `session:${i + 1}`);
type Poller = Pick<RedisLeases, 'instanceId' | 'hold'>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithServer('redis-server', 'live grading leases on Redis', () => {
  let server: RunningServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    await redis?.quit();
    await server?.stop();
  });
  beforeEach(async () => {
    await redis.flushdb();
  });

  const instance = (name: string) =>
    new RedisLeases(redis, { instanceId: name, ttlMs: TTL_MS, settleMs: SETTLE_MS });

  /** One poll of each instance, in turn; returns what each holds after it. */
  async function pollAll(instances: Poller[]): Promise<Map<string, ReadonlySet<string>>> {
    const held = new Map<string, ReadonlySet<string>>();
    for (const leases of instances) held.set(leases.instanceId, await leases.hold(SESSIONS));
    return held;
  }

  /** An instance polling with no session running: it is known to the others, and claims nothing. */
  const knownOnly = (leases: Poller): Poller => ({
    instanceId: leases.instanceId,
    hold: () => leases.hold([]),
  });

  /** No session held by two instances; returns how many each holds and how many nobody does. */
  function shares(held: Map<string, ReadonlySet<string>>): { counts: number[]; free: number } {
    const seen = new Set<string>();
    for (const sessions of held.values()) {
      for (const session of sessions) {
        expect(seen.has(session), `${session} held twice`).toBe(false);
        seen.add(session);
      }
    }
    return { counts: [...held.values()].map((sessions) => sessions.size), free: SESSIONS.length - seen.size };
  }

  it('spreads sessions over the instances, each held by exactly one', async () => {
    const [a, b] = [instance('a'), instance('b')];
    await pollAll([a, b].map(knownOnly));
    const { counts, free } = shares(await pollAll([a, b]));
    expect(free).toBe(0);
    expect(Math.min(...counts)).toBeGreaterThan(0);
  });

  it('hands a new instance its share once it has polled a while, one session per poll from each holder, never one held twice', async () => {
    const a = instance('a');
    await a.hold(SESSIONS);
    await sleep(SETTLE_MS + 100);
    expect((await a.hold(SESSIONS)).size).toBe(SESSIONS.length);
    const b = instance('b');
    // Joined, polling every 200 ms: nothing moves while it settles.
    const joined = Date.now();
    while (Date.now() - joined < SETTLE_MS - 200) {
      expect(shares(await pollAll([a, b])).counts).toEqual([SESSIONS.length, 0]);
      await sleep(200);
    }
    await sleep(300);
    const history: number[][] = [];
    for (let poll = 0; poll < SESSIONS.length; poll++) {
      const { counts, free } = shares(await pollAll([a, b]));
      history.push(counts);
      // What A let go at its poll, B took at its own.
      expect(free).toBe(0);
    }
    // A gave one at a time…
    for (const [i, [ofA]] of history.entries()) {
      if (i > 0) expect(((history[i - 1] as number[])[0] as number) - (ofA as number)).toBeLessThanOrEqual(1);
    }
    // …until each held what rendezvous hashing gives it, and then nothing moved.
    const counts = history.at(-1) as number[];
    expect(counts[1]).toBeGreaterThan(0);
    expect(counts[0]).toBeGreaterThan(0);
    expect(history.at(-2)).toEqual(counts);
    // The same split as two instances that started together.
    await redis.flushdb();
    const [c, d] = [instance('a'), instance('b')];
    await pollAll([c, d].map(knownOnly));
    expect(shares(await pollAll([c, d])).counts).toEqual(counts);
  });

  it("takes a crashed instance's sessions over once its leases expire, and a stopping one's at once", async () => {
    const [a, b, c] = [instance('a'), instance('b'), instance('c')];
    await pollAll([a, b, c].map(knownOnly));
    const before = await pollAll([a, b, c]);
    const ofB = before.get('b') as ReadonlySet<string>;
    expect(ofB.size).toBeGreaterThan(0);

    // B stops polling (crashed): its sessions stay its own until its leases expire.
    let held = await pollAll([a, c]);
    expect(shares(held).free).toBe(ofB.size);
    await sleep(TTL_MS + 100);
    held = await pollAll([a, c]);
    expect(shares(held).free).toBe(0);

    // C stops gracefully: A holds everything at its next poll.
    await c.release([...(held.get('c') as ReadonlySet<string>)]);
    expect((await a.hold(SESSIONS)).size).toBe(SESSIONS.length);
  });

  it('lets an instance that comes and goes within the settling time take nothing over', async () => {
    const a = instance('a');
    await a.hold(SESSIONS);
    await sleep(SETTLE_MS + 100);
    expect((await a.hold(SESSIONS)).size).toBe(SESSIONS.length);
    const brief = instance('brief');
    for (let i = 0; i < 3; i++) {
      expect(shares(await pollAll([a, brief])).counts).toEqual([SESSIONS.length, 0]);
      await sleep(200);
    }
    await brief.release([]);
    expect((await a.hold(SESSIONS)).size).toBe(SESSIONS.length);
  });
});
