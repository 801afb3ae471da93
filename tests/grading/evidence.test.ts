/**
 * Evidence as the review shows it: the spans of a criterion are exactly where it passed and where
 * it failed (the chart shades them green and red), and each result carries its numbers as short
 * sentences with units in the reader's language, naming sensors by their label.
 */
import { describe, expect, it } from 'vitest';
import { createKitModel, type FaultSpec, loadScenario } from '../../firmware-sim/index.ts';
import {
  type Criterion,
  type CriterionResult,
  type EvidenceSpan,
  type GradingCommand,
  type GradingData,
  type GradingEvent,
  gradeAttempt,
  type Rubric,
  type SeriesPoint,
  type TimeWindow,
} from '../../grading/index.ts';
import { sensorLabel, sensorStates, sensorUnit } from '../../protocol/index.ts';

const T0 = Date.UTC(2026, 2, 2, 1, 0, 0);
const S = 1000;
const MIN = 60 * S;

function noise(i: number, seed: number): number {
  const x = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

/** n measured-looking readings every stepMs from `start`. */
function series(n: number, base: number, seed: number, stepMs = S, start = T0): SeriesPoint[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: start + i * stepMs,
    value: Math.round((base + Math.sin(i / 40) + noise(i, seed)) * 10) / 10,
  }));
}

function data(
  series: Record<string, SeriesPoint[]>,
  events: GradingEvent[] = [],
  commands: GradingCommand[] = [],
): GradingData {
  return { series, events, commands };
}

function criterion(id: string, type: Criterion['type'], params: object, weight = 10): Criterion {
  return { id, title: id, weight, partialCredit: true, type, params } as Criterion;
}

/** Length (ms) of the overlap of two spans. */
const overlap = (a: EvidenceSpan, b: EvidenceSpan) => Math.min(a.to, b.to) - Math.max(a.from, b.from);

/** Whether the failing spans together cover [from, to]. */
function covered(spans: readonly EvidenceSpan[], from: number, to: number): boolean {
  let at = from;
  for (const span of [...spans].filter((s) => !s.ok).sort((a, b) => a.from - b.from)) {
    if (span.from > at) break;
    at = Math.max(at, span.to);
  }
  return at >= to;
}

/** What a reviewer relies on: a failed criterion shows failing spans; green never covers red. */
function expectHonestSpans(result: CriterionResult) {
  const failing = result.evidence.spans.filter((s) => !s.ok);
  const passing = result.evidence.spans.filter((s) => s.ok);
  if (!result.passed) expect(failing.length, `${result.id} failed without a failing span`).toBeGreaterThan(0);
  for (const good of passing) {
    for (const bad of failing) {
      expect(overlap(good, bad), `${result.id}: a passing span covers a failing one`).toBeLessThanOrEqual(0);
    }
  }
}

/** The demo's "温湿度采集与上报": a reading at least every 5 s for 10 minutes. */
const SAMPLING = criterion('sampling', 'sampling', {
  sensor: 'temperature',
  maxIntervalSeconds: 5,
  minMinutes: 10,
});

