/**
 * One evaluator per criterion type of lab-api/rubric.ts (authenticity is in authenticity.ts).
 * Each reads the attempt's data through a {@link GradingContext} (already cut to the window) and
 * returns its score, evidence and a sentence in zh-CN and en. The semantics, and how partial
 * credit is computed, are documented on each function.
 */
import type { Criterion, CriterionType } from '../lab-api/rubric.ts';
import { type Detail, evidence, fmt, result, say, sec, verdict } from './evidence.ts';
import { atLeast, atMost, firstAfter, isOnValue, isRaised, lastAtOrBefore, mean } from './series.ts';
import type {
  CriterionResult,
  EvidenceSpan,
  GradingCommand,
  GradingEvent,
  Localized,
  SeriesColumns,
  SeriesPoint,
  TimeWindow,
} from './types.ts';

export type CriterionOf<K extends CriterionType> = Extract<Criterion, { type: K }>;

/** The attempt's data cut to its window. */
export interface GradingContext {
  window: TimeWindow;
  /** Finite readings of a sensor in the window, oldest first (live buffers build them on each call). */
  points(sensor: string): readonly SeriesPoint[];
  /** How many readings `points` has (without building them, for live buffers). */
  count(sensor: string): number;
  /** The same readings as columns (views of a live buffer: valid until it changes). */
  columns(sensor: string): SeriesColumns;
  events: readonly GradingEvent[];
  commands: readonly GradingCommand[];
}

/** Clock jitter allowed on a minHz requirement: an interval up to 1.1 / minHz still counts. */
export const RATE_JITTER = 0.1;

/**
 * An evaluator that reads one series in a single pass: `add` takes its readings in time order,
 * `finish` gives the result for the window so far (and can be called again after more readings).
 * Final grading feeds the whole window at once; live grading keeps the scan and feeds each new
 * reading once, so an evaluation costs what arrived since the last one, not the whole window.
 */
export interface CriterionScan {
  /** The series whose readings `add` takes. */
  readonly sensor: string;
  /** The next reading (numbers, not a point object: live grading feeds them from typed arrays). */
  add(ts: number, value: number): void;
  /** The result so far; `detail` says how much of it to build (default `full`). */
  finish(ctx: GradingContext, detail?: Detail): CriterionResult;
}

export interface ScanOptions {
  /**
   * Whether to keep the evidence spans as readings arrive (default true). Live grading does not:
   * it never shows them, and over hours of noisy data they are most of a scan's memory. A scan
   * without them gives `full` results with the spans it has: none.
   */
  spans?: boolean;
}

/** The scan of a criterion whose evaluator reads one series in one pass; undefined for the others. */
export function createScan(criterion: Criterion, options: ScanOptions = {}): CriterionScan | undefined {
  switch (criterion.type) {
    case 'sampling':
      return new SamplingScan(criterion, options);
    case 'completeness':
      return new CompletenessScan(criterion, options);
    case 'range':
    case 'tolerance':
      return new RangeScan(criterion, options);
    case 'stability':
      return new StabilityScan(criterion);
    case 'threshold_response':
      return new ThresholdScan(criterion);
    default:
      return undefined;
  }
}

/** Runs a scan over the window's readings of its series. */
export function scanAll(scan: CriterionScan, ctx: GradingContext, detail: Detail = 'full'): CriterionResult {
  for (const point of ctx.points(scan.sensor)) scan.add(point.ts, point.value);
  return scan.finish(ctx, detail);
}

/** Counts of integer values (intervals in ms): their median without keeping or sorting them all. */
class Histogram {
  readonly #counts = new Map<number, number>();
  /** The distinct values in order (few: a kit's intervals vary by its clock's jitter). */
  readonly #keys: number[] = [];
  #n = 0;

  clear(): void {
    this.#counts.clear();
    this.#keys.length = 0;
    this.#n = 0;
  }

