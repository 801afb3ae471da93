/** stability: readings are steady (standard deviation, drift). */
import * as T from '@sinclair/typebox/type';
import { defineCriterion, SensorRef, strict } from './define.ts';

export const stability = defineCriterion({
  type: 'stability',
  title: { 'zh-CN': '稳定性', en: 'Stability' },
  hint: {
    'zh-CN': '读数平稳：标准差不超过 maxStdDev，和/或每分钟漂移不超过 maxDriftPerMinute',
    en: 'readings are steady: standard deviation ≤ maxStdDev and/or drift ≤ maxDriftPerMinute',
  },
  paramsHint: '{sensor, maxStdDev and/or maxDriftPerMinute}',
  whenJudged: { 'zh-CN': '1 分钟内至少 10 个读数', en: '10 readings over a minute' },
  params: T.Object(
    {
      sensor: SensorRef,
      maxStdDev: T.Optional(T.Number({ exclusiveMinimum: 0 })),
      maxDriftPerMinute: T.Optional(T.Number({ exclusiveMinimum: 0 })),
    },
    { ...strict, description: 'readings are steady: maxStdDev and/or maxDriftPerMinute (at least one)' },
  ),
  template: { sensor: 'temperature', maxStdDev: 1 },
});
