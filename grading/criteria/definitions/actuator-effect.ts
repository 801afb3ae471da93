/** actuator_effect: switching an actuator on moves the sensor. */
import * as T from '@sinclair/typebox/type';
import { ActuatorRef, defineCriterion, Name, Seconds, SensorRef, strict } from './define.ts';

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
  params: T.Object(
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
      description:
        'switching the actuator (command or actuator, one of them) changes the sensor by minChange',
    },
  ),
  template: { actuator: 'fan', sensor: 'temperature', minChange: -2, withinSeconds: 60 },
});
