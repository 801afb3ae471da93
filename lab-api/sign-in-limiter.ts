/**
 * One limiter for every password check of the platform: the API's sign-in, a password change, the
 * flow editor's sign-in. Failures count per address (whatever username it tries) and per account
 * at that address, never per account alone: an attacker slows down themselves, and the person
 * whose username they try still signs in from their own machine. A browser the person signed in
 * from before (a device cookie, see {@link PasswordChecks}) is counted on its own, so even an
 * attacker behind the same address (a classroom's NAT) does not lock them out.
 *
 * Where the failures are counted is a port ({@link SignInLimitStore}): {@link SignInLimiter}, in this
 * process's memory, is the default; in cluster mode every instance counts in Redis
 * (cluster/sign-in-limits.ts), so instances behind one load balancer give an attacker no more tries
 * than one. Both count the same keys ({@link signInKeys}) under the same rules.
 *
 * The in-memory table is bounded (oldest keys go first), so a flood of made-up usernames or
 * addresses costs a fixed amount of memory.
 */
export interface SignInLimits {
  /** Failures from one address, any username, within the window. */
  perAddress: number;
  /** Failures for one username from one address within the window. */
  perAccountAndAddress: number;
  windowMs: number;
  /** Most keys remembered; the least recently failed are forgotten first. */
  maxKeys: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  perAddress: 50,
  perAccountAndAddress: 5,
  windowMs: 15 * 60_000,
  maxKeys: 20_000,
};

/**
 * The limiter's port: what every password check asks before it checks, and tells after. An
 * implementation may answer at once (in memory) or asynchronously (Redis); callers await either.
 */
export interface SignInLimitStore {
  /** Seconds until this username may be tried again from this client; 0 when it may now. */
  retryAfter(username: string, client: SignInClient, now?: number): number | Promise<number>;
  /** A wrong password (or unknown or disabled account) from this client. */
  fail(username: string, client: SignInClient, now?: number): void | Promise<void>;
  /** A right password clears that account's failures from this client (not the address's). */
  succeed(username: string, client: SignInClient): void | Promise<void>;
}

/** One counter a try goes to: its key, the failures it allows within the window, its kind. */
export interface SignInKey {
  key: string;
  limit: number;
  /** `address`: any username from one address (a right password does not clear it). */
  kind: 'address' | 'account' | 'device';
}

/**
 * The counters of a try: from a known device, that account on that device alone; otherwise the
 * address, and the account at that address.
 */
export function signInKeys(username: string, client: SignInClient, limits: SignInLimits): SignInKey[] {
  const account = username.toLowerCase();
  if (client.device)
    return [
      {
        key: `device\u0000${account}\u0000${client.device}`,
        limit: limits.perAccountAndAddress,
        kind: 'device',
      },
    ];
  return [
    { key: `address\u0000${client.address}`, limit: limits.perAddress, kind: 'address' },
    {
      key: `account\u0000${account}\u0000${client.address}`,
      limit: limits.perAccountAndAddress,
      kind: 'account',
    },
  ];
}

/**
 * Seconds to wait for one key, given the times of its failures within the window (oldest first):
 * once it holds `limit` of them, until the oldest of the last `limit` leaves the window.
 */
export function secondsToWait(
  times: readonly number[],
  limit: number,
  windowMs: number,
  now: number,
): number {
  if (times.length < limit) return 0;
  const oldest = times[times.length - limit] as number;
  return Math.max(0, Math.ceil((oldest + windowMs - now) / 1000));
}

/** The default {@link SignInLimitStore}: in this process's memory, bounded. */
export class SignInLimiter implements SignInLimitStore {
  readonly #limits: SignInLimits;
  /** Key → times of its most recent failures (at most the key's limit of them), oldest first. */
  readonly #failures = new Map<string, number[]>();

  constructor(limits: Partial<SignInLimits> = {}) {
    this.#limits = { ...DEFAULT_SIGN_IN_LIMITS, ...limits };
  }

  /** Seconds until this username may be tried again from this client; 0 when it may now. */
  retryAfter(username: string, client: SignInClient, now = Date.now()): number {
    let wait = 0;
    for (const { key, limit } of signInKeys(username, client, this.#limits))
      wait = Math.max(wait, secondsToWait(this.#recent(key, now), limit, this.#limits.windowMs, now));
    return wait;
  }

  fail(username: string, client: SignInClient, now = Date.now()): void {
    for (const { key, limit } of signInKeys(username, client, this.#limits)) {
      const times = this.#recent(key, now);
      times.push(now);
      if (times.length > limit) times.splice(0, times.length - limit);
      // Re-inserted, so the map's order is by last failure and the oldest are evicted first.
      this.#failures.delete(key);
      this.#failures.set(key, times);
    }
    while (this.#failures.size > this.#limits.maxKeys) {
      const oldest = this.#failures.keys().next().value as string;
      this.#failures.delete(oldest);
    }
  }

  /** A right password clears that account's failures from this client (not the address's). */
  succeed(username: string, client: SignInClient): void {
    for (const { key, kind } of signInKeys(username, client, this.#limits))
      if (kind !== 'address') this.#failures.delete(key);
  }

  /** How many keys are remembered (for tests of the bound). */
  get size(): number {
    return this.#failures.size;
  }

  #recent(key: string, now: number): number[] {
    const times = this.#failures.get(key);
    if (!times) return [];
    const fresh = times.filter((at) => now - at < this.#limits.windowMs);
    if (fresh.length === 0) this.#failures.delete(key);
    return fresh;
  }
}

/**
 * Who is trying: their IP address, and the id of a device this very account signed in from before
 * (established by the caller from a device cookie), when there is one.
 */
export interface SignInClient {
  address: string;
  device?: string | undefined;
}
