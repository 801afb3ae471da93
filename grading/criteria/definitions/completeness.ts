/** completeness: no gaps in the data. */
import * as T from '@sinclair/typebox/type';
import { defineCriterion, Percent, Seconds, SensorRef, strict } from './define.ts';

export const completeness = defineCriterion({
  type: 'completeness',
  title: { 'zh-CN': '数据完整', en: 'Completeness' },
  hint: {
    'zh-CN': '数据没有超过 maxGapSeconds 秒的中断，覆盖实验时段的至少 minPercent %',
    en: 'no gap over maxGapSeconds: the data covers at least minPercent % of the attempt',
  },
  paramsHint: '{sensor, maxGapSeconds, minPercent}',
  whenJudged: {
    'zh-CN': '实验进行了 1 分钟且不短于 2 × maxGapSeconds',
    en: 'the attempt lasts a minute and twice maxGapSeconds',
  },
  params: T.Object(
    {
      sensor: SensorRef,
      maxGapSeconds: Seconds('a gap longer than this counts as missing data'),
      minPercent: Percent('share of the attempt covered without such gaps'),
    },
    { ...strict, description: 'no gaps in the data' },
  ),
  template: { sensor: 'temperature', maxGapSeconds: 30, minPercent: 90 },
});
