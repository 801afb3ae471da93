import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TelemetryRecord } from '../protocol/index.ts';
import { Spool } from '../spool/index.ts';
import { StoreWriteError, type TelemetryStore } from './store.ts';

export interface WriterOptions {
  store: TelemetryStore;
  /** Directory for the spool (batches waiting for the store) and the dead-letter file. */
  spoolDir: string;
  /** Most records per store write. */
  batchSize?: number;
  /** Longest a record waits in memory before its batch is written. */
  flushIntervalMs?: number;
  /** How often to retry the store while the spool holds batches. */
  retryIntervalMs?: number;
  /** Records held in memory while a write is in flight; past this, batches go straight to the spool. */
  maxBufferedRecords?: number;
  /**
   * How long records someone waits for (a kit's QoS 1 message) wait behind a store write in
   * flight before they are appended to the spool instead, to be written after it: a slow or
   * flooded store then delays acknowledgements by this much, not by its own write time.
   */
  spillAfterMs?: number;
  onEvent?: (event: WriterEvent) => void;
}

export type WriterEvent =
  | { type: 'spooled'; records: number; reason: string }
  | { type: 'replayed'; records: number }
  | { type: 'dead-letter'; records: number; reason: string; file: string };

export interface WriterStats {
  /** Records taken by {@link TelemetryWriter.add}. */
  accepted: number;
  /** Records the store confirmed, directly or by replay. */
  stored: number;
  /** Records waiting on disk for the store. */
  spooled: number;
  /** Records in memory, not yet written. */
  buffered: number;
  /** Records the store refused for good, kept in the dead-letter file. */
  deadLettered: number;
  lastError?: string;
}

/**
 * Between ingest and the store: batches records in memory for a short time, writes them, and
 * sends what the store cannot take right now to the on-disk spool, replaying it in order when
 * the store answers again. While the spool holds anything, new batches queue behind it.
 *
 * Group commit: {@link TelemetryWriter.whenDurable} tells when what was added is durable (stored,
 * or appended to the spool), which is when the broker acknowledges a kit's message. Records that
 * someone waits for are written at once if no write is in flight, else in one batch as soon as
 * the write in flight ends — never after the flush interval. If that write takes longer than
 * `spillAfterMs` (a flood, a slow store), they are appended to the spool (fsynced) and so durable
 * at once, and the store gets them, in order, right after the write in flight: acknowledgements
 * keep the pace of the disk, not of the store.
 */
export class TelemetryWriter {
  readonly #store: TelemetryStore;
  readonly #spool: Spool<TelemetryRecord>;
  readonly #deadLetterFile: string;
  readonly #batchSize: number;
  readonly #flushIntervalMs: number;
  readonly #retryIntervalMs: number;
  readonly #maxBuffered: number;
  readonly #onEvent: (event: WriterEvent) => void;
  #buffer: TelemetryRecord[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  /** The write or replay in progress; writes are serialized so the store sees batches in order. */
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  /** Steps (writes, replays) queued or running. */
  #inFlight = 0;
  /** Called once everything added before them is durable. */
  #waiting: (() => void)[] = [];
  /** A commit for the waiting is due once the write in flight ends. */
  #commitAfterWrite = false;
  #commitScheduled = false;
  readonly #spillAfterMs: number;
  #spillTimer: NodeJS.Timeout | undefined;
  /**
   * Why the spool holds batches: the store failed (worth a warning, retried on a timer) or records
   * were spilled behind a slow write (ordinary under load, replayed right after it).
   */
  #spoolHolds: 'failed' | 'spilled' | undefined;
  #stats = { accepted: 0, stored: 0, deadLettered: 0, lastError: undefined as string | undefined };

