/**
 * Live grading does not run ahead of the evidence: while an attempt runs, a criterion without
 * enough data to judge is pending — neither passed nor failed, 0 points, saying what it waits for
 * — and is judged once there is enough. Final grading (the attempt ended) judges everything.
 */
import { describe, expect, it } from 'vitest';
import {
  type Criterion,
  type CriterionResult,
  type GradingData,
  type GradingEvent,
  gradeAttempt,
  gradeLive,
  type Rubric,
  type SeriesPoint,
} from '../../grading/index.ts';

const T0 = Date.UTC(2026, 2, 2, 1, 0, 0);
const S = 1000;

/** Seeded noise in [-0.5, 0.5). */
function noise(i: number, seed: number): number {
  const x = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

/** n measured-looking readings every stepMs from T0. */
function series(n: number, base: number, seed: number, stepMs = 2 * S): SeriesPoint[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: T0 + i * stepMs,
    value: Math.round((base + Math.sin(i / 40) + noise(i, seed)) * 10) / 10,
  }));
}

function data(series: Record<string, SeriesPoint[]>, events: GradingEvent[] = []): GradingData {
  return { series, events, commands: [] };
}

/** The demo's "温湿度采集与上报" rubric (cli/demo-seed.ts): a student watches it live. */
const DEMO: Rubric = {
  criteria: [
    {
      id: 'sampling',
      title: { 'zh-CN': '采样频率', en: 'Sampling' },
      weight: 30,
      partialCredit: true,
      type: 'sampling',
      params: { sensor: 'temperature', maxIntervalSeconds: 5, minMinutes: 10 },
    },
    {
      id: 'complete',
      title: { 'zh-CN': '数据完整', en: 'Completeness' },
      weight: 30,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'humidity', maxGapSeconds: 30, minPercent: 90 },
    },
    {
      id: 'plausible',
      title: { 'zh-CN': '数值合理', en: 'Plausible range' },
      weight: 30,
      partialCredit: true,
      type: 'range',
      params: { sensor: 'temperature', min: 5, max: 45, minPercent: 95 },
    },
    {
      id: 'authentic',
      title: { 'zh-CN': '真实测量', en: 'Measured, not made up' },
      weight: 10,
      partialCredit: false,
      type: 'authenticity',
    },
  ],
};
const OPTIONS = { requiredSensors: ['temperature', 'humidity'] };

/** The rubric on the first `seconds` of the data, as live grading sees a running attempt. */
function live(rubric: Rubric, d: GradingData, seconds: number) {
  const window = { from: T0, to: T0 + seconds * S };
  return {
    explained: gradeLive(rubric, window, d, OPTIONS, 'explained', { running: true }),
    verdicts: gradeLive(rubric, window, d, OPTIONS, 'verdict', { running: true }),
  };
}

const states = (criteria: readonly CriterionResult[]) =>
  criteria.map((c) => [c.id, c.pending ? 'pending' : c.passed ? 'passed' : 'failed', c.score]);

function one(type: Criterion['type'], params: object): Rubric {
  return {
    criteria: [{ id: type, title: type, weight: 10, partialCredit: true, type, params } as Criterion],
  };
}

