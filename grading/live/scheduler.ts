/**
 * When attempts are evaluated: at most once per `minIntervalMs` each, when new data arrived (or
 * their details are due), spaced out further when an evaluation is costly. One timer looks for due
 * attempts every {@link TICK_MS} and queues them; the queue is worked off one attempt at a time,
 * yielding to I/O every {@link DRAIN_SLICE_MS}, so a lab's thousand attempts never hold up the
 * process (nor each other: records keep arriving while the queue drains).
 */
import type { TrackedAttempt } from './attempt.ts';

/** How often due evaluations are looked for (the delay it adds is at most this). */
export const TICK_MS = 50;
/** Evaluations run this long (ms) before the queue yields to I/O. */
const DRAIN_SLICE_MS = 5;

export const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface SchedulerOptions {
  minIntervalMs: number;
  detailsEveryMs: number;
  now: () => number;
  /** Whether live grading has stopped (nothing more is evaluated). */
  closed: () => boolean;
  /** Whether the attempt is still followed (an attempt queued, then finished, is skipped). */
  current: (t: TrackedAttempt) => boolean;
  /** Evaluates the attempt and publishes what changed. */
  run: (t: TrackedAttempt) => void;
  /** Keeps a promise until it settles (closing waits for them). */
  keep: (promise: Promise<unknown>) => void;
}

export class EvaluationScheduler {
  readonly #options: SchedulerOptions;
  readonly #queue: TrackedAttempt[] = [];
  #draining = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
  }

  /**
   * Queues the attempts whose evaluation is due — new data and their interval passed since the
   * last one, or details pending for detailsEveryMs. Called every TICK_MS: one timer for every
   * attempt, instead of one per attempt and second.
   */
  tick(attempts: Iterable<TrackedAttempt>): void {
    const { now: clock, minIntervalMs, detailsEveryMs } = this.#options;
    if (this.#options.closed()) return;
    const now = clock();
    for (const t of attempts) {
      if (t.queued || t.loading) continue;
      if (!t.dirty) {
        if (!t.detailsPending || now < t.detailsAt + detailsEveryMs) continue;
        t.dirty = true;
      }
      if (now >= t.lastEvalAt + Math.max(minIntervalMs, t.lastCostMs * 10)) this.enqueue(t);
    }
  }

  enqueue(t: TrackedAttempt): void {
    if (t.queued) return;
    t.queued = true;
    this.#queue.push(t);
    if (this.#draining) return;
    this.#draining = true;
    this.#options.keep(this.#drain());
  }

  /** Evaluates queued attempts one at a time, yielding to I/O every DRAIN_SLICE_MS. */
  async #drain(): Promise<void> {
    await null;
    const { closed, current, run } = this.#options;
    try {
      let slice = performance.now();
      while (this.#queue.length > 0 && !closed()) {
        const t = this.#queue.shift() as TrackedAttempt;
        t.queued = false;
        if (!current(t) || !t.dirty || t.loading) continue;
        t.dirty = false;
        run(t);
        if (performance.now() - slice >= DRAIN_SLICE_MS) {
          await yieldToLoop();
          slice = performance.now();
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}