describe('evidence spans', () => {
  it('a sampling criterion failed for lasting 5.5 of 10 minutes is not shaded green', () => {
    // 167 readings every 2 s (0.5 Hz): the rate held, but for 5.5 minutes only; the attempt ran 10.
    const d = data({ temperature: series(167, 22, 1, 2 * S) });
    for (const window of [
      { from: T0, to: T0 + 10 * MIN },
      { from: T0, to: T0 + 334 * S },
    ] as TimeWindow[]) {
      const r = gradeAttempt({ criteria: [SAMPLING] }, window, d).criteria[0] as CriterionResult;
      expect(r.passed).toBe(false);
      expect(r.evidence.measured.longestStretchMinutes).toBeCloseTo(5.57, 2);
      expect(r.evidence.spans.filter((s) => s.ok)).toEqual([]);
      expect(covered(r.evidence.spans, window.from, window.to)).toBe(true);
      expectHonestSpans(r);
    }
  });

  it("the simulator's slow-sampling fault: failing spans cover where the rate did not hold, passing ones never do", () => {
    const scenario = loadScenario('faults');
    const spec = scenario.kits.find((kit) => kit.id === 'f-slow-sampling');
    if (!spec) throw new Error('faults.json has no f-slow-sampling');
    const [fault] = spec.faults;
    const model = createKitModel({ ...spec, faults: [{ ...fault, at: 150, duration: 300 } as FaultSpec] });
    const temperature: SeriesPoint[] = [];
    for (let now = T0; now < T0 + 10 * MIN; now += model.transport(now).intervalMs) {
      const value = model.sample(now).temperature;
      if (typeof value === 'number') temperature.push({ ts: now, value });
    }
    const window = { from: T0, to: T0 + 10 * MIN };
    // One message every 2 s from 150 s to 450 s: at 1 Hz for 2 minutes at most would pass.
    const rate = (minMinutes: number) =>
      gradeAttempt(
        { criteria: [criterion('rate', 'sampling', { sensor: 'temperature', minHz: 1, minMinutes })] },
        window,
        data({ temperature }),
      ).criteria[0] as CriterionResult;
    const failed = rate(5);
    expect(failed.passed).toBe(false);
    expect(covered(failed.evidence.spans, T0 + 151 * S, T0 + 449 * S)).toBe(true);
    expect(failed.evidence.spans.filter((s) => s.ok)).toEqual([]);
    expectHonestSpans(failed);
    const passed = rate(2);
    expect(passed.passed).toBe(true);
    expect(covered(passed.evidence.spans, T0 + 151 * S, T0 + 449 * S)).toBe(true);
    expect(passed.evidence.spans.filter((s) => s.ok).map((s) => [s.from - T0, s.to - T0])).toEqual([
      [0, 150_500],
      [450_000, 600_000],
    ]);
    expectHonestSpans(passed);
  });

  it('every criterion type: failed ones have failing spans, passing spans never cover failing ones', () => {
    // A minute's drop, an excursion, a crossing answered late, a fan without effect, too few events.
    const temperature = series(600, 25, 2).filter((p) => p.ts < T0 + 200 * S || p.ts >= T0 + 260 * S);
    const hot = temperature.map((p) => ({
      ts: p.ts,
      value: p.ts >= T0 + 300 * S && p.ts < T0 + 330 * S ? 33 : p.value,
    }));
    const fan = hot.map((p) => ({ ts: p.ts, value: p.ts >= T0 + 320 * S && p.ts < T0 + 400 * S ? 1 : 0 }));
    const d = data({ temperature: hot, fan }, [{ ts: T0 + 100 * S, event: 'button' }]);
    const rubric: Rubric = {
      criteria: [
        criterion('rate', 'sampling', { sensor: 'temperature', minHz: 1, minMinutes: 5 }),
        criterion('gaps', 'completeness', { sensor: 'temperature', maxGapSeconds: 10, minPercent: 95 }),
        criterion('range', 'range', { sensor: 'temperature', min: 20, max: 30, minPercent: 99 }),
        criterion('tolerance', 'tolerance', {
          sensor: 'temperature',
          reference: 25,
          epsilon: 2,
          minPercent: 99,
        }),
        criterion('stable', 'stability', { sensor: 'temperature', maxStdDev: 0.5 }),
        criterion('alarm', 'threshold_response', {
          sensor: 'temperature',
          above: 30,
          respondWith: { actuator: 'fan' },
          withinSeconds: 10,
        }),
        criterion('never', 'threshold_response', {
          sensor: 'temperature',
          above: 50,
          respondWith: { event: 'alarm' },
          withinSeconds: 10,
        }),
        criterion('cools', 'actuator_effect', {
          actuator: 'fan',
          sensor: 'temperature',
          minChange: -20,
          withinSeconds: 30,
        }),
        criterion('pump', 'actuator_effect', {
          actuator: 'pump',
          sensor: 'temperature',
          minChange: -1,
          withinSeconds: 30,
        }),
        criterion('button', 'events', { event: 'button', minCount: 3 }),
        criterion('empty', 'range', { sensor: 'humidity', min: 0, max: 100, minPercent: 90 }),
      ],
    };
    const g = gradeAttempt(rubric, { from: T0, to: T0 + 10 * MIN }, d);
    expect(g.criteria.filter((c) => !c.passed).map((c) => c.id)).toEqual([
      'gaps',
      'range',
      'tolerance',
      'stable',
      'alarm',
      'never',
      'cools',
      'pump',
      'button',
      'empty',
    ]);
    for (const c of g.criteria) expectHonestSpans(c);
    // The drop is a failing span of completeness, and the covered time around it passes.
    const gaps = g.criteria.find((c) => c.id === 'gaps') as CriterionResult;
    expect(gaps.evidence.spans.map((s) => [s.from - T0, s.to - T0, s.ok])).toEqual([
      [0, 199_000, true],
      [199_000, 260_000, false],
      [260_000, 600_000, true],
    ]);
  });
});

