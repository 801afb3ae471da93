/**
 * Automatic grading of ended attempts. The routes that end attempts (end attempt, end session)
 * report them here and each is graded once its last readings have had time to reach the store
 * (`settleMs`, longer than the ingest flush interval: the configuration checks that). A periodic
 * sweep grades attempts that ended by any other path (a restart between the end and the grading,
 * another process), and every read of a grade grades an ungraded ended attempt as a last safety
 * net (lab-api/grades/). The composition root (cli/platform.ts) creates, starts and stops it
 * with the platform's other parts (settings `grading.sweepSeconds`, `grading.settleMs`).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { LabDb } from '../labdb/index.ts';
import type { TelemetryStore } from '../telemetry/index.ts';
import { Grades } from './grades/index.ts';

export interface AutomaticGradingOptions {
  db: LabDb;
  store: TelemetryStore;
  log: FastifyBaseLogger;
  /** The sweep's period; 0 turns automatic grading off (grades are then made when read or asked for). */
  sweepMs: number;
  /** How long after its end an attempt is graded (its last readings must be stored by then). */
  settleMs: number;
}

/** What the routes that end attempts need of automatic grading. */
export interface AttemptsEndedListener {
  /** Attempts that just ended: each is graded `settleMs` from now. */
  attemptsEnded(attemptIds: readonly string[]): void;
}

export class AutomaticGrading implements AttemptsEndedListener {
  readonly #grades: Grades;
  readonly #log: FastifyBaseLogger;
  readonly #sweepMs: number;
  readonly #settleMs: number;
  readonly #pending = new Map<string, NodeJS.Timeout>();
  readonly #running = new Set<Promise<unknown>>();
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<unknown> | undefined;
  #closed = false;

  constructor(options: AutomaticGradingOptions) {
    this.#grades = new Grades({ db: options.db, store: options.store });
    this.#log = options.log;
    this.#sweepMs = options.sweepMs;
    this.#settleMs = options.settleMs;
  }

  get enabled(): boolean {
    return this.#sweepMs > 0;
  }

  start(): void {
    if (!this.enabled || this.#sweepTimer || this.#closed) return;
    this.#sweepTimer = setInterval(() => {
      this.#sweeping ??= this.#grades.runs
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
        const run = this.#grades.runs.attemptEnded(id).finally(() => this.#running.delete(run));
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
