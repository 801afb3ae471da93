/**
 * Live grading's partitions on Redis: each partition (a lab session) is graded by the instance that
 * holds its lease, `iotlab:live-lease:<partition>` = the instance's id, with a time to live that
 * the holder renews at each poll (every second). A crashed instance stops renewing: its leases
 * expire and the other instances claim them at their next poll — a takeover within
 * {@link LEASE_TTL_MS} and a poll.
 *
 * A free partition falls to one instance by rendezvous hashing (the highest SHA-1 of instance id and
 * partition among the instances that polled within the lease time), so new sessions spread over
 * the instances without them talking to each other; a partition stays with its holder until it
 * stops (no rebalancing while it runs).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LivePartitions } from '../grading/index.ts';
import { KEY_PREFIX } from './broker-parts.ts';

/** A lease lives this long unless renewed: the time a crashed instance's partitions wait. */
export const LEASE_TTL_MS = 5_000;

/**
 * Renews, claims and answers in one step, atomic in Redis. KEYS[1]: the instances that grade
 * (sorted set, score = last poll); KEYS[2..]: the leases. ARGV: this instance, the TTL, the time
 * now, then the partitions (in the order of their leases). Returns the partitions held.
 */
const HOLD_SCRIPT = `
local me, ttl, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now, me)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
local alive = redis.call('ZRANGE', KEYS[1], 0, -1)
local held = {}
for i = 2, #KEYS do
  local partition = ARGV[i + 2]
  local owner = redis.call('GET', KEYS[i])
  if owner == me then
    redis.call('PEXPIRE', KEYS[i], ttl)
    held[#held + 1] = partition
  elseif not owner then
    local best, bestHash = me, ''
    for _, instance in ipairs(alive) do
      local hash = redis.sha1hex(instance .. '|' .. partition)
      if hash > bestHash then best, bestHash = instance, hash end
    end
    if best == me then
      redis.call('SET', KEYS[i], me, 'PX', ttl)
      held[#held + 1] = partition
    end
  end
end
return held
`;

/** Deletes the leases this instance holds (and only those). */
const RELEASE_SCRIPT = `
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
redis.call('ZREM', KEYS[1], ARGV[1])
return 0
`;

const INSTANCES_KEY = `${KEY_PREFIX}live-graders`;
const leaseKey = (partition: string) => `${KEY_PREFIX}live-lease:${partition}`;

export class RedisLeases implements LivePartitions {
  readonly #redis: Redis;
  /** This instance, as the leases name it (a new one at each start: a restarted instance claims anew). */
  readonly instanceId: string;
  readonly #ttlMs: number;

  constructor(redis: Redis, options: { instanceId?: string; ttlMs?: number } = {}) {
    this.#redis = redis;
    this.instanceId = options.instanceId ?? randomUUID();
    this.#ttlMs = options.ttlMs ?? LEASE_TTL_MS;
  }

  async hold(partitions: readonly string[]): Promise<ReadonlySet<string>> {
    const keys = [INSTANCES_KEY, ...partitions.map(leaseKey)];
    const held = (await this.#redis.eval(
      HOLD_SCRIPT,
      keys.length,
      ...keys,
      this.instanceId,
      String(this.#ttlMs),
      String(Date.now()),
      ...partitions,
    )) as string[];
    return new Set(held);
  }

  async release(partitions: readonly string[]): Promise<void> {
    const keys = [INSTANCES_KEY, ...partitions.map(leaseKey)];
    await this.#redis.eval(RELEASE_SCRIPT, keys.length, ...keys, this.instanceId);
  }
}
