/**
 * Kits' live connection status across the instances (what `GET /api/v1/kits` and the class board
 * show as `connection`): each instance writes what it sees of its kits to Redis every
 * {@link SHARE_EVERY_MS} — one hash per instance, `iotlab:kit-status:<instance>`, gone when the
 * instance stops writing — and reads the others', so that any instance answers for a kit connected
 * through another, a few seconds late at most. Counts add up over the instances; a kit is online
 * while any instance holds a connection of it.
 */
import type { Redis } from 'ioredis';
import type { KitLiveStatus } from '../broker/index.ts';
import { KEY_PREFIX } from './broker-parts.ts';

/** How often an instance shares its kits' status and reads the others'. */
export const SHARE_EVERY_MS = 2_000;
/** An instance's hash outlives its last write by this much (a crashed one's kits then drop out). */
const TTL_MS = 5 * SHARE_EVERY_MS;
const INSTANCES_KEY = `${KEY_PREFIX}kit-status-instances`;
const hashKey = (instance: string) => `${KEY_PREFIX}kit-status:${instance}`;

export interface KitStatusSource {
  kitStatus(kitId: string): KitLiveStatus | undefined;
  liveKits(): KitLiveStatus[];
}

export interface SharedKitStatus {
  /** This instance's view merged with the others' (as of their last share). */
  kitStatus(kitId: string): KitLiveStatus | undefined;
  /** Shares and reads once now (tests; a timer does it otherwise). */
  refresh(): Promise<void>;
  /** Stops sharing and removes this instance's hash. */
  close(): Promise<void>;
}

export function shareKitStatus(
  redis: Redis,
  instance: string,
  local: KitStatusSource,
  log: { warn(object: object, message: string): void },
): SharedKitStatus {
  /** Kit → the other instances' statuses of it. */
  let others = new Map<string, KitLiveStatus[]>();
  let closed = false;
  let warned = false;

  async function refresh(): Promise<void> {
    if (closed) return;
    const now = Date.now();
    const mine = local.liveKits();
    const write = redis.multi().del(hashKey(instance));
    if (mine.length > 0) {
      write.hset(
        hashKey(instance),
        Object.fromEntries(mine.map((status) => [status.kitId, JSON.stringify(status)])),
      );
      write.pexpire(hashKey(instance), TTL_MS);
    }
    write.zadd(INSTANCES_KEY, now, instance).zremrangebyscore(INSTANCES_KEY, '-inf', now - TTL_MS);
    await write.exec();
    const instances = (await redis.zrange(INSTANCES_KEY, 0, -1)).filter((id) => id !== instance);
    const read = redis.pipeline();
    for (const id of instances) read.hgetall(hashKey(id));
    const next = new Map<string, KitLiveStatus[]>();
    for (const [error, hash] of (await read.exec()) ?? []) {
      if (error) continue;
      for (const json of Object.values(hash as Record<string, string>)) {
        const status = JSON.parse(json) as KitLiveStatus;
        const list = next.get(status.kitId);
        if (list) list.push(status);
        else next.set(status.kitId, [status]);
      }
    }
    others = next;
  }

  const timer = setInterval(() => {
    refresh().then(
      () => {
        warned = false;
      },
      (error: Error) => {
        if (!warned) log.warn({ err: error.message }, "cluster: sharing kits' status failed (retrying)");
        warned = true;
      },
    );
  }, SHARE_EVERY_MS);
  timer.unref();

  return {
    kitStatus(kitId) {
      const seen = [local.kitStatus(kitId), ...(others.get(kitId) ?? [])].filter(
        (status): status is KitLiveStatus => status !== undefined,
      );
      return seen.length === 0 ? undefined : merge(seen);
    },
    refresh,
    async close() {
      closed = true;
      clearInterval(timer);
      await redis
        .multi()
        .del(hashKey(instance))
        .zrem(INSTANCES_KEY, instance)
        .exec()
        .catch(() => {});
    },
  };
}

/** One kit as the cluster sees it, from what each instance sees of it. */
function merge(seen: readonly KitLiveStatus[]): KitLiveStatus {
  const online = seen.filter((status) => status.online);
  const newest = seen.reduce((a, b) => ((b.lastSeen ?? 0) > (a.lastSeen ?? 0) ? b : a));
  const lastSeens = seen.map((status) => status.lastSeen).filter((t): t is number => t !== null);
  const firmware = newest.firmware ?? seen.find((status) => status.firmware)?.firmware;
  return {
    kitId: newest.kitId,
    online: online.length > 0,
    connections: seen.reduce((n, status) => n + status.connections, 0),
    // Online since its earliest connection that is still open; offline since it last went.
    since:
      online.length > 0
        ? Math.min(...online.map((status) => status.since))
        : Math.max(...seen.map((status) => status.since)),
    lastSeen: lastSeens.length > 0 ? Math.max(...lastSeens) : null,
    messages: seen.reduce((n, status) => n + status.messages, 0),
    refused: seen.reduce((n, status) => n + status.refused, 0),
    ...(firmware ? { firmware } : {}),
  };
}
