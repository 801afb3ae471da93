import { MAX_SERIAL_LINE_LENGTH } from '../protocol/index.ts';

export interface LineCounts {
  /** Lines longer than the limit, dropped whole (garbage or a sketch that never prints a newline). */
  overlong: number;
  /** Bytes thrown away with them. */
  droppedBytes: number;
}

/**
 * Splits a serial byte stream into lines (`\n`, with an optional `\r` before it). Unlike a plain
 * readline parser it never buffers more than one line: a line past the limit is dropped up to
 * its newline, so a port spewing garbage cannot grow memory or stall the lines after it.
 * Bytes are decoded as UTF-8 with replacement characters, which the protocol then refuses.
 */
export class LineSplitter {
  readonly counts: LineCounts = { overlong: 0, droppedBytes: 0 };
  readonly #maxBytes: number;
  readonly #onLine: (line: string) => void;
  #parts: Buffer[] = [];
  #length = 0;
  #discarding = false;
  readonly #decoder = new TextDecoder('utf-8', { fatal: false });

  constructor(onLine: (line: string) => void, maxBytes = MAX_SERIAL_LINE_LENGTH * 4) {
    this.#onLine = onLine;
    this.#maxBytes = maxBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      this.#take(chunk.subarray(start, end));
      if (newline === -1) return;
      this.#endLine();
      start = newline + 1;
    }
  }

  /** Forgets a partial line (the port closed mid-line). */
  reset(): void {
    this.#parts = [];
    this.#length = 0;
    this.#discarding = false;
  }

  #take(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.#discarding) {
      this.counts.droppedBytes += bytes.length;
      return;
    }
    if (this.#length + bytes.length > this.#maxBytes) {
      this.counts.overlong++;
      this.counts.droppedBytes += this.#length + bytes.length;
      this.#parts = [];
      this.#length = 0;
      this.#discarding = true;
      return;
    }
    this.#parts.push(Buffer.from(bytes)); // copy: the port reuses its buffers
    this.#length += bytes.length;
  }

  #endLine(): void {
    if (this.#discarding) {
      this.#discarding = false;
      return;
    }
    const bytes =
      this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#length);
    this.#parts = [];
    this.#length = 0;
    let line = this.#decoder.decode(bytes);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    this.#onLine(line);
  }
}
