/** events: the kit publishes an event between minCount and maxCount times. */
import * as T from '@sinclair/typebox/type';
import { defineCriterion, Name, strict } from './define.ts';

export const events = defineCriterion({
  type: 'events',
  title: { 'zh-CN': '事件次数', en: 'Events' },
  hint: {
    'zh-CN': '套件上报该事件的次数在 minCount 到 maxCount 之间',
    en: 'the kit reports the event between minCount and maxCount times',
  },
  paramsHint: '{event, minCount, maxCount?}',
  whenJudged: { 'zh-CN': '已有 minCount 次该事件', en: 'minCount events' },
  params: T.Object(
    {
      event: Name('the event name the kit publishes'),
      minCount: T.Integer({ minimum: 0, maximum: 1_000_000 }),
      maxCount: T.Optional(T.Integer({ minimum: 0, maximum: 1_000_000 })),
    },
    { ...strict, description: 'the kit publishes the event between minCount and maxCount times' },
  ),
  template: { event: 'alarm', minCount: 1 },
});
