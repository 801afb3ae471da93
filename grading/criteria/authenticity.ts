/**
 * The authenticity criterion: no flag (authenticity.ts: constant, pattern, replay, copy) on the
 * sensors it checks — its own list, or by default the task's required sensors. Pending while the
 * attempt runs: no flag yet and a checked sensor with too little data to be called measured
 * ({@link AUTHENTICITY}.judgeAfterReadings readings over judgeAfterSeconds); a flag fails it at once.
 */
import * as T from '@sinclair/typebox/type';
import { AUTHENTICITY, authenticityReady } from '../authenticity.ts';
import {
  type Detail,
  duration,
  evidence,
  label,
  labels,
  pending,
  plural,
  result,
  say,
  verdict,
} from '../evidence.ts';
import type { AuthenticityFlag, CriterionResult, EvidenceSpan, Localized } from '../types.ts';
import { type CriterionWith, defineCriterion, SensorRef, strict } from './define.ts';
import type { GradingContext } from './plugin.ts';

const params = T.Object(
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
);
export type AuthenticityCriterion = CriterionWith<'authenticity', typeof params, true>;

const FLAG_NAMES = {
  constant: { en: 'constant', 'zh-CN': '恒定值' },
  pattern: { en: 'pattern', 'zh-CN': '规则图形' },
  replay: { en: 'replayed', 'zh-CN': '重发' },
  copy: { en: 'copied', 'zh-CN': '复制' },
} as const;

/**
 * authenticity: passed (full weight) when no flag is raised on its sensors, 0 otherwise —
 * fabricated data earns no part of it, so partialCredit is ignored. The flags themselves are
 * reported in the grade whatever the score. Spans: the flags' (failing), or the window (passing)
 * when there is none. Pending while running: no flag yet, and a checked sensor with too little
 * data (see the module comment).
 */
function evaluateAuthenticity(
  criterion: AuthenticityCriterion,
  sensors: readonly string[],
  flags: readonly AuthenticityFlag[],
  ctx: GradingContext,
  detail: Detail = 'full',
): CriterionResult {
  const checked = sensors.filter((sensor) => ctx.count(sensor) > 0);
  const passed = flags.length === 0;
  if (passed && ctx.running) {
    // The sensor with the least data decides (none with data: waiting for the first reading).
    let least: string | undefined;
    let leastSpan = Number.POSITIVE_INFINITY;
    for (const sensor of checked) {
      if (authenticityReady(sensor, ctx)) continue;
      const span = ctx.spanMs(sensor);
      if (least === undefined || span < leastSpan) {
        least = sensor;
        leastSpan = span;
      }
    }
    if (checked.length === 0 || least !== undefined) {
      const sensor = least;
      return pending(
        criterion,
        detail,
        'data',
        () => {
          if (sensor === undefined) return say('no sensor reading to check yet', '还没有可检查的传感器读数');
          const need = duration(AUTHENTICITY.judgeAfterSeconds * 1000);
          const have = duration(ctx.spanMs(sensor));
          const readings = ctx.count(sensor);
          const name = label(sensor);
          return say(
            `needs ${AUTHENTICITY.judgeAfterReadings} readings over ${need.en} of each sensor to tell whether the data is measured; ${name.en} has ${plural(readings, 'reading')} over ${have.en}`,
            `每个传感器需要至少 ${AUTHENTICITY.judgeAfterReadings} 个读数、${need['zh-CN']}的数据才能判断是否为实测，${name['zh-CN']}已有 ${readings} 个读数、${have['zh-CN']}`,
          );
        },
        () => ({ sensorsChecked: checked.length, flags: 0 }),
      );
    }
  }
  const ok = passed && checked.length > 0;
  if (detail === 'verdict') return verdict(criterion, ok, ok ? 1 : 0);
  const kinds = { constant: 0, pattern: 0, replay: 0, copy: 0 };
  for (const f of flags) kinds[f.kind]++;
  const measured = { sensorsChecked: checked.length, flags: flags.length, ...kinds };
  const list = labels(checked);
  const spans: EvidenceSpan[] =
    detail !== 'full'
      ? []
      : passed
        ? [
            {
              from: ctx.window.from,
              to: ctx.window.to,
              ok: checked.length > 0,
              note: checked.length ? `no flag on ${list.en}` : 'no data',
            },
          ]
        : flags.flatMap((f) =>
            f.evidence.spans.map((s) => ({ ...s, note: `${f.kind} ${f.sensor}: ${s.note ?? ''}` })),
          );
  const explanation = passed
    ? checked.length
      ? say(
          `The data of ${list.en} looks measured: not constant, no noiseless pattern, no replayed stretch and not a copy of another kit.`,
          `${list['zh-CN']}的数据像是实测的：没有恒定值、没有无噪声的规则图形、没有重发的片段，也不是其他套件数据的复制。`,
        )
      : say('No sensor data to check in the attempt window.', '本次实验时段内没有可检查的传感器数据。')
    : say(
        `Flagged for the instructor: ${flags.map((f) => f.explanation.en).join(' ')}`,
        `已标记，请教师复核：${flags.map((f) => f.explanation['zh-CN']).join('')}`,
      );
  let summary: Localized | undefined;
  if (detail === 'full') {
    const sensorsEn = `${list.en || 'no sensor'} (${plural(checked.length, 'sensor')})`;
    const sensorsZh = `${list['zh-CN'] || '无'}（${checked.length} 个传感器）`;
    const found = (Object.keys(kinds) as (keyof typeof kinds)[]).filter((k) => kinds[k] > 0);
    summary = passed
      ? say(`Checked ${sensorsEn}: no flag`, `检查了${sensorsZh}：没有标记`)
      : say(
          `Checked ${sensorsEn}: ${plural(flags.length, 'flag')} (${found.map((k) => `${kinds[k]} ${FLAG_NAMES[k].en}`).join(', ')})`,
          `检查了${sensorsZh}：${flags.length} 个标记（${found.map((k) => `${FLAG_NAMES[k]['zh-CN']} ${kinds[k]} 个`).join('，')}）`,
        );
  }
  return result(criterion, ok, ok ? 1 : 0, evidence(measured, spans, summary), explanation);
}

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
  params,
  paramsOptional: true,
  template: {},
  reads: (criterion) => ({
    sensors: (criterion.params?.sensors ?? []).map((name) => ({ name, field: 'params.sensors' })),
    actuators: [],
  }),
  check: () => [],
  evaluate: (criterion, ctx, detail, env) => {
    const sensors = criterion.params?.sensors ?? env.defaultSensors;
    return evaluateAuthenticity(criterion, sensors, env.flagsOf(sensors), ctx, detail);
  },
});
