/**
 * One evaluator per criterion type of lab-api/rubric.ts (authenticity is in authenticity.ts).
 * Each reads the attempt's data through a {@link GradingContext} (already cut to the window) and
 * returns its score, evidence and a sentence in zh-CN and en. The semantics, and how partial
 * credit is computed, are documented on each function.
 */
import type { Criterion, CriterionType } from '../lab-api/rubric.ts';
import { evidence, fmt, result, say, sec } from './evidence.ts';
import {
  atLeast,
  atMost,
  firstAfter,
  intervals,
  isOnValue,
  isRaised,
  lastAtOrBefore,
  mean,
  median,
  slopePerMinute,
  stdDev,
} from './series.ts';
import type {
  CriterionResult,
  EvidenceSpan,
  GradingCommand,
  GradingEvent,
  Localized,
  SeriesPoint,
  TimeWindow,
} from './types.ts';

export type CriterionOf<K extends CriterionType> = Extract<Criterion, { type: K }>;

/** The attempt's data cut to its window. */
export interface GradingContext {
  window: TimeWindow;
  /** Finite readings of a sensor in the window, oldest first (memoized). */
  points(sensor: string): readonly SeriesPoint[];
  events: readonly GradingEvent[];
  commands: readonly GradingCommand[];
}

/** Clock jitter allowed on a minHz requirement: an interval up to 1.1 / minHz still counts. */
export const RATE_JITTER = 0.1;

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
export function sampling(criterion: CriterionOf<'sampling'>, ctx: GradingContext): CriterionResult {
  const { sensor, minHz, maxIntervalSeconds, minMinutes } = criterion.params;
  const byInterval = maxIntervalSeconds !== undefined;
  const allowedMs = byInterval ? maxIntervalSeconds * 1000 : (1000 / (minHz ?? 1)) * (1 + RATE_JITTER);
  const requiredMs = minMinutes * 60_000;
  const rule: Localized = byInterval
    ? say(
        `a reading at least every ${fmt(maxIntervalSeconds)} s`,
        `至少每 ${fmt(maxIntervalSeconds)} 秒一个读数`,
      )
    : say(`≥ ${fmt(minHz ?? 1)} Hz`, `≥ ${fmt(minHz ?? 1)} Hz 的采样率`);
  const required: Record<string, number> = byInterval
    ? { maxIntervalSeconds, requiredMinutes: minMinutes }
    : { minHz: minHz ?? 1, requiredMinutes: minMinutes };
  const pts = ctx.points(sensor);
  if (pts.length === 0) return noReadings(criterion, sensor, { longestStretchMinutes: 0, ...required });

  const spans: EvidenceSpan[] = [];
  let longest = { ms: 0, rateHz: 0 };
  let slow: { from: number; to: number; count: number; longest: number } | undefined;
  let slowIntervals = 0;
  let longestInterval = 0;

  const closeRun = (i0: number, i1: number) => {
    if (i1 <= i0) return;
    const first = (pts[i0] as SeriesPoint).ts;
    const last = (pts[i1] as SeriesPoint).ts;
    const typical = median(intervals(pts.slice(i0, i1 + 1))) ?? 0;
    const ms = Math.min(ctx.window.to, last + typical) - first;
    const rateHz = last > first ? (i1 - i0) / ((last - first) / 1000) : 0;
    if (ms > longest.ms) longest = { ms, rateHz };
    spans.push({
      from: first,
      to: first + ms,
      ok: true,
      note: `${fmt(ms / 60_000)} min at ${fmt(rateHz)} Hz`,
    });
  };
  const closeSlow = () => {
    if (!slow) return;
    spans.push({
      from: slow.from,
      to: slow.to,
      ok: false,
      note: `${slow.count} interval(s) longer than ${sec(allowedMs)} s (longest ${sec(slow.longest)} s)`,
    });
    slow = undefined;
  };

  let runStart = 0;
  for (let i = 1; i < pts.length; i++) {
    const prev = (pts[i - 1] as SeriesPoint).ts;
    const d = (pts[i] as SeriesPoint).ts - prev;
    longestInterval = Math.max(longestInterval, d);
    if (atMost(d, allowedMs)) {
      closeSlow();
      continue;
    }
    slowIntervals++;
    closeRun(runStart, i - 1);
    if (slow && slow.to === prev) {
      slow.to = prev + d;
      slow.count++;
      slow.longest = Math.max(slow.longest, d);
    } else {
      closeSlow();
      slow = { from: prev, to: prev + d, count: 1, longest: d };
    }
    runStart = i;
  }
  closeSlow();
  closeRun(runStart, pts.length - 1);
  spans.sort((a, b) => a.from - b.from);

  const first = (pts[0] as SeriesPoint).ts;
  const last = (pts[pts.length - 1] as SeriesPoint).ts;
  const longestMin = longest.ms / 60_000;
  const passed = atLeast(longest.ms, requiredMs);
  const measured = {
    readings: pts.length,
    rateHz: last > first ? (pts.length - 1) / ((last - first) / 1000) : 0,
    longestStretchMinutes: longestMin,
    longestStretchRateHz: longest.rateHz,
    longestIntervalSeconds: longestInterval / 1000,
    slowIntervals,
    ...required,
  };
  const slowEn = slowIntervals
    ? `; ${slowIntervals} interval(s) were longer than ${sec(allowedMs)} s (longest ${sec(longestInterval)} s)`
    : '';
  const slowZh = slowIntervals
    ? `；有 ${slowIntervals} 个间隔超过 ${sec(allowedMs)} 秒（最长 ${sec(longestInterval)} 秒）`
    : '';
  const explanation = passed
    ? say(
        `${sensor} met ${rule.en} for ${fmt(longestMin)} min without a break (${fmt(longest.rateHz)} Hz; ${fmt(minMinutes)} min required)${slowEn}.`,
        `${sensor} 连续 ${fmt(longestMin)} 分钟满足${rule['zh-CN']}（实际 ${fmt(longest.rateHz)} Hz；要求持续 ${fmt(minMinutes)} 分钟）${slowZh}。`,
      )
    : say(
        `${sensor} met ${rule.en} for at most ${fmt(longestMin)} min without a break, less than the ${fmt(minMinutes)} min required${slowEn}.`,
        `${sensor} 满足${rule['zh-CN']}的最长连续时间只有 ${fmt(longestMin)} 分钟，少于要求的 ${fmt(minMinutes)} 分钟${slowZh}。`,
      );
  return result(criterion, passed, longest.ms / requiredMs, evidence(measured, spans), explanation);
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
export function completeness(criterion: CriterionOf<'completeness'>, ctx: GradingContext): CriterionResult {
  const { sensor, maxGapSeconds, minPercent } = criterion.params;
  const maxGapMs = maxGapSeconds * 1000;
  const { from, to } = ctx.window;
  const windowMs = to - from;
  const pts = ctx.points(sensor);
  const required = { maxGapSeconds, minPercent };
  if (pts.length === 0 || windowMs <= 0) {
    return noReadings(criterion, sensor, { coveragePercent: 0, ...required });
  }
  const spans: EvidenceSpan[] = [];
  let missing = 0;
  let longestGap = 0;
  const gap = (a: number, b: number, edge: string) => {
    const d = b - a;
    longestGap = Math.max(longestGap, d);
    if (atMost(d, maxGapMs)) return;
    missing += d;
    spans.push({ from: a, to: b, ok: false, note: `no reading for ${sec(d)} s${edge}` });
  };
  const first = (pts[0] as SeriesPoint).ts;
  const last = (pts[pts.length - 1] as SeriesPoint).ts;
  gap(from, first, ' at the start of the attempt');
  for (let i = 1; i < pts.length; i++) gap((pts[i - 1] as SeriesPoint).ts, (pts[i] as SeriesPoint).ts, '');
  gap(last, to, ' at the end of the attempt');
  const gaps = spans.length;
  if (gaps === 0) {
    spans.push({ from: first, to: last, ok: true, note: `no gap longer than ${fmt(maxGapSeconds)} s` });
  }
  const coverage = 100 * (1 - missing / windowMs);
  const medianMs = median(intervals(pts));
  const expected = medianMs ? windowMs / medianMs : pts.length;
  const passed = atLeast(coverage, minPercent);
  const measured = {
    readings: pts.length,
    coveragePercent: coverage,
    longestGapSeconds: longestGap / 1000,
    gapsOverLimit: gaps,
    missingSeconds: missing / 1000,
    medianIntervalSeconds: (medianMs ?? 0) / 1000,
    expectedReadings: expected,
    readingsPercent: expected > 0 ? (100 * pts.length) / expected : 0,
    ...required,
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
  const fraction = minPercent > 0 ? coverage / minPercent : 1;
  return result(criterion, passed, fraction, evidence(measured, spans), explanation);
}

// ---------------------------------------------------------------------------------------------

/** Runs of consecutive readings inside / outside, as spans ending at the first reading after them. */
function insideRuns(pts: readonly SeriesPoint[], inside: (v: number) => boolean, what: Localized) {
  const spans: EvidenceSpan[] = [];
  let outsideRuns = 0;
  let i = 0;
  while (i < pts.length) {
    const ok = inside((pts[i] as SeriesPoint).value);
    let j = i;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    while (j < pts.length && inside((pts[j] as SeriesPoint).value) === ok) {
      lo = Math.min(lo, (pts[j] as SeriesPoint).value);
      hi = Math.max(hi, (pts[j] as SeriesPoint).value);
      j++;
    }
    if (!ok) outsideRuns++;
    const end = (pts[j] ?? pts[j - 1]) as SeriesPoint;
    spans.push({
      from: (pts[i] as SeriesPoint).ts,
      to: end.ts,
      ok,
      note: `${j - i} reading(s) ${ok ? 'within' : 'outside'} ${what.en} (${fmt(lo)}…${fmt(hi)})`,
    });
    i = j;
  }
  return { spans, outsideRuns };
}

/**
 * range / tolerance: the share of readings within [min, max] (both ends included), or within
 * reference ± epsilon, must be ≥ minPercent. Partial credit: share / minPercent.
 */
export function rangeOrTolerance(
  criterion: CriterionOf<'range'> | CriterionOf<'tolerance'>,
  ctx: GradingContext,
): CriterionResult {
  const { sensor, minPercent } = criterion.params;
  let inside: (v: number) => boolean;
  let what: Localized;
  const measured: Record<string, number> = {};
  if (criterion.type === 'range') {
    const { min, max } = criterion.params;
    inside = (v) => atLeast(v, min) && atMost(v, max);
    what = say(`[${fmt(min)}, ${fmt(max)}]`, `[${fmt(min)}, ${fmt(max)}] 范围内`);
    Object.assign(measured, { rangeMin: min, rangeMax: max });
  } else {
    const { reference, epsilon } = criterion.params;
    inside = (v) => atMost(Math.abs(v - reference), epsilon);
    what = say(`${fmt(reference)} ± ${fmt(epsilon)}`, `${fmt(reference)} ± ${fmt(epsilon)} 以内`);
    Object.assign(measured, { reference, epsilon });
  }
  const pts = ctx.points(sensor);
  if (pts.length === 0) return noReadings(criterion, sensor, { percentInRange: 0, minPercent, ...measured });
  const values = pts.map((p) => p.value);
  const inCount = values.filter(inside).length;
  const percent = (100 * inCount) / values.length;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  Object.assign(measured, {
    readings: values.length,
    inRange: inCount,
    percentInRange: percent,
    minPercent,
    min: lo,
    max: hi,
    mean: mean(values),
  });
  if (criterion.type === 'tolerance') {
    const deviations = values.map((v) => Math.abs(v - criterion.params.reference));
    measured.maxDeviation = Math.max(...deviations);
    measured.meanDeviation = mean(deviations);
  }
  const { spans, outsideRuns } = insideRuns(pts, inside, what);
  const passed = atLeast(percent, minPercent);
  const n = values.length;
  const explanation = passed
    ? say(
        `${fmt(percent)} % of the ${n} ${sensor} readings were within ${what.en} (≥ ${fmt(minPercent)} % required; measured ${fmt(lo)}…${fmt(hi)}).`,
        `${n} 个 ${sensor} 读数中有 ${fmt(percent)} % 在${what['zh-CN']}（要求 ≥ ${fmt(minPercent)} %；实测 ${fmt(lo)}…${fmt(hi)}）。`,
      )
    : say(
        `Only ${fmt(percent)} % of the ${n} ${sensor} readings were within ${what.en} (≥ ${fmt(minPercent)} % required): ${n - inCount} were outside, in ${outsideRuns} stretch(es), measured ${fmt(lo)}…${fmt(hi)}.`,
        `${n} 个 ${sensor} 读数中只有 ${fmt(percent)} % 在${what['zh-CN']}（要求 ≥ ${fmt(minPercent)} %）：${n - inCount} 个超出，分布在 ${outsideRuns} 段，实测 ${fmt(lo)}…${fmt(hi)}。`,
      );
  const fraction = minPercent > 0 ? percent / minPercent : 1;
  return result(criterion, passed, fraction, evidence(measured, spans), explanation);
}

// ---------------------------------------------------------------------------------------------

/**
 * stability: the sample standard deviation (n − 1) ≤ maxStdDev and/or the least-squares slope
 * against time |drift per minute| ≤ maxDriftPerMinute; every bound given must hold. Needs two
 * readings. Partial credit: the worst of bound / measured over the bounds given (capped at 1).
 */
export function stability(criterion: CriterionOf<'stability'>, ctx: GradingContext): CriterionResult {
  const { sensor, maxStdDev, maxDriftPerMinute } = criterion.params;
  const bounds: Record<string, number> = {};
  if (maxStdDev !== undefined) bounds.maxStdDev = maxStdDev;
  if (maxDriftPerMinute !== undefined) bounds.maxDriftPerMinute = maxDriftPerMinute;
  const pts = ctx.points(sensor);
  if (pts.length === 0) return noReadings(criterion, sensor, bounds);
  if (pts.length < 2) {
    return result(
      criterion,
      false,
      0,
      evidence({ readings: 1, ...bounds }),
      say(
        `${sensor} sent a single reading: stability needs at least two.`,
        `${sensor} 只有一个读数：评判稳定性至少需要两个。`,
      ),
    );
  }
  const values = pts.map((p) => p.value);
  const sd = stdDev(values);
  const drift = slopePerMinute(pts) ?? 0;
  const sdOk = maxStdDev === undefined || atMost(sd, maxStdDev);
  const driftOk = maxDriftPerMinute === undefined || atMost(Math.abs(drift), maxDriftPerMinute);
  const passed = sdOk && driftOk;
  let fraction = 1;
  if (maxStdDev !== undefined && sd > 0) fraction = Math.min(fraction, maxStdDev / sd);
  if (maxDriftPerMinute !== undefined && drift !== 0)
    fraction = Math.min(fraction, maxDriftPerMinute / Math.abs(drift));
  const measured = {
    readings: values.length,
    stdDev: sd,
    driftPerMinute: drift,
    mean: mean(values),
    min: Math.min(...values),
    max: Math.max(...values),
    ...bounds,
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
  const first = (pts[0] as SeriesPoint).ts;
  const last = (pts[pts.length - 1] as SeriesPoint).ts;
  const spans: EvidenceSpan[] = [{ from: first, to: last, ok: passed, note: partsEn.join('; ') }];
  const explanation = say(
    `${sensor} was ${passed ? 'stable' : 'not stable enough'} over ${values.length} readings: ${partsEn.join(' and ')}.`,
    `${sensor} 在 ${values.length} 个读数中${passed ? '保持稳定' : '不够稳定'}：${partsZh.join('，')}。`,
  );
  return result(criterion, passed, fraction, evidence(measured, spans), explanation);
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
 * of judged crossings answered.
 */
export function thresholdResponse(
  criterion: CriterionOf<'threshold_response'>,
  ctx: GradingContext,
): CriterionResult {
  const { sensor, above, below, respondWith, withinSeconds } = criterion.params;
  const up = above !== undefined;
  const threshold = (above ?? below) as number;
  const beyond = (v: number) => (up ? v > threshold : v < threshold);
  const withinMs = withinSeconds * 1000;
  const dir = say(up ? 'above' : 'below', up ? '高于' : '低于');

  let label: Localized;
  let respond: (afterTs: number, untilTs: number) => Response | undefined;
  if (respondWith.actuator !== undefined) {
    const name = respondWith.actuator;
    const act = ctx.points(name);
    label = say(`${name} turning on`, `执行器 ${name} 开启`);
    respond = (afterTs, untilTs) => {
      const before = lastAtOrBefore(act, afterTs);
      if (before && before.value !== 0) return { ts: afterTs, already: true };
      for (let k = firstAfter(act, afterTs); k < act.length; k++) {
        const p = act[k] as SeriesPoint;
        if (p.ts > untilTs) break;
        if (p.value !== 0) return { ts: p.ts };
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

  const pts = ctx.points(sensor);
  const required = { threshold, withinSeconds };
  if (pts.length === 0) return noReadings(criterion, sensor, { crossings: 0, ...required });

  const crossings: { prevTs: number; ts: number; value: number }[] = [];
  let merged = 0;
  const startedBeyond = beyond((pts[0] as SeriesPoint).value);
  let lastBeyondTs = startedBeyond ? (pts[0] as SeriesPoint).ts : undefined;
  for (let i = 1; i < pts.length; i++) {
    const prev = pts[i - 1] as SeriesPoint;
    const cur = pts[i] as SeriesPoint;
    if (!beyond(cur.value)) continue;
    if (!beyond(prev.value)) {
      if (lastBeyondTs !== undefined && cur.ts - lastBeyondTs <= withinMs) merged++;
      else crossings.push({ prevTs: prev.ts, ts: cur.ts, value: cur.value });
    }
    lastBeyondTs = cur.ts;
  }

  const values = pts.map((p) => p.value);
  const extreme = up ? Math.max(...values) : Math.min(...values);
  const spans: EvidenceSpan[] = [];
  const delays: number[] = [];
  let unanswered = 0;
  let notJudged = 0;
  for (const c of crossings) {
    const deadline = c.ts + withinMs;
    const r = respond(c.prevTs, deadline);
    const crossed = `${sensor} ${fmt(c.value)} ${dir.en} ${fmt(threshold)}`;
    if (r) {
      const delay = Math.max(0, r.ts - c.ts);
      delays.push(delay);
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
      spans.push({
        from: c.ts,
        to: ctx.window.to,
        ok: true,
        note: `${crossed}; the attempt ended before the ${fmt(withinSeconds)} s were over: not judged`,
      });
    } else {
      unanswered++;
      spans.push({
        from: c.ts,
        to: deadline,
        ok: false,
        note: `${crossed}; no ${label.en} within ${fmt(withinSeconds)} s`,
      });
    }
  }
  const judged = delays.length + unanswered;
  const measured: Record<string, number> = {
    readings: pts.length,
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
): CriterionResult {
  const { command, actuator, sensor, minChange, withinSeconds } = criterion.params;
  const withinMs = withinSeconds * 1000;
  let triggers: number[];
  let label: Localized;
  if (actuator !== undefined) {
    const act = ctx.points(actuator);
    triggers = [];
    for (let i = 1; i < act.length; i++) {
      if ((act[i - 1] as SeriesPoint).value === 0 && (act[i] as SeriesPoint).value !== 0)
        triggers.push((act[i] as SeriesPoint).ts);
    }
    label = say(`${actuator} turned on`, `${actuator} 开启`);
  } else {
    const name = command as string;
    triggers = ctx.commands.filter((c) => c.command === name && isOnValue(c.value)).map((c) => c.ts);
    label = say(`the command "${name}" was sent`, `发送命令 "${name}"`);
  }
  const pts = ctx.points(sensor);
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
    const base = lastAtOrBefore(pts, t) ?? pts[firstAfter(pts, t - 1)];
    if (!base || base.ts > deadline) {
      if (deadline >= ctx.window.to) {
        notJudged++;
        continue;
      }
      fractions.push(0);
      spans.push({ from: t, to: deadline, ok: false, note: `no ${sensor} reading around the trigger` });
      continue;
    }
    let extreme = base.value;
    let reachedAt: number | undefined;
    for (let k = firstAfter(pts, t); k < pts.length; k++) {
      const p = pts[k] as SeriesPoint;
      if (p.ts > deadline) break;
      extreme = rising ? Math.max(extreme, p.value) : Math.min(extreme, p.value);
      const change = p.value - base.value;
      if (reachedAt === undefined && (rising ? atLeast(change, minChange) : atMost(change, minChange)))
        reachedAt = p.ts;
    }
    const change = extreme - base.value;
    if (reachedAt === undefined && deadline >= ctx.window.to) {
      notJudged++;
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
    spans.push({
      from: t,
      to: reachedAt ?? deadline,
      ok: reachedAt !== undefined,
      note:
        `${sensor} ${fmt(base.value)} → ${fmt(extreme)} (${change >= 0 ? '+' : ''}${fmt(change)})` +
        (reachedAt !== undefined ? ` after ${sec(reachedAt - t)} s` : ` within ${fmt(withinSeconds)} s`),
    });
  }
  const judged = fractions.length;
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
export function events(criterion: CriterionOf<'events'>, ctx: GradingContext): CriterionResult {
  const { event, minCount, maxCount } = criterion.params;
  const named = ctx.events.filter((e) => e.event === event);
  const raised = named.filter(isRaised);
  const count = raised.length;
  const tooFew = count < minCount;
  const tooMany = maxCount !== undefined && count > maxCount;
  const passed = !tooFew && !tooMany;
  const fraction = tooFew ? (minCount > 0 ? count / minCount : 0) : tooMany ? (maxCount ?? 0) / count : 1;
  const spans: EvidenceSpan[] = raised.map((e, i) => ({
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
