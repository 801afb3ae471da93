/**
 * One evaluator per criterion type of lab-api/rubric.ts (authenticity is in authenticity.ts).
 * Each reads the attempt's data through a {@link GradingContext} (already cut to the window) and
 * returns its score, evidence (numbers, passing and failing spans, and a summary in sentences)
 * and a sentence in zh-CN and en that names sensors by their label in that language. The
 * semantics, and how partial credit is computed, are documented on each function.
 *
 * **Pending (live grading only).** While an attempt runs (`ctx.running`), a criterion is judged
 * only once there is enough data to judge it; until then it is *pending*: score 0, neither passed
 * nor failed, with what it waits for (`waitingFor`, "需要 30 分钟的数据，已有 2 分钟"). Enough is:
 * - sampling: the sensor's data (from its first reading to now) lasts minMinutes, or a stretch
 *   already met the rate for minMinutes (passed);
 * - completeness: the attempt lasts {@link LIVE_MINIMUM}.ms and twice maxGapSeconds (a gap over
 *   the limit could have shown), and the sensor sent a reading;
 * - range, tolerance, stability: {@link LIVE_MINIMUM}.readings readings over at least
 *   {@link LIVE_MINIMUM}.ms;
 * - threshold_response: a crossing whose response time has run out or that was answered (no
 *   crossing yet: the condition has not happened);
 * - actuator_effect: a trigger (the actuator turned on, the command sent) whose time has run out
 *   or whose effect showed;
 * - events: at least minCount raised (then passed, or failed once more than maxCount);
 * - authenticity (authenticity.ts): a flag (then failed at once), or every checked sensor with
 *   {@link AUTHENTICITY}.judgeAfterReadings readings over judgeAfterSeconds (then "measured").
 * Any criterion with no reading of its sensor yet is pending. Final grading (the attempt ended:
 * `running` false) judges every criterion on what there is: nothing is pending there.
 */
import type { Criterion, CriterionType } from '../lab-api/rubric.ts';
import { capitalized } from '../protocol/sensors.ts';
import {
  amount,
  type Detail,
  duration,
  evidence,
  fmt,
  Label,
  label as labelOf,
  minutes1,
  pending,
  perMinute,
  plural,
  qty,
  result,
  say,
  sec,
  verdict,
} from './evidence.ts';
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
  /**
   * The attempt still runs (live grading): a criterion without enough data to judge is pending
   * (see the module comment). Absent or false: the window is final, every criterion is judged.
   */
  running?: boolean;
  /** Finite readings of a sensor in the window, oldest first (live buffers build them on each call). */
  points(sensor: string): readonly SeriesPoint[];
  /** How many readings `points` has (without building them, for live buffers). */
  count(sensor: string): number;
  /** Ms from the sensor's first reading to its last (0 with fewer than two), without building them. */
  spanMs(sensor: string): number;
  /** The same readings as columns (views of a live buffer: valid until it changes). */
  columns(sensor: string): SeriesColumns;
  events: readonly GradingEvent[];
  commands: readonly GradingCommand[];
}

/**
 * Live grading judges range, tolerance, stability and completeness only on at least this much
 * data (readings, and ms they span — for completeness, ms of the attempt).
 */
export const LIVE_MINIMUM = { readings: 10, ms: 60_000 } as const;

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

/**
 * No reading of the sensor in the window: pending while the attempt runs, else failed with a
 * failing span over the whole window.
 */
function noReadings(
  criterion: Criterion,
  sensor: string,
  measured: Record<string, number>,
  ctx: GradingContext,
  detail: Detail,
): CriterionResult {
  const name = labelOf(sensor);
  if (ctx.running) {
    return pending(
      criterion,
      detail,
      'data',
      () => say(`no ${name.en} reading yet`, `还没有${name['zh-CN']}读数`),
      () => ({ readings: 0, ...measured }),
    );
  }
  if (detail === 'verdict') return verdict(criterion, false, 0);
  const { from, to } = ctx.window;
  const spans: EvidenceSpan[] =
    detail === 'full' && to > from ? [{ from, to, ok: false, note: `no ${name.en} reading` }] : [];
  const text = say(
    `${Label(sensor)} sent no readings in the attempt window, so nothing could be checked.`,
    `${name['zh-CN']}在本次实验时段内没有任何读数，无法评判。`,
  );
  return result(criterion, false, 0, evidence({ readings: 0, ...measured }, spans, text), text);
}

// ---------------------------------------------------------------------------------------------

/**
 * sampling: the sensor reports often enough — every interval ≤ maxIntervalSeconds, or (minHz)
 * every interval ≤ (1 + {@link RATE_JITTER}) / minHz — for at least minMinutes. The readings are cut
 * into stretches at every interval that is too long; the longest stretch decides. A stretch
 * lasts from its first reading to its last plus its median interval (the last reading stands for
 * the time until the next one is due), clipped to the window: 300 readings at 1 Hz are 5 minutes.
 * Partial credit: longest stretch / minMinutes.
 * Spans: a stretch that met the rate for minMinutes passes; a shorter one fails ("the rate held
 * for only 5.5 min"), as do the slow intervals (from where the stretch before them ended to the
 * next reading) and the time without readings at the window's start and end.
 * Pending while running: until the sensor's data lasts minMinutes (unless it passed already).
 */
