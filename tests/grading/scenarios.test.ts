/**
 * The firmware simulator's fault scenario as grading fixtures, in memory: 10 minutes of a correct
 * greenhouse kit (f-ok of faults.json) and of its faulty siblings, their fault windows stretched
 * over the attempt. A correct kit gets full marks; each fault fails exactly the criterion it
 * should and nothing else.
 */
import { describe, expect, it } from 'vitest';
import {
  createKitModel,
  type FaultSpec,
  type KitModel,
  loadScenario,
  type SimKitSpec,
} from '../../firmware-sim/index.ts';
import {
  type GradeOptions,
  type GradeResult,
  type GradingCommand,
  type GradingData,
  type GradingEvent,
  gradeAttempt,
  type Rubric,
  rubricProblems,
  type SeriesPoint,
} from '../../grading/index.ts';

/** 10:00 in the lab (China Standard Time): the greenhouse is in daylight. */
const T0 = Date.UTC(2025, 3, 15, 2, 0, 0);
const DURATION_MS = 10 * 60_000;
const WINDOW = { from: T0, to: T0 + DURATION_MS };

const scenario = loadScenario('faults');
function kitSpec(id: string, faults?: FaultSpec[]): SimKitSpec {
  const spec = scenario.kits.find((kit) => kit.id === id);
  if (!spec) throw new Error(`faults.json has no kit ${id}`);
  return { ...spec, faults: faults ?? spec.faults };
}
/** The kit's own fault from faults.json, moved to another window. */
function stretched(id: string, window: Partial<FaultSpec>): FaultSpec[] {
  const [fault] = kitSpec(id).faults;
  if (!fault) throw new Error(`${id} has no fault`);
  const moved: FaultSpec = { ...fault, ...window };
  if (window.duration === undefined) delete moved.duration;
  return [moved];
}

/**
 * What the platform would store for the kit over the attempt, sampled as the ESP32 transport does:
 * readings plus actuator states every `transport().intervalMs`, nothing while Wi-Fi is down;
 * `commands` are sent at their second.
 */
function record(
  model: KitModel,
  commands: { at: number; command: string; value?: string }[] = [],
): GradingData {
  const series: Record<string, SeriesPoint[]> = {};
  const events: GradingEvent[] = [];
  const sent: GradingCommand[] = [];
  const pending = [...commands];
  for (let now = T0; now < T0 + DURATION_MS; ) {
    while (pending[0] && T0 + pending[0].at * 1000 <= now) {
      const command = pending.shift() as { at: number; command: string; value?: string };
      model.command({ command: command.command, value: command.value });
      sent.push({ ts: now, command: command.command, value: command.value });
    }
    const transport = model.transport(now);
    const readings = { ...model.sample(now), ...model.actuators() };
    const raised = model.events(now);
    if (transport.connected) {
      for (const [sensor, value] of Object.entries(readings)) {
        if (value === null) continue;
        series[sensor] ??= [];
        series[sensor].push({ ts: now, value });
      }
      for (const event of raised) events.push({ ts: now, ...event });
    }
    now += transport.intervalMs;
  }
  return { series, events, commands: sent };
}

const GREENHOUSE_TASK = {
  requiredSensors: ['temperature', 'humidity', 'light', 'soil_moisture'],
  requiredActuators: ['fan', 'pump'],
};

/**
 * Parameters from the simulated physics (physics.ts): a kit sends every 500 ms (2 Hz); soil
 * moisture lives in 35–60 %, daylight in a greenhouse is thousands of lux (25–35 klx at noon,
 * clouds take up to 80 % off), the air 21–30 °C with slow drift (σ ≈ 1 °C over 10 min at most,
 * drift < 0.5 °C/min). A fabricated "pattern" swings ±3 °C (σ 2.1): stability is not its judge.
 */
