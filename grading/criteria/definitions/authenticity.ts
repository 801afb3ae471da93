/** authenticity: the data looks measured, not made up, replayed or copied. */
import * as T from '@sinclair/typebox/type';
import { defineCriterion, SensorRef, strict } from './define.ts';

export const authenticity = defineCriterion({
  type: 'authenticity',
  title: { 'zh-CN': '真实性', en: 'Authenticity' },
  hint: {
    'zh-CN': '数据来自真实硬件：没有恒定值、无噪声的规则图形、重发的片段或其他套件数据的复制',
    en: 'the data comes from real hardware: not constant, no noiseless pattern, not replayed, not a copy of another kit',
  },
  paramsHint: '{sensors?}',
  whenJudged: {
    'zh-CN': '每个检查的传感器 2 分钟内至少 30 个读数（一有标记立即判为未通过）',
    en: '30 readings of each sensor over 2 minutes (a flag fails it at once)',
  },
  params: T.Object(
    {
      sensors: T.Optional(
        T.Array(SensorRef, {
          maxItems: 64,
          description: 'the sensors to check (default: all required sensors)',
        }),
      ),
    },
    {
      ...strict,
      description: 'the data comes from real hardware, not replayed or simulated (params optional)',
    },
  ),
  paramsOptional: true,
  template: {},
});
