/**
 * One limiter for every password check of the platform: the API's sign-in, a password change, the
 * flow editor's sign-in. Failures count per address (whatever username it tries) and per account
 * at that address, never per account alone: an attacker slows down themselves, and the person
 * whose username they try still signs in from their own machine. A browser the person signed in
 * from before (a device cookie, see {@link PasswordChecks}) is counted on its own, so even an
 * attacker behind the same address (a classroom's NAT) does not lock them out.
 *
 * The table is bounded (oldest keys go first), so a flood of made-up usernames or addresses costs
 * a fixed amount of memory.
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

export class SignInLimiter {
  readonly #limits: SignInLimits;
  /** Key → times of its most recent failures (at most the key's limit of them), oldest first. */
  readonly #failures = new Map<string, number[]>();

  constructor(limits: Partial<SignInLimits> = {}) {
    this.#limits = { ...DEFAULT_SIGN_IN_LIMITS, ...limits };
  }

  /** Seconds until this username may be tried again from this client; 0 when it may now. */
  retryAfter(username: string, client: SignInClient, now = Date.now()): number {
    let wait = 0;
    for (const [key, limit] of this.#keys(username, client)) {
      const times = this.#recent(key, now);
      if (times.length >= limit) {
        const oldest = times[times.length - limit] as number;
        wait = Math.max(wait, Math.ceil((oldest + this.#limits.windowMs - now) / 1000));
      }
    }
    return wait;
  }

  fail(username: string, client: SignInClient, now = Date.now()): void {
    for (const [key, limit] of this.#keys(username, client)) {
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
    for (const [key] of this.#keys(username, client))
      if (!key.startsWith('address')) this.#failures.delete(key);
  }

  /** How many keys are remembered (for tests of the bound). */
  get size(): number {
    return this.#failures.size;
  }

  #keys(username: string, client: SignInClient): [string, number][] {
    const account = username.toLowerCase();
    if (client.device)
      return [[`device\u0000${account}\u0000${client.device}`, this.#limits.perAccountAndAddress]];
    return [
      [`address\u0000${client.address}`, this.#limits.perAddress],
      [`account\u0000${account}\u0000${client.address}`, this.#limits.perAccountAndAddress],
    ];
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
