/**
 * Cluster mode (`cluster.redisUrl`): several platform instances, on one machine or many, act as one
 * platform through Redis — with Aedes's own cluster parts for MQTT (broker-parts.ts), leases that
 * give each running attempt's live grading to one instance and hand it over when that one dies
 * (leases.ts), live grading's records and states shared between them (live-grading.ts), kits'
 * connection status (kit-status.ts) and sign-in limits (sign-in-limits.ts). The
 * composition root (cli/platform.ts) connects it and hands each part to what uses it; lab data
 * lives in PostgreSQL and telemetry in InfluxDB, which every instance reaches directly.
 */
import { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import { type BrokerClusterParts, KIT_DROP_TOPIC } from '../broker/index.ts';
import { redactUrl } from '../labdb/index.ts';
import { createBrokerParts } from './broker-parts.ts';
import { RedisLeases } from './leases.ts';

export { SHARE_EVERY_MS, type SharedKitStatus, shareKitStatus } from './kit-status.ts';
export { LEASE_TTL_MS, RedisLeases } from './leases.ts';
export { type SharedLiveGrading, shareLiveGrading } from './live-grading.ts';
export { RedisSignInLimits, type RedisSignInLimitsOptions } from './sign-in-limits.ts';

export interface ClusterLogger {
  warn(object: object, message: string): void;
}

export interface Cluster {
  /** The cluster's command connection, for what else is shared (sign-in limits, …). */
  readonly redis: Redis;
  /** For the broker, which ends them when it closes. */
  readonly broker: BrokerClusterParts;
  /** Live grading's partitions. */
  readonly leases: RedisLeases;
  /** After everything that uses it stopped: ends the command connection. */
  close(): Promise<void>;
}

/** Connects to Redis, refusing with a clear error when it does not answer within 5 s. */
export async function connectCluster(
  redisUrl: string,
  log: ClusterLogger,
  options: { heartbeatMs?: number } = {},
): Promise<Cluster> {
  const onError = (part: string) => (error: Error) =>
    log.warn({ part, err: error.message }, 'cluster: Redis connection error');
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  redis.on('error', onError('commands'));
  try {
    await withTimeout(
      redis.connect().then(() => redis.ping()),
      5_000,
    );
  } catch (error) {
    redis.disconnect();
    throw new Error(
      `cluster.redisUrl: Redis at ${redactUrl(redisUrl)} does not answer: ${(error as Error).message}`,
    );
  }
  return {
    redis,
    broker: createBrokerParts(redisUrl, redis, onError, options.heartbeatMs ?? 6_000),
    leases: new RedisLeases(redis),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Drops a kit's connections on every instance of the cluster at once, from outside the platform
 * (the CLI, after it changed the kit's secret in the lab database): the same request the API's
 * rotate and revoke send, over the instances' shared routing.
 */
export async function dropKitOnEveryInstance(redisUrl: string, kitId: string): Promise<void> {
  const routing = mqemitterRedis({ connectionString: redisUrl });
  const failed = new Promise<never>((_, reject) =>
    (routing as unknown as { state: NodeJS.EventEmitter }).state.once('error', reject),
  );
  try {
    await withTimeout(
      Promise.race([
        new Promise<void>((resolve, reject) =>
          routing.emit({ topic: KIT_DROP_TOPIC, payload: Buffer.from(kitId) }, (error) =>
            error ? reject(error) : resolve(),
          ),
        ),
        failed,
      ]),
      5_000,
    );
  } catch (error) {
    throw new Error(
      `cluster.redisUrl: Redis at ${redactUrl(redisUrl)} did not take the request: ${(error as Error).message}`,
    );
  } finally {
    await new Promise<void>((resolve) => routing.close(() => resolve()));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
