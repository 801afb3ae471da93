/**
 * range: the share of readings within [min, max] (both ends included) must be ≥ minPercent (the
 * scan is within.ts, shared with tolerance). Pending while the attempt runs: fewer than
 * LIVE_MINIMUM (common.ts) readings or time.
 */
import * as T from '@sinclair/typebox/type';
import { amount, fmt, say } from '../evidence.ts';
import { atLeast, atMost } from '../series.ts';
import { type CriterionWith, defineCriterion, Percent, SensorRef, strict } from './define.ts';
import { problem, sensorRef } from './plugin.ts';
import { type Within, WithinScan } from './within.ts';

const params = T.Object(
  {
    sensor: SensorRef,
    min: T.Number(),
    max: T.Number(),
    minPercent: Percent('share of readings within [min, max]'),
  },
  { ...strict, description: 'readings stay within [min, max]' },
);
export type RangeCriterion = CriterionWith<'range', typeof params>;

function within({ params }: RangeCriterion): Within {
  const { sensor, min, max } = params;
  return {
    inside: (v) => atLeast(v, min) && atMost(v, max),
    bound: `${fmt(min)}–${amount(sensor, max)}`,
    what: say(
      `between ${fmt(min)} and ${amount(sensor, max)}`,
      `在 ${fmt(min)} 到 ${amount(sensor, max)} 范围内`,
    ),
    bounds: { rangeMin: min, rangeMax: max },
  };
}

export const range = defineCriterion({
  type: 'range',
  title: { 'zh-CN': '数值范围', en: 'Range' },
  hint: {
    'zh-CN': '至少 minPercent % 的读数在 [min, max] 范围内',
    en: 'at least minPercent % of the readings are within [min, max]',
  },
  paramsHint: '{sensor, min, max, minPercent}',
  whenJudged: { 'zh-CN': '1 分钟内至少 10 个读数', en: '10 readings over a minute' },
  params,
  template: { sensor: 'temperature', min: 5, max: 45, minPercent: 95 },
  reads: (criterion) => ({ sensors: [sensorRef(criterion.params.sensor)], actuators: [] }),
  check: ({ params }) =>
    params.min >= params.max
      ? [
          problem(
            `params.min (${params.min}) must be below params.max (${params.max})`,
            `params.min（${params.min}）必须小于 params.max（${params.max}）`,
          ),
        ]
      : [],
  scan: (criterion, options) => new WithinScan(criterion, within(criterion), options),
});
