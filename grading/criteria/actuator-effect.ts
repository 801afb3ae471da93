/**
 * The actuator_effect criterion: switching an actuator on moves the sensor. Pending while the
 * attempt runs: until a trigger (the actuator turned on, the command sent) showed its effect or its
 * time ran out.
 */

import * as T from '@sinclair/typebox/type';
import { capitalized } from '../../protocol/index.ts';
import {
  amount,
  type Detail,
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
import { atLeast, atMost, firstAfter, isOnValue, lastAtOrBefore, mean } from '../series.ts';
import type { CriterionResult, EvidenceSpan, Localized } from '../types.ts';
import {
  ActuatorRef,
  type CriterionWith,
  defineCriterion,
  Name,
  Seconds,
  SensorRef,
  strict,
} from './define.ts';
import { exactlyOne, type GradingContext, problem, sensorRef } from './plugin.ts';

const params = T.Object(
  {
    command: T.Optional(Name('a command sent to the kit')),
    actuator: T.Optional(ActuatorRef),
    sensor: SensorRef,
    minChange: T.Number({
      description: 'signed: the sensor must change by at least this much (negative: fall)',
    }),
    withinSeconds: Seconds('after the command or actuator change'),
  },
  {
    ...strict,
    description: 'switching the actuator (command or actuator, one of them) changes the sensor by minChange',
  },
);
export type ActuatorEffectCriterion = CriterionWith<'actuator_effect', typeof params>;

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
function evaluateActuatorEffect(
  criterion: ActuatorEffectCriterion,
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

export const actuatorEffect = defineCriterion({
  type: 'actuator_effect',
  title: { 'zh-CN': '执行器效果', en: 'Actuator effect' },
  hint: {
    'zh-CN': '执行器开启（或发送命令）后，传感器在 withinSeconds 秒内变化至少 minChange（负数表示下降）',
    en: 'after the actuator turns on (or the command is sent), the sensor moves by minChange within withinSeconds (negative: falls)',
  },
  paramsHint: '{command | actuator, sensor, minChange, withinSeconds}',
  whenJudged: {
    'zh-CN': '一次触发的效果已出现，或其观察时间已过',
    en: 'a trigger whose effect showed or whose time ran out',
  },
  params,
  template: { actuator: 'fan', sensor: 'temperature', minChange: -2, withinSeconds: 60 },
  reads: ({ params }) => ({
    sensors: [sensorRef(params.sensor)],
    actuators: params.actuator !== undefined ? [{ name: params.actuator, field: 'params.actuator' }] : [],
  }),
  check: ({ params }) => {
    const problems: Localized[] = [];
    if (!exactlyOne(params, ['command', 'actuator']))
      problems.push(
        problem(
          'give exactly one of params.command or params.actuator',
          'params.command 和 params.actuator 须填且只填一个',
        ),
      );
    if (params.minChange === 0)
      problems.push(
        problem(
          'params.minChange must not be 0 (positive: must rise, negative: must fall)',
          'params.minChange 不能为 0（正数表示须上升，负数表示须下降）',
        ),
      );
    return problems;
  },
  evaluate: (criterion, ctx, detail) => evaluateActuatorEffect(criterion, ctx, detail),
});