describe('evidence summaries and sentences', () => {
  it('say the numbers measured in sentences with units, in both languages', () => {
    const d = data({ temperature: series(167, 22, 1, 2 * S) });
    const r = gradeAttempt({ criteria: [SAMPLING] }, { from: T0, to: T0 + 10 * MIN }, d)
      .criteria[0] as CriterionResult;
    expect(r.evidence.summary).toEqual({
      'zh-CN': '共 167 个温度读数，采样频率 0.5 Hz，最长连续达标 5.5 分钟（要求 10 分钟）',
      en: '167 temperature readings at 0.5 Hz; longest stretch meeting the rate 5.5 min of the 10 required',
    });
    // The machines' numbers stay.
    expect(r.evidence.measured).toMatchObject({ readings: 167, rateHz: 0.5, requiredMinutes: 10 });
  });

  it('every criterion has a summary; sentences name sensors by their label, spaced, in both languages', () => {
    const temperature = series(600, 25, 3);
    const fan = temperature.map((p) => ({ ts: p.ts, value: 0 }));
    const smooth = temperature.map((p) => ({ ts: p.ts, value: p.value - 0.1 }));
    const d = data({ temperature, fan, temperature_smooth: smooth, co2_ext: series(600, 400, 4) });
    const rubric: Rubric = {
      criteria: [
        SAMPLING,
        criterion('gaps', 'completeness', { sensor: 'temperature', maxGapSeconds: 10, minPercent: 95 }),
        criterion('smooth', 'range', { sensor: 'temperature_smooth', min: 20, max: 30, minPercent: 95 }),
        criterion('tolerance', 'tolerance', {
          sensor: 'temperature',
          reference: 25,
          epsilon: 2,
          minPercent: 90,
        }),
        criterion('stable', 'stability', { sensor: 'temperature', maxStdDev: 2, maxDriftPerMinute: 1 }),
        criterion('alarm', 'threshold_response', {
          sensor: 'temperature',
          above: 25.5,
          respondWith: { actuator: 'fan' },
          withinSeconds: 10,
        }),
        criterion('cools', 'actuator_effect', {
          actuator: 'fan',
          sensor: 'temperature',
          minChange: -1,
          withinSeconds: 30,
        }),
        criterion('button', 'events', { event: 'button', minCount: 1 }),
        criterion('other', 'range', { sensor: 'co2_ext', min: 300, max: 500, minPercent: 90 }),
        { id: 'real', title: 'real', weight: 10, partialCredit: false, type: 'authenticity' } as Criterion,
      ],
    };
    const g = gradeAttempt(rubric, { from: T0, to: T0 + 10 * MIN }, d);
    const cjkNextToLatin = /[\u3400-\u9fff][A-Za-z0-9]|[A-Za-z0-9][\u3400-\u9fff]/;
    for (const c of g.criteria) {
      const summary = c.evidence.summary;
      expect(summary?.en, c.id).toMatch(/\w/);
      expect(summary?.['zh-CN'], c.id).toMatch(/[\u4e00-\u9fff]/);
      for (const text of [summary?.['zh-CN'] ?? '', c.explanation['zh-CN']]) {
        expect(text, c.id).not.toMatch(cjkNextToLatin);
        // Not the sensor's code name where it has a Chinese label.
        expect(text, c.id).not.toMatch(/temperature|\bfan\b/);
        // Not "key = value" debug output.
        expect(text, c.id).not.toMatch(/\w+ = /);
      }
      expect(summary?.en, c.id).not.toMatch(/\w+ = |\(s\)/);
      expect(c.explanation.en, c.id).not.toMatch(/\(s\)|\(es\)/);
    }
    const byId = Object.fromEntries(g.criteria.map((c) => [c.id, c]));
    // "实验期间从未fan 开启" reads "实验期间风扇从未开启".
    expect(byId.cools?.explanation).toEqual({
      'zh-CN': '实验期间风扇从未开启，无法检查它对温度的影响。',
      en: 'This never happened: the fan never turned on during the attempt, so its effect on temperature could not be checked.',
    });
    // A flow-made sensor is named from its base sensor, in its unit.
    expect(byId.smooth?.explanation['zh-CN']).toMatch(
      /^600 个温度（平滑）读数中有 100 % 在 20 到 30 °C 范围内/,
    );
    expect(byId.smooth?.explanation.en).toMatch(
      /of the 600 temperature \(smoothed\) readings were between 20 and 30 °C/,
    );
    // A sensor without a label keeps its name, spaced from Chinese.
    expect(byId.other?.evidence.summary?.['zh-CN']).toMatch(/^共 600 个 co2_ext 读数/);
    expect(byId.stable?.evidence.summary?.['zh-CN']).toMatch(
      /漂移 -?[\d.]+ °C\/分钟（允许 \|漂移\| ≤ 1 °C\/分钟）/,
    );
    expect(byId.alarm?.explanation['zh-CN']).toMatch(
      /^温度 \d+ 次高于 25.5 °C，但只有 0 次在 10 秒内出现风扇开启/,
    );
  });

  it('labels and units come from protocol/sensors.ts, and the dashboards use the same words', () => {
    expect(sensorLabel('temperature_smooth')).toEqual({
      'zh-CN': '温度（平滑）',
      en: 'temperature (smoothed)',
    });
    expect(sensorUnit('temperature_smooth')).toBe('°C');
    expect(sensorLabel('humidity_avg')).toEqual({ 'zh-CN': '湿度（平均）', en: 'humidity (mean)' });
    expect(sensorLabel('my_sensor')).toEqual({ 'zh-CN': 'my_sensor', en: 'my_sensor' });
    expect(sensorUnit('my_sensor')).toBeUndefined();
    expect(sensorStates('fan')).toEqual({
      on: { en: 'on', 'zh-CN': '开' },
      off: { en: 'off', 'zh-CN': '关' },
    });
  });
});
