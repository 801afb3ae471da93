/**
 * Automatic grading of ended attempts. The routes that end attempts (end attempt, end session)
 * report them here and each is graded once its last readings have had time to reach the store
 * (`settleMs`, longer than the ingest flush interval). A periodic sweep grades attempts that ended
 * by any other path (a restart between the end and the grading, another process), and every read
 * of a grade grades an ungraded ended attempt as a last safety net (lab-api/grades.ts).
 *
 * IOTLAB_GRADE_SWEEP_MS sets the sweep's period (default 10 s); 0 turns automatic grading off
 * (tests that edit an attempt's window after ending it use that).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Grades } from './grades.ts';

export const SETTLE_MS = 2_000;

export function sweepIntervalFromEnv(raw = process.env.IOTLAB_GRADE_SWEEP_MS): number {
  const value = raw === undefined || raw === '' ? 10_000 : Number(raw);
  return Number.isFinite(value) && value > 0 ? Math.max(1_000, value) : 0;
}

export class AutomaticGrading {
  readonly #grades: Grades;
  readonly #log: FastifyBaseLogger;
  readonly #sweepMs: number;
  readonly #settleMs: number;
  readonly #pending = new Map<string, NodeJS.Timeout>();
  readonly #running = new Set<Promise<unknown>>();
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<unknown> | undefined;
  #closed = false;

  constructor(options: { grades: Grades; log: FastifyBaseLogger; sweepMs?: number; settleMs?: number }) {
    this.#grades = options.grades;
    this.#log = options.log;
    this.#sweepMs = options.sweepMs ?? sweepIntervalFromEnv();
    this.#settleMs = options.settleMs ?? SETTLE_MS;
  }

  get enabled(): boolean {
    return this.#sweepMs > 0;
  }

  start(): void {
    if (!this.enabled || this.#sweepTimer) return;
    this.#sweepTimer = setInterval(() => {
      this.#sweeping ??= this.#grades
        .gradeEndedAttempts({ settleMs: this.#settleMs })
        .catch((error: unknown) => this.#log.warn({ err: error }, 'automatic grading failed'))
        .finally(() => {
          this.#sweeping = undefined;
        });
    }, this.#sweepMs);
    this.#sweepTimer.unref();
  }

  /** Attempts that just ended: each is graded `settleMs` from now. */
  attemptsEnded(attemptIds: readonly string[]): void {
    if (!this.enabled || this.#closed) return;
    for (const id of attemptIds) {
      if (this.#pending.has(id)) continue;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        const run = this.#grades.attemptEnded(id).finally(() => this.#running.delete(run));
        this.#running.add(run);
      }, this.#settleMs);
      timer.unref();
      this.#pending.set(id, timer);
    }
  }

  /** Stops the timers and waits for gradings under way; attempts still settling go to the next start's sweep. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    for (const timer of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
    await this.#sweeping;
    await Promise.allSettled([...this.#running]);
  }
}
