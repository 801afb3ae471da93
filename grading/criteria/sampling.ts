/**
 * The sampling criterion: the sensor reports often enough, for long enough. Pending while the
 * attempt runs: until the sensor's data lasts minMinutes (unless a stretch already passed).
 */
import * as T from '@sinclair/typebox/type';
import {
  type Detail,
  evidence,
  fmt,
  Label,
  label as labelOf,
  minutes1,
  pending,
  plural,
  result,
  say,
  sec,
  verdict,
} from '../evidence.ts';
import { atLeast, atMost } from '../series.ts';
import type { CriterionResult, EvidenceSpan, Localized } from '../types.ts';
import { Histogram, noReadings } from './common.ts';
import { type CriterionWith, defineCriterion, Seconds, SensorRef, strict } from './define.ts';
import {
  type CriterionScan,
  exactlyOne,
  type GradingContext,
  problem,
  type ScanOptions,
  sensorRef,
} from './plugin.ts';

const params = T.Object(
  {
    sensor: SensorRef,
    minHz: T.Optional(T.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'readings per second' })),
    maxIntervalSeconds: T.Optional(Seconds('at most this long between two readings')),
    minMinutes: T.Number({ exclusiveMinimum: 0, maximum: 1440, description: 'for at least this long' }),
  },
  {
    ...strict,
    description: 'the sensor reports often enough (minHz or maxIntervalSeconds, one of them) for minMinutes',
  },
);
export type SamplingCriterion = CriterionWith<'sampling', typeof params>;

/** Clock jitter allowed on a minHz requirement: an interval up to 1.1 / minHz still counts. */
export const RATE_JITTER = 0.1;

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
  readonly #criterion: SamplingCriterion;
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

  constructor(criterion: SamplingCriterion, options: ScanOptions = {}) {
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

export const sampling = defineCriterion({
  type: 'sampling',
  title: { 'zh-CN': '采样频率', en: 'Sampling' },
  hint: {
    'zh-CN': '传感器的采样足够频繁（minHz 或 maxIntervalSeconds，二选一），并持续 minMinutes 分钟',
    en: 'the sensor reports often enough (minHz or maxIntervalSeconds) for minMinutes without a break',
  },
  paramsHint: '{sensor, minHz | maxIntervalSeconds, minMinutes}',
  whenJudged: {
    'zh-CN': '该传感器的数据持续 minMinutes 分钟（或已有一段达标）',
    en: "the sensor's data lasts minMinutes (or a stretch already met the rate)",
  },
  params,
  template: { sensor: 'temperature', maxIntervalSeconds: 5, minMinutes: 10 },
  reads: (criterion) => ({ sensors: [sensorRef(criterion.params.sensor)], actuators: [] }),
  check: (criterion) =>
    exactlyOne(criterion.params, ['minHz', 'maxIntervalSeconds'])
      ? []
      : [
          problem(
            'give exactly one of params.minHz or params.maxIntervalSeconds',
            'params.minHz 和 params.maxIntervalSeconds 须填且只填一个',
          ),
        ],
  scan: (criterion, options) => new SamplingScan(criterion, options),
});