  add(value: number): void {
    const count = this.#counts.get(value);
    if (count === undefined) {
      let at = this.#keys.length;
      while (at > 0 && (this.#keys[at - 1] as number) > value) at--;
      this.#keys.splice(at, 0, value);
    }
    this.#counts.set(value, (count ?? 0) + 1);
    this.#n++;
  }

  /** The median (the mean of the two middle values for an even count), as `median` computes it. */
  median(): number | undefined {
    if (this.#n === 0) return undefined;
    const mid = this.#n >> 1;
    return this.#n % 2 === 1 ? this.#at(mid) : (this.#at(mid - 1) + this.#at(mid)) / 2;
  }

  /** The value at `index` in sorted order. */
  #at(index: number): number {
    let seen = 0;
    for (let k = 0; k < this.#keys.length; k++) {
      const key = this.#keys[k] as number;
      seen += this.#counts.get(key) as number;
      if (seen > index) return key;
    }
    return this.#keys[this.#keys.length - 1] as number;
  }
}

function noReadings(criterion: Criterion, sensor: string, measured: Record<string, number>): CriterionResult {
  return result(
    criterion,
    false,
    0,
    evidence({ readings: 0, ...measured }),
    say(
      `${sensor} sent no readings in the attempt window, so nothing could be checked.`,
      `${sensor} 在本次实验时段内没有任何读数，无法评判。`,
    ),
  );
}

// ---------------------------------------------------------------------------------------------

/**
 * sampling: the sensor reports often enough — every interval ≤ maxIntervalSeconds, or (minHz)
 * every interval ≤ (1 + {@link RATE_JITTER}) / minHz — for at least minMinutes. The readings are cut
 * into stretches at every interval that is too long; the longest stretch decides. A stretch
 * lasts from its first reading to its last plus its median interval (the last reading stands for
 * the time until the next one is due), clipped to the window: 300 readings at 1 Hz are 5 minutes.
 * Partial credit: longest stretch / minMinutes.
 */
export class SamplingScan implements CriterionScan {
  readonly sensor: string;
  readonly #criterion: CriterionOf<'sampling'>;
  readonly #allowedMs: number;
  #count = 0;
  #first: number | undefined;
  #prev: number | undefined;
  /** Spans of closed stretches and slow intervals, in the order they closed (null: not kept). */
  readonly #spans: EvidenceSpan[] | null;
  /** The longest closed stretch: its length and rate. */
  #longestMs = 0;
  #longestRateHz = 0;
  #slow: { from: number; to: number; count: number; longest: number } | undefined;
  #slowIntervals = 0;
  #longestInterval = 0;
  /** The open stretch: its first reading, readings and intervals. */
  #runFirst = 0;
  #runCount = 0;
  readonly #runIntervals = new Histogram();

  constructor(criterion: CriterionOf<'sampling'>, options: ScanOptions = {}) {
    this.#criterion = criterion;
    this.sensor = criterion.params.sensor;
    this.#spans = options.spans === false ? null : [];
    const { minHz, maxIntervalSeconds } = criterion.params;
    this.#allowedMs =
      maxIntervalSeconds !== undefined
        ? maxIntervalSeconds * 1000
        : (1000 / (minHz ?? 1)) * (1 + RATE_JITTER);
  }

  add(ts: number): void {
    this.#count++;
    const prev = this.#prev;
    this.#prev = ts;
    if (prev === undefined) {
      this.#first = ts;
      this.#openRun(ts);
      return;
    }
    const d = ts - prev;
    this.#longestInterval = Math.max(this.#longestInterval, d);
    if (atMost(d, this.#allowedMs)) {
      this.#closeSlow(this.#spans);
      this.#runCount++;
      this.#runIntervals.add(d);
      return;
    }
    this.#slowIntervals++;
    // A closed stretch ends before a later reading: the window's end cannot cut it.
    this.#closeRun(prev, Number.POSITIVE_INFINITY, this.#spans);
    const slow = this.#slow;
    if (slow && slow.to === prev) {
      slow.to = prev + d;
      slow.count++;
      slow.longest = Math.max(slow.longest, d);
    } else {
      this.#closeSlow(this.#spans);
      this.#slow = { from: prev, to: prev + d, count: 1, longest: d };
    }
    this.#openRun(ts);
  }

  #openRun(ts: number): void {
    this.#runFirst = ts;
    this.#runCount = 1;
    this.#runIntervals.clear();
  }

  /** The open stretch's length (ms): until its last reading plus its median interval, at most to `windowTo`. */
  #runMs(last: number, windowTo: number): number {
    return Math.min(windowTo, last + (this.#runIntervals.median() ?? 0)) - this.#runFirst;
  }

  #runRateHz(last: number): number {
    const first = this.#runFirst;
    return last > first ? (this.#runCount - 1) / ((last - first) / 1000) : 0;
  }

  /** Closes the open stretch: the longest so far, and its span. */
  #closeRun(last: number, windowTo: number, spans: EvidenceSpan[] | null): void {
    if (this.#runCount < 2) return;
    const first = this.#runFirst;
    const ms = this.#runMs(last, windowTo);
    const rateHz = this.#runRateHz(last);
    if (ms > this.#longestMs) {
      this.#longestMs = ms;
      this.#longestRateHz = rateHz;
    }
    spans?.push({
      from: first,
      to: first + ms,
      ok: true,
      note: `${fmt(ms / 60_000)} min at ${fmt(rateHz)} Hz`,
    });
  }

  #closeSlow(spans: EvidenceSpan[] | null): void {
    const slow = this.#slow;
    if (!slow) return;
    spans?.push({
      from: slow.from,
      to: slow.to,
      ok: false,
      note: `${slow.count} interval(s) longer than ${sec(this.#allowedMs)} s (longest ${sec(slow.longest)} s)`,
    });
    this.#slow = undefined;
  }

  /** The rubric's requirement, as measured numbers. */
  #required(): Record<string, number> {
    const { minHz, maxIntervalSeconds, minMinutes } = this.#criterion.params;
    return maxIntervalSeconds !== undefined
      ? { maxIntervalSeconds, requiredMinutes: minMinutes }
      : { minHz: minHz ?? 1, requiredMinutes: minMinutes };
  }

  finish(ctx: GradingContext, detail: Detail = 'full'): CriterionResult {
    const criterion = this.#criterion;
    const { sensor, minHz, maxIntervalSeconds, minMinutes } = criterion.params;
    const byInterval = maxIntervalSeconds !== undefined;
    const allowedMs = this.#allowedMs;
    const requiredMs = minMinutes * 60_000;
    const first = this.#first;
    const last = this.#prev;
    if (first === undefined || last === undefined)
      return noReadings(criterion, sensor, { longestStretchMinutes: 0, ...this.#required() });

    // The open stretch counts as if it closed at the window's end (without closing it: more may follow).
    let longestMs = this.#longestMs;
    let longestRateHz = this.#longestRateHz;
    const openMs = this.#runCount < 2 ? 0 : this.#runMs(last, ctx.window.to);
    if (openMs > longestMs) {
      longestMs = openMs;
      longestRateHz = this.#runRateHz(last);
    }
    const passed = atLeast(longestMs, requiredMs);
    if (detail === 'verdict') return verdict(criterion, passed, longestMs / requiredMs);
    // The open slow span and stretch as spans, without changing the scan.
    const spans = detail === 'full' ? [...(this.#spans ?? [])] : null;
    if (spans) {
      const slow = this.#slow;
      this.#closeSlow(spans);
      this.#slow = slow;
      const [closedMs, closedRateHz] = [this.#longestMs, this.#longestRateHz];
      this.#closeRun(last, ctx.window.to, spans);
      [this.#longestMs, this.#longestRateHz] = [closedMs, closedRateHz];
      spans.sort((a, b) => a.from - b.from);
    }

    const slowIntervals = this.#slowIntervals;
    const longestInterval = this.#longestInterval;
    const longestMin = longestMs / 60_000;
    const rule: Localized = byInterval
      ? say(
          `a reading at least every ${fmt(maxIntervalSeconds)} s`,
          `至少每 ${fmt(maxIntervalSeconds)} 秒一个读数`,
        )
      : say(`≥ ${fmt(minHz ?? 1)} Hz`, `≥ ${fmt(minHz ?? 1)} Hz 的采样率`);
    const measured = {
      readings: this.#count,
      rateHz: last > first ? (this.#count - 1) / ((last - first) / 1000) : 0,
      longestStretchMinutes: longestMin,
      longestStretchRateHz: longestRateHz,
      longestIntervalSeconds: longestInterval / 1000,
      slowIntervals,
      ...this.#required(),
    };
    const slowEn = slowIntervals
      ? `; ${slowIntervals} interval(s) were longer than ${sec(allowedMs)} s (longest ${sec(longestInterval)} s)`
      : '';
    const slowZh = slowIntervals
      ? `；有 ${slowIntervals} 个间隔超过 ${sec(allowedMs)} 秒（最长 ${sec(longestInterval)} 秒）`
      : '';
    const explanation = passed
      ? say(
          `${sensor} met ${rule.en} for ${fmt(longestMin)} min without a break (${fmt(longestRateHz)} Hz; ${fmt(minMinutes)} min required)${slowEn}.`,
          `${sensor} 连续 ${fmt(longestMin)} 分钟满足${rule['zh-CN']}（实际 ${fmt(longestRateHz)} Hz；要求持续 ${fmt(minMinutes)} 分钟）${slowZh}。`,
        )
      : say(
          `${sensor} met ${rule.en} for at most ${fmt(longestMin)} min without a break, less than the ${fmt(minMinutes)} min required${slowEn}.`,
          `${sensor} 满足${rule['zh-CN']}的最长连续时间只有 ${fmt(longestMin)} 分钟，少于要求的 ${fmt(minMinutes)} 分钟${slowZh}。`,
        );
    return result(criterion, passed, longestMs / requiredMs, evidence(measured, spans ?? []), explanation);
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * completeness: the share of the attempt covered by data, where a gap longer than maxGapSeconds
 * (between two readings, or between the window's edges and the first / last reading) counts as
 * missing — as the rubric schema documents minPercent. In terms of samples: the kit's expected
 * readings are those at its own (median) interval, and the ones missing are those that fall in
 * such gaps; shorter gaps are tolerated by the rubric's choice of maxGapSeconds, and a kit that
 * samples slowly loses nothing here (that is the sampling criterion's business). minPercent 100
 * means "no gap longer than maxGapSeconds at all". Passed when coverage ≥ minPercent.
 * Partial credit: coverage / minPercent.
 */
export class CompletenessScan implements CriterionScan {
  readonly sensor: string;
  readonly #criterion: CriterionOf<'completeness'>;
  readonly #maxGapMs: number;
  #count = 0;
  #first: number | undefined;
  #last: number | undefined;
  /** Gaps between readings (the window's edges are added by `finish`; null: not kept). */
  readonly #gapSpans: EvidenceSpan[] | null;
  #gaps = 0;
  #missing = 0;
  #longestGap = 0;
  readonly #intervals = new Histogram();

  constructor(criterion: CriterionOf<'completeness'>, options: ScanOptions = {}) {
    this.#criterion = criterion;
    this.sensor = criterion.params.sensor;
    this.#gapSpans = options.spans === false ? null : [];
    this.#maxGapMs = criterion.params.maxGapSeconds * 1000;
  }

  add(ts: number): void {
    this.#count++;
    const last = this.#last;
    this.#last = ts;
    if (last === undefined) {
      this.#first = ts;
      return;
    }
    this.#intervals.add(ts - last);
    const gap = this.#gap(last, ts, '');
    if (gap) {
      this.#missing += gap.to - gap.from;
      this.#gaps++;
      this.#gapSpans?.push(gap);
    }
  }

  /** A gap longer than allowed as a failed span (and the longest gap so far). */
  #gap(a: number, b: number, edge: string): EvidenceSpan | undefined {
    const d = b - a;
    this.#longestGap = Math.max(this.#longestGap, d);
    if (atMost(d, this.#maxGapMs)) return undefined;
    return { from: a, to: b, ok: false, note: `no reading for ${sec(d)} s${edge}` };
  }

  finish(ctx: GradingContext, detail: Detail = 'full'): CriterionResult {
    const criterion = this.#criterion;
    const { sensor, maxGapSeconds, minPercent } = criterion.params;
    const { from, to } = ctx.window;
    const windowMs = to - from;
    const first = this.#first;
    const last = this.#last;
    if (first === undefined || last === undefined || windowMs <= 0) {
      return noReadings(criterion, sensor, { coveragePercent: 0, maxGapSeconds, minPercent });
    }
    // The edges depend on the window: measured here, without changing the scan.
    const longestBetween = this.#longestGap;
    const startGap = this.#gap(from, first, ' at the start of the attempt');
    const endGap = this.#gap(last, to, ' at the end of the attempt');
    const longestGap = this.#longestGap;
    this.#longestGap = longestBetween;
    let missing = this.#missing;
    if (startGap) missing += startGap.to - startGap.from;
    if (endGap) missing += endGap.to - endGap.from;
    const coverage = 100 * (1 - missing / windowMs);
    const passed = atLeast(coverage, minPercent);
    const fraction = minPercent > 0 ? coverage / minPercent : 1;
    if (detail === 'verdict') return verdict(criterion, passed, fraction);
    const gaps = this.#gaps + (startGap ? 1 : 0) + (endGap ? 1 : 0);
    const spans: EvidenceSpan[] = [];
    if (detail === 'full') {
      if (startGap) spans.push(startGap);
      spans.push(...(this.#gapSpans ?? []));
      if (endGap) spans.push(endGap);
      if (gaps === 0) {
        spans.push({ from: first, to: last, ok: true, note: `no gap longer than ${fmt(maxGapSeconds)} s` });
      }
    }
    const medianMs = this.#intervals.median();
    const expected = medianMs ? windowMs / medianMs : this.#count;
    const measured = {
      readings: this.#count,
      coveragePercent: coverage,
      longestGapSeconds: longestGap / 1000,
      gapsOverLimit: gaps,
      missingSeconds: missing / 1000,
      medianIntervalSeconds: (medianMs ?? 0) / 1000,
      expectedReadings: expected,
      readingsPercent: expected > 0 ? (100 * this.#count) / expected : 0,
      maxGapSeconds,
      minPercent,
    };
    const gapsEn = gaps
      ? `${gaps} gap(s) longer than ${fmt(maxGapSeconds)} s, ${sec(missing)} s in all, the longest ${sec(longestGap)} s`
      : `no gap longer than ${fmt(maxGapSeconds)} s (longest ${sec(longestGap)} s)`;
    const gapsZh = gaps
      ? `有 ${gaps} 处超过 ${fmt(maxGapSeconds)} 秒的数据中断，共 ${sec(missing)} 秒，最长 ${sec(longestGap)} 秒`
      : `没有超过 ${fmt(maxGapSeconds)} 秒的中断（最长间隔 ${sec(longestGap)} 秒）`;
    const explanation = passed
      ? say(
          `${sensor} data covered ${fmt(coverage)} % of the attempt (≥ ${fmt(minPercent)} % required): ${gapsEn}.`,
          `${sensor} 的数据覆盖了实验时段的 ${fmt(coverage)} %（要求 ≥ ${fmt(minPercent)} %）：${gapsZh}。`,
        )
      : say(
          `${sensor} data covered only ${fmt(coverage)} % of the attempt (≥ ${fmt(minPercent)} % required): ${gapsEn}.`,
          `${sensor} 的数据只覆盖了实验时段的 ${fmt(coverage)} %（要求 ≥ ${fmt(minPercent)} %）：${gapsZh}。`,
        );
    return result(criterion, passed, fraction, evidence(measured, spans), explanation);
  }
}

// ---------------------------------------------------------------------------------------------

interface InsideRun {
  ok: boolean;
  from: number;
  last: number;
  count: number;
  lo: number;
  hi: number;
}

/**
 * range / tolerance: the share of readings within [min, max] (both ends included), or within
 * reference ± epsilon, must be ≥ minPercent. Partial credit: share / minPercent. The evidence has
 * the runs of consecutive readings inside / outside, each ending at the first reading after it.
 */
export class RangeScan implements CriterionScan {
  readonly sensor: string;
  readonly #criterion: CriterionOf<'range'> | CriterionOf<'tolerance'>;
  readonly #inside: (v: number) => boolean;
  readonly #what: Localized;
  #count = 0;
  #inCount = 0;
  #lo = Number.POSITIVE_INFINITY;
  #hi = Number.NEGATIVE_INFINITY;
  #sum = 0;
  #maxDeviation = Number.NEGATIVE_INFINITY;
  #sumDeviation = 0;
  /** Runs closed so far as spans (null: not kept). */
  readonly #spans: EvidenceSpan[] | null;
  #outsideRuns = 0;
  #run: InsideRun | undefined;
  /** Whether the last reading was inside (undefined before the first). */
  #runOk: boolean | undefined;

  constructor(criterion: CriterionOf<'range'> | CriterionOf<'tolerance'>, options: ScanOptions = {}) {
    this.#criterion = criterion;
    this.sensor = criterion.params.sensor;
    this.#spans = options.spans === false ? null : [];
    if (criterion.type === 'range') {
      const { min, max } = criterion.params;
      this.#inside = (v) => atLeast(v, min) && atMost(v, max);
      this.#what = say(`[${fmt(min)}, ${fmt(max)}]`, `[${fmt(min)}, ${fmt(max)}] 范围内`);
    } else {
      const { reference, epsilon } = criterion.params;
      this.#inside = (v) => atMost(Math.abs(v - reference), epsilon);
      this.#what = say(`${fmt(reference)} ± ${fmt(epsilon)}`, `${fmt(reference)} ± ${fmt(epsilon)} 以内`);
    }
  }

  add(ts: number, v: number): void {
    const ok = this.#inside(v);
    this.#count++;
    if (ok) this.#inCount++;
    this.#lo = Math.min(this.#lo, v);
    this.#hi = Math.max(this.#hi, v);
    this.#sum += v;
    if (this.#criterion.type === 'tolerance') {
      const deviation = Math.abs(v - this.#criterion.params.reference);
      this.#maxDeviation = Math.max(this.#maxDeviation, deviation);
      this.#sumDeviation += deviation;
    }
    const changed = ok !== this.#runOk;
    if (changed && !ok) this.#outsideRuns++;
    this.#runOk = ok;
    // The run as an object only for its span (live grading keeps none: nothing to allocate).
    if (!this.#spans) return;
    const run = this.#run;
    if (run && !changed) {
      run.last = ts;
      run.count++;
      run.lo = Math.min(run.lo, v);
      run.hi = Math.max(run.hi, v);
      return;
    }
    if (run) this.#spans.push(this.#runSpan(run, ts));
    this.#run = { ok, from: ts, last: ts, count: 1, lo: v, hi: v };
  }

  #runSpan(run: InsideRun, to: number): EvidenceSpan {
    return {
      from: run.from,
      to,
      ok: run.ok,
      note: `${run.count} reading(s) ${run.ok ? 'within' : 'outside'} ${this.#what.en} (${fmt(run.lo)}…${fmt(run.hi)})`,
    };
  }

  /** The range or the tolerance, as measured numbers. */
  #bounds(): Record<string, number> {
    const criterion = this.#criterion;
    return criterion.type === 'range'
      ? { rangeMin: criterion.params.min, rangeMax: criterion.params.max }
      : { reference: criterion.params.reference, epsilon: criterion.params.epsilon };
  }

  finish(_ctx: GradingContext, detail: Detail = 'full'): CriterionResult {
    const criterion = this.#criterion;
    const what = this.#what;
    const { sensor, minPercent } = criterion.params;
    const n = this.#count;
    if (n === 0) return noReadings(criterion, sensor, { percentInRange: 0, minPercent, ...this.#bounds() });
    const inCount = this.#inCount;
    const percent = (100 * inCount) / n;
    const passed = atLeast(percent, minPercent);
    const fraction = minPercent > 0 ? percent / minPercent : 1;
    if (detail === 'verdict') return verdict(criterion, passed, fraction);
    const measured = this.#bounds();
    const lo = this.#lo;
    const hi = this.#hi;
    Object.assign(measured, {
      readings: n,
      inRange: inCount,
      percentInRange: percent,
      minPercent,
      min: lo,
      max: hi,
      mean: this.#sum / n,
    });
    if (criterion.type === 'tolerance') {
      measured.maxDeviation = this.#maxDeviation;
      measured.meanDeviation = this.#sumDeviation / n;
    }
    const full = detail === 'full' && this.#spans !== null;
    const spans = full ? [...(this.#spans ?? [])] : [];
    if (this.#run && full) spans.push(this.#runSpan(this.#run, this.#run.last));
    const outsideRuns = this.#outsideRuns;
    const explanation = passed
      ? say(
          `${fmt(percent)} % of the ${n} ${sensor} readings were within ${what.en} (≥ ${fmt(minPercent)} % required; measured ${fmt(lo)}…${fmt(hi)}).`,
          `${n} 个 ${sensor} 读数中有 ${fmt(percent)} % 在${what['zh-CN']}（要求 ≥ ${fmt(minPercent)} %；实测 ${fmt(lo)}…${fmt(hi)}）。`,
        )
      : say(
          `Only ${fmt(percent)} % of the ${n} ${sensor} readings were within ${what.en} (≥ ${fmt(minPercent)} % required): ${n - inCount} were outside, in ${outsideRuns} stretch(es), measured ${fmt(lo)}…${fmt(hi)}.`,
          `${n} 个 ${sensor} 读数中只有 ${fmt(percent)} % 在${what['zh-CN']}（要求 ≥ ${fmt(minPercent)} %）：${n - inCount} 个超出，分布在 ${outsideRuns} 段，实测 ${fmt(lo)}…${fmt(hi)}。`,
        );
    return result(criterion, passed, fraction, evidence(measured, spans), explanation);
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * stability: the sample standard deviation (n − 1) ≤ maxStdDev and/or the least-squares slope
 * against time |drift per minute| ≤ maxDriftPerMinute; every bound given must hold. Needs two
 * readings. Partial credit: the worst of bound / measured over the bounds given (capped at 1).
 * Mean, sample variance and least-squares slope in one pass (Welford's updates: stable over
 * hours of readings, unlike sums of squares).
 */
export class StabilityScan implements CriterionScan {
  readonly sensor: string;
  readonly #criterion: CriterionOf<'stability'>;
  #n = 0;
  #t0 = 0;
  #first = 0;
  #last = 0;
  #meanX = 0;
  #meanY = 0;
  /** Σ(x − x̄)², Σ(y − ȳ)², Σ(x − x̄)(y − ȳ), with x in minutes from the first reading. */
  #m2x = 0;
  #m2y = 0;
  #cxy = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;

  constructor(criterion: CriterionOf<'stability'>) {
    this.#criterion = criterion;
    this.sensor = criterion.params.sensor;
  }

  add(ts: number, y: number): void {
    if (this.#n === 0) {
      this.#t0 = ts;
      this.#first = ts;
    }
    this.#last = ts;
    this.#n++;
    const x = (ts - this.#t0) / 60_000;
    const dx = x - this.#meanX;
    const dy = y - this.#meanY;
    this.#meanX += dx / this.#n;
    this.#meanY += dy / this.#n;
    this.#m2x += dx * (x - this.#meanX);
    this.#m2y += dy * (y - this.#meanY);
    this.#cxy += dx * (y - this.#meanY);
    this.#min = Math.min(this.#min, y);
    this.#max = Math.max(this.#max, y);
  }

  /** The bounds the rubric gives, as measured numbers. */
  #bounds(): Record<string, number> {
    const { maxStdDev, maxDriftPerMinute } = this.#criterion.params;
    const given: Record<string, number> = {};
    if (maxStdDev !== undefined) given.maxStdDev = maxStdDev;
    if (maxDriftPerMinute !== undefined) given.maxDriftPerMinute = maxDriftPerMinute;
    return given;
  }

  finish(_ctx: GradingContext, detail: Detail = 'full'): CriterionResult {
    const criterion = this.#criterion;
    const { sensor, maxStdDev, maxDriftPerMinute } = criterion.params;
    const n = this.#n;
    if (n === 0) return noReadings(criterion, sensor, this.#bounds());
    if (n < 2) {
      return result(
        criterion,
        false,
        0,
        evidence({ readings: 1, ...this.#bounds() }),
        say(
          `${sensor} sent a single reading: stability needs at least two.`,
          `${sensor} 只有一个读数：评判稳定性至少需要两个。`,
        ),
      );
    }
    const sd = Math.sqrt(Math.max(0, this.#m2y) / (n - 1));
    const drift = this.#m2x > 0 ? this.#cxy / this.#m2x : 0;
    const sdOk = maxStdDev === undefined || atMost(sd, maxStdDev);
    const driftOk = maxDriftPerMinute === undefined || atMost(Math.abs(drift), maxDriftPerMinute);
    const passed = sdOk && driftOk;
    let fraction = 1;
    if (maxStdDev !== undefined && sd > 0) fraction = Math.min(fraction, maxStdDev / sd);
    if (maxDriftPerMinute !== undefined && drift !== 0)
      fraction = Math.min(fraction, maxDriftPerMinute / Math.abs(drift));
    if (detail === 'verdict') return verdict(criterion, passed, fraction);
    const measured = {
      readings: n,
      stdDev: sd,
      driftPerMinute: drift,
      mean: this.#meanY,
      min: this.#min,
      max: this.#max,
      ...this.#bounds(),
    };
    const partsEn: string[] = [];
    const partsZh: string[] = [];
    if (maxStdDev !== undefined) {
      partsEn.push(`standard deviation ${fmt(sd)} (≤ ${fmt(maxStdDev)} allowed${sdOk ? '' : ': too high'})`);
      partsZh.push(`标准差 ${fmt(sd)}（允许 ≤ ${fmt(maxStdDev)}${sdOk ? '' : '，超出'}）`);
    }
    if (maxDriftPerMinute !== undefined) {
      partsEn.push(
        `drift ${fmt(drift)} per minute (|drift| ≤ ${fmt(maxDriftPerMinute)} allowed${driftOk ? '' : ': too fast'})`,
      );
      partsZh.push(
        `漂移 ${fmt(drift)} /分钟（允许 |漂移| ≤ ${fmt(maxDriftPerMinute)}${driftOk ? '' : '，超出'}）`,
      );
    }
    const spans: EvidenceSpan[] =
      detail === 'full' ? [{ from: this.#first, to: this.#last, ok: passed, note: partsEn.join('; ') }] : [];
    const explanation = say(
      `${sensor} was ${passed ? 'stable' : 'not stable enough'} over ${n} readings: ${partsEn.join(' and ')}.`,
      `${sensor} 在 ${n} 个读数中${passed ? '保持稳定' : '不够稳定'}：${partsZh.join('，')}。`,
    );
    return result(criterion, passed, fraction, evidence(measured, spans), explanation);
  }
}

// ---------------------------------------------------------------------------------------------

interface Response {
  ts: number;
  /** The actuator was already on before the crossing. */
  already?: boolean;
}

/**
 * threshold_response: each time the sensor crosses the threshold — a reading strictly above
 * `above` (below `below`) right after one that was not — the response must follow within
 * withinSeconds. A response counts from just after the last reading on the quiet side (the
 * crossing happened in between, and the firmware may read faster than it reports) to the
 * crossing reading + withinSeconds, inclusive:
 * - event: an event of that name that is raised (no value, or a value ≠ 0);
 * - command: a command of that name whose value means "on";
 * - actuator: the actuator's series reads ≠ 0 in that span, or was already on.
 * Noise around the threshold: a re-crossing within withinSeconds of the last reading beyond the
 * threshold belongs to the same episode and is not counted again. A window starting beyond the
 * threshold is not a crossing (its moment is unknown). A crossing so close to the end of the
 * window that its response time runs past it, and that is not answered yet, is not judged.
 * No crossing at all: not passed — the condition never happened. Partial credit: the fraction
 * of judged crossings answered. The crossings are found in one pass; the responses are looked up
 * at the end.
 */
export class ThresholdScan implements CriterionScan {
  readonly sensor: string;
  readonly #criterion: CriterionOf<'threshold_response'>;
  readonly #up: boolean;
  readonly #threshold: number;
  readonly #withinMs: number;
  #count = 0;
  #prevTs = 0;
  #prevValue = 0;
  #startedBeyond = false;
  #lastBeyondTs: number | undefined;
  #merged = 0;
  #extreme = Number.NaN;
  readonly #crossings: { prevTs: number; ts: number; value: number }[] = [];

  constructor(criterion: CriterionOf<'threshold_response'>) {
    this.#criterion = criterion;
    this.sensor = criterion.params.sensor;
    this.#up = criterion.params.above !== undefined;
    this.#threshold = (criterion.params.above ?? criterion.params.below) as number;
    this.#withinMs = criterion.params.withinSeconds * 1000;
  }

  #beyond(v: number): boolean {
    return this.#up ? v > this.#threshold : v < this.#threshold;
  }

  add(ts: number, value: number): void {
    const first = this.#count === 0;
    const prevTs = this.#prevTs;
    const prevValue = this.#prevValue;
    this.#count++;
    this.#prevTs = ts;
    this.#prevValue = value;
    this.#extreme = first
      ? value
      : this.#up
        ? Math.max(this.#extreme, value)
        : Math.min(this.#extreme, value);
    if (first) {
      this.#startedBeyond = this.#beyond(value);
      if (this.#startedBeyond) this.#lastBeyondTs = ts;
      return;
    }
    if (!this.#beyond(value)) return;
    if (!this.#beyond(prevValue)) {
      if (this.#lastBeyondTs !== undefined && ts - this.#lastBeyondTs <= this.#withinMs) this.#merged++;
      else this.#crossings.push({ prevTs, ts, value });
    }
    this.#lastBeyondTs = ts;
  }

  finish(ctx: GradingContext, detail: Detail = 'full'): CriterionResult {
    return thresholdResult(
      this.#criterion,
      ctx,
      {
        readings: this.#count,
        crossings: this.#crossings,
        merged: this.#merged,
        startedBeyond: this.#startedBeyond,
        extreme: this.#extreme,
      },
      detail,
    );
  }
}

function thresholdResult(
  criterion: CriterionOf<'threshold_response'>,
  ctx: GradingContext,
  scanned: {
    readings: number;
    crossings: readonly { prevTs: number; ts: number; value: number }[];
    merged: number;
    startedBeyond: boolean;
    extreme: number;
  },
  detail: Detail,
): CriterionResult {
  const { sensor, above, below, respondWith, withinSeconds } = criterion.params;
  const up = above !== undefined;
  const threshold = (above ?? below) as number;
  const withinMs = withinSeconds * 1000;
  const dir = say(up ? 'above' : 'below', up ? '高于' : '低于');

  let label: Localized;
  let respond: (afterTs: number, untilTs: number) => Response | undefined;
  if (respondWith.actuator !== undefined) {
    const name = respondWith.actuator;
    // Columns, not points: live grading answers this every second on the attempt's whole buffer.
    const act = ctx.columns(name);
    label = say(`${name} turning on`, `执行器 ${name} 开启`);
    respond = (afterTs, untilTs) => {
      const before = lastAtOrBefore(act.ts, afterTs);
      if (before >= 0 && act.values[before] !== 0) return { ts: afterTs, already: true };
      for (let k = firstAfter(act.ts, afterTs); k < act.ts.length; k++) {
        const ts = act.ts[k] as number;
        if (ts > untilTs) break;
        if (act.values[k] !== 0) return { ts };
      }
      return undefined;
    };
  } else {
    const isEvent = respondWith.event !== undefined;
    const name = (respondWith.event ?? respondWith.command) as string;
    const times = isEvent
      ? ctx.events.filter((e) => e.event === name && isRaised(e)).map((e) => e.ts)
      : ctx.commands.filter((c) => c.command === name && isOnValue(c.value)).map((c) => c.ts);
    label = isEvent ? say(`event "${name}"`, `事件 "${name}"`) : say(`command "${name}"`, `命令 "${name}"`);
    respond = (afterTs, untilTs) => {
      const ts = times.find((t) => t > afterTs && t <= untilTs);
      return ts === undefined ? undefined : { ts };
    };
  }

  const required = { threshold, withinSeconds };
  if (scanned.readings === 0) return noReadings(criterion, sensor, { crossings: 0, ...required });
  const { crossings, merged, startedBeyond, extreme } = scanned;

  const spans: EvidenceSpan[] = [];
  const full = detail === 'full';
  const delays: number[] = [];
  let unanswered = 0;
  let notJudged = 0;
  for (const c of crossings) {
    const deadline = c.ts + withinMs;
    const r = respond(c.prevTs, deadline);
    const crossed = full ? `${sensor} ${fmt(c.value)} ${dir.en} ${fmt(threshold)}` : '';
    if (r) {
      const delay = Math.max(0, r.ts - c.ts);
      delays.push(delay);
      if (full)
        spans.push({
          from: c.ts,
          to: Math.max(c.ts, r.ts),
          ok: true,
          note: r.already
            ? `${crossed}; ${label.en}: already on`
            : `${crossed}; ${label.en} after ${sec(delay)} s`,
        });
    } else if (deadline >= ctx.window.to) {
      notJudged++;
      if (full)
        spans.push({
          from: c.ts,
          to: ctx.window.to,
          ok: true,
          note: `${crossed}; the attempt ended before the ${fmt(withinSeconds)} s were over: not judged`,
        });
    } else {
      unanswered++;
      if (full)
        spans.push({
          from: c.ts,
          to: deadline,
          ok: false,
          note: `${crossed}; no ${label.en} within ${fmt(withinSeconds)} s`,
        });
    }
  }
  const judged = delays.length + unanswered;
  if (detail === 'verdict') {
    return judged === 0
      ? verdict(criterion, false, 0)
      : verdict(criterion, unanswered === 0, delays.length / judged);
  }
  const measured: Record<string, number> = {
    readings: scanned.readings,
    crossings: judged,
    answered: delays.length,
    unanswered,
    notJudged,
    mergedRecrossings: merged,
    [up ? 'maxValue' : 'minValue']: extreme,
    ...required,
  };
  if (delays.length) {
    measured.maxResponseDelaySeconds = Math.max(...delays) / 1000;
    measured.meanResponseDelaySeconds = mean(delays) / 1000;
  }
  if (judged === 0) {
    const startEn = startedBeyond ? ` (it was already ${dir.en} it when the attempt started)` : '';
    const startZh = startedBeyond ? `（实验开始时已经${dir['zh-CN']}该值）` : '';
    const explanation =
      crossings.length === 0
        ? say(
            `The condition never happened: ${sensor} never crossed ${dir.en} ${fmt(threshold)} during the attempt (${up ? 'highest' : 'lowest'} ${fmt(extreme)})${startEn}, so the ${label.en} could not be checked.`,
            `触发条件从未出现：实验期间 ${sensor} 从未变得${dir['zh-CN']} ${fmt(threshold)}（${up ? '最高' : '最低'} ${fmt(extreme)}）${startZh}，无法检查${label['zh-CN']}。`,
          )
        : say(
            `${sensor} crossed ${dir.en} ${fmt(threshold)} only within the last ${fmt(withinSeconds)} s of the attempt, too late to check the ${label.en}.`,
            `${sensor} 只在实验最后 ${fmt(withinSeconds)} 秒内${dir['zh-CN']} ${fmt(threshold)}，来不及检查${label['zh-CN']}。`,
          );
    return result(criterion, false, 0, evidence(measured, spans), explanation);
  }
  const passed = unanswered === 0;
  const delayEn = delays.length ? ` (longest delay ${sec(Math.max(...delays))} s)` : '';
  const delayZh = delays.length ? `（最长延迟 ${sec(Math.max(...delays))} 秒）` : '';
  const explanation = passed
    ? say(
        `${sensor} crossed ${dir.en} ${fmt(threshold)} ${judged} time(s) and the ${label.en} followed within ${fmt(withinSeconds)} s every time${delayEn}.`,
        `${sensor} ${judged} 次${dir['zh-CN']} ${fmt(threshold)}，每次都在 ${fmt(withinSeconds)} 秒内出现${label['zh-CN']}${delayZh}。`,
      )
    : say(
        `${sensor} crossed ${dir.en} ${fmt(threshold)} ${judged} time(s) but the ${label.en} followed within ${fmt(withinSeconds)} s only ${delays.length} time(s)${delayEn}.`,
        `${sensor} ${judged} 次${dir['zh-CN']} ${fmt(threshold)}，但只有 ${delays.length} 次在 ${fmt(withinSeconds)} 秒内出现${label['zh-CN']}${delayZh}。`,
      );
  return result(criterion, passed, delays.length / judged, evidence(measured, spans), explanation);
}

// ---------------------------------------------------------------------------------------------

/**
 * actuator_effect: after each trigger — a command of that name whose value means "on", or the
 * actuator's series going from 0 to ≠ 0 — the sensor must move by at least minChange (signed:
 * negative means it must fall) within withinSeconds, measured from its last reading at or before
 * the trigger (or the first one after it when there is none before) to the extreme reading in
 * (trigger, trigger + withinSeconds]. A trigger whose time runs past the end of the window and
 * whose effect has not shown yet is not judged. No trigger: not passed. Partial credit: the mean
 * over judged triggers of change / minChange, each capped to [0, 1].
 */
export function actuatorEffect(
  criterion: CriterionOf<'actuator_effect'>,
  ctx: GradingContext,
  detail: Detail = 'full',
): CriterionResult {
  const full = detail === 'full';
  const { command, actuator, sensor, minChange, withinSeconds } = criterion.params;
  const withinMs = withinSeconds * 1000;
  let triggers: number[];
  let label: Localized;
  if (actuator !== undefined) {
    const act = ctx.columns(actuator);
    triggers = [];
    for (let i = 1; i < act.values.length; i++) {
      if (act.values[i - 1] === 0 && act.values[i] !== 0) triggers.push(act.ts[i] as number);
    }
    label = say(`${actuator} turned on`, `${actuator} 开启`);
  } else {
    const name = command as string;
    triggers = ctx.commands.filter((c) => c.command === name && isOnValue(c.value)).map((c) => c.ts);
    label = say(`the command "${name}" was sent`, `发送命令 "${name}"`);
  }
  const pts = ctx.columns(sensor);
  const required = { minChange, withinSeconds };
  const rising = minChange > 0;

  const spans: EvidenceSpan[] = [];
  const fractions: number[] = [];
  const changes: number[] = [];
  const delays: number[] = [];
  let notJudged = 0;
  let met = 0;
  for (const t of triggers) {
    const deadline = t + withinMs;
    const before = lastAtOrBefore(pts.ts, t);
    const baseIndex = before >= 0 ? before : firstAfter(pts.ts, t - 1);
    if (baseIndex >= pts.ts.length || (pts.ts[baseIndex] as number) > deadline) {
      if (deadline >= ctx.window.to) {
        notJudged++;
        continue;
      }
      fractions.push(0);
      if (full)
        spans.push({ from: t, to: deadline, ok: false, note: `no ${sensor} reading around the trigger` });
      continue;
    }
    const baseValue = pts.values[baseIndex] as number;
    let extreme = baseValue;
    let reachedAt: number | undefined;
    for (let k = firstAfter(pts.ts, t); k < pts.ts.length; k++) {
      const ts = pts.ts[k] as number;
      const value = pts.values[k] as number;
      if (ts > deadline) break;
      extreme = rising ? Math.max(extreme, value) : Math.min(extreme, value);
      const change = value - baseValue;
      if (reachedAt === undefined && (rising ? atLeast(change, minChange) : atMost(change, minChange)))
        reachedAt = ts;
    }
    const change = extreme - baseValue;
    if (reachedAt === undefined && deadline >= ctx.window.to) {
      notJudged++;
      if (full)
        spans.push({
          from: t,
          to: ctx.window.to,
          ok: true,
          note: `${label.en}; the attempt ended before the ${fmt(withinSeconds)} s were over: not judged`,
        });
      continue;
    }
    changes.push(change);
    fractions.push(Math.min(1, Math.max(0, change / minChange)));
    if (reachedAt !== undefined) {
      met++;
      delays.push(reachedAt - t);
    }
    if (!full) continue;
    spans.push({
      from: t,
      to: reachedAt ?? deadline,
      ok: reachedAt !== undefined,
      note:
        `${sensor} ${fmt(baseValue)} → ${fmt(extreme)} (${change >= 0 ? '+' : ''}${fmt(change)})` +
        (reachedAt !== undefined ? ` after ${sec(reachedAt - t)} s` : ` within ${fmt(withinSeconds)} s`),
    });
  }
  const judged = fractions.length;
  if (detail === 'verdict') {
    return judged === 0 ? verdict(criterion, false, 0) : verdict(criterion, met === judged, mean(fractions));
  }
  const measured: Record<string, number> = {
    triggers: judged,
    met,
    notJudged,
    ...required,
  };
  if (changes.length) {
    measured.meanChange = mean(changes);
    measured.weakestChange = rising ? Math.min(...changes) : Math.max(...changes);
  }
  if (delays.length) measured.maxDelaySeconds = Math.max(...delays) / 1000;
  if (judged === 0) {
    const explanation =
      triggers.length === 0
        ? say(
            `This never happened: ${label.en} at no time during the attempt, so its effect on ${sensor} could not be checked.`,
            `实验期间从未${label['zh-CN']}，无法检查它对 ${sensor} 的影响。`,
          )
        : say(
            `${label.en} only within the last ${fmt(withinSeconds)} s of the attempt, too late to see its effect on ${sensor}.`,
            `只在实验最后 ${fmt(withinSeconds)} 秒内${label['zh-CN']}，来不及观察它对 ${sensor} 的影响。`,
          );
    return result(criterion, false, 0, evidence(measured, spans), explanation);
  }
  const passed = met === judged;
  const amount = fmt(Math.abs(minChange));
  const moveEn = rising ? `rose by ${amount} or more` : `fell by ${amount} or more`;
  const moveZh = rising ? `上升了至少 ${amount}` : `下降了至少 ${amount}`;
  const weakest = measured.weakestChange ?? 0;
  const explanation = passed
    ? say(
        `Each of the ${judged} time(s) ${label.en}, ${sensor} ${moveEn} within ${fmt(withinSeconds)} s (weakest change ${fmt(weakest)}, slowest after ${sec(Math.max(...delays))} s).`,
        `${judged} 次${label['zh-CN']}后，${sensor} 每次都在 ${fmt(withinSeconds)} 秒内${moveZh}（最小变化 ${fmt(weakest)}，最慢 ${sec(Math.max(...delays))} 秒）。`,
      )
    : say(
        `${sensor} ${moveEn} within ${fmt(withinSeconds)} s after only ${met} of the ${judged} time(s) ${label.en} (weakest change ${fmt(weakest)}).`,
        `${judged} 次${label['zh-CN']}后，${sensor} 只有 ${met} 次在 ${fmt(withinSeconds)} 秒内${moveZh}（最小变化 ${fmt(weakest)}）。`,
      );
  return result(criterion, passed, mean(fractions), evidence(measured, spans), explanation);
}

// ---------------------------------------------------------------------------------------------

/**
 * events: the number of times the kit raised event E (events of that name with no value or a
 * value ≠ 0; a value 0 marks a release or a clear and is only counted in `measured.zeroValued`)
 * must be between minCount and maxCount (inclusive). Partial credit: count / minCount when too
 * few, maxCount / count when too many.
 */
export function events(
  criterion: CriterionOf<'events'>,
  ctx: GradingContext,
  detail: Detail = 'full',
): CriterionResult {
  const { event, minCount, maxCount } = criterion.params;
  const named = ctx.events.filter((e) => e.event === event);
  const raised = named.filter(isRaised);
  const count = raised.length;
  const tooFew = count < minCount;
  const tooMany = maxCount !== undefined && count > maxCount;
  const passed = !tooFew && !tooMany;
  const fraction = tooFew ? (minCount > 0 ? count / minCount : 0) : tooMany ? (maxCount ?? 0) / count : 1;
  if (detail === 'verdict') return verdict(criterion, passed, fraction);
  const spans: EvidenceSpan[] = (detail === 'full' ? raised : []).map((e, i) => ({
    from: e.ts,
    to: e.ts,
    ok: maxCount === undefined || i < maxCount,
    note: e.value === undefined ? event : `${event} = ${fmt(e.value)}`,
  }));
  const measured: Record<string, number> = { count, zeroValued: named.length - count, minCount };
  if (maxCount !== undefined) measured.maxCount = maxCount;
  const allowedEn = maxCount === undefined ? `at least ${minCount}` : `between ${minCount} and ${maxCount}`;
  const allowedZh = maxCount === undefined ? `至少 ${minCount} 次` : `${minCount} 到 ${maxCount} 次`;
  const explanation = passed
    ? say(
        `The kit reported "${event}" ${count} time(s) (${allowedEn} required).`,
        `套件上报了 ${count} 次 "${event}" 事件（要求${allowedZh}）。`,
      )
    : tooFew
      ? say(
          `The kit reported "${event}" only ${count} time(s); ${allowedEn} required.`,
          `套件只上报了 ${count} 次 "${event}" 事件，要求${allowedZh}。`,
        )
      : say(
          `The kit reported "${event}" ${count} times, more than the ${maxCount} allowed.`,
          `套件上报了 ${count} 次 "${event}" 事件，超过允许的 ${maxCount} 次。`,
        );
  return result(criterion, passed, fraction, evidence(measured, spans), explanation);
}
