/**
 * The broker's cluster parts: several platform instances act as one MQTT broker through Redis,
 * with Aedes's own cluster parts — `mqemitter-redis` routes every message to every instance, and
 * `aedes-persistence-redis` keeps retained messages, wills, subscriptions and persistent sessions.
 * Kit presence (which instances hold a kit's connections) is kept in Redis too, so that one instance
 * does not report a kit offline while it is still connected through another.
 */
import { createRequire } from 'node:module';
import type { AedesOptions } from 'aedes';
import { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import type { BrokerClusterParts } from '../broker/index.ts';

/** The part of aedes-persistence-redis (it ships no types) used here besides what Aedes calls. */
interface RedisPersistence {
  destroy(): Promise<void>;
}
const aedesPersistenceRedis = createRequire(import.meta.url)('aedes-persistence-redis') as (options: {
  conn: Redis;
}) => RedisPersistence;

export const KEY_PREFIX = 'iotlab:';
/** An instance's liveness key lives this many heartbeats, refreshed twice a heartbeat. */
const ALIVE_HEARTBEATS = 2.5;

/**
 * The presence rule, atomic in Redis: `iotlab:kit-instances:<kit>` maps each instance holding the kit
 * to 1. On its last local disconnect an instance removes itself, drops entries of instances whose
 * liveness key expired (crashed ones), and learns how many live instances remain. It publishes the
 * retained "offline" only when none does; the instance a kit connects through always publishes
 * "online" after registering itself. (A disconnect on one instance and a connect on another at the
 * same moment can still deliver "offline" last; the kit's next connection or status corrects it.)
 */
const LEAVE_SCRIPT = `
redis.call('HDEL', KEYS[1], ARGV[1])
local left = 0
local all = redis.call('HKEYS', KEYS[1])
for _, instance in ipairs(all) do
  if redis.call('EXISTS', ARGV[2] .. instance) == 1 then left = left + 1
  else redis.call('HDEL', KEYS[1], instance) end
end
return left
`;

/**
 * Takes over what a dead instance held, once (the first instance to run it wins): KEYS[1] its
 * kits (a set), KEYS[2] the instances' registry; ARGV[1] the dead instance, ARGV[2] the liveness
 * key prefix, ARGV[3] the kit-instances key prefix. Removes the dead instance from each of its
 * kits and returns the kits no live instance holds any more.
 */
const SWEEP_SCRIPT = `
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return {} end
local gone = {}
for _, kit in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[3] .. kit
  redis.call('HDEL', key, ARGV[1])
  local held = 0
  for _, instance in ipairs(redis.call('HKEYS', key)) do
    if redis.call('EXISTS', ARGV[2] .. instance) == 1 then held = held + 1 end
  end
  if held == 0 then gone[#gone + 1] = kit end
end
redis.call('DEL', KEYS[1])
return gone
`;

/** How many live instances hold the kit (entries of instances whose liveness key expired do not count). */
const HELD_SCRIPT = `
local held = 0
for _, instance in ipairs(redis.call('HKEYS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. instance) == 1 then held = held + 1 end
end
return held
`;

/**
 * The broker's parts on Redis: `presenceDb` is the cluster's command connection (connected; the
 * caller ends it after `close`), the others are made here.
 */
export function createBrokerParts(
  redisUrl: string,
  presenceDb: Redis,
  onError: (part: string) => (error: Error) => void,
  heartbeatMs: number,
): BrokerClusterParts {
  const aliveTtlMs = Math.round(ALIVE_HEARTBEATS * heartbeatMs);
  const persistenceDb = new Redis(redisUrl);
  persistenceDb.on('error', onError('persistence'));
  const mq = mqemitterRedis({ connectionString: redisUrl });
  // mqemitter-redis reports connection errors on `state`; an EventEmitter's unheard 'error' throws.
  (mq as unknown as { state: NodeJS.EventEmitter }).state.on('error', onError('routing'));
  const persistence = aedesPersistenceRedis({ conn: persistenceDb });

  const pending = new Set<Promise<unknown>>();
  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => {});
    return promise;
  };
  let aliveKey: string | undefined;
  let aliveTimer: NodeJS.Timeout | undefined;
  /** The instances, by the time they last said they were alive (a sorted set). */
  const registryKey = `${KEY_PREFIX}broker-instances`;
  const aliveKeyPrefix = `${KEY_PREFIX}instance-alive:`;
  const kitKeyPrefix = `${KEY_PREFIX}kit-instances:`;
  const kitsOf = (instance: string) => `${KEY_PREFIX}instance-kits:${instance}`;

  return {
    mq: mq as unknown as NonNullable<AedesOptions['mq']>,
    persistence: persistence as unknown as NonNullable<AedesOptions['persistence']>,
    heartbeatMs,
    presence(brokerId, kitsGone) {
      aliveKey = `${aliveKeyPrefix}${brokerId}`;
      const key = aliveKey;
      const kitKey = (kitId: string) => `${kitKeyPrefix}${kitId}`;
      /**
       * Instances that stopped saying they are alive: their kits that no live instance holds are
       * gone (a crashed instance publishes no "offline"; a kit without a last will would otherwise
       * stay "online" until it came back).
       */
      const sweep = async () => {
        const dead = await presenceDb.zrangebyscore(registryKey, '-inf', Date.now() - aliveTtlMs);
        for (const instance of dead) {
          if (instance === brokerId) continue;
          const gone = (await presenceDb.eval(
            SWEEP_SCRIPT,
            2,
            kitsOf(instance),
            registryKey,
            instance,
            aliveKeyPrefix,
            kitKeyPrefix,
          )) as string[];
          if (gone.length > 0) kitsGone(gone);
        }
      };
      const refresh = () => {
        const now = Date.now();
        void presenceDb
          .multi()
          .set(key, String(now), 'PX', aliveTtlMs)
          .zadd(registryKey, now, brokerId)
          .exec()
          .then(() => track(sweep()))
          .catch(onError('presence'));
      };
      refresh();
      aliveTimer = setInterval(refresh, heartbeatMs / 2);
      aliveTimer.unref();
      return {
        connected: (kitId) =>
          track(
            presenceDb
              .multi()
              .hset(kitKey(kitId), brokerId, '1')
              .sadd(kitsOf(brokerId), kitId)
              .exec()
              .then(() => undefined),
          ),
        disconnected: (kitId) =>
          track(
            presenceDb
              .multi()
              .srem(kitsOf(brokerId), kitId)
              .eval(LEAVE_SCRIPT, 1, kitKey(kitId), brokerId, aliveKeyPrefix)
              .exec()
              .then((replies) => Number(replies?.[1]?.[1]) === 0),
          ),
        heldAnywhere: (kitId) =>
          track(
            presenceDb.eval(HELD_SCRIPT, 1, kitKey(kitId), aliveKeyPrefix).then((held) => Number(held) > 0),
          ),
      };
    },
    async close() {
      clearInterval(aliveTimer);
      await Promise.allSettled([...pending]);
      // A stopping instance's kits were let go one by one as their connections closed.
      if (aliveKey) {
        const brokerId = aliveKey.slice(aliveKeyPrefix.length);
        await presenceDb
          .multi()
          .del(aliveKey)
          .zrem(registryKey, brokerId)
          .del(kitsOf(brokerId))
          .exec()
          .catch(() => {});
      }
      // Its destroy unsubscribes through the already closed `mq` and may fail: end its connection anyway.
      await persistence.destroy().catch(() => {});
      persistenceDb.disconnect();
      // The broker's close closed `mq` already; this ends it if the broker never started.
      await new Promise<void>((resolve) => mq.close(() => resolve()));
    },
  };
}
