/**
 * The threshold_response criterion: when the sensor crosses a threshold, the kit responds in time.
 * Pending while the attempt runs: until a crossing was answered or its response time ran out (no
 * crossing yet: the condition has not happened).
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
  plural,
  qty,
  result,
  say,
  sec,
  verdict,
} from '../evidence.ts';
import { firstAfter, isOnValue, isRaised, lastAtOrBefore, mean } from '../series.ts';
import type { CriterionResult, EvidenceSpan, Localized } from '../types.ts';
import { noReadings } from './common.ts';
import {
  ActuatorRef,
  type CriterionWith,
  defineCriterion,
  Name,
  Seconds,
  SensorRef,
  strict,
} from './define.ts';
import { type CriterionScan, exactlyOne, type GradingContext, problem, sensorRef } from './plugin.ts';

const params = T.Object(
  {
    sensor: SensorRef,
    above: T.Optional(T.Number()),
    below: T.Optional(T.Number()),
    respondWith: T.Object(
      {
        event: T.Optional(Name('an event the kit publishes')),
        command: T.Optional(Name('a command sent to the kit')),
        actuator: T.Optional(ActuatorRef),
      },
      { ...strict, description: 'exactly one of event, command, actuator' },
    ),
    withinSeconds: Seconds('the response must follow the crossing within this time'),
  },
  {
    ...strict,
    description: 'when the sensor crosses a threshold (above or below, one of them) the kit responds in time',
  },
);
export type ThresholdResponseCriterion = CriterionWith<'threshold_response', typeof params>;

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
  readonly #criterion: ThresholdResponseCriterion;
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

  constructor(criterion: ThresholdResponseCriterion) {
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
  criterion: ThresholdResponseCriterion,
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

export const thresholdResponse = defineCriterion({
  type: 'threshold_response',
  title: { 'zh-CN': '阈值响应', en: 'Threshold response' },
  hint: {
    'zh-CN': '传感器高于 above（或低于 below）后，withinSeconds 秒内出现响应：事件、命令或执行器开启',
    en: 'after the sensor goes above `above` (or below `below`), an event, command or actuator follows within withinSeconds',
  },
  paramsHint: '{sensor, above | below, respondWith: {event | command | actuator}, withinSeconds}',
  whenJudged: {
    'zh-CN': '一次越限已得到响应，或其响应时间已过',
    en: 'a crossing was answered or its time ran out',
  },
  params,
  template: { sensor: 'temperature', above: 28, respondWith: { actuator: 'fan' }, withinSeconds: 10 },
  reads: ({ params }) => ({
    sensors: [sensorRef(params.sensor)],
    actuators:
      params.respondWith.actuator !== undefined
        ? [{ name: params.respondWith.actuator, field: 'params.respondWith.actuator' }]
        : [],
  }),
  check: ({ params }) => {
    const problems: Localized[] = [];
    if (!exactlyOne(params, ['above', 'below']))
      problems.push(
        problem(
          'give exactly one of params.above or params.below',
          'params.above 和 params.below 须填且只填一个',
        ),
      );
    if (!exactlyOne(params.respondWith, ['event', 'command', 'actuator']))
      problems.push(
        problem(
          'params.respondWith takes exactly one of event, command or actuator',
          'params.respondWith 中 event、command、actuator 须填且只填一个',
        ),
      );
    return problems;
  },
  scan: (criterion) => new ThresholdScan(criterion),
});
