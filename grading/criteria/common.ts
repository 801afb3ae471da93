/**
 * What several criterion plug-ins share: the data live grading waits for before it judges a
 * criterion on readings, the result when a sensor sent nothing, and a histogram of intervals.
 */
import {
  type Detail,
  duration,
  evidence,
  Label,
  label as labelOf,
  pending,
  plural,
  result,
  say,
  verdict,
} from '../evidence.ts';
import type { Criterion } from '../rubric.ts';
import type { CriterionResult, EvidenceSpan, Localized } from '../types.ts';
import type { GradingContext } from './plugin.ts';

/**
 * Live grading judges range, tolerance, stability and completeness only on at least this much
 * data (readings, and ms they span — for completeness, ms of the attempt).
 */
export const LIVE_MINIMUM = { readings: 10, ms: 60_000 } as const;

/** Counts of integer values (intervals in ms): their median without keeping or sorting them all. */
export class Histogram {
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
export function noReadings(
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

/**
 * What a criterion on readings waits for while there are fewer than {@link LIVE_MINIMUM} readings
 * or they span less than its time; undefined when there are enough.
 */
export function notEnough(name: Localized, readings: number, spanMs: number): (() => Localized) | undefined {
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
