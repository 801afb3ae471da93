/**
 * The events criterion: the kit raises an event between minCount and maxCount times. Pending while
 * the attempt runs: fewer than minCount.
 */
import * as T from '@sinclair/typebox/type';
import { type Detail, evidence, fmt, pending, plural, result, say, verdict } from '../evidence.ts';
import { isRaised } from '../series.ts';
import type { CriterionResult, EvidenceSpan, Localized } from '../types.ts';
import { type CriterionWith, defineCriterion, Name, strict } from './define.ts';
import { type GradingContext, problem } from './plugin.ts';

const params = T.Object(
  {
    event: Name('the event name the kit publishes'),
    minCount: T.Integer({ minimum: 0, maximum: 1_000_000 }),
    maxCount: T.Optional(T.Integer({ minimum: 0, maximum: 1_000_000 })),
  },
  { ...strict, description: 'the kit publishes the event between minCount and maxCount times' },
);
export type EventsCriterion = CriterionWith<'events', typeof params>;

/**
 * events: the number of times the kit raised event E (events of that name with no value or a
 * value ≠ 0; a value 0 marks a release or a clear and is only counted in `measured.zeroValued`)
 * must be between minCount and maxCount (inclusive). Partial credit: count / minCount when too
 * few, maxCount / count when too many. Spans: each event (failing beyond maxCount), and a failing
 * span over the window when there were too few. Pending while running: fewer than minCount.
 */
function evaluateEvents(
  criterion: EventsCriterion,
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

export const events = defineCriterion({
  type: 'events',
  title: { 'zh-CN': '事件次数', en: 'Events' },
  hint: {
    'zh-CN': '套件上报该事件的次数在 minCount 到 maxCount 之间',
    en: 'the kit reports the event between minCount and maxCount times',
  },
  paramsHint: '{event, minCount, maxCount?}',
  whenJudged: { 'zh-CN': '已有 minCount 次该事件', en: 'minCount events' },
  params,
  template: { event: 'alarm', minCount: 1 },
  reads: () => ({ sensors: [], actuators: [] }),
  check: ({ params }) => {
    const problems: Localized[] = [];
    if (params.maxCount !== undefined && params.maxCount < params.minCount)
      problems.push(
        problem(
          `params.maxCount (${params.maxCount}) must not be below params.minCount (${params.minCount})`,
          `params.maxCount（${params.maxCount}）不能小于 params.minCount（${params.minCount}）`,
        ),
      );
    if (params.minCount === 0 && params.maxCount === undefined)
      problems.push(
        problem(
          'params.minCount 0 without params.maxCount always passes: raise minCount or give maxCount',
          'params.minCount 为 0 且没有 params.maxCount 时总能达标：请调高 minCount 或填写 maxCount',
        ),
      );
    return problems;
  },
  evaluate: (criterion, ctx, detail) => evaluateEvents(criterion, ctx, detail),
});
