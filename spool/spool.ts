import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

const SEGMENT_BYTES = 4 * 1024 * 1024;
const SEGMENT_NAME = /^(\d{12})\.jsonl$/;

export interface SpoolOptions {
  /**
   * fdatasync after each append (default true): a batch then survives a power cut, not just a
   * crash of the process. Off for high-rate queues where the page cache is protection enough.
   */
  sync?: boolean;
  /**
   * Batches appended by this process are also kept in memory, up to this many items in all
   * (default 200,000), so that replaying them reads and parses nothing: under a flood, batches
   * spilled behind a slow write are replayed a moment later. Beyond it, and for what an earlier
   * process left, the replay reads the disk.
   */
  memoryItems?: number;
}

/**
 * A first-in first-out queue of batches on disk, for work that must survive the process: batches
 * the store could not take, readings a gateway has not yet delivered. One batch per line (JSON),
 * in segment files named by a rising number; a segment is deleted only after every batch in it
 * was handled, so a crash mid-replay hands some batches over again (receivers must treat that as
 * an overwrite, as the telemetry stores do).
 */
export class Spool<T> {
  readonly dir: string;
  #segments: number[] = [];
  #activeFd: number | undefined;
  #activeBytes = 0;
  #pendingRecords = 0;
  /** Batches of the oldest segment already replayed in this process. */
  #replayedInOldest = 0;

  readonly #sync: boolean;
  /** Segment → its batches, for segments this process opened, while every one of them is here. */
  readonly #memory = new Map<number, T[][]>();
  #memoryItems = 0;
  readonly #maxMemoryItems: number;

  constructor(dir: string, options: SpoolOptions = {}) {
    this.dir = dir;
    this.#sync = options.sync ?? true;
    this.#maxMemoryItems = options.memoryItems ?? 200_000;
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir).sort()) {
      const match = SEGMENT_NAME.exec(name);
      if (!match) continue;
      this.#segments.push(Number(match[1]));
      this.#pendingRecords += this.#readSegment(Number(match[1])).reduce((n, batch) => n + batch.length, 0);
    }
  }

  /** Items (in all batches) waiting on disk. */
  get pendingRecords(): number {
    return this.#pendingRecords;
  }

  get isEmpty(): boolean {
    return this.#segments.length === 0;
  }

  append(records: readonly T[]): void {
    if (records.length === 0) return;
    if (this.#activeFd === undefined || this.#activeBytes >= SEGMENT_BYTES) this.#openNewSegment();
    const line = Buffer.from(`${JSON.stringify(records)}\n`);
    writeSync(this.#activeFd as number, line);
    if (this.#sync) fdatasyncSync(this.#activeFd as number);
    this.#activeBytes += line.length;
    this.#pendingRecords += records.length;
    this.#remember(this.#segments.at(-1) as number, records);
  }

  /**
   * Writes every spooled batch, oldest first, through `write`. Stops at the first failure and
   * rethrows it; what was written stays written and the rest stays on disk. With `mergeUpTo`,
   * consecutive batches are handed over together, up to that many items per call (many small
   * batches spilled under a flood become one store write).
   */
  async replay(
    write: (records: T[]) => Promise<void>,
    options: { mergeUpTo?: number } = {},
  ): Promise<number> {
    const mergeUpTo = options.mergeUpTo ?? 0;
    let replayed = 0;
    while (this.#segments.length > 0) {
      const segment = this.#segments[0] as number;
      // Appends must not land in the segment being replayed: start a new one for them.
      if (this.#segments.length === 1 && this.#activeFd !== undefined) this.#closeActive();
      const batches = this.#memory.get(segment) ?? this.#readSegment(segment);
      let i = this.#replayedInOldest;
      while (i < batches.length) {
        let records = batches[i] as T[];
        let next = i + 1;
        if (records.length < mergeUpTo && next < batches.length) {
          records = records.slice();
          while (next < batches.length && records.length + (batches[next] as T[]).length <= mergeUpTo) {
            for (const record of batches[next] as T[]) records.push(record);
            next++;
          }
        }
        await write(records);
        this.#replayedInOldest = next;
        this.#pendingRecords -= records.length;
        replayed += records.length;
        i = next;
      }
      rmSync(this.#segmentPath(segment), { force: true });
      this.#forget(segment);
      this.#segments.shift();
      this.#replayedInOldest = 0;
    }
    return replayed;
  }

  close(): void {
    this.#closeActive();
  }

  /** Keeps a batch of the segment in memory, or lets go of the segment's copy when memory is full. */
  #remember(segment: number, records: readonly T[]): void {
    const kept = this.#memory.get(segment);
    if (!kept) return;
    if (this.#memoryItems + records.length > this.#maxMemoryItems) this.#forget(segment);
    else {
      kept.push(records as T[]);
      this.#memoryItems += records.length;
    }
  }

  #forget(segment: number): void {
    const kept = this.#memory.get(segment);
    if (!kept) return;
    for (const batch of kept) this.#memoryItems -= batch.length;
    this.#memory.delete(segment);
  }

  #segmentPath(segment: number): string {
    return join(this.dir, `${String(segment).padStart(12, '0')}.jsonl`);
  }

  #openNewSegment(): void {
    this.#closeActive();
    const next = (this.#segments.at(-1) ?? 0) + 1;
    this.#activeFd = openSync(this.#segmentPath(next), 'a');
    this.#activeBytes = 0;
    this.#segments.push(next);
    // Opened here: every batch it will hold passes through append, so memory can hold it whole.
    this.#memory.set(next, []);
  }

  #closeActive(): void {
    if (this.#activeFd === undefined) return;
    closeSync(this.#activeFd);
    this.#activeFd = undefined;
  }

  #readSegment(segment: number): T[][] {
    const path = this.#segmentPath(segment);
    if (statSync(path, { throwIfNoEntry: false }) === undefined) return [];
    const batches: T[][] = [];
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        batches.push(JSON.parse(line) as T[]);
      } catch {
        // Only the last line of a segment can be torn, by a power cut during its append.
      }
    }
    return batches;
  }
}