describe('live grading of a running attempt', () => {
  it('with one reading nothing is green and nothing is red: every criterion waits, at 0 points', () => {
    const d = data({
      temperature: [{ ts: T0 + S, value: 22.4 }],
      humidity: [{ ts: T0 + S, value: 55.1 }],
    });
    const { explained, verdicts } = live(DEMO, d, 2);
    expect(states(explained.criteria)).toEqual([
      ['sampling', 'pending', 0],
      ['complete', 'pending', 0],
      ['plausible', 'pending', 0],
      ['authentic', 'pending', 0],
    ]);
    expect(explained.total).toBe(0);
    // The verdicts live grading publishes on say the same.
    expect(states(verdicts.criteria)).toEqual(states(explained.criteria));
    // Nothing claims the data looks measured; each says what it waits for.
    const sampling = explained.criteria[0] as CriterionResult;
    expect(sampling.waitingFor).toEqual({
      'zh-CN': '需要 10 分钟的温度数据，已有 0 分钟（目前最长连续达标 0 分钟）',
      en: 'needs 10 min of temperature data, has 0 min (the rate has held for 0 min so far)',
    });
    expect(sampling.explanation['zh-CN']).toBe(
      '等待数据：需要 10 分钟的温度数据，已有 0 分钟（目前最长连续达标 0 分钟）。',
    );
    const authentic = explained.criteria[3] as CriterionResult;
    expect(authentic.explanation.en).not.toMatch(/looks measured/);
    expect(authentic.explanation['zh-CN']).not.toMatch(/实测的/);
    expect(authentic.waitingFor?.['zh-CN']).toMatch(/需要至少 30 个读数、2 分钟的数据/);

    // Graded as an ended attempt, the same data is judged: nothing pending.
    const final = gradeAttempt(DEMO, { from: T0, to: T0 + 2 * S }, d, OPTIONS);
    expect(final.criteria.some((c) => c.pending)).toBe(false);
    expect(final.criteria.every((c) => c.waitingFor === undefined)).toBe(true);
  });

  it('judges each criterion once there is enough to judge it', () => {
    const d = data({ temperature: series(400, 22, 1), humidity: series(400, 55, 2) });
    // 40 s: range needs a minute of readings, authenticity two, sampling ten.
    expect(states(live(DEMO, d, 40).explained.criteria)).toEqual([
      ['sampling', 'pending', 0],
      ['complete', 'pending', 0],
      ['plausible', 'pending', 0],
      ['authentic', 'pending', 0],
    ]);
    // 90 s: the range and completeness are judged; the rest still waits.
    expect(states(live(DEMO, d, 90).explained.criteria)).toEqual([
      ['sampling', 'pending', 0],
      ['complete', 'passed', 30],
      ['plausible', 'passed', 30],
      ['authentic', 'pending', 0],
    ]);
    // 3 min: the data looks measured.
    const three = live(DEMO, d, 180).explained;
    expect(states(three.criteria)).toEqual([
      ['sampling', 'pending', 0],
      ['complete', 'passed', 30],
      ['plausible', 'passed', 30],
      ['authentic', 'passed', 10],
    ]);
    expect(three.criteria[0]?.waitingFor?.en).toBe(
      'needs 10 min of temperature data, has 3 min (the rate has held for 3 min so far)',
    );
    // 10 min of data at the rate: everything passes.
    expect(states(live(DEMO, d, 600).explained.criteria).map((s) => s[1])).toEqual([
      'passed',
      'passed',
      'passed',
      'passed',
    ]);
  });

  it('sampling: too slow for its minMinutes is judged (with partial credit) once the data lasts that long', () => {
    // A reading every 8 s: never meets "at least every 5 s".
    const slow = data({ temperature: series(100, 22, 3, 8 * S) });
    const rubric = one('sampling', { sensor: 'temperature', maxIntervalSeconds: 5, minMinutes: 10 });
    expect(states(live(rubric, slow, 5 * 60).explained.criteria)).toEqual([['sampling', 'pending', 0]]);
    expect(states(live(rubric, slow, 11 * 60).explained.criteria)).toEqual([['sampling', 'failed', 0]]);
  });

  it('range, tolerance and stability wait for 10 readings over a minute', () => {
    const d = data({ temperature: series(100, 22, 4, 10 * S) });
    for (const [type, params] of [
      ['range', { sensor: 'temperature', min: 0, max: 10, minPercent: 90 }],
      ['tolerance', { sensor: 'temperature', reference: 22, epsilon: 3, minPercent: 90 }],
      ['stability', { sensor: 'temperature', maxStdDev: 5 }],
    ] as const) {
      const rubric = one(type, params);
      // 9 readings over 80 s, then 10 over 90 s.
      expect(states(live(rubric, d, 85).explained.criteria), type).toEqual([[type, 'pending', 0]]);
      const judged = live(rubric, d, 95).explained.criteria[0] as CriterionResult;
      expect(judged.pending, type).toBeUndefined();
      expect(judged.passed, type).toBe(type !== 'range');
    }
    expect(
      live(one('range', { sensor: 'temperature', min: 0, max: 10, minPercent: 90 }), d, 85).explained
        .criteria[0]?.waitingFor,
    ).toEqual({
      'zh-CN': '需要至少 10 个温度读数、60 秒的数据，已有 9 个读数、80 秒',
      en: 'needs at least 10 temperature readings over 60 s, has 9 readings over 80 s',
    });
  });

  it('threshold_response waits for the condition, then for its response time', () => {
    const temperature = series(300, 25, 5, S).map((p) => ({
      ts: p.ts,
      value: p.ts >= T0 + 200 * S && p.ts < T0 + 230 * S ? 31 : p.value,
    }));
    const rubric = one('threshold_response', {
      sensor: 'temperature',
      above: 30,
      respondWith: { actuator: 'fan' },
      withinSeconds: 10,
    });
    const fan = temperature.map((p) => ({ ts: p.ts, value: p.ts >= T0 + 205 * S ? 1 : 0 }));
    const d = data({ temperature, fan });
    const before = live(rubric, d, 150).explained.criteria[0] as CriterionResult;
    expect(states([before])).toEqual([['threshold_response', 'pending', 0]]);
    expect(before.waitingFor?.['zh-CN']).toMatch(
      /^温度还没有高于 30 °C（目前最高 2\d(\.\d)? °C），届时检查风扇开启$/,
    );
    expect(before.waitingFor?.en).toMatch(/^temperature has not gone above 30 °C yet/);
    // Crossed 2 s ago, the fan not on yet: still waiting, for the response.
    const waiting = live(rubric, d, 202).explained.criteria[0] as CriterionResult;
    expect(states([waiting])).toEqual([['threshold_response', 'pending', 0]]);
    expect(waiting.waitingFor?.['zh-CN']).toBe('温度已高于 30 °C，正在等待 10 秒内风扇开启');
    // The fan came on 5 s after: passed.
    expect(states(live(rubric, d, 240).explained.criteria)).toEqual([['threshold_response', 'passed', 10]]);
    // Without the fan: failed once its 10 s ran out.
    const noFan = data({ temperature, fan: temperature.map((p) => ({ ts: p.ts, value: 0 })) });
    expect(states(live(rubric, noFan, 240).explained.criteria)).toEqual([
      ['threshold_response', 'failed', 0],
    ]);
  });

  it('actuator_effect waits until the actuator was on; events wait for minCount', () => {
    const temperature = series(300, 25, 6, S);
    const effect = one('actuator_effect', {
      actuator: 'fan',
      sensor: 'temperature',
      minChange: -2,
      withinSeconds: 30,
    });
    const off = data({ temperature, fan: temperature.map((p) => ({ ts: p.ts, value: 0 })) });
    const never = live(effect, off, 290).explained.criteria[0] as CriterionResult;
    expect(states([never])).toEqual([['actuator_effect', 'pending', 0]]);
    expect(never.waitingFor).toEqual({
      'zh-CN': '风扇还没有开启过',
      en: 'the fan has not been turned on yet',
    });
    expect(never.explanation['zh-CN']).toBe('等待触发：风扇还没有开启过。');
    // The ended attempt says it never happened, in words with the fan's label.
    const final = gradeAttempt(effect, { from: T0, to: T0 + 290 * S }, off).criteria[0];
    expect(final?.explanation['zh-CN']).toBe('实验期间风扇从未开启，无法检查它对温度的影响。');

    const pressed = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ ts: T0 + (i + 1) * 10 * S, event: 'button' }));
    const events = one('events', { event: 'button', minCount: 3, maxCount: 4 });
    const twice = live(events, data({}, pressed(2)), 60).explained.criteria[0] as CriterionResult;
    expect(states([twice])).toEqual([['events', 'pending', 0]]);
    expect(twice.waitingFor?.['zh-CN']).toBe('需要至少 3 次“button”事件，已有 2 次');
    expect(states(live(events, data({}, pressed(3)), 60).explained.criteria)).toEqual([
      ['events', 'passed', 10],
    ]);
    expect(states(live(events, data({}, pressed(5)), 60).explained.criteria)).toEqual([
      ['events', 'failed', 8],
    ]);
  });

  it('authenticity fails at once on a flag, and says "measured" only after enough data', () => {
    const rubric = one('authenticity', { sensors: ['temperature'] });
    const stuck = data({
      temperature: Array.from({ length: 12 }, (_, i) => ({ ts: T0 + i * S, value: 21.5 })),
    });
    expect(states(live(rubric, stuck, 12).explained.criteria)).toEqual([['authenticity', 'failed', 0]]);
    const noisy = data({ temperature: series(200, 22, 7, S) });
    expect(states(live(rubric, noisy, 60).explained.criteria)).toEqual([['authenticity', 'pending', 0]]);
    expect(states(live(rubric, noisy, 130).explained.criteria)).toEqual([['authenticity', 'passed', 10]]);
  });

  it('with no reading at all, every criterion waits for the first one', () => {
    const { explained } = live(DEMO, data({}), 30);
    expect(explained.criteria.every((c) => c.pending && c.score === 0)).toBe(true);
    expect(explained.criteria[2]?.waitingFor).toEqual({
      'zh-CN': '还没有温度读数',
      en: 'no temperature reading yet',
    });
  });
});
