/**
 * Live grading's partitions on Redis: each partition (a lab session) is graded by the instance that
 * holds its lease, `iotlab:live-lease:<partition>` = the instance's id, with a time to live that
 * the holder renews at each poll (every second). A crashed instance stops renewing: its leases
 * expire and the other instances claim them at their next poll — a takeover within
 * {@link LEASE_TTL_MS} and a poll.
 *
 * A partition belongs to one instance by rendezvous hashing: the highest SHA-1 of instance id and
 * partition among the instances that have polled for {@link SETTLE_MS} at least (all of those
 * polling, while none has). New sessions so spread over the instances without them talking to
 * each other, and when an instance joins, each holder hands over, one per poll, the partitions that
 * now belong to it (about 1/n of them); the newcomer rebuilds their states from the store, as in a
 * takeover. The settling time keeps an instance that starts and stops again from pulling
 * sessions to and fro.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LivePartitions } from '../grading/index.ts';
import { KEY_PREFIX } from './broker-parts.ts';

/** A lease lives this long unless renewed: the time a crashed instance's partitions wait. */
export const LEASE_TTL_MS = 5_000;
/** How long an instance polls before partitions are handed over to it. */
export const SETTLE_MS = 10_000;

/**
 * Renews, claims, hands over and answers in one step, atomic in Redis. KEYS[1]: the instances that
 * grade (sorted set, score = last poll); KEYS[2]: when each began to poll (hash); KEYS[3..]: the
 * leases. ARGV: this instance, the TTL, the settling time, the time now, then the partitions (in
 * the order of their leases). Returns the partitions held.
 */
const HOLD_SCRIPT = `
local me, ttl, settle, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now, me)
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
for _, instance in ipairs(gone) do
  redis.call('ZREM', KEYS[1], instance)
  redis.call('HDEL', KEYS[2], instance)
end
redis.call('HSETNX', KEYS[2], me, now)
local alive = redis.call('ZRANGE', KEYS[1], 0, -1)
local owners = {}
for _, instance in ipairs(alive) do
  -- No start time (an instance of an earlier version): not settled, and no error for everyone.
  local since = tonumber(redis.call('HGET', KEYS[2], instance))
  if since and since <= now - settle then owners[#owners + 1] = instance end
end
if #owners == 0 then owners = alive end
local function ownerOf(partition)
  local best, bestHash = nil, ''
  for _, instance in ipairs(owners) do
    local hash = redis.sha1hex(instance .. '|' .. partition)
    if hash > bestHash then best, bestHash = instance, hash end
  end
  return best
end
local held, handedOver = {}, false
for i = 3, #KEYS do
  local partition = ARGV[i + 2]
  local holder = redis.call('GET', KEYS[i])
  if holder == me then
    if not handedOver and ownerOf(partition) ~= me then
      redis.call('DEL', KEYS[i])
      handedOver = true
    else
      redis.call('PEXPIRE', KEYS[i], ttl)
      held[#held + 1] = partition
    end
  elseif not holder and ownerOf(partition) == me then
    redis.call('SET', KEYS[i], me, 'PX', ttl)
    held[#held + 1] = partition
  end
end
return held
`;

/** Deletes the leases this instance holds (and only those), and leaves the instances that grade. */
const RELEASE_SCRIPT = `
for i = 3, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 0
`;

const INSTANCES_KEY = `${KEY_PREFIX}live-graders`;
const SINCE_KEY = `${KEY_PREFIX}live-graders-since`;
const leaseKey = (partition: string) => `${KEY_PREFIX}live-lease:${partition}`;

export class RedisLeases implements LivePartitions {
  readonly #redis: Redis;
  /** This instance, as the leases name it (a new one at each start: a restarted instance claims anew). */
  readonly instanceId: string;
  readonly #ttlMs: number;
  readonly #settleMs: number;

  constructor(redis: Redis, options: { instanceId?: string; ttlMs?: number; settleMs?: number } = {}) {
    this.#redis = redis;
    this.instanceId = options.instanceId ?? randomUUID();
    this.#ttlMs = options.ttlMs ?? LEASE_TTL_MS;
    this.#settleMs = options.settleMs ?? SETTLE_MS;
  }

  async hold(partitions: readonly string[]): Promise<ReadonlySet<string>> {
    const keys = [INSTANCES_KEY, SINCE_KEY, ...partitions.map(leaseKey)];
    const held = (await this.#redis.eval(
      HOLD_SCRIPT,
      keys.length,
      ...keys,
      this.instanceId,
      String(this.#ttlMs),
      String(this.#settleMs),
      String(Date.now()),
      ...partitions,
    )) as string[];
    return new Set(held);
  }

  async release(partitions: readonly string[]): Promise<void> {
    const keys = [INSTANCES_KEY, SINCE_KEY, ...partitions.map(leaseKey)];
    await this.#redis.eval(RELEASE_SCRIPT, keys.length, ...keys, this.instanceId);
  }
}