export class SamplingScan implements CriterionScan {
  readonly sensor: string;
  readonly #criterion: CriterionOf<'sampling'>;
  readonly #allowedMs: number;
  readonly #requiredMs: number;
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
    const { minHz, maxIntervalSeconds, minMinutes } = criterion.params;
    this.#allowedMs =
      maxIntervalSeconds !== undefined
        ? maxIntervalSeconds * 1000
        : (1000 / (minHz ?? 1)) * (1 + RATE_JITTER);
    this.#requiredMs = minMinutes * 60_000;
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
    const end = this.#closeRun(prev, Number.POSITIVE_INFINITY, this.#spans);
    const slow = this.#slow;
    if (slow && slow.to === prev) {
      slow.to = ts;
      slow.count++;
      slow.longest = Math.max(slow.longest, d);
    } else {
      this.#closeSlow(this.#spans);
      // From where the stretch before it ended (its last reading plus its median interval).
      this.#slow = { from: Math.min(end, ts), to: ts, count: 1, longest: d };
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

  /**
   * Closes the open stretch: the longest so far, and its span (passing when it lasted minMinutes).
   * Returns where it ended (its last reading when it was a lone reading).
   */
  #closeRun(last: number, windowTo: number, spans: EvidenceSpan[] | null): number {
    if (this.#runCount < 2) return last;
    const first = this.#runFirst;
    const ms = this.#runMs(last, windowTo);
    const rateHz = this.#runRateHz(last);
    if (ms > this.#longestMs) {
      this.#longestMs = ms;
      this.#longestRateHz = rateHz;
    }
    if (spans) {
      const ok = atLeast(ms, this.#requiredMs);
      const required = fmt(this.#requiredMs / 60_000);
      spans.push({
        from: first,
        to: first + ms,
        ok,
        note: ok
          ? `the rate held for ${minutes1(ms)} min at ${fmt(rateHz)} Hz (${required} min required)`
          : `the rate held for only ${minutes1(ms)} min at ${fmt(rateHz)} Hz (${required} min required)`,
      });
    }
    return first + ms;
  }

  #closeSlow(spans: EvidenceSpan[] | null): void {
    const slow = this.#slow;
    if (!slow) return;
    spans?.push({
      from: slow.from,
      to: slow.to,
      ok: false,
      note: `too slow: ${plural(slow.count, 'interval')} longer than ${sec(this.#allowedMs)} s (longest ${sec(slow.longest)} s)`,
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
    const requiredMs = this.#requiredMs;
    const first = this.#first;
    const last = this.#prev;
    if (first === undefined || last === undefined)
      return noReadings(criterion, sensor, { longestStretchMinutes: 0, ...this.#required() }, ctx, detail);

    // The open stretch counts as if it closed at the window's end (without closing it: more may follow).
    let longestMs = this.#longestMs;
    let longestRateHz = this.#longestRateHz;
    const openMs = this.#runCount < 2 ? 0 : this.#runMs(last, ctx.window.to);
    if (openMs > longestMs) {
      longestMs = openMs;
      longestRateHz = this.#runRateHz(last);
    }
    const passed = atLeast(longestMs, requiredMs);
    const name = labelOf(sensor);
    const measure = () => ({
      readings: this.#count,
      rateHz: last > first ? (this.#count - 1) / ((last - first) / 1000) : 0,
      longestStretchMinutes: longestMs / 60_000,
      longestStretchRateHz: longestRateHz,
      longestIntervalSeconds: this.#longestInterval / 1000,
      slowIntervals: this.#slowIntervals,
      ...this.#required(),
    });
    const dataMs = ctx.window.to - first;
    if (ctx.running && !passed && dataMs < requiredMs) {
      return pending(
        criterion,
        detail,
        'data',
        () =>
          say(
            `needs ${fmt(minMinutes)} min of ${name.en} data, has ${minutes1(dataMs)} min (the rate has held for ${minutes1(longestMs)} min so far)`,
            `需要 ${fmt(minMinutes)} 分钟的${name['zh-CN']}数据，已有 ${minutes1(dataMs)} 分钟（目前最长连续达标 ${minutes1(longestMs)} 分钟）`,
          ),
        measure,
      );
    }
    if (detail === 'verdict') return verdict(criterion, passed, longestMs / requiredMs);
    // The open slow span and stretch as spans, without changing the scan; the window's edges.
    let spans: EvidenceSpan[] | null = null;
    if (detail === 'full') {
      spans = [...(this.#spans ?? [])];
      const { from, to } = ctx.window;
      if (first - from > allowedMs)
        spans.push({
          from,
          to: first,
          ok: false,
          note: `no reading for ${sec(first - from)} s at the start`,
        });
      const slow = this.#slow;
      const [closedMs, closedRateHz] = [this.#longestMs, this.#longestRateHz];
      const end = this.#closeRun(last, to, spans);
      [this.#longestMs, this.#longestRateHz] = [closedMs, closedRateHz];
      const quiet = to - end > allowedMs;
      if (slow && quiet) {
        // Slow until the last reading, and nothing after it: one failing span to the end.
        spans.push({ from: slow.from, to, ok: false, note: 'too slow, then no reading until the end' });
      } else {
        this.#closeSlow(spans);
        this.#slow = slow;
        if (quiet)
          spans.push({ from: end, to, ok: false, note: `no reading for the last ${sec(to - end)} s` });
      }
      spans.sort((a, b) => a.from - b.from);
    }

    const measured = measure();
    const { slowIntervals, longestIntervalSeconds } = measured;
    const longestMin = minutes1(longestMs);
    const rule: Localized = byInterval
      ? say(
          `a reading at least every ${fmt(maxIntervalSeconds)} s`,
          `至少每 ${fmt(maxIntervalSeconds)} 秒一个读数`,
        )
      : say(`≥ ${fmt(minHz ?? 1)} Hz`, `≥ ${fmt(minHz ?? 1)} Hz 的采样率`);
    const slowEn = slowIntervals
      ? `; ${plural(slowIntervals, 'interval')} ${slowIntervals === 1 ? 'was' : 'were'} longer than ${sec(allowedMs)} s (longest ${fmt(longestIntervalSeconds)} s)`
      : '';
    const slowZh = slowIntervals
      ? `；有 ${slowIntervals} 个间隔超过 ${sec(allowedMs)} 秒（最长 ${fmt(longestIntervalSeconds)} 秒）`
      : '';
    const explanation = passed
      ? say(
          `${Label(sensor)} met ${rule.en} for ${longestMin} min without a break (${fmt(longestRateHz)} Hz; ${fmt(minMinutes)} min required)${slowEn}.`,
          `${name['zh-CN']}连续 ${longestMin} 分钟满足${rule['zh-CN']}（实际 ${fmt(longestRateHz)} Hz；要求持续 ${fmt(minMinutes)} 分钟）${slowZh}。`,
        )
      : say(
          `${Label(sensor)} met ${rule.en} for at most ${longestMin} min without a break, less than the ${fmt(minMinutes)} min required${slowEn}.`,
          `${name['zh-CN']}满足${rule['zh-CN']}的最长连续时间只有 ${longestMin} 分钟，少于要求的 ${fmt(minMinutes)} 分钟${slowZh}。`,
        );
    const summary =
      detail === 'full'
        ? say(
            `${plural(measured.readings, `${name.en} reading`)} at ${fmt(measured.rateHz)} Hz; longest stretch meeting the rate ${longestMin} min of the ${fmt(minMinutes)} required${slowEn}`,
            `共 ${measured.readings} 个${name['zh-CN']}读数，采样频率 ${fmt(measured.rateHz)} Hz，最长连续达标 ${longestMin} 分钟（要求 ${fmt(minMinutes)} 分钟）${slowZh}`,
          )
        : undefined;
    return result(
      criterion,
      passed,
      longestMs / requiredMs,
      evidence(measured, spans ?? [], summary),
      explanation,
    );
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
 * Partial credit: coverage / minPercent. Spans: each gap over the limit fails; the time covered
 * between them passes. Pending while running: see the module comment.
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
      return noReadings(criterion, sensor, { coveragePercent: 0, maxGapSeconds, minPercent }, ctx, detail);
    }
    const name = labelOf(sensor);
    const neededMs = Math.max(LIVE_MINIMUM.ms, 2 * this.#maxGapMs);
    if (ctx.running && windowMs < neededMs) {
      return pending(
        criterion,
        detail,
        'data',
        () => {
          const need = duration(neededMs);
          const have = duration(windowMs);
          return say(
            `needs ${need.en} of the attempt to tell whether ${name.en} has gaps over ${fmt(maxGapSeconds)} s, has ${have.en}`,
            `需要 ${need['zh-CN']}的数据才能判断${name['zh-CN']}有没有超过 ${fmt(maxGapSeconds)} 秒的中断，已有 ${have['zh-CN']}`,
          );
        },
        () => ({ readings: this.#count, maxGapSeconds, minPercent }),
      );
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
      // The gaps fail; the covered time between them (and the window's edges) passes.
      const failing: EvidenceSpan[] = [];
      if (startGap) failing.push(startGap);
      failing.push(...(this.#gapSpans ?? []));
      if (endGap) failing.push(endGap);
      let covered = from;
      const note = `readings with no gap over ${fmt(maxGapSeconds)} s`;
      for (const gap of failing) {
        if (gap.from > covered) spans.push({ from: covered, to: gap.from, ok: true, note });
        spans.push(gap);
        covered = Math.max(covered, gap.to);
      }
      if (to > covered) spans.push({ from: covered, to, ok: true, note });
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
      ? `${plural(gaps, 'gap')} longer than ${fmt(maxGapSeconds)} s, ${sec(missing)} s in all, the longest ${sec(longestGap)} s`
      : `no gap longer than ${fmt(maxGapSeconds)} s (longest ${sec(longestGap)} s)`;
    const gapsZh = gaps
      ? `有 ${gaps} 处超过 ${fmt(maxGapSeconds)} 秒的数据中断，共 ${sec(missing)} 秒，最长 ${sec(longestGap)} 秒`
      : `没有超过 ${fmt(maxGapSeconds)} 秒的中断（最长间隔 ${sec(longestGap)} 秒）`;
    const explanation = passed
      ? say(
          `${Label(sensor)} data covered ${fmt(coverage)} % of the attempt (≥ ${fmt(minPercent)} % required): ${gapsEn}.`,
          `${name['zh-CN']}的数据覆盖了实验时段的 ${fmt(coverage)} %（要求 ≥ ${fmt(minPercent)} %）：${gapsZh}。`,
        )
      : say(
          `${Label(sensor)} data covered only ${fmt(coverage)} % of the attempt (≥ ${fmt(minPercent)} % required): ${gapsEn}.`,
          `${name['zh-CN']}的数据只覆盖了实验时段的 ${fmt(coverage)} %（要求 ≥ ${fmt(minPercent)} %）：${gapsZh}。`,
        );
    const summary =
      detail === 'full'
        ? say(
            `${plural(this.#count, `${name.en} reading`)} covering ${fmt(coverage)} % of the attempt (≥ ${fmt(minPercent)} % required); ${gapsEn}`,
            `共 ${this.#count} 个${name['zh-CN']}读数，覆盖实验时段的 ${fmt(coverage)} %（要求 ≥ ${fmt(minPercent)} %）；${gapsZh}`,
          )
        : undefined;
    return result(criterion, passed, fraction, evidence(measured, spans, summary), explanation);
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
 * the runs of consecutive readings inside (passing) / outside (failing), each ending at the first
 * reading after it. Pending while running: fewer than {@link LIVE_MINIMUM} readings or time.
 */
export class RangeScan implements CriterionScan {
  readonly sensor: string;
  readonly #criterion: CriterionOf<'range'> | CriterionOf<'tolerance'>;
  readonly #inside: (v: number) => boolean;
  /** Where readings must be, as a sentence says it ("between 20 and 80 °C" / "在 20 到 80 °C 范围内"). */
  readonly #what: Localized;
  /** The same, short, for span notes and summaries ("20–80 °C", "25 ± 1 °C"). */
  readonly #bound: string;
  #count = 0;
  #inCount = 0;
  #firstTs = 0;
  #lastTs = 0;
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
    const sensor = criterion.params.sensor;
    this.sensor = sensor;
    this.#spans = options.spans === false ? null : [];
    if (criterion.type === 'range') {
      const { min, max } = criterion.params;
      this.#inside = (v) => atLeast(v, min) && atMost(v, max);
      this.#bound = `${fmt(min)}–${amount(sensor, max)}`;
      this.#what = say(
        `between ${fmt(min)} and ${amount(sensor, max)}`,
        `在 ${fmt(min)} 到 ${amount(sensor, max)} 范围内`,
      );
    } else {
      const { reference, epsilon } = criterion.params;
      this.#inside = (v) => atMost(Math.abs(v - reference), epsilon);
      this.#bound = `${fmt(reference)} ± ${amount(sensor, epsilon)}`;
      this.#what = say(`within ${this.#bound}`, `在 ${this.#bound} 以内`);
    }
  }

  add(ts: number, v: number): void {
    const ok = this.#inside(v);
    if (this.#count === 0) this.#firstTs = ts;
    this.#lastTs = ts;
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
    const sensor = this.sensor;
    return {
      from: run.from,
      to,
      ok: run.ok,
      note: `${plural(run.count, 'reading')} ${run.ok ? 'within' : 'outside'} ${this.#bound} (${fmt(run.lo)}…${amount(sensor, run.hi)})`,
    };
  }

  /** The range or the tolerance, as measured numbers. */
  #bounds(): Record<string, number> {
    const criterion = this.#criterion;
    return criterion.type === 'range'
      ? { rangeMin: criterion.params.min, rangeMax: criterion.params.max }
      : { reference: criterion.params.reference, epsilon: criterion.params.epsilon };
  }

  finish(ctx: GradingContext, detail: Detail = 'full'): CriterionResult {
    const criterion = this.#criterion;
    const what = this.#what;
    const { sensor, minPercent } = criterion.params;
    const n = this.#count;
    if (n === 0)
      return noReadings(criterion, sensor, { percentInRange: 0, minPercent, ...this.#bounds() }, ctx, detail);
    const inCount = this.#inCount;
    const percent = (100 * inCount) / n;
    const name = labelOf(sensor);
    if (ctx.running) {
      const waiting = notEnough(name, n, this.#lastTs - this.#firstTs);
      if (waiting)
        return pending(criterion, detail, 'data', waiting, () => ({
          readings: n,
          inRange: inCount,
          percentInRange: percent,
          minPercent,
          ...this.#bounds(),
        }));
    }
    const passed = atLeast(percent, minPercent);
    const fraction = minPercent > 0 ? percent / minPercent : 1;
    if (detail === 'verdict') return verdict(criterion, passed, fraction);
    const measured = this.#bounds();
    const lo = this.#lo;
    const hi = this.#hi;
    const avg = this.#sum / n;
    Object.assign(measured, {
      readings: n,
      inRange: inCount,
      percentInRange: percent,
      minPercent,
      min: lo,
      max: hi,
      mean: avg,
    });
    if (criterion.type === 'tolerance') {
      measured.maxDeviation = this.#maxDeviation;
      measured.meanDeviation = this.#sumDeviation / n;
    }
    const full = detail === 'full' && this.#spans !== null;
    const spans = full ? [...(this.#spans ?? [])] : [];
    if (this.#run && full) spans.push(this.#runSpan(this.#run, this.#run.last));
    const outsideRuns = this.#outsideRuns;
    const seen = `${fmt(lo)}…${amount(sensor, hi)}`;
    const explanation = passed
      ? say(
          `${fmt(percent)} % of the ${n} ${name.en} readings were ${what.en} (≥ ${fmt(minPercent)} % required; measured ${seen}).`,
          `${n} 个${name['zh-CN']}读数中有 ${fmt(percent)} % ${what['zh-CN']}（要求 ≥ ${fmt(minPercent)} %；实测 ${seen}）。`,
        )
      : say(
          `Only ${fmt(percent)} % of the ${n} ${name.en} readings were ${what.en} (≥ ${fmt(minPercent)} % required): ${n - inCount} were outside, in ${plural(outsideRuns, 'stretch', 'stretches')}, measured ${seen}.`,
          `${n} 个${name['zh-CN']}读数中只有 ${fmt(percent)} % ${what['zh-CN']}（要求 ≥ ${fmt(minPercent)} %）：${n - inCount} 个超出，分布在 ${outsideRuns} 段，实测 ${seen}。`,
        );
    let summary: Localized | undefined;
    if (detail === 'full') {
      const deviationEn =
        criterion.type === 'tolerance'
          ? `; largest deviation ${amount(sensor, this.#maxDeviation)}, mean deviation ${amount(sensor, this.#sumDeviation / n)}`
          : '';
      const deviationZh =
        criterion.type === 'tolerance'
          ? `；最大偏差 ${amount(sensor, this.#maxDeviation)}，平均偏差 ${amount(sensor, this.#sumDeviation / n)}`
          : '';
      summary = say(
        `${inCount} of ${plural(n, `${name.en} reading`)} (${fmt(percent)} %) ${what.en} (≥ ${fmt(minPercent)} % required); measured ${seen}, mean ${amount(sensor, avg)}${deviationEn}`,
        `共 ${n} 个${name['zh-CN']}读数，其中 ${inCount} 个（${fmt(percent)} %）${what['zh-CN']}（要求 ≥ ${fmt(minPercent)} %）；实测 ${seen}，平均 ${amount(sensor, avg)}${deviationZh}`,
      );
    }
    return result(criterion, passed, fraction, evidence(measured, spans, summary), explanation);
  }
}

/**
 * What a criterion on readings waits for while there are fewer than {@link LIVE_MINIMUM} readings
 * or they span less than its time; undefined when there are enough.
 */
function notEnough(name: Localized, readings: number, spanMs: number): (() => Localized) | undefined {
  if (readings >= LIVE_MINIMUM.readings && spanMs >= LIVE_MINIMUM.ms) return undefined;
  return () => {
    const need = duration(LIVE_MINIMUM.ms);
    const have = duration(spanMs);
    return say(
      `needs at least ${LIVE_MINIMUM.readings} ${name.en} readings over ${need.en}, has ${plural(readings, 'reading')} over ${have.en}`,
      `需要至少 ${LIVE_MINIMUM.readings} 个${name['zh-CN']}读数、${need['zh-CN']}的数据，已有 ${readings} 个读数、${have['zh-CN']}`,
    );
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * stability: the sample standard deviation (n − 1) ≤ maxStdDev and/or the least-squares slope
 * against time |drift per minute| ≤ maxDriftPerMinute; every bound given must hold. Needs two
 * readings (pending while running: fewer than {@link LIVE_MINIMUM} readings or time). Spans: the
 * readings, passing or failing as the criterion. Partial credit: the worst of bound / measured
 * over the bounds given (capped at 1).
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

  finish(ctx: GradingContext, detail: Detail = 'full'): CriterionResult {
    const criterion = this.#criterion;
    const { sensor, maxStdDev, maxDriftPerMinute } = criterion.params;
    const n = this.#n;
    if (n === 0) return noReadings(criterion, sensor, this.#bounds(), ctx, detail);
    const name = labelOf(sensor);
    if (ctx.running) {
      const waiting = notEnough(name, n, this.#last - this.#first);
      if (waiting)
        return pending(criterion, detail, 'data', waiting, () => ({ readings: n, ...this.#bounds() }));
    }
    if (n < 2) {
      if (detail === 'verdict') return verdict(criterion, false, 0);
      const text = say(
        `${Label(sensor)} sent a single reading: stability needs at least two.`,
        `${name['zh-CN']}只有一个读数：评判稳定性至少需要两个。`,
      );
      const spans: EvidenceSpan[] =
        detail === 'full' ? [{ from: this.#first, to: this.#last, ok: false, note: 'a single reading' }] : [];
      return result(criterion, false, 0, evidence({ readings: 1, ...this.#bounds() }, spans, text), text);
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
    const rate = perMinute(sensor);
    const partsEn: string[] = [];
    const partsZh: string[] = [];
    if (maxStdDev !== undefined) {
      partsEn.push(
        `standard deviation ${amount(sensor, sd)} (≤ ${amount(sensor, maxStdDev)} allowed${sdOk ? '' : ': too high'})`,
      );
      partsZh.push(
        `标准差 ${amount(sensor, sd)}（允许 ≤ ${amount(sensor, maxStdDev)}${sdOk ? '' : '，超出'}）`,
      );
    }
    if (maxDriftPerMinute !== undefined) {
      partsEn.push(
        `drift ${fmt(drift)} ${rate.en} (|drift| ≤ ${fmt(maxDriftPerMinute)} ${rate.en} allowed${driftOk ? '' : ': too fast'})`,
      );
      partsZh.push(
        `漂移 ${fmt(drift)} ${rate['zh-CN']}（允许 |漂移| ≤ ${fmt(maxDriftPerMinute)} ${rate['zh-CN']}${driftOk ? '' : '，超出'}）`,
      );
    }
    const spans: EvidenceSpan[] =
      detail === 'full' ? [{ from: this.#first, to: this.#last, ok: passed, note: partsEn.join('; ') }] : [];
    const explanation = say(
      `${Label(sensor)} was ${passed ? 'stable' : 'not stable enough'} over ${n} readings: ${partsEn.join(' and ')}.`,
      `${name['zh-CN']}在 ${n} 个读数中${passed ? '保持稳定' : '不够稳定'}：${partsZh.join('，')}。`,
    );
    const summary =
      detail === 'full'
        ? say(
            `${plural(n, `${name.en} reading`)}: ${partsEn.join(', ')}; mean ${amount(sensor, this.#meanY)}, ${fmt(this.#min)}…${amount(sensor, this.#max)}`,
            `共 ${n} 个${name['zh-CN']}读数：${partsZh.join('，')}；平均 ${amount(sensor, this.#meanY)}，范围 ${fmt(this.#min)}…${amount(sensor, this.#max)}`,
          )
        : undefined;
    return result(criterion, passed, fraction, evidence(measured, spans, summary), explanation);
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
 * window that its response time runs past it, and that is not answered yet, is not judged (and
 * has no span). No crossing at all: not passed — the condition never happened (a failing span
 * over the window); pending while running. Spans: each answered crossing passes, each unanswered
 * one fails. Partial credit: the fraction
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

  /** The response, as the subject of a sentence ("the fan turning on" / "风扇开启"). */
  let response: () => Localized;
  let respond: (afterTs: number, untilTs: number) => Response | undefined;
  if (respondWith.actuator !== undefined) {
    const name = respondWith.actuator;
    // Columns, not points: live grading answers this every second on the attempt's whole buffer.
    const act = ctx.columns(name);
    response = () => {
      const actuator = labelOf(name);
      return say(`the ${actuator.en} turning on`, `${actuator['zh-CN']}开启`);
    };
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
    response = () =>
      isEvent ? say(`the event "${name}"`, `事件“${name}”`) : say(`the command "${name}"`, `命令“${name}”`);
    respond = (afterTs, untilTs) => {
      const ts = times.find((t) => t > afterTs && t <= untilTs);
      return ts === undefined ? undefined : { ts };
    };
  }

  const required = { threshold, withinSeconds };
  if (scanned.readings === 0)
    return noReadings(criterion, sensor, { crossings: 0, ...required }, ctx, detail);
  const { crossings, merged, startedBeyond, extreme } = scanned;

  const spans: EvidenceSpan[] = [];
  const full = detail === 'full';
  const label = full ? response() : undefined;
  const delays: number[] = [];
  let unanswered = 0;
  let notJudged = 0;
  for (const c of crossings) {
    const deadline = c.ts + withinMs;
    const r = respond(c.prevTs, deadline);
    const crossed = full
      ? `${labelOf(sensor).en} ${amount(sensor, c.value)} ${dir.en} ${fmt(threshold)}`
      : '';
    if (r) {
      const delay = Math.max(0, r.ts - c.ts);
      delays.push(delay);
      if (label)
        spans.push({
          from: c.ts,
          to: Math.max(c.ts, r.ts),
          ok: true,
          note: r.already
            ? `${crossed}; ${label.en}: already on`
            : `${crossed}; ${label.en} after ${sec(delay)} s`,
        });
    } else if (deadline >= ctx.window.to) {
      // Its time is not over: neither passing nor failing (counted in measured.notJudged).
      notJudged++;
    } else {
      unanswered++;
      if (label)
        spans.push({
          from: c.ts,
          to: deadline,
          ok: false,
          note: `${crossed}; no ${label.en} within ${fmt(withinSeconds)} s`,
        });
    }
  }
  const judged = delays.length + unanswered;
  const value = (v: number) => qty(sensor, v);
  if (judged === 0 && ctx.running) {
    return pending(
      criterion,
      detail,
      'condition',
      () => {
        const name = labelOf(sensor);
        const what = response();
        const at = value(threshold);
        if (crossings.length === 0) {
          const most = value(extreme);
          return say(
            `${name.en} has not gone ${dir.en} ${at.en} yet (${up ? 'highest' : 'lowest'} so far ${most.en}); then ${what.en} is checked`,
            `${name['zh-CN']}还没有${dir['zh-CN']} ${at['zh-CN']}（目前${up ? '最高' : '最低'} ${most['zh-CN']}），届时检查${what['zh-CN']}`,
          );
        }
        return say(
          `${name.en} went ${dir.en} ${at.en}; ${what.en} has ${fmt(withinSeconds)} s to follow`,
          `${name['zh-CN']}已${dir['zh-CN']} ${at['zh-CN']}，正在等待 ${fmt(withinSeconds)} 秒内${what['zh-CN']}`,
        );
      },
      () => ({ readings: scanned.readings, crossings: 0, notJudged, ...required }),
    );
  }
  if (detail === 'verdict') {
    return judged === 0
      ? verdict(criterion, false, 0)
      : verdict(criterion, unanswered === 0, delays.length / judged);
  }
  const what = label ?? response();
  const name = labelOf(sensor);
  const at = value(threshold);
  const most = value(extreme);
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
  const extremeEn = `${up ? 'highest' : 'lowest'} ${most.en}`;
  const extremeZh = `${up ? '最高' : '最低'} ${most['zh-CN']}`;
  if (judged === 0) {
    const startEn = startedBeyond ? ` (it was already ${dir.en} it when the attempt started)` : '';
    const startZh = startedBeyond ? `（实验开始时已经${dir['zh-CN']}该值）` : '';
    const explanation =
      crossings.length === 0
        ? say(
            `The condition never happened: ${name.en} never went ${dir.en} ${at.en} during the attempt (${extremeEn})${startEn}, so ${what.en} could not be checked.`,
            `触发条件从未出现：实验期间${name['zh-CN']}从未${dir['zh-CN']} ${at['zh-CN']}（${extremeZh}）${startZh}，无法检查${what['zh-CN']}。`,
          )
        : say(
            `${Label(sensor)} went ${dir.en} ${at.en} only within the last ${fmt(withinSeconds)} s of the attempt, too late to check ${what.en}.`,
            `${name['zh-CN']}只在实验最后 ${fmt(withinSeconds)} 秒内${dir['zh-CN']} ${at['zh-CN']}，来不及检查${what['zh-CN']}。`,
          );
    if (full && ctx.window.to > ctx.window.from)
      spans.push({
        from: ctx.window.from,
        to: ctx.window.to,
        ok: false,
        note: crossings.length === 0 ? `never ${dir.en} ${fmt(threshold)}` : 'crossed too late to be judged',
      });
    const summary = full
      ? crossings.length === 0
        ? say(
            `${Label(sensor)} never went ${dir.en} ${at.en} (${extremeEn}) in ${plural(scanned.readings, 'reading')}`,
            `共 ${scanned.readings} 个${name['zh-CN']}读数，从未${dir['zh-CN']} ${at['zh-CN']}（${extremeZh}）`,
          )
        : say(
            `${Label(sensor)} went ${dir.en} ${at.en} ${plural(crossings.length, 'time')}, each too late to be judged`,
            `${name['zh-CN']} ${crossings.length} 次${dir['zh-CN']} ${at['zh-CN']}，都来不及判断`,
          )
      : undefined;
    return result(criterion, false, 0, evidence(measured, spans, summary), explanation);
  }
  const passed = unanswered === 0;
  const slowest = delays.length ? sec(Math.max(...delays)) : '';
  const delayEn = delays.length ? ` (longest delay ${slowest} s)` : '';
  const delayZh = delays.length ? `（最长延迟 ${slowest} 秒）` : '';
  const explanation = passed
    ? say(
        `${Label(sensor)} went ${dir.en} ${at.en} ${plural(judged, 'time')} and ${what.en} followed within ${fmt(withinSeconds)} s every time${delayEn}.`,
        `${name['zh-CN']} ${judged} 次${dir['zh-CN']} ${at['zh-CN']}，每次都在 ${fmt(withinSeconds)} 秒内出现${what['zh-CN']}${delayZh}。`,
      )
    : say(
        `${Label(sensor)} went ${dir.en} ${at.en} ${plural(judged, 'time')} but ${what.en} followed within ${fmt(withinSeconds)} s only ${plural(delays.length, 'time')}${delayEn}.`,
        `${name['zh-CN']} ${judged} 次${dir['zh-CN']} ${at['zh-CN']}，但只有 ${delays.length} 次在 ${fmt(withinSeconds)} 秒内出现${what['zh-CN']}${delayZh}。`,
      );
  const laterEn = notJudged
    ? `; ${plural(notJudged, 'more crossing', 'more crossings')} too late to be judged`
    : '';
  const laterZh = notJudged ? `；另有 ${notJudged} 次来不及判断` : '';
  const summary = full
    ? say(
        `${Label(sensor)} went ${dir.en} ${at.en} ${plural(judged, 'time')} (${extremeEn}); ${what.en} followed within ${fmt(withinSeconds)} s ${plural(delays.length, 'time')}${delayEn}${laterEn}`,
        `${name['zh-CN']} ${judged} 次${dir['zh-CN']} ${at['zh-CN']}（${extremeZh}），其中 ${delays.length} 次在 ${fmt(withinSeconds)} 秒内出现${what['zh-CN']}${delayZh}${laterZh}`,
      )
    : undefined;
  return result(criterion, passed, delays.length / judged, evidence(measured, spans, summary), explanation);
}

// ---------------------------------------------------------------------------------------------

/**
 * actuator_effect: after each trigger — a command of that name whose value means "on", or the
 * actuator's series going from 0 to ≠ 0 — the sensor must move by at least minChange (signed:
 * negative means it must fall) within withinSeconds, measured from its last reading at or before
 * the trigger (or the first one after it when there is none before) to the extreme reading in
 * (trigger, trigger + withinSeconds]. A trigger whose time runs past the end of the window and
 * whose effect has not shown yet is not judged (no span). No trigger: not passed (a failing span
 * over the window); pending while running. Spans: each trigger whose effect showed passes, each
 * other fails. Partial credit: the mean over judged triggers of change / minChange, each capped
 * to [0, 1].
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
  /** "the fan turned on" (after "each time") and "the fan has not been turned on yet". */
  let trigger: () => { each: Localized; never: Localized; yet: Localized };
  if (actuator !== undefined) {
    const act = ctx.columns(actuator);
    triggers = [];
    for (let i = 1; i < act.values.length; i++) {
      if (act.values[i - 1] === 0 && act.values[i] !== 0) triggers.push(act.ts[i] as number);
    }
    trigger = () => {
      const name = labelOf(actuator);
      return {
        each: say(`the ${name.en} turned on`, `${name['zh-CN']}开启`),
        never: say(`the ${name.en} never turned on`, `${name['zh-CN']}从未开启`),
        yet: say(`the ${name.en} has not been turned on yet`, `${name['zh-CN']}还没有开启过`),
      };
    };
  } else {
    const name = command as string;
    triggers = ctx.commands.filter((c) => c.command === name && isOnValue(c.value)).map((c) => c.ts);
    trigger = () => ({
      each: say(`the command "${name}" was sent`, `发送命令“${name}”`),
      never: say(`the command "${name}" was never sent`, `从未发送命令“${name}”`),
      yet: say(`the command "${name}" has not been sent yet`, `还没有发送过命令“${name}”`),
    });
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
        spans.push({
          from: t,
          to: deadline,
          ok: false,
          note: `no ${labelOf(sensor).en} reading around the trigger`,
        });
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
      // Its time is not over: neither passing nor failing (counted in measured.notJudged).
      notJudged++;
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
        `${labelOf(sensor).en} ${fmt(baseValue)} → ${amount(sensor, extreme)} (${change >= 0 ? '+' : ''}${fmt(change)})` +
        (reachedAt !== undefined ? ` after ${sec(reachedAt - t)} s` : ` within ${fmt(withinSeconds)} s`),
    });
  }
  const judged = fractions.length;
  const name = () => labelOf(sensor);
  if (judged === 0 && ctx.running) {
    return pending(
      criterion,
      detail,
      'condition',
      () => {
        const words = trigger();
        return triggers.length === 0
          ? words.yet
          : say(
              `${words.each.en}; watching ${name().en} for ${fmt(withinSeconds)} s`,
              `${words.each['zh-CN']}后，正在观察 ${fmt(withinSeconds)} 秒内${name()['zh-CN']}的变化`,
            );
      },
      () => ({ triggers: 0, met: 0, notJudged, ...required }),
    );
  }
  if (detail === 'verdict') {
    return judged === 0 ? verdict(criterion, false, 0) : verdict(criterion, met === judged, mean(fractions));
  }
  const words = trigger();
  const sensorName = name();
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
            `This never happened: ${words.never.en} during the attempt, so its effect on ${sensorName.en} could not be checked.`,
            `实验期间${words.never['zh-CN']}，无法检查它对${sensorName['zh-CN']}的影响。`,
          )
        : say(
            `${capitalized(words.each.en)} only within the last ${fmt(withinSeconds)} s of the attempt, too late to see its effect on ${sensorName.en}.`,
            `只在实验最后 ${fmt(withinSeconds)} 秒内${words.each['zh-CN']}，来不及观察它对${sensorName['zh-CN']}的影响。`,
          );
    if (full && ctx.window.to > ctx.window.from)
      spans.push({
        from: ctx.window.from,
        to: ctx.window.to,
        ok: false,
        note: triggers.length === 0 ? words.never.en : 'triggered too late to be judged',
      });
    return result(
      criterion,
      false,
      0,
      evidence(measured, spans, full ? explanation : undefined),
      explanation,
    );
  }
  const passed = met === judged;
  const by = amount(sensor, Math.abs(minChange));
  const moveEn = rising ? `rose by ${by} or more` : `fell by ${by} or more`;
  const moveZh = rising ? `上升了至少 ${by}` : `下降了至少 ${by}`;
  const weakest = amount(sensor, measured.weakestChange ?? 0);
  const slowest = delays.length ? sec(Math.max(...delays)) : '';
  const explanation = passed
    ? say(
        `Each of the ${plural(judged, 'time')} ${words.each.en}, ${sensorName.en} ${moveEn} within ${fmt(withinSeconds)} s (weakest change ${weakest}, slowest after ${slowest} s).`,
        `${judged} 次${words.each['zh-CN']}后，${sensorName['zh-CN']}每次都在 ${fmt(withinSeconds)} 秒内${moveZh}（最小变化 ${weakest}，最慢 ${slowest} 秒）。`,
      )
    : say(
        `${Label(sensor)} ${moveEn} within ${fmt(withinSeconds)} s after only ${met} of the ${plural(judged, 'time')} ${words.each.en} (weakest change ${weakest}).`,
        `${judged} 次${words.each['zh-CN']}后，${sensorName['zh-CN']}只有 ${met} 次在 ${fmt(withinSeconds)} 秒内${moveZh}（最小变化 ${weakest}）。`,
      );
  const summary = full
    ? say(
        `${capitalized(words.each.en)} ${plural(judged, 'time')}; ${sensorName.en} ${moveEn} within ${fmt(withinSeconds)} s after ${met} of them (weakest change ${weakest}${slowest ? `, slowest ${slowest} s` : ''})${notJudged ? `; ${notJudged} more too late to be judged` : ''}`,
        `${words.each['zh-CN']} ${judged} 次：其中 ${met} 次${sensorName['zh-CN']}在 ${fmt(withinSeconds)} 秒内${moveZh}（最小变化 ${weakest}${slowest ? `，最慢 ${slowest} 秒` : ''}）${notJudged ? `；另有 ${notJudged} 次来不及判断` : ''}`,
      )
    : undefined;
  return result(criterion, passed, mean(fractions), evidence(measured, spans, summary), explanation);
}

// ---------------------------------------------------------------------------------------------

/**
 * events: the number of times the kit raised event E (events of that name with no value or a
 * value ≠ 0; a value 0 marks a release or a clear and is only counted in `measured.zeroValued`)
 * must be between minCount and maxCount (inclusive). Partial credit: count / minCount when too
 * few, maxCount / count when too many. Spans: each event (failing beyond maxCount), and a failing
 * span over the window when there were too few. Pending while running: fewer than minCount.
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
  const measured = () => {
    const numbers: Record<string, number> = { count, zeroValued: named.length - count, minCount };
    if (maxCount !== undefined) numbers.maxCount = maxCount;
    return numbers;
  };
  if (tooFew && ctx.running) {
    return pending(
      criterion,
      detail,
      'events',
      () =>
        say(
          `needs "${event}" at least ${plural(minCount, 'time')}, has ${plural(count, 'time')}`,
          `需要至少 ${minCount} 次“${event}”事件，已有 ${count} 次`,
        ),
      measured,
    );
  }
  if (detail === 'verdict') return verdict(criterion, passed, fraction);
  const full = detail === 'full';
  const spans: EvidenceSpan[] = (full ? raised : []).map((e, i) => ({
    from: e.ts,
    to: e.ts,
    ok: maxCount === undefined || i < maxCount,
    note: e.value === undefined ? event : `${event} = ${fmt(e.value)}`,
  }));
  // Too few is a failure of the whole window (the events that came are fine themselves).
  if (full && tooFew && ctx.window.to > ctx.window.from) {
    spans.unshift({
      from: ctx.window.from,
      to: ctx.window.to,
      ok: false,
      note: `"${event}" ${plural(count, 'time')}, at least ${minCount} required`,
    });
  }
  const allowedEn = maxCount === undefined ? `at least ${minCount}` : `between ${minCount} and ${maxCount}`;
  const allowedZh = maxCount === undefined ? `至少 ${minCount} 次` : `${minCount} 到 ${maxCount} 次`;
  const explanation = passed
    ? say(
        `The kit reported "${event}" ${plural(count, 'time')} (${allowedEn} required).`,
        `套件上报了 ${count} 次“${event}”事件（要求${allowedZh}）。`,
      )
    : tooFew
      ? say(
          `The kit reported "${event}" only ${plural(count, 'time')}; ${allowedEn} required.`,
          `套件只上报了 ${count} 次“${event}”事件，要求${allowedZh}。`,
        )
      : say(
          `The kit reported "${event}" ${plural(count, 'time')}, more than the ${maxCount} allowed.`,
          `套件上报了 ${count} 次“${event}”事件，超过允许的 ${maxCount} 次。`,
        );
  const zeroValued = named.length - count;
  const summary = full
    ? say(
        `"${event}" reported ${plural(count, 'time')} (${allowedEn} required)${zeroValued ? `; ${zeroValued} more with the value 0 (a release or a clear) not counted` : ''}`,
        `“${event}”事件 ${count} 次（要求${allowedZh}）${zeroValued ? `；另有 ${zeroValued} 次值为 0（释放或清除），不计入` : ''}`,
      )
    : undefined;
  return result(criterion, passed, fraction, evidence(measured(), spans, summary), explanation);
}
