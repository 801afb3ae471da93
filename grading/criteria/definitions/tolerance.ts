/** tolerance: readings agree with a reference value (a calibration point). */
import * as T from '@sinclair/typebox/type';
import { defineCriterion, Percent, SensorRef, strict } from './define.ts';

export const tolerance = defineCriterion({
  type: 'tolerance',
  title: { 'zh-CN': '误差范围', en: 'Tolerance' },
  hint: {
    'zh-CN': '至少 minPercent % 的读数在 reference ± epsilon 以内（校准点）',
    en: 'at least minPercent % of the readings are within reference ± epsilon (a calibration point)',
  },
  paramsHint: '{sensor, reference, epsilon, minPercent}',
  whenJudged: { 'zh-CN': '1 分钟内至少 10 个读数', en: '10 readings over a minute' },
  params: T.Object(
    {
      sensor: SensorRef,
      reference: T.Number({ description: 'the value the reading should have (a calibration point)' }),
      epsilon: T.Number({ exclusiveMinimum: 0, description: 'allowed deviation from the reference' }),
      minPercent: Percent('share of readings within reference ± epsilon'),
    },
    { ...strict, description: 'readings agree with a reference value' },
  ),
  template: { sensor: 'temperature', reference: 25, epsilon: 1, minPercent: 90 },
});
