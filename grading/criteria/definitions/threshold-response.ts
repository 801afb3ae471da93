/** threshold_response: when the sensor crosses a threshold, the kit responds in time. */
import * as T from '@sinclair/typebox/type';
import { ActuatorRef, defineCriterion, Name, Seconds, SensorRef, strict } from './define.ts';

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
  params: T.Object(
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
      description:
        'when the sensor crosses a threshold (above or below, one of them) the kit responds in time',
    },
  ),
  template: { sensor: 'temperature', above: 28, respondWith: { actuator: 'fan' }, withinSeconds: 10 },
});
