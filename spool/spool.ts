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

  constructor(dir: string, options: SpoolOptions = {}) {
    this.dir = dir;
    this.#sync = options.sync ?? true;
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
  }

  /**
   * Writes every spooled batch, oldest first, through `write`. Stops at the first failure and
   * rethrows it; what was written stays written and the rest stays on disk.
   */
  async replay(write: (records: T[]) => Promise<void>): Promise<number> {
    let replayed = 0;
    while (this.#segments.length > 0) {
      const segment = this.#segments[0] as number;
      // Appends must not land in the segment being replayed: start a new one for them.
      if (this.#segments.length === 1 && this.#activeFd !== undefined) this.#closeActive();
      const batches = this.#readSegment(segment);
      for (let i = this.#replayedInOldest; i < batches.length; i++) {
        const batch = batches[i] as T[];
        await write(batch);
        this.#replayedInOldest = i + 1;
        this.#pendingRecords -= batch.length;
        replayed += batch.length;
      }
      rmSync(this.#segmentPath(segment), { force: true });
      this.#segments.shift();
      this.#replayedInOldest = 0;
    }
    return replayed;
  }

  close(): void {
    this.#closeActive();
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
