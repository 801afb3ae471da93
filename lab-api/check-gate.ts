/**
 * Password checks in flight, by the limiter's counters they go to. The limiter counts a failure
 * once its check has ended (a password hash takes ~100 ms), so a burst of parallel tries would all
 * pass it before the first failure counts. Through this gate, the tries of one account (or device)
 * are checked one at a time, and at most {@link PER_ADDRESS} at once from one address: a burst
 * then gets no more password checks than the limits allow, plus those few. Tries queue in order;
 * past {@link MAX_WAITING} waiting for one counter, the next are turned away at once.
 *
 * In a cluster each instance has its own gate: a burst spread over n instances gets at most n
 * checks at once per counter.
 */
import { DEFAULT_SIGN_IN_LIMITS, type SignInClient, signInKeys } from './sign-in-limiter.ts';

const PER_ADDRESS = 4;
const MAX_WAITING = 16;

interface Slot {
  running: number;
  waiting: (() => void)[];
}

export class CheckGate {
  readonly #slots = new Map<string, Slot>();

  /** Runs `check` once it may; undefined (not run) when too many tries wait already. */
  async run<T>(username: string, client: SignInClient, check: () => Promise<T>): Promise<T | undefined> {
    // The keys only (their limits are the limiter's business); the address comes first, always.
    const keys = signInKeys(username, client, DEFAULT_SIGN_IN_LIMITS).map(({ key, kind }) => ({
      key,
      concurrency: kind === 'address' ? PER_ADDRESS : 1,
    }));
    const entered: string[] = [];
    try {
      for (const { key, concurrency } of keys) {
        if (!(await this.#enter(key, concurrency))) return undefined;
        entered.push(key);
      }
      return await check();
    } finally {
      for (const key of entered) this.#leave(key);
    }
  }

  async #enter(key: string, concurrency: number): Promise<boolean> {
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { running: 0, waiting: [] };
      this.#slots.set(key, slot);
    }
    if (slot.running < concurrency) {
      slot.running++;
      return true;
    }
    if (slot.waiting.length >= MAX_WAITING) return false;
    // The one leaving hands its place over (running stays as it is).
    await new Promise<void>((resolve) => slot.waiting.push(resolve));
    return true;
  }

  #leave(key: string): void {
    const slot = this.#slots.get(key);
    if (!slot) return;
    const next = slot.waiting.shift();
    if (next) next();
    else if (--slot.running === 0) this.#slots.delete(key);
  }
}
