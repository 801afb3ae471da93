/**
 * What range and tolerance share: the share of readings within bounds, in one pass. Each plug-in
 * gives its bounds (range.ts: [min, max]; tolerance.ts: reference ± epsilon, with the deviations
 * measured) and how its sentences say them.
 */
import {
  amount,
  type Detail,
  evidence,
  fmt,
  label as labelOf,
  pending,
  plural,
  result,
  say,
  verdict,
} from '../evidence.ts';
import { atLeast } from '../series.ts';
import type { CriterionResult, EvidenceSpan, Localized } from '../types.ts';
import { noReadings, notEnough } from './common.ts';
import type { CriterionScan, GradingContext, ScanOptions } from './plugin.ts';
import type { RangeCriterion } from './range.ts';
import type { ToleranceCriterion } from './tolerance.ts';

/** Where readings must be, as a plug-in says it. */
export interface Within {
  /** Whether a reading is within the bounds. */
  readonly inside: (value: number) => boolean;
  /** The bounds in a sentence ("between 20 and 80 °C" / "在 20 到 80 °C 范围内"). */
  readonly what: Localized;
  /** The same, short, for span notes and summaries ("20–80 °C", "25 ± 1 °C"). */
  readonly bound: string;
  /** The bounds as measured numbers (`rangeMin`, `rangeMax` / `reference`, `epsilon`). */
  readonly bounds: Readonly<Record<string, number>>;
  /** Tolerance: deviations from this reference are measured, and the summary says them so. */
  readonly deviation?: { reference: number; summary(max: number, mean: number): Localized };
}

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
export class WithinScan implements CriterionScan {
  readonly sensor: string;
  readonly #criterion: RangeCriterion | ToleranceCriterion;
  readonly #within: Within;
  readonly #inside: (v: number) => boolean;
  /** Tolerance: the reference deviations are measured from (NaN: none). */
  readonly #reference: number;
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

  constructor(criterion: RangeCriterion | ToleranceCriterion, within: Within, options: ScanOptions = {}) {
    this.#criterion = criterion;
    this.sensor = criterion.params.sensor;
    this.#spans = options.spans === false ? null : [];
    this.#within = within;
    this.#inside = within.inside;
    this.#reference = within.deviation?.reference ?? Number.NaN;
    this.#bound = within.bound;
    this.#what = within.what;
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
    if (!Number.isNaN(this.#reference)) {
      const deviation = Math.abs(v - this.#reference);
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

  /** The range or the tolerance, as measured numbers (a new object). */
  #bounds(): Record<string, number> {
    return { ...this.#within.bounds };
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
    const deviation = this.#within.deviation;
    if (deviation) {
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
      const deviations = deviation?.summary(this.#maxDeviation, this.#sumDeviation / n);
      const deviationEn = deviations ? `; ${deviations.en}` : '';
      const deviationZh = deviations ? `；${deviations['zh-CN']}` : '';
      summary = say(
        `${inCount} of ${plural(n, `${name.en} reading`)} (${fmt(percent)} %) ${what.en} (≥ ${fmt(minPercent)} % required); measured ${seen}, mean ${amount(sensor, avg)}${deviationEn}`,
        `共 ${n} 个${name['zh-CN']}读数，其中 ${inCount} 个（${fmt(percent)} %）${what['zh-CN']}（要求 ≥ ${fmt(minPercent)} %）；实测 ${seen}，平均 ${amount(sensor, avg)}${deviationZh}`,
      );
    }
    return result(criterion, passed, fraction, evidence(measured, spans, summary), explanation);
  }
}
