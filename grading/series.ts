/** Numeric helpers on readings: windowing, intervals, statistics, least squares, comparisons. */
import type { GradingCommand, GradingEvent, SeriesColumns, SeriesPoint, TimeWindow } from './types.ts';

/** Relative slack for comparisons against a bound, so "exactly at the threshold" survives float noise. */
const SLACK = 1e-9;

function slack(a: number, b: number): number {
  return SLACK * Math.max(1, Math.abs(a), Math.abs(b));
}

/** a ≤ b, allowing float noise. */
export function atMost(a: number, b: number): boolean {
  return a <= b + slack(a, b);
}

/** a ≥ b, allowing float noise. */
export function atLeast(a: number, b: number): boolean {
  return a >= b - slack(a, b);
}

interface Cut {
  from: number;
  to: number;
  /** The series as it was cut (live buffers grow and shrink: a changed series is cut again). */
  length: number;
  first: SeriesPoint | undefined;
  last: SeriesPoint | undefined;
  kept: readonly SeriesPoint[];
}

/** The last window cut from each series: a session's grading cuts each peer's series once per attempt. */
const lastCut = new WeakMap<readonly SeriesPoint[], Cut>();

/** Finite readings in [from, to), oldest first (sorted only if they are not already). */
export function inWindow(
  points: readonly SeriesPoint[] | undefined,
  window: TimeWindow,
): readonly SeriesPoint[] {
  if (!points) return [];
  const cached = lastCut.get(points);
  const first = points[0];
  const last = points[points.length - 1];
  if (
    cached &&
    cached.from === window.from &&
    cached.to === window.to &&
    cached.length === points.length &&
    cached.first === first &&
    cached.last === last
  )
    return cached.kept;
  const kept = points.filter(
    (p) => p.ts >= window.from && p.ts < window.to && Number.isFinite(p.value) && Number.isFinite(p.ts),
  );
  for (let i = 1; i < kept.length; i++) {
    if ((kept[i] as SeriesPoint).ts < (kept[i - 1] as SeriesPoint).ts) {
      kept.sort((a, b) => a.ts - b.ts);
      break;
    }
  }
  lastCut.set(points, { from: window.from, to: window.to, length: points.length, first, last, kept });
  return kept;
}

/** Columns built from points, kept per points array (a session's peers are read once per attempt). */
const builtColumns = new WeakMap<readonly SeriesPoint[], SeriesColumns>();

/** The points as columns (time, value); built once per (unchanging) points array. */
export function columnsOf(points: readonly SeriesPoint[]): SeriesColumns {
  let columns = builtColumns.get(points);
  if (!columns) {
    const ts = new Float64Array(points.length);
    const values = new Float64Array(points.length);
    for (let i = 0; i < points.length; i++) {
      const p = points[i] as SeriesPoint;
      ts[i] = p.ts;
      values[i] = p.value;
    }
    columns = { ts, values };
    builtColumns.set(points, columns);
  }
  return columns;
}

export function eventsInWindow<T extends GradingEvent | GradingCommand>(
  items: readonly T[],
  window: TimeWindow,
): T[] {
  return items.filter((item) => item.ts >= window.from && item.ts < window.to).sort((a, b) => a.ts - b.ts);
}

/** Intervals between consecutive readings (ms). */
export function intervals(points: readonly SeriesPoint[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < points.length; i++) {
    out.push((points[i] as SeriesPoint).ts - (points[i - 1] as SeriesPoint).ts);
  }
  return out;
}

export function median(values: ArrayLike<number>): number | undefined {
  if (values.length === 0) return undefined;
  // A typed array sorts numerically without a comparator call per comparison (grading sorts millions).
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return values.length ? sum / values.length : Number.NaN;
}

/** Sample standard deviation (n − 1); 0 for a single value. */
export function stdDev(values: ArrayLike<number>): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += ((values[i] as number) - m) ** 2;
  return Math.sqrt(sum / (values.length - 1));
}

/** Least-squares slope of value against time, in value units per minute (undefined: < 2 distinct times). */
export function slopePerMinute(points: readonly SeriesPoint[]): number | undefined {
  if (points.length < 2) return undefined;
  const t0 = (points[0] as SeriesPoint).ts;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += (p.ts - t0) / 60_000;
    sy += p.value;
  }
  const mx = sx / points.length;
  const my = sy / points.length;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    const dx = (p.ts - t0) / 60_000 - mx;
    sxx += dx * dx;
    sxy += dx * (p.value - my);
  }
  return sxx > 0 ? sxy / sxx : undefined;
}

/** Index of the latest time at or before `t` in ascending `ts` (binary search), or -1. */
export function lastAtOrBefore(ts: Float64Array, t: number): number {
  return firstAfter(ts, t) - 1;
}

/** Index of the first time after `t` in ascending `ts` (ts.length when none). */
export function firstAfter(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((ts[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether a command value means "on" (absent, true, non-zero, "on"/"open"/"high"/"true" or a number ≠ 0). */
export function isOnValue(value: number | string | boolean | undefined): boolean {
  if (value === undefined) return true;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) && value !== 0;
  const text = value.trim().toLowerCase();
  if (['off', 'false', 'low', 'close', 'closed', 'stop', '0', ''].includes(text)) return false;
  const number = Number(text);
  return Number.isFinite(number) ? number !== 0 : true;
}

/** Whether an event counts as raised (no value, or a value ≠ 0; value 0 marks a release or a clear). */
export function isRaised(event: GradingEvent): boolean {
  return event.value === undefined || event.value !== 0;
}
