/**
 * A live attempt's readings of one series, in two growable Float64Arrays (time, value): 16 bytes a
 * reading, and nothing for the garbage collector to trace — a thousand kits × 8 sensors × 1 h held
 * as point objects took over 2 GB of heap and most of a core in collections. The evaluators that
 * read the whole series (authenticity, actuator effect, threshold response on an actuator) read
 * views of the arrays (`columns`); points are built only when asked for.
 */
import type { SeriesColumns, SeriesPoint } from './types.ts';

export type PushOutcome = 'appended' | 'replaced' | 'unordered';

export class SeriesBuffer {
  #ts = new Float64Array(16);
  #values = new Float64Array(16);
  /** Readings live in [#start, #end) of the arrays. */
  #start = 0;
  #end = 0;
  #unordered = false;

  static of(points: readonly SeriesPoint[]): SeriesBuffer {
    const buffer = new SeriesBuffer();
    for (const point of points) buffer.push(point.ts, point.value);
    buffer.normalize();
    return buffer;
  }

  get length(): number {
    return this.#end - this.#start;
  }

  /** Whether readings arrived out of time order since the last `normalize`. */
  get unordered(): boolean {
    return this.#unordered;
  }

  tsAt(index: number): number {
    return this.#ts[this.#start + index] as number;
  }

  valueAt(index: number): number {
    return this.#values[this.#start + index] as number;
  }

  pointAt(index: number): SeriesPoint {
    return { ts: this.tsAt(index), value: this.valueAt(index) };
  }

  /** Adds a reading; one at the newest reading's very instant replaces it (the last one wins). */
  push(ts: number, value: number): PushOutcome {
    const n = this.length;
    if (n > 0) {
      const last = this.tsAt(n - 1);
      if (last === ts) {
        this.#values[this.#end - 1] = value;
        return 'replaced';
      }
      if (last > ts) this.#unordered = true;
    }
    if (this.#end === this.#ts.length) this.#grow();
    this.#ts[this.#end] = ts;
    this.#values[this.#end] = value;
    this.#end++;
    return this.#unordered ? 'unordered' : 'appended';
  }

  /** Sorts by time and keeps one reading per instant (the last one that arrived). */
  normalize(): void {
    if (!this.#unordered) return;
    const n = this.length;
    const order = Array.from({ length: n }, (_, i) => i);
    // Stable: readings at the same instant keep their arrival order, and the last one is kept.
    order.sort((a, b) => this.tsAt(a) - this.tsAt(b));
    const ts = new Float64Array(Math.max(16, n));
    const values = new Float64Array(Math.max(16, n));
    let kept = 0;
    for (const i of order) {
      const t = this.tsAt(i);
      if (kept > 0 && ts[kept - 1] === t) values[kept - 1] = this.valueAt(i);
      else {
        ts[kept] = t;
        values[kept] = this.valueAt(i);
        kept++;
      }
    }
    this.#ts = ts;
    this.#values = values;
    this.#start = 0;
    this.#end = kept;
    this.#unordered = false;
  }

  /** Index of the first reading at or after `ts` (the buffer must be in order). */
  firstAtOrAfter(ts: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tsAt(mid) < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops the oldest `count` readings. */
  dropFirst(count: number): void {
    if (count <= 0) return;
    this.#start = Math.min(this.#end, this.#start + count);
  }

  /** The readings from index `start` on as points, oldest first (a new array each time). */
  points(start = 0): SeriesPoint[] {
    const from = Math.max(0, start);
    const points: SeriesPoint[] = new Array(Math.max(0, this.length - from));
    for (let i = 0; i < points.length; i++) points[i] = this.pointAt(from + i);
    return points;
  }

  /** The readings from index `start` on as columns: views of the buffer, valid until it changes. */
  columns(start = 0): SeriesColumns {
    const from = this.#start + Math.max(0, start);
    return { ts: this.#ts.subarray(from, this.#end), values: this.#values.subarray(from, this.#end) };
  }

  #grow(): void {
    const n = this.length;
    // Room is made by moving the readings to the front when most of the array was dropped.
    const capacity = n * 2 > this.#ts.length ? this.#ts.length * 2 : this.#ts.length;
    const ts = new Float64Array(capacity);
    const values = new Float64Array(capacity);
    ts.set(this.#ts.subarray(this.#start, this.#end));
    values.set(this.#values.subarray(this.#start, this.#end));
    this.#ts = ts;
    this.#values = values;
    this.#start = 0;
    this.#end = n;
  }
}
