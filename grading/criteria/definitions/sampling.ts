/** sampling: the sensor reports often enough, for long enough. */
import * as T from '@sinclair/typebox/type';
import { defineCriterion, Seconds, SensorRef, strict } from './define.ts';

export const sampling = defineCriterion({
  type: 'sampling',
  title: { 'zh-CN': '采样频率', en: 'Sampling' },
  hint: {
    'zh-CN': '传感器的采样足够频繁（minHz 或 maxIntervalSeconds，二选一），并持续 minMinutes 分钟',
    en: 'the sensor reports often enough (minHz or maxIntervalSeconds) for minMinutes without a break',
  },
  paramsHint: '{sensor, minHz | maxIntervalSeconds, minMinutes}',
  whenJudged: {
    'zh-CN': '该传感器的数据持续 minMinutes 分钟（或已有一段达标）',
    en: "the sensor's data lasts minMinutes (or a stretch already met the rate)",
  },
  params: T.Object(
    {
      sensor: SensorRef,
      minHz: T.Optional(T.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'readings per second' })),
      maxIntervalSeconds: T.Optional(Seconds('at most this long between two readings')),
      minMinutes: T.Number({ exclusiveMinimum: 0, maximum: 1440, description: 'for at least this long' }),
    },
    {
      ...strict,
      description:
        'the sensor reports often enough (minHz or maxIntervalSeconds, one of them) for minMinutes',
    },
  ),
  template: { sensor: 'temperature', maxIntervalSeconds: 5, minMinutes: 10 },
});
