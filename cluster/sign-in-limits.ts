/**
 * Sign-in limits shared by the instances of a cluster: the lab API's limiter (lab-api's
 * `SignInLimitStore` port) counting failed password checks in Redis, so the instances behind one
 * load balancer give an attacker the tries of one — the same keys and rules as the in-memory
 * default (`signInKeys`: per address, per account at an address, per account on a known device).
 *
 * Each key is a sorted set `iotlab:sign-in:<kind>:<hash>` of failure times (score = time in ms): at
 * most the key's limit of them (the most recent) and gone `windowMs` after its last failure, so what
 * Redis holds is bounded by the failures of one window. The usernames and addresses are hashed
 * (SHA-256) into the key: Redis holds no one's name or address, and a key's length is fixed.
 *
 * Fail-safe: every failure and success is also counted in this instance's memory (the default,
 * bounded limiter). Redis is the truth while it answers; when a call fails or takes longer than
 * `timeoutMs`, that check uses this instance's own count instead (and a warning is logged, at most
 * once a minute). During a Redis outage an attacker gets at most one instance's limit per instance —
 * never unlimited tries, and never a lock-out of everyone.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  DEFAULT_SIGN_IN_LIMITS,
  type SignInClient,
  type SignInKey,
  SignInLimiter,
  type SignInLimitStore,
  type SignInLimits,
  secondsToWait,
  signInKeys,
} from '../lab-api/index.ts';
import { KEY_PREFIX } from './broker-parts.ts';

export const SIGN_IN_KEY_PREFIX = `${KEY_PREFIX}sign-in:`;

/**
 * Records one failure on each key, atomically. KEYS: the keys. ARGV: the stale bound (failures at
 * or before it are out of the window), the window in ms, a member unique to this failure, the time
 * now, then each key's limit. Keeps the most recent `limit` failures and expires the key a window
 * after this one.
 */
const FAIL_SCRIPT = `
local stale, window, member, now = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i + 4])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', stale)
  redis.call('ZADD', key, now, member)
  redis.call('ZREMRANGEBYRANK', key, 0, -(limit + 1))
  redis.call('PEXPIRE', key, window)
end
return #KEYS
`;

/**
 * For each key, the time of the `limit`-th most recent failure within the window ('0' when it has
 * fewer): the one whose leaving the window lets the key be tried again. KEYS: the keys. ARGV: the
 * exclusive lower bound `(stale`, then each key's limit.
 */
const OLDEST_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i + 1])
  local found = redis.call('ZREVRANGEBYSCORE', key, '+inf', ARGV[1], 'WITHSCORES', 'LIMIT', limit - 1, 1)
  out[i] = found[2] or '0'
end
return out
`;

export interface RedisSignInLimitsOptions {
  limits?: Partial<SignInLimits>;
  /** Longest a check waits for Redis before it uses this instance's own count (default 1 s). */
  timeoutMs?: number;
  log?: { warn(object: object, message: string): void };
}

/** How often, at most, a Redis failure of the sign-in limits is logged. */
const WARN_EVERY_MS = 60_000;

export class RedisSignInLimits implements SignInLimitStore {
  readonly #redis: Redis;
  readonly #limits: SignInLimits;
  /** This instance's own count: the fallback when Redis does not answer. */
  readonly #local: SignInLimiter;
  readonly #timeoutMs: number;
  readonly #log: RedisSignInLimitsOptions['log'];
  #lastWarning = Number.NEGATIVE_INFINITY;

  constructor(redis: Redis, options: RedisSignInLimitsOptions = {}) {
    this.#redis = redis;
    this.#limits = { ...DEFAULT_SIGN_IN_LIMITS, ...options.limits };
    this.#local = new SignInLimiter(this.#limits);
    this.#timeoutMs = options.timeoutMs ?? 1_000;
    this.#log = options.log;
  }

  async retryAfter(username: string, client: SignInClient, now = Date.now()): Promise<number> {
    const keys = signInKeys(username, client, this.#limits);
    try {
      const oldest = await this.#call(OLDEST_SCRIPT, keys, [
        `(${now - this.#limits.windowMs}`,
        ...keys.map(({ limit }) => String(limit)),
      ]);
      if (!Array.isArray(oldest) || oldest.length !== keys.length)
        throw new Error(`unexpected answer ${JSON.stringify(oldest)}`);
      // The limit-th most recent failure of each key, alone: a full key waits until it leaves.
      let wait = 0;
      for (const at of oldest.map(Number))
        if (at > 0) wait = Math.max(wait, secondsToWait([at], 1, this.#limits.windowMs, now));
      return wait;
    } catch (error) {
      this.#warn(error, 'retryAfter');
      return this.#local.retryAfter(username, client, now);
    }
  }

  async fail(username: string, client: SignInClient, now = Date.now()): Promise<void> {
    this.#local.fail(username, client, now);
    const keys = signInKeys(username, client, this.#limits);
    try {
      await this.#call(FAIL_SCRIPT, keys, [
        String(now - this.#limits.windowMs),
        String(this.#limits.windowMs),
        randomUUID(),
        String(now),
        ...keys.map(({ limit }) => String(limit)),
      ]);
    } catch (error) {
      this.#warn(error, 'fail');
    }
  }

  async succeed(username: string, client: SignInClient): Promise<void> {
    this.#local.succeed(username, client);
    const cleared = signInKeys(username, client, this.#limits).filter(({ kind }) => kind !== 'address');
    try {
      await this.#withTimeout(this.#redis.del(...cleared.map(redisKey)));
    } catch (error) {
      this.#warn(error, 'succeed');
    }
  }

  #call(script: string, keys: SignInKey[], args: string[]): Promise<unknown> {
    return this.#withTimeout(this.#redis.eval(script, keys.length, ...keys.map(redisKey), ...args));
  }

  #withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  #warn(error: unknown, step: string): void {
    const now = Date.now();
    if (now - this.#lastWarning < WARN_EVERY_MS) return;
    this.#lastWarning = now;
    this.#log?.warn(
      { step, err: (error as Error).message },
      "sign-in limits: Redis did not answer; counting this instance's failures only until it does",
    );
  }
}

/** The Redis key of a limiter key: its kind, then a hash of the rest (no names or addresses in Redis). */
export function redisKey({ key, kind }: SignInKey): string {
  return `${SIGN_IN_KEY_PREFIX}${kind}:${createHash('sha256').update(key).digest('base64url')}`;
}
