/** range: readings stay within [min, max]. */
import * as T from '@sinclair/typebox/type';
import { defineCriterion, Percent, SensorRef, strict } from './define.ts';

export const range = defineCriterion({
  type: 'range',
  title: { 'zh-CN': '数值范围', en: 'Range' },
  hint: {
    'zh-CN': '至少 minPercent % 的读数在 [min, max] 范围内',
    en: 'at least minPercent % of the readings are within [min, max]',
  },
  paramsHint: '{sensor, min, max, minPercent}',
  whenJudged: { 'zh-CN': '1 分钟内至少 10 个读数', en: '10 readings over a minute' },
  params: T.Object(
    {
      sensor: SensorRef,
      min: T.Number(),
      max: T.Number(),
      minPercent: Percent('share of readings within [min, max]'),
    },
    { ...strict, description: 'readings stay within [min, max]' },
  ),
  template: { sensor: 'temperature', min: 5, max: 45, minPercent: 95 },
});
