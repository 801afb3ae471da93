/**
 * Password checks in flight, by the limiter's counters they go to. The limiter counts a failure
 * once its check has ended (a password hash takes ~100 ms), so a burst of parallel tries would all
 * pass it before the first failure counts. Through this gate, the tries of each counter (an
 * account at an address, an address, a device) are checked one at a time, in order: a burst then
 * gets no more password checks than the limits allow.
 *
 * Past {@link MAX_WAITING} waiting for one account or device, the next tries are turned away at
 * once. An address may have {@link MAX_WAITING_PER_ADDRESS} waiting: a classroom's NAT where a
 * whole class signs in together for the first time (returning browsers are counted by their
 * device instead); past the address's limit they are refused without a check anyway.
 *
 * In a cluster each instance has its own gate: a burst spread over n instances gets at most n
 * checks at once per counter.
 */
import { DEFAULT_SIGN_IN_LIMITS, type SignInClient, signInKeys } from './sign-in-limiter.ts';

const MAX_WAITING = 16;
const MAX_WAITING_PER_ADDRESS = 512;

export class CheckGate {
  /** Counter → the tries waiting behind the one being checked. */
  readonly #queues = new Map<string, (() => void)[]>();

  /** Runs `check` once it may; undefined (not run) when too many tries wait already. */
  async run<T>(username: string, client: SignInClient, check: () => Promise<T>): Promise<T | undefined> {
    // The keys only (their limits are the limiter's business); the address comes first, always.
    const keys = signInKeys(username, client, DEFAULT_SIGN_IN_LIMITS).map(({ key, kind }) => ({
      key,
      maxWaiting: kind === 'address' ? MAX_WAITING_PER_ADDRESS : MAX_WAITING,
    }));
    const entered: string[] = [];
    try {
      for (const { key, maxWaiting } of keys) {
        if (!(await this.#enter(key, maxWaiting))) return undefined;
        entered.push(key);
      }
      return await check();
    } finally {
      for (const key of entered) this.#leave(key);
    }
  }

  async #enter(key: string, maxWaiting: number): Promise<boolean> {
    const waiting = this.#queues.get(key);
    if (!waiting) {
      this.#queues.set(key, []);
      return true;
    }
    if (waiting.length >= maxWaiting) return false;
    // The one leaving hands its turn over.
    await new Promise<void>((resolve) => waiting.push(resolve));
    return true;
  }

  #leave(key: string): void {
    const waiting = this.#queues.get(key);
    const next = waiting?.shift();
    if (next) next();
    else this.#queues.delete(key);
  }
}