const greenhouseRubric: Rubric = {
  criteria: [
    {
      id: 'sampling',
      title: { en: 'Temperature at 1 Hz for 5 min', 'zh-CN': '温度以 1 Hz 采样 5 分钟' },
      weight: 15,
      partialCredit: true,
      type: 'sampling',
      params: { sensor: 'temperature', minHz: 1, minMinutes: 5 },
    },
    {
      id: 'completeness',
      title: 'No gaps',
      weight: 15,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'temperature', maxGapSeconds: 10, minPercent: 95 },
    },
    {
      id: 'soil_range',
      title: 'Soil moisture is plausible',
      weight: 15,
      partialCredit: true,
      type: 'range',
      params: { sensor: 'soil_moisture', min: 20, max: 80, minPercent: 95 },
    },
    {
      id: 'light_range',
      title: 'Daylight is plausible',
      weight: 15,
      partialCredit: true,
      type: 'range',
      params: { sensor: 'light', min: 100, max: 100_000, minPercent: 95 },
    },
    {
      id: 'stability',
      title: 'Temperature steady',
      weight: 20,
      partialCredit: true,
      type: 'stability',
      params: { sensor: 'temperature', maxStdDev: 2.5, maxDriftPerMinute: 0.5 },
    },
    {
      id: 'authenticity',
      title: 'Measured data',
      weight: 20,
      partialCredit: false,
      type: 'authenticity',
    },
  ],
};

function grade(data: GradingData, options: GradeOptions = {}, rubric = greenhouseRubric): GradeResult {
  return gradeAttempt(rubric, WINDOW, data, options);
}
const failedIds = (g: GradeResult) => g.criteria.filter((c) => !c.passed).map((c) => c.id);

