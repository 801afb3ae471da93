/**
 * tolerance: readings agree with a reference value (a calibration point). The share of readings
 * within reference ± epsilon must be ≥ minPercent, and the deviations from the reference are
 * measured (the scan is within.ts, shared with range). Pending while the attempt runs: fewer than
 * LIVE_MINIMUM (common.ts) readings or time.
 */
import * as T from '@sinclair/typebox/type';
import { amount, fmt, say } from '../evidence.ts';
import { atMost } from '../series.ts';
import { type CriterionWith, defineCriterion, Percent, SensorRef, strict } from './define.ts';
import { sensorRef } from './plugin.ts';
import { type Within, WithinScan } from './within.ts';

const params = T.Object(
  {
    sensor: SensorRef,
    reference: T.Number({ description: 'the value the reading should have (a calibration point)' }),
    epsilon: T.Number({ exclusiveMinimum: 0, description: 'allowed deviation from the reference' }),
    minPercent: Percent('share of readings within reference ± epsilon'),
  },
  { ...strict, description: 'readings agree with a reference value' },
);
export type ToleranceCriterion = CriterionWith<'tolerance', typeof params>;

function within({ params }: ToleranceCriterion): Within {
  const { sensor, reference, epsilon } = params;
  const bound = `${fmt(reference)} ± ${amount(sensor, epsilon)}`;
  return {
    inside: (v) => atMost(Math.abs(v - reference), epsilon),
    bound,
    what: say(`within ${bound}`, `在 ${bound} 以内`),
    bounds: { reference, epsilon },
    deviation: {
      reference,
      summary: (max, mean) =>
        say(
          `largest deviation ${amount(sensor, max)}, mean deviation ${amount(sensor, mean)}`,
          `最大偏差 ${amount(sensor, max)}，平均偏差 ${amount(sensor, mean)}`,
        ),
    },
  };
}

export const tolerance = defineCriterion({
  type: 'tolerance',
  title: { 'zh-CN': '误差范围', en: 'Tolerance' },
  hint: {
    'zh-CN': '至少 minPercent % 的读数在 reference ± epsilon 以内（校准点）',
    en: 'at least minPercent % of the readings are within reference ± epsilon (a calibration point)',
  },
  paramsHint: '{sensor, reference, epsilon, minPercent}',
  whenJudged: { 'zh-CN': '1 分钟内至少 10 个读数', en: '10 readings over a minute' },
  params,
  template: { sensor: 'temperature', reference: 25, epsilon: 1, minPercent: 90 },
  reads: (criterion) => ({ sensors: [sensorRef(criterion.params.sensor)], actuators: [] }),
  check: () => [],
  scan: (criterion, options) => new WithinScan(criterion, within(criterion), options),
});
