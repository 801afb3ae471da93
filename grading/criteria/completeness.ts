/**
 * The completeness criterion: no gaps in the data. Pending while the attempt runs: until the
 * attempt lasts {@link LIVE_MINIMUM}.ms and twice maxGapSeconds (a gap over the limit could have
 * shown), and the sensor sent a reading.
 */
import * as T from '@sinclair/typebox/type';
import {
  type Detail,
  duration,
  evidence,
  fmt,
  Label,
  label as labelOf,
  pending,
  plural,
  result,
  say,
  sec,
  verdict,
} from '../evidence.ts';
import { atLeast, atMost } from '../series.ts';
import type { CriterionResult, EvidenceSpan } from '../types.ts';
import { Histogram, LIVE_MINIMUM, noReadings } from './common.ts';
import { type CriterionWith, defineCriterion, Percent, Seconds, SensorRef, strict } from './define.ts';
import { type CriterionScan, type GradingContext, type ScanOptions, sensorRef } from './plugin.ts';

const params = T.Object(
  {
    sensor: SensorRef,
    maxGapSeconds: Seconds('a gap longer than this counts as missing data'),
    minPercent: Percent('share of the attempt covered without such gaps'),
  },
  { ...strict, description: 'no gaps in the data' },
);
export type CompletenessCriterion = CriterionWith<'completeness', typeof params>;

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
  readonly #criterion: CompletenessCriterion;
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

  constructor(criterion: CompletenessCriterion, options: ScanOptions = {}) {
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

export const completeness = defineCriterion({
  type: 'completeness',
  title: { 'zh-CN': '数据完整', en: 'Completeness' },
  hint: {
    'zh-CN': '数据没有超过 maxGapSeconds 秒的中断，覆盖实验时段的至少 minPercent %',
    en: 'no gap over maxGapSeconds: the data covers at least minPercent % of the attempt',
  },
  paramsHint: '{sensor, maxGapSeconds, minPercent}',
  whenJudged: {
    'zh-CN': '实验进行了 1 分钟且不短于 2 × maxGapSeconds',
    en: 'the attempt lasts a minute and twice maxGapSeconds',
  },
  params,
  template: { sensor: 'temperature', maxGapSeconds: 30, minPercent: 90 },
  reads: (criterion) => ({ sensors: [sensorRef(criterion.params.sensor)], actuators: [] }),
  check: () => [],
  scan: (criterion, options) => new CompletenessScan(criterion, options),
});
