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

  return {
    mq: mq as unknown as NonNullable<AedesOptions['mq']>,
    persistence: persistence as unknown as NonNullable<AedesOptions['persistence']>,
    heartbeatMs,
    presence(brokerId) {
      aliveKey = `${KEY_PREFIX}instance-alive:${brokerId}`;
      const key = aliveKey;
      const refresh = () =>
        void presenceDb.set(key, String(Date.now()), 'PX', aliveTtlMs).catch(onError('presence'));
      refresh();
      aliveTimer = setInterval(refresh, heartbeatMs / 2);
      aliveTimer.unref();
      const kitKey = (kitId: string) => `${KEY_PREFIX}kit-instances:${kitId}`;
      return {
        connected: (kitId) => track(presenceDb.hset(kitKey(kitId), brokerId, '1').then(() => undefined)),
        disconnected: (kitId) =>
          track(
            presenceDb
              .eval(LEAVE_SCRIPT, 1, kitKey(kitId), brokerId, `${KEY_PREFIX}instance-alive:`)
              .then((left) => Number(left) === 0),
          ),
        heldAnywhere: (kitId) =>
          track(
            presenceDb
              .eval(HELD_SCRIPT, 1, kitKey(kitId), `${KEY_PREFIX}instance-alive:`)
              .then((held) => Number(held) > 0),
          ),
      };
    },
    async close() {
      clearInterval(aliveTimer);
      await Promise.allSettled([...pending]);
      if (aliveKey) await presenceDb.del(aliveKey).catch(() => {});
      // Its destroy unsubscribes through the already closed `mq` and may fail: end its connection anyway.
      await persistence.destroy().catch(() => {});
      persistenceDb.disconnect();
      // The broker's close closed `mq` already; this ends it if the broker never started.
      await new Promise<void>((resolve) => mq.close(() => resolve()));
    },
  };
}