describe('grading the simulated fault scenario', () => {
  it('the rubrics are valid for their tasks', () => {
    expect(rubricProblems(greenhouseRubric, GREENHOUSE_TASK, { requireCriteria: true })).toEqual([]);
    expect(rubricProblems(airQualityRubric, AIR_QUALITY_TASK, { requireCriteria: true })).toEqual([]);
    expect(rubricProblems(fanRubric, GREENHOUSE_TASK)).toEqual([]);
  });

  it('a correct kit gets full marks, with no flag (also next to an independent kit)', () => {
    const ok = record(createKitModel(kitSpec('f-ok')));
    const other = record(createKitModel(kitSpec('f-noise', [])));
    const g = grade(ok, { peers: { 'f-noise': other.series } });
    expect(failedIds(g)).toEqual([]);
    expect(g.total).toBe(100);
    expect(g.maxTotal).toBe(100);
    expect(g.flags).toEqual([]);
    for (const c of g.criteria) {
      expect(c.score).toBe(c.weight);
      expect(c.explanation.en).not.toBe('');
      expect(c.explanation['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
    }
    expect(g.criteria.find((c) => c.id === 'sampling')?.evidence.measured.rateHz).toBe(2);
  });

  it('swapped wires (light ↔ soil moisture for 4 min) fail the range criteria only', () => {
    const model = createKitModel(kitSpec('f-swapped', stretched('f-swapped', { at: 180, duration: 240 })));
    const g = grade(record(model));
    expect(failedIds(g)).toEqual(['soil_range', 'light_range']);
    expect(g.flags).toEqual([]);
    const soil = g.criteria.find((c) => c.id === 'soil_range');
    expect(soil?.evidence.measured.percentInRange).toBe(60);
    expect(soil?.evidence.spans.filter((s) => !s.ok)).toEqual([
      expect.objectContaining({ from: T0 + 180_000, to: T0 + 420_000 }),
    ]);
    expect(soil?.score).toBeGreaterThan(0);
    expect(soil?.score).toBeLessThan(15);
  });

  it('a Wi-Fi drop of a minute fails completeness only', () => {
    const model = createKitModel(kitSpec('f-wifi-drop', stretched('f-wifi-drop', { at: 200, duration: 60 })));
    const g = grade(record(model));
    expect(failedIds(g)).toEqual(['completeness']);
    expect(g.flags).toEqual([]);
    const completeness = g.criteria.find((c) => c.id === 'completeness');
    expect(completeness?.evidence.measured.longestGapSeconds).toBeCloseTo(60.5, 6);
    expect(completeness?.evidence.measured.coveragePercent).toBeLessThan(95);
    expect(completeness?.explanation.en).toMatch(/covered only 89\.\d+ %/);
  });

  it('slow sampling (one message every 2 s from 2.5 min on) fails sampling only', () => {
    const model = createKitModel(kitSpec('f-slow-sampling', stretched('f-slow-sampling', { at: 150 })));
    const g = grade(record(model));
    expect(failedIds(g)).toEqual(['sampling']);
    expect(g.flags).toEqual([]);
    const sampling = g.criteria.find((c) => c.id === 'sampling');
    expect(sampling?.evidence.measured.longestStretchMinutes).toBeCloseTo(2.5, 1);
    // 2.5 min at the rate (to the last fast reading, at 150 s, plus its 0.5 s interval: too short
    // for the 5 min required), then too slow to the end of the attempt: all failing.
    expect(sampling?.evidence.spans.map((s) => [s.from - T0, s.to - T0, s.ok])).toEqual([
      [0, 150_500, false],
      [150_500, 600_000, false],
    ]);
    expect(sampling?.evidence.summary?.['zh-CN']).toBe(
      '共 525 个温度读数，采样频率 0.876 Hz，最长连续达标 2.5 分钟（要求 5 分钟）；有 224 个间隔超过 1.1 秒（最长 2 秒）',
    );
  });

  it('constant data fails authenticity only, flagged for every sensor', () => {
    const model = createKitModel(kitSpec('f-constant', stretched('f-constant', { at: 0 })));
    const g = grade(record(model));
    expect(failedIds(g)).toEqual(['authenticity']);
    expect(g.flags.map((f) => f.kind)).toEqual(['constant', 'constant', 'constant', 'constant']);
    expect(g.total).toBe(80);
  });

  it('a noiseless pattern fails authenticity only', () => {
    const model = createKitModel(kitSpec('f-pattern', stretched('f-pattern', { at: 0 })));
    const g = grade(record(model));
    expect(failedIds(g)).toEqual(['authenticity']);
    expect(new Set(g.flags.map((f) => f.kind))).toEqual(new Set(['pattern']));
    expect(g.flags.find((f) => f.sensor === 'temperature')?.evidence.measured.periodSeconds).toBe(20);
  });

  it('replayed data (4 min resent from 30 s on) fails authenticity only', () => {
    const model = createKitModel(
      kitSpec('f-replay', stretched('f-replay', { at: 300, duration: 240, replayFromSeconds: 30 })),
    );
    const g = grade(record(model));
    expect(failedIds(g)).toEqual(['authenticity']);
    expect(g.flags.map((f) => [f.kind, f.sensor])).toEqual([
      ['replay', 'humidity'],
      ['replay', 'light'],
      ['replay', 'soil_moisture'],
      ['replay', 'temperature'],
    ]);
    const light = g.flags.find((f) => f.sensor === 'light');
    expect(light?.evidence.measured.lagSeconds).toBe(270);
    expect(light?.evidence.spans[0]).toMatchObject({ from: T0 + 300_000, ok: false });
  });

  it('a replay of an earlier attempt of the same kit is flagged against `previous`', () => {
    const earlier = record(createKitModel(kitSpec('f-ok')));
    // The same kit a day later, sending what it recorded the day before.
    const DAY = 86_400_000;
    const replayed: GradingData = {
      series: Object.fromEntries(
        Object.entries(earlier.series).map(([s, pts]) => [
          s,
          pts.map((p) => ({ ts: p.ts + DAY, value: p.value })),
        ]),
      ),
      events: [],
      commands: [],
    };
    const g = gradeAttempt(greenhouseRubric, { from: T0 + DAY, to: T0 + DAY + DURATION_MS }, replayed, {
      previous: earlier,
    });
    expect(failedIds(g)).toEqual(['authenticity']);
    expect(g.flags.every((f) => f.kind === 'replay' && f.source === 'previous')).toBe(true);
  });

  it("a copy of another kit's stream fails authenticity only, naming the kit", () => {
    const source = createKitModel(kitSpec('f-ok'));
    const clone = createKitModel(kitSpec('f-clone', stretched('f-clone', { at: 0 })), (id) =>
      id === 'f-ok' ? source : undefined,
    );
    const copied = record(clone);
    const original = record(createKitModel(kitSpec('f-ok')));
    const g = grade(copied, { peers: { 'f-ok': original.series } });
    expect(failedIds(g)).toEqual(['authenticity']);
    expect(g.flags.map((f) => [f.kind, f.source])).toEqual(
      Array(4).fill(['copy', 'f-ok']) as [string, string][],
    );
    expect(g.flags[0]?.evidence.measured.identicalPercent).toBe(100);
  });
});

const AIR_QUALITY_TASK = {
  requiredSensors: ['gas', 'temperature', 'humidity'],
  requiredActuators: ['fan', 'buzzer'],
};

/** The MQ-2 reads 120–300 ppm at rest; leaks go to 600–2000 ppm; the firmware alarms above 400. */
const airQualityRubric: Rubric = {
  criteria: [
    {
      id: 'sampling',
      title: 'Gas at 1 Hz',
      weight: 20,
      partialCredit: true,
      type: 'sampling',
      params: { sensor: 'gas', minHz: 1, minMinutes: 5 },
    },
    {
      id: 'completeness',
      title: 'No gaps',
      weight: 20,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'gas', maxGapSeconds: 10, minPercent: 95 },
    },
    {
      id: 'buzzer',
      title: 'Buzzer above 400 ppm',
      weight: 20,
      partialCredit: true,
      type: 'threshold_response',
      params: { sensor: 'gas', above: 400, respondWith: { actuator: 'buzzer' }, withinSeconds: 5 },
    },
    {
      id: 'alarm_event',
      title: 'Alarm event above 400 ppm',
      weight: 20,
      partialCredit: false,
      type: 'threshold_response',
      params: { sensor: 'gas', above: 400, respondWith: { event: 'alarm' }, withinSeconds: 5 },
    },
    { id: 'authenticity', title: 'Measured data', weight: 20, partialCredit: false, type: 'authenticity' },
  ],
};

describe('grading the alarm of the air-quality kit', () => {
  it('a correct air-quality kit answers every gas leak', () => {
    const g = gradeAttempt(airQualityRubric, WINDOW, record(createKitModel(kitSpec('f-no-alarm', []))));
    expect(failedIds(g)).toEqual([]);
    expect(g.total).toBe(100);
    const buzzer = g.criteria.find((c) => c.id === 'buzzer');
    expect(buzzer?.evidence.measured.crossings).toBeGreaterThanOrEqual(2);
    expect(buzzer?.evidence.measured.answered).toBe(buzzer?.evidence.measured.crossings);
  });

  it('no alarm (gas crosses 400 ppm, the buzzer stays 0) fails threshold response only', () => {
    const model = createKitModel(kitSpec('f-no-alarm', stretched('f-no-alarm', { at: 0 })));
    const data = record(model);
    expect(Math.max(...(data.series.gas ?? []).map((p) => p.value))).toBeGreaterThan(400);
    expect((data.series.buzzer ?? []).every((p) => p.value === 0)).toBe(true);
    const g = gradeAttempt(airQualityRubric, WINDOW, data);
    expect(failedIds(g)).toEqual(['buzzer', 'alarm_event']);
    expect(new Set(g.criteria.filter((c) => !c.passed).map((c) => c.type))).toEqual(
      new Set(['threshold_response']),
    );
    expect(g.flags).toEqual([]);
    const buzzer = g.criteria.find((c) => c.id === 'buzzer');
    expect(buzzer?.score).toBe(0);
    expect(buzzer?.evidence.spans.every((s) => !s.ok)).toBe(true);
    expect(buzzer?.explanation.en).toMatch(
      /^Gas went above 400 ppm \d+ times but the buzzer turning on followed within 5 s only 0 times/,
    );
    expect(buzzer?.explanation['zh-CN']).toMatch(
      /^可燃气体 \d+ 次高于 400 ppm，但只有 0 次在 5 秒内出现蜂鸣器开启/,
    );
  });
});

const fanRubric: Rubric = {
  criteria: [
    {
      id: 'fan_cools',
      title: 'The fan cools the greenhouse',
      weight: 50,
      partialCredit: true,
      type: 'actuator_effect',
      params: { command: 'fan', sensor: 'temperature', minChange: -2, withinSeconds: 30 },
    },
    {
      id: 'pump_cools',
      title: 'The pump does not cool',
      weight: 50,
      partialCredit: true,
      type: 'actuator_effect',
      params: { actuator: 'pump', sensor: 'temperature', minChange: -2, withinSeconds: 30 },
    },
  ],
};

describe('grading an actuator effect on the simulated greenhouse', () => {
  it('fan on: the temperature falls ≥ 2 °C within 30 s; pump on: it does not', () => {
    const data = record(createKitModel(kitSpec('f-ok')), [
      { at: 240, command: 'fan', value: 'on' },
      { at: 360, command: 'fan', value: 'off' },
      { at: 420, command: 'pump', value: 'on' },
    ]);
    const g = gradeAttempt(fanRubric, WINDOW, data);
    const fan = g.criteria.find((c) => c.id === 'fan_cools');
    expect(fan?.passed).toBe(true);
    expect(fan?.evidence.measured.triggers).toBe(1);
    expect(fan?.evidence.measured.meanChange).toBeLessThan(-2);
    const pump = g.criteria.find((c) => c.id === 'pump_cools');
    expect(pump?.passed).toBe(false);
    expect(pump?.evidence.measured.triggers).toBe(1);
    expect(pump?.score).toBeLessThan(50);
  });
});
