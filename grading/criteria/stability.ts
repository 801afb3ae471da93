/**
 * The stability criterion: readings are steady. Pending while the attempt runs: fewer than
 * LIVE_MINIMUM (common.ts) readings or time.
 */

import * as T from '@sinclair/typebox/type';
import {
  amount,
  type Detail,
  evidence,
  fmt,
  Label,
  label as labelOf,
  pending,
  perMinute,
  plural,
  result,
  say,
  verdict,
} from '../evidence.ts';
import { atMost } from '../series.ts';
import type { CriterionResult, EvidenceSpan } from '../types.ts';
import { LIVE_MINIMUM, noReadings, notEnough } from './common.ts';
import { type CriterionWith, defineCriterion, SensorRef, strict } from './define.ts';
import { type CriterionScan, type GradingContext, problem, sensorRef } from './plugin.ts';

const params = T.Object(
  {
    sensor: SensorRef,
    maxStdDev: T.Optional(T.Number({ exclusiveMinimum: 0 })),
    maxDriftPerMinute: T.Optional(T.Number({ exclusiveMinimum: 0 })),
  },
  { ...strict, description: 'readings are steady: maxStdDev and/or maxDriftPerMinute (at least one)' },
);
export type StabilityCriterion = CriterionWith<'stability', typeof params>;

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
  readonly #criterion: StabilityCriterion;
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

  constructor(criterion: StabilityCriterion) {
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

export const stability = defineCriterion({
  type: 'stability',
  title: { 'zh-CN': '稳定性', en: 'Stability' },
  hint: {
    'zh-CN': '读数平稳：标准差不超过 maxStdDev，和/或每分钟漂移不超过 maxDriftPerMinute',
    en: 'readings are steady: standard deviation ≤ maxStdDev and/or drift ≤ maxDriftPerMinute',
  },
  paramsHint: '{sensor, maxStdDev and/or maxDriftPerMinute}',
  whenJudged: { 'zh-CN': '1 分钟内至少 10 个读数', en: '10 readings over a minute' },
  params,
  template: { sensor: 'temperature', maxStdDev: 1 },
  reads: (criterion) => ({ sensors: [sensorRef(criterion.params.sensor)], actuators: [] }),
  check: (criterion) =>
    criterion.params.maxStdDev === undefined && criterion.params.maxDriftPerMinute === undefined
      ? [
          problem(
            'give params.maxStdDev, params.maxDriftPerMinute or both',
            '请填写 params.maxStdDev 或 params.maxDriftPerMinute（或两者都填）',
          ),
        ]
      : [],
  scan: (criterion) => new StabilityScan(criterion),
});