  constructor(options: WriterOptions) {
    this.#store = options.store;
    this.#spool = new Spool(join(options.spoolDir, 'spool'));
    this.#deadLetterFile = join(options.spoolDir, 'dead-letter.jsonl');
    mkdirSync(options.spoolDir, { recursive: true });
    this.#batchSize = options.batchSize ?? 5_000;
    this.#flushIntervalMs = options.flushIntervalMs ?? 200;
    this.#retryIntervalMs = options.retryIntervalMs ?? 1_000;
    this.#maxBuffered = options.maxBufferedRecords ?? 200_000;
    this.#spillAfterMs = options.spillAfterMs ?? 25;
    this.#onEvent = options.onEvent ?? (() => {});
    if (!this.#spool.isEmpty) {
      this.#spoolHolds = 'failed';
      this.#scheduleRetry();
    }
  }

  get stats(): WriterStats {
    return {
      accepted: this.#stats.accepted,
      stored: this.#stats.stored,
      spooled: this.#spool.pendingRecords,
      buffered: this.#buffer.length,
      deadLettered: this.#stats.deadLettered,
      ...(this.#stats.lastError ? { lastError: this.#stats.lastError } : {}),
    };
  }

  add(record: TelemetryRecord): void {
    if (this.#closed) throw new Error('telemetry writer is closed');
    this.#stats.accepted++;
    this.#buffer.push(record);
    if (this.#buffer.length >= this.#batchSize) this.#flushSoon(0);
    else if (this.#flushTimer === undefined) this.#flushSoon(this.#flushIntervalMs);
  }

  /**
   * Calls `done` once every record added so far is durable: written to the store, or appended to
   * the on-disk spool (or, refused by the store for good, to the dead-letter file).
   */
  whenDurable(done: () => void): void {
    this.#waiting.push(done);
    if (this.#inFlight > 0) {
      this.#commitAfterWrite = true;
      this.#spillTimer ??= setTimeout(() => {
        this.#spillTimer = undefined;
        if (this.#inFlight > 0) this.#spill();
      }, this.#spillAfterMs);
    } else if (!this.#commitScheduled) {
      // Within this turn of the event loop more messages may come (one socket read holds many).
      this.#commitScheduled = true;
      setImmediate(() => {
        this.#commitScheduled = false;
        void this.flush();
      });
    }
  }

  /** Writes (or spools) everything buffered so far; resolves when that is done. */
  flush(): Promise<void> {
    this.#clearFlushTimer();
    this.#clearSpillTimer();
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#batchSize);
      this.#enqueue(() => this.#writeBatch(batch));
    }
    const waiting = this.#waiting.splice(0);
    if (waiting.length > 0) {
      // Steps run in order: when the last one queued ends, everything before it is durable.
      void this.#chain.then(() => {
        for (const done of waiting) done();
      });
    }
    return this.#chain;
  }

  /** Tries the spool now (tests and shutdown use this; otherwise a timer does). */
  retry(): Promise<void> {
    this.#enqueue(() => this.#replay());
    return this.#chain;
  }

  /**
   * Graceful stop: writes what is buffered, tries once more to empty the spool, and leaves on
   * disk whatever the store still cannot take (the next start replays it).
   */
  async close(): Promise<void> {
    await this.flush();
    if (!this.#spool.isEmpty) await this.retry();
    this.#closed = true;
    this.#clearFlushTimer();
    this.#clearSpillTimer();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#spool.close();
  }

  #flushSoon(delayMs: number): void {
    this.#clearFlushTimer();
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.flush();
    }, delayMs);
  }

  #clearFlushTimer(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
  }

  #clearSpillTimer(): void {
    if (this.#spillTimer) clearTimeout(this.#spillTimer);
    this.#spillTimer = undefined;
  }

  /**
   * The buffer, behind a write that takes long, to the spool: durable now, so its waiters are
   * told; the store gets it right after the steps queued before (the replay keeps the order).
   */
  #spill(): void {
    if (this.#buffer.length === 0 && this.#waiting.length === 0) return;
    const batch = this.#buffer.splice(0, this.#buffer.length);
    const waiting = this.#waiting.splice(0);
    this.#commitAfterWrite = false;
    try {
      if (batch.length > 0) this.#appendToSpool(batch, 'spilled');
    } catch (error) {
      // The disk refused (full?): keep them for the write after the one in flight.
      this.#buffer.unshift(...batch);
      this.#waiting.unshift(...waiting);
      this.#commitAfterWrite = true;
      this.#stats.lastError = (error as Error).message;
      return;
    }
    for (const done of waiting) done();
    this.#enqueue(() => this.#replay());
  }

  #appendToSpool(batch: TelemetryRecord[], why: 'failed' | 'spilled'): void {
    this.#spool.append(batch);
    if (why === 'failed' || this.#spoolHolds === undefined) this.#spoolHolds = why;
  }

  #enqueue(step: () => Promise<void>): void {
    // Steps never reject: failures are spooled or dead-lettered inside them.
    this.#inFlight++;
    this.#chain = this.#chain.then(step).finally(() => {
      this.#inFlight--;
      if (this.#inFlight === 0 && this.#commitAfterWrite) {
        this.#commitAfterWrite = false;
        void this.flush();
      }
    });
    // If the store hangs, records pile up in memory; past the cap they go to disk instead.
    if (this.#buffer.length > this.#maxBuffered) {
      const overflow = this.#buffer.splice(0, this.#buffer.length);
      this.#appendToSpool(overflow, 'failed');
      this.#onEvent({
        type: 'spooled',
        records: overflow.length,
        reason: 'store is slow; memory buffer full',
      });
      this.#scheduleRetry();
    }
  }

  async #writeBatch(batch: TelemetryRecord[]): Promise<void> {
    if (!this.#spool.isEmpty) {
      // Keep order: nothing overtakes what is already waiting on disk.
      if (this.#spoolHolds === 'spilled') {
        this.#appendToSpool(batch, 'spilled');
        await this.#replay();
      } else this.#toSpool(batch, 'earlier batches are still waiting for the store');
      return;
    }
    try {
      await this.#store.write(batch);
      this.#stats.stored += batch.length;
    } catch (error) {
      this.#handleFailure(batch, error);
    }
  }

  async #replay(): Promise<void> {
    if (this.#spool.isEmpty) return;
    // Spilled batches written behind a slow write are ordinary work, not a recovery to report.
    const recovering = this.#spoolHolds === 'failed';
    let replayed = 0;
    try {
      replayed = await this.#spool.replay(
        async (batch) => {
          try {
            await this.#store.write(batch);
            this.#stats.stored += batch.length;
          } catch (error) {
            // A batch the store will never take must not block everything behind it.
            if (error instanceof StoreWriteError && !error.transient) this.#deadLetter(batch, error);
            else throw error;
          }
        },
        { mergeUpTo: this.#batchSize },
      );
      this.#stats.lastError = undefined;
      if (this.#spool.isEmpty) this.#spoolHolds = undefined;
    } catch (error) {
      this.#stats.lastError = (error as Error).message;
      this.#spoolHolds = 'failed';
      this.#scheduleRetry();
    } finally {
      if (replayed > 0 && recovering) this.#onEvent({ type: 'replayed', records: replayed });
    }
  }

  #handleFailure(batch: TelemetryRecord[], error: unknown): void {
    this.#stats.lastError = (error as Error).message;
    if (error instanceof StoreWriteError && !error.transient) this.#deadLetter(batch, error);
    else this.#toSpool(batch, (error as Error).message);
  }

  #toSpool(batch: TelemetryRecord[], reason: string): void {
    this.#appendToSpool(batch, 'failed');
    this.#onEvent({ type: 'spooled', records: batch.length, reason });
    this.#scheduleRetry();
  }

  #deadLetter(batch: TelemetryRecord[], error: Error): void {
    appendFileSync(
      this.#deadLetterFile,
      `${JSON.stringify({ at: new Date().toISOString(), reason: error.message, records: batch })}\n`,
    );
    this.#stats.deadLettered += batch.length;
    this.#onEvent({
      type: 'dead-letter',
      records: batch.length,
      reason: error.message,
      file: this.#deadLetterFile,
    });
  }

  #scheduleRetry(): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#enqueue(() => this.#replay());
    }, this.#retryIntervalMs);
  }
}
