/**
 * Each criterion on synthetic series: the normal case, exactly-at-threshold cases, empty windows
 * and single readings, partial credit, and the evidence (numbers and spans) it reports.
 */
import { describe, expect, it } from 'vitest';
import {
  type Criterion,
  type CriterionResult,
  type GradingCommand,
  type GradingData,
  type GradingEvent,
  gradeAttempt,
  type SeriesPoint,
  type TimeWindow,
} from '../../grading/index.ts';

const T0 = Date.UTC(2025, 3, 15, 2, 0, 0);
const S = 1000;
const MIN = 60_000;
const WINDOW: TimeWindow = { from: T0, to: T0 + 10 * MIN };

/** Readings `values[i]` at T0 + i × stepMs. */
function points(values: readonly number[], stepMs = S, start = T0): SeriesPoint[] {
  return values.map((value, i) => ({ ts: start + i * stepMs, value }));
}

/** n readings of f(i) every stepMs. */
function build(n: number, f: (i: number) => number, stepMs = S, start = T0): SeriesPoint[] {
  return Array.from({ length: n }, (_, i) => ({ ts: start + i * stepMs, value: f(i) }));
}

/** Seeded noise in [-1, 1) (mulberry32). */
function noise(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** A measured-looking series: a slow wave, noise, rounded to 0.1. */
function measured(n: number, seed: number, stepMs = S, start = T0): SeriesPoint[] {
  const r = noise(seed);
  return build(n, (i) => Math.round((22 + Math.sin(i / 170) + 0.3 * r()) * 10) / 10, stepMs, start);
}

function data(
  series: Record<string, SeriesPoint[]>,
  events: GradingEvent[] = [],
  commands: GradingCommand[] = [],
): GradingData {
  return { series, events, commands };
}

function criterion(type: Criterion['type'], params: object, partialCredit = true, weight = 20): Criterion {
  return { id: `c_${type}`, title: type, weight, partialCredit, type, params } as Criterion;
}

function grade1(c: Criterion, d: GradingData, window: TimeWindow = WINDOW): CriterionResult {
  const result = gradeAttempt({ criteria: [c] }, window, d).criteria[0];
  if (!result) throw new Error('no result');
  return result;
}

function expectBilingual(r: CriterionResult) {
  expect(r.explanation.en.length).toBeGreaterThan(10);
  expect(r.explanation['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
}

describe('sampling', () => {
  const c = (params: object, partial = true) =>
    criterion('sampling', { sensor: 'temperature', ...params }, partial);

  it('passes a steady 1 Hz stream for the whole window', () => {
    const r = grade1(c({ minHz: 1, minMinutes: 5 }), data({ temperature: measured(600, 1) }));
    expect(r.passed).toBe(true);
    expect(r.score).toBe(20);
    expect(r.evidence.measured.rateHz).toBe(1);
    expect(r.evidence.measured.longestStretchMinutes).toBe(10);
    expect(r.explanation.en).toContain('10 min');
    expectBilingual(r);
  });

  it('300 readings at 1 Hz are exactly 5 minutes; 299 are not (partial credit)', () => {
    const exact = grade1(c({ minHz: 1, minMinutes: 5 }), data({ temperature: measured(300, 1) }));
    expect(exact.passed).toBe(true);
    expect(exact.evidence.measured.longestStretchMinutes).toBe(5);
    const short = grade1(c({ minHz: 1, minMinutes: 5 }), data({ temperature: measured(299, 1) }));
    expect(short.passed).toBe(false);
    expect(short.score).toBeCloseTo(20 * (299 / 300), 1);
    expect(short.score).toBeLessThan(20);
  });

  it('maxIntervalSeconds: an interval exactly at the limit is fine, a ms more breaks the stretch', () => {
    const at = grade1(
      c({ maxIntervalSeconds: 2, minMinutes: 5 }),
      data({ temperature: measured(300, 2, 2000) }),
    );
    expect(at.passed).toBe(true);
    const over = grade1(
      c({ maxIntervalSeconds: 2, minMinutes: 5 }),
      data({ temperature: measured(300, 2, 2001) }),
    );
    expect(over.passed).toBe(false);
    expect(over.evidence.measured.slowIntervals).toBe(299);
    expect(over.evidence.measured.longestStretchMinutes).toBe(0);
  });

  it('minHz allows 10 % of clock jitter but not a slower kit', () => {
    const jitter = grade1(c({ minHz: 1, minMinutes: 5 }), data({ temperature: measured(400, 3, 1100) }));
    expect(jitter.passed).toBe(true);
    const slow = grade1(c({ minHz: 1, minMinutes: 5 }), data({ temperature: measured(400, 3, 1200) }));
    expect(slow.passed).toBe(false);
    expect(slow.evidence.measured.rateHz).toBeCloseTo(1 / 1.2, 6);
  });

  it('takes the longest stretch and reports the pause as a failed span; stretches too short fail too', () => {
    const pts = measured(600, 4).filter((p) => p.ts < T0 + 200 * S || p.ts >= T0 + 230 * S);
    const r = grade1(c({ minHz: 1, minMinutes: 6.5 }), data({ temperature: pts }));
    expect(r.evidence.measured.longestStretchMinutes).toBeCloseTo(370 / 60, 6);
    expect(r.passed).toBe(false);
    // 200 s at the rate, the pause (from where the stretch ended), 370 s at the rate: none is 6.5 min.
    const spans = (x: CriterionResult) => x.evidence.spans.map((s) => [s.from - T0, s.to - T0, s.ok]);
    expect(spans(r)).toEqual([
      [0, 200 * S, false],
      [200 * S, 230 * S, false],
      [230 * S, 600 * S, false],
    ]);
    expect(r.evidence.spans[1]?.note).toContain('too slow');
    expect(r.evidence.spans[2]?.note).toContain('only 6.1 min');
    // With 6 minutes required, the second stretch passes.
    expect(spans(grade1(c({ minHz: 1, minMinutes: 6 }), data({ temperature: pts })))).toEqual([
      [0, 200 * S, false],
      [200 * S, 230 * S, false],
      [230 * S, 600 * S, true],
    ]);
  });

  it('an empty window and a single reading fail, with 0 points', () => {
    const empty = grade1(c({ minHz: 1, minMinutes: 1 }), data({}));
    expect(empty).toMatchObject({ passed: false, score: 0 });
    expect(empty.explanation.en).toContain('no readings');
    expectBilingual(empty);
    const one = grade1(c({ minHz: 1, minMinutes: 1 }), data({ temperature: measured(1, 1) }));
    expect(one).toMatchObject({ passed: false, score: 0 });
    expect(one.evidence.measured.longestStretchMinutes).toBe(0);
  });

  it('without partial credit a shortfall scores 0', () => {
    const r = grade1(c({ minHz: 1, minMinutes: 5 }, false), data({ temperature: measured(290, 1) }));
    expect(r).toMatchObject({ passed: false, score: 0 });
  });
});

describe('completeness', () => {
  const c = (params: object, partial = true) =>
    criterion('completeness', { sensor: 'temperature', ...params }, partial);

  it('full coverage without gaps', () => {
    const r = grade1(c({ maxGapSeconds: 10, minPercent: 95 }), data({ temperature: measured(600, 1) }));
    expect(r.passed).toBe(true);
    expect(r.evidence.measured.coveragePercent).toBe(100);
    expect(r.evidence.measured.gapsOverLimit).toBe(0);
    expect(r.evidence.measured.medianIntervalSeconds).toBe(1);
    expect(r.evidence.measured.expectedReadings).toBe(600);
    expectBilingual(r);
  });

  it('a 1-minute drop: the gap is a failed span, coverage drops below 95 % (partial credit)', () => {
    const pts = measured(600, 1).filter((p) => p.ts < T0 + 200 * S || p.ts >= T0 + 260 * S);
    const r = grade1(c({ maxGapSeconds: 10, minPercent: 95 }), data({ temperature: pts }));
    expect(r.passed).toBe(false);
    expect(r.evidence.measured.longestGapSeconds).toBe(61);
    expect(r.evidence.measured.missingSeconds).toBe(61);
    expect(r.evidence.measured.coveragePercent).toBeCloseTo((100 * (600 - 61)) / 600, 6);
    expect(r.score).toBeCloseTo((20 * ((600 - 61) / 600) * 100) / 95, 1);
    // The gap fails; the time covered before and after it passes.
    const note = 'readings with no gap over 10 s';
    expect(r.evidence.spans).toEqual([
      { from: T0, to: T0 + 199 * S, ok: true, note },
      { from: T0 + 199 * S, to: T0 + 260 * S, ok: false, note: 'no reading for 61 s' },
      { from: T0 + 260 * S, to: WINDOW.to, ok: true, note },
    ]);
    expect(r.explanation.en).toContain('89.83 %');
  });

  it('a gap exactly maxGapSeconds long is not missing data', () => {
    const pts = measured(600, 1).filter((p) => p.ts <= T0 + 100 * S || p.ts >= T0 + 110 * S);
    const r = grade1(c({ maxGapSeconds: 10, minPercent: 100 }), data({ temperature: pts }));
    expect(r.passed).toBe(true);
    expect(r.evidence.measured.longestGapSeconds).toBe(10);
  });

  it('the window edges count: a late start is a gap; coverage exactly at minPercent passes', () => {
    const window = { from: T0, to: T0 + 100 * S };
    const late = grade1(
      c({ maxGapSeconds: 10, minPercent: 80 }),
      data({ temperature: measured(70, 1, S, T0 + 30 * S) }),
      window,
    );
    expect(late.evidence.spans[0]).toMatchObject({ from: T0, to: T0 + 30 * S, ok: false });
    expect(late.evidence.measured.coveragePercent).toBe(70);
    expect(late.passed).toBe(false);
    // readings 0..89 s: the trailing gap 89 → 100 s is 11 s > 10 s: coverage 89 % exactly.
    const exact = grade1(
      c({ maxGapSeconds: 10, minPercent: 89 }),
      data({ temperature: measured(90, 1) }),
      window,
    );
    expect(exact.evidence.measured.coveragePercent).toBeCloseTo(89, 9);
    expect(exact.passed).toBe(true);
  });

  it('slow but regular sampling is complete (sampling judges the rate)', () => {
    const r = grade1(c({ maxGapSeconds: 10, minPercent: 95 }), data({ temperature: measured(120, 1, 5000) }));
    expect(r.passed).toBe(true);
    expect(r.evidence.measured.readingsPercent).toBeCloseTo(100, 6);
  });

  it('no readings, an empty window, a single reading', () => {
    expect(grade1(c({ maxGapSeconds: 10, minPercent: 50 }), data({ temperature: [] }))).toMatchObject({
      passed: false,
      score: 0,
    });
    expect(
      grade1(c({ maxGapSeconds: 10, minPercent: 50 }), data({ temperature: measured(5, 1) }), {
        from: T0,
        to: T0,
      }),
    ).toMatchObject({ passed: false, score: 0 });
    const one = grade1(
      c({ maxGapSeconds: 10, minPercent: 100 }),
      data({ temperature: [{ ts: T0 + 1000, value: 20 }] }),
      { from: T0, to: T0 + 5000 },
    );
    expect(one.passed).toBe(true);
  });
});

describe('range and tolerance', () => {
  it('counts readings within [min, max], ends included; 95 % exactly passes', () => {
    const values = [...Array(17).fill(5), 2, 8, 9.5]; // 19 of 20 within [2, 8] (ends included), one 9.5
    const r = grade1(
      criterion('range', { sensor: 'temperature', min: 2, max: 8, minPercent: 95 }),
      data({ temperature: points(values) }),
    );
    expect(r.evidence.measured.percentInRange).toBe(95);
    expect(r.passed).toBe(true);
    const strict = grade1(
      criterion('range', { sensor: 'temperature', min: 2, max: 8, minPercent: 96 }),
      data({ temperature: points(values) }),
    );
    expect(strict.passed).toBe(false);
    expect(strict.score).toBeCloseTo((20 * 95) / 96, 1);
  });

  it('reports each out-of-range stretch as a failed span', () => {
    const values = [5, 5, 9, 10, 11, 5, 5, 1, 5];
    const r = grade1(
      criterion('range', { sensor: 'temperature', min: 2, max: 8, minPercent: 90 }),
      data({ temperature: points(values) }),
    );
    const failed = r.evidence.spans.filter((s) => !s.ok);
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ from: T0 + 2 * S, to: T0 + 5 * S });
    expect(failed[0]?.note).toContain('3 readings outside 2–8 °C (9…11 °C)');
    expect(r.evidence.measured).toMatchObject({ readings: 9, inRange: 5, min: 1, max: 11 });
    expect(r.explanation.en).toContain('4 were outside, in 2 stretches');
    expectBilingual(r);
  });

  it('tolerance: reference ± epsilon exactly is within, despite float noise', () => {
    const r = grade1(
      criterion('tolerance', { sensor: 'temperature', reference: 25, epsilon: 0.1, minPercent: 100 }),
      data({ temperature: points([25.1, 24.9, 25, 25.05]) }),
    );
    expect(r.passed).toBe(true);
    expect(r.evidence.measured.maxDeviation).toBeCloseTo(0.1, 9);
    const out = grade1(
      criterion('tolerance', { sensor: 'temperature', reference: 25, epsilon: 0.1, minPercent: 100 }),
      data({ temperature: points([25.1, 25.11]) }),
    );
    expect(out.passed).toBe(false);
    expect(out.evidence.measured.percentInRange).toBe(50);
  });

  it('no readings fail', () => {
    const r = grade1(criterion('range', { sensor: 'light', min: 0, max: 10, minPercent: 0 }), data({}));
    expect(r).toMatchObject({ passed: false, score: 0 });
  });
});

describe('stability', () => {
  it('standard deviation exactly at the bound passes; below it fails with partial credit', () => {
    const pts = points([-1, 0, 1]); // sample standard deviation 1
    const at = grade1(
      criterion('stability', { sensor: 'temperature', maxStdDev: 1 }),
      data({ temperature: pts }),
    );
    expect(at.passed).toBe(true);
    expect(at.evidence.measured.stdDev).toBe(1);
    const below = grade1(
      criterion('stability', { sensor: 'temperature', maxStdDev: 0.8 }),
      data({ temperature: pts }),
    );
    expect(below.passed).toBe(false);
    expect(below.score).toBe(16);
    expectBilingual(below);
  });

  it('drift by least squares, per minute, either sign', () => {
    const ramp = build(101, (i) => 20 - 0.05 * i, 6 * S); // −0.5 per minute
    const ok = grade1(
      criterion('stability', { sensor: 'temperature', maxDriftPerMinute: 0.5 }),
      data({ temperature: ramp }),
    );
    expect(ok.evidence.measured.driftPerMinute).toBeCloseTo(-0.5, 9);
    expect(ok.passed).toBe(true);
    const tight = grade1(
      criterion('stability', { sensor: 'temperature', maxDriftPerMinute: 0.4 }),
      data({ temperature: ramp }),
    );
    expect(tight.passed).toBe(false);
    expect(tight.score).toBe(16);
  });

  it('both bounds must hold', () => {
    const ramp = build(101, (i) => 20 + 0.05 * i, 6 * S);
    const r = grade1(
      criterion('stability', { sensor: 'temperature', maxStdDev: 100, maxDriftPerMinute: 0.1 }, false),
      data({ temperature: ramp }),
    );
    expect(r).toMatchObject({ passed: false, score: 0 });
    expect(r.explanation.en).toContain('too fast');
  });

  it('needs two readings', () => {
    const one = grade1(
      criterion('stability', { sensor: 'temperature', maxStdDev: 1 }),
      data({ temperature: points([20]) }),
    );
    expect(one).toMatchObject({ passed: false, score: 0 });
    expect(one.explanation.en).toContain('single reading');
    expect(grade1(criterion('stability', { sensor: 'temperature', maxStdDev: 1 }), data({}))).toMatchObject({
      passed: false,
    });
  });
});

describe('threshold_response', () => {
  /** Temperature at 25 °C, above 30 during [riseAt, fallAt) seconds (several episodes possible). */
  function temperature(episodes: [number, number][], n = 600): SeriesPoint[] {
    return build(n, (i) => (episodes.some(([a, b]) => i >= a && i < b) ? 31 : 25));
  }
  /** The fan series: on during the given seconds. */
  function fan(on: [number, number][], n = 600): SeriesPoint[] {
    return build(n, (i) => (on.some(([a, b]) => i >= a && i < b) ? 1 : 0));
  }
  const c = (respondWith: object, withinSeconds = 3, partial = true, threshold: object = { above: 30 }) =>
    criterion(
      'threshold_response',
      { sensor: 'temperature', ...threshold, respondWith, withinSeconds },
      partial,
    );

  it('actuator: the fan turning on exactly withinSeconds after the crossing answers it', () => {
    const r = grade1(
      c({ actuator: 'fan' }),
      data({ temperature: temperature([[100, 200]]), fan: fan([[103, 210]]) }),
    );
    expect(r.passed).toBe(true);
    expect(r.evidence.measured).toMatchObject({ crossings: 1, answered: 1, maxResponseDelaySeconds: 3 });
    expect(r.evidence.spans).toEqual([
      {
        from: T0 + 100 * S,
        to: T0 + 103 * S,
        ok: true,
        note: 'temperature 31 °C above 30; the fan turning on after 3 s',
      },
    ]);
    expectBilingual(r);
    const late = grade1(
      c({ actuator: 'fan' }),
      data({ temperature: temperature([[100, 200]]), fan: fan([[104, 210]]) }),
    );
    expect(late).toMatchObject({ passed: false, score: 0 });
    expect(late.evidence.spans[0]).toMatchObject({ ok: false, to: T0 + 103 * S });
  });

  it('score is the fraction of crossings answered', () => {
    const r = grade1(
      c({ actuator: 'fan' }),
      data({
        temperature: temperature([
          [100, 150],
          [300, 350],
        ]),
        fan: fan([[100, 160]]),
      }),
    );
    expect(r.passed).toBe(false);
    expect(r.evidence.measured).toMatchObject({ crossings: 2, answered: 1, unanswered: 1 });
    expect(r.score).toBe(10);
    expect(r.explanation.en).toContain('only 1 time');
  });

  it('an actuator already on answers the crossing', () => {
    const r = grade1(
      c({ actuator: 'fan' }),
      data({ temperature: temperature([[100, 200]]), fan: fan([[0, 600]]) }),
    );
    expect(r.passed).toBe(true);
    expect(r.evidence.spans[0]?.note).toContain('already on');
  });

  it('event and command responses; a 0-valued event (a clear) or an "off" command does not count', () => {
    const temp = temperature([[100, 200]]);
    const event = grade1(
      c({ event: 'alarm' }),
      data({ temperature: temp }, [{ ts: T0 + 101 * S, event: 'alarm', value: 1 }]),
    );
    expect(event.passed).toBe(true);
    const cleared = grade1(
      c({ event: 'alarm' }),
      data({ temperature: temp }, [{ ts: T0 + 101 * S, event: 'alarm', value: 0 }]),
    );
    expect(cleared.passed).toBe(false);
    const command = grade1(
      c({ command: 'fan' }),
      data({ temperature: temp }, [], [{ ts: T0 + 102 * S, command: 'fan', value: 'on' }]),
    );
    expect(command.passed).toBe(true);
    const off = grade1(
      c({ command: 'fan' }),
      data({ temperature: temp }, [], [{ ts: T0 + 102 * S, command: 'fan', value: 'off' }]),
    );
    expect(off.passed).toBe(false);
  });

  it('a response between the last quiet reading and the crossing reading counts (the kit reads faster than it reports)', () => {
    const r = grade1(
      c({ event: 'alarm' }),
      data({ temperature: temperature([[100, 200]]) }, [{ ts: T0 + 99.5 * S, event: 'alarm' }]),
    );
    expect(r.passed).toBe(true);
    expect(r.evidence.measured.maxResponseDelaySeconds).toBe(0);
  });

  it('no crossing: not passed, the condition never happened; a value exactly at the threshold is not above', () => {
    const r = grade1(c({ actuator: 'fan' }), data({ temperature: build(600, () => 30), fan: fan([]) }));
    expect(r).toMatchObject({ passed: false, score: 0 });
    expect(r.evidence.measured.crossings).toBe(0);
    expect(r.explanation.en).toContain('never happened');
    expect(r.explanation.en).toContain('highest 30');
    expect(r.explanation['zh-CN']).toContain('从未');
  });

  it('below: crossing downwards', () => {
    const temp = build(600, (i) => (i >= 50 && i < 80 ? 1 : 5));
    const r = grade1(
      c({ actuator: 'fan' }, 3, true, { below: 2 }),
      data({ temperature: temp, fan: fan([[51, 90]]) }),
    );
    expect(r.passed).toBe(true);
    expect(r.evidence.measured).toMatchObject({ crossings: 1, minValue: 1, maxResponseDelaySeconds: 1 });
  });

  it('noise around the threshold is one episode, not many', () => {
    const wobble = [29.9, 30.1, 29.9, 30.2, 29.8, 30.3, 31, 32, 33];
    const temp = build(600, (i) => (i >= 100 && i < 100 + wobble.length ? (wobble[i - 100] as number) : 25));
    const r = grade1(c({ actuator: 'fan' }), data({ temperature: temp, fan: fan([[101, 200]]) }));
    expect(r.evidence.measured).toMatchObject({ crossings: 1, mergedRecrossings: 2, answered: 1 });
    expect(r.passed).toBe(true);
  });

  it('a crossing too close to the end to be judged is left out', () => {
    const r = grade1(
      c({ actuator: 'fan' }, 5),
      data({ temperature: temperature([[598, 600]]), fan: fan([]) }),
    );
    expect(r.passed).toBe(false);
    expect(r.evidence.measured).toMatchObject({ crossings: 0, notJudged: 1 });
    expect(r.explanation.en).toContain('too late');
  });

  it('the window starting above the threshold is not a crossing', () => {
    const r = grade1(c({ actuator: 'fan' }), data({ temperature: temperature([[0, 600]]), fan: fan([]) }));
    expect(r.passed).toBe(false);
    expect(r.explanation.en).toContain('already above');
  });
});

describe('actuator_effect', () => {
  /** 25 °C, falling 0.1 °C/s from `from` seconds on. */
  const cooling = (from: number) => build(600, (i) => (i <= from ? 25 : 25 - 0.1 * (i - from)));
  const c = (params: object, partial = true) =>
    criterion('actuator_effect', { sensor: 'temperature', ...params }, partial);

  it('after a command the sensor must move by minChange (signed) within withinSeconds, from its value at the command', () => {
    const commands = [{ ts: T0 + 100 * S, command: 'fan', value: 'on' }];
    const r = grade1(
      c({ command: 'fan', minChange: -2, withinSeconds: 20 }),
      data({ temperature: cooling(100) }, [], commands),
    );
    expect(r.passed).toBe(true);
    expect(r.evidence.measured).toMatchObject({ triggers: 1, met: 1, maxDelaySeconds: 20 });
    expect(r.evidence.measured.meanChange).toBeCloseTo(-2, 9);
    expect(r.explanation.en).toContain('fell by 2 °C or more');
    expectBilingual(r);
    const short = grade1(
      c({ command: 'fan', minChange: -2, withinSeconds: 19 }),
      data({ temperature: cooling(100) }, [], commands),
    );
    expect(short.passed).toBe(false);
    expect(short.score).toBe(19); // 20 × 1.9 / 2
    const wrongWay = grade1(
      c({ command: 'fan', minChange: 2, withinSeconds: 30 }),
      data({ temperature: cooling(100) }, [], commands),
    );
    expect(wrongWay).toMatchObject({ passed: false, score: 0 });
  });

  it('an actuator turning on is the trigger; "off" commands are not', () => {
    const fan = build(600, (i) => (i >= 100 ? 1 : 0));
    const r = grade1(
      c({ actuator: 'fan', minChange: -1, withinSeconds: 15 }),
      data({ temperature: cooling(100), fan }),
    );
    expect(r.passed).toBe(true);
    expect(r.evidence.spans[0]).toMatchObject({ from: T0 + 100 * S, ok: true });
    const off = grade1(
      c({ command: 'fan', minChange: -1, withinSeconds: 15 }),
      data({ temperature: cooling(100) }, [], [{ ts: T0 + 100 * S, command: 'fan', value: 0 }]),
    );
    expect(off.passed).toBe(false);
    expect(off.explanation.en).toContain('could not be checked');
  });

  it('partial credit averages the change achieved over the triggers', () => {
    const commands = [
      { ts: T0 + 100 * S, command: 'pump' },
      { ts: T0 + 400 * S, command: 'pump' },
    ];
    const soil = build(600, (i) => (i > 100 && i <= 130 ? 40 + 0.5 * (i - 100) : i > 130 ? 55 : 40));
    const r = grade1(
      c({ sensor: 'soil', command: 'pump', minChange: 10, withinSeconds: 30 }),
      data({ soil }, [], commands),
    );
    // first: +15 (met); second: +0 → mean of 1 and 0
    expect(r.evidence.measured).toMatchObject({ triggers: 2, met: 1 });
    expect(r.score).toBe(10);
  });

  it('no trigger in the window: not passed', () => {
    const r = grade1(
      c({ command: 'fan', minChange: -1, withinSeconds: 10 }),
      data({ temperature: cooling(100) }),
    );
    expect(r).toMatchObject({ passed: false, score: 0 });
    expect(r.evidence.measured.triggers).toBe(0);
  });
});

describe('events', () => {
  const ev = (n: number, value?: number): GradingEvent[] =>
    Array.from({ length: n }, (_, i) => ({ ts: T0 + (i + 1) * 10 * S, event: 'button', value }));
  const c = (params: object, partial = true) => criterion('events', { event: 'button', ...params }, partial);

  it('counts between minCount and maxCount, both included', () => {
    expect(grade1(c({ minCount: 2, maxCount: 4 }), data({}, ev(2))).passed).toBe(true);
    expect(grade1(c({ minCount: 2, maxCount: 4 }), data({}, ev(4))).passed).toBe(true);
    const many = grade1(c({ minCount: 2, maxCount: 4 }), data({}, ev(5)));
    expect(many.passed).toBe(false);
    expect(many.score).toBe(16);
    expect(many.evidence.spans.filter((s) => !s.ok)).toHaveLength(1);
    const few = grade1(c({ minCount: 2 }), data({}, ev(1)));
    expect(few).toMatchObject({ passed: false, score: 10 });
    expectBilingual(few);
  });

  it('0-valued events (releases, clears) and events outside the window are not counted', () => {
    const events = [
      ...ev(2),
      ...ev(3, 0),
      { ts: T0 - 1, event: 'button' },
      { ts: WINDOW.to, event: 'button' },
    ];
    const r = grade1(c({ minCount: 3 }), data({}, events));
    expect(r.evidence.measured).toMatchObject({ count: 2, zeroValued: 3 });
    expect(r.passed).toBe(false);
  });

  it('an empty window: no event', () => {
    const r = grade1(c({ minCount: 0, maxCount: 0 }), data({}, ev(3)), { from: T0, to: T0 });
    expect(r.passed).toBe(true);
    expect(r.evidence.measured.count).toBe(0);
  });
});

describe('authenticity', () => {
  const auth = (params?: object): Criterion =>
    ({
      id: 'auth',
      title: 'authentic',
      weight: 20,
      partialCredit: true,
      type: 'authenticity',
      params,
    }) as Criterion;
  const grade = (series: Record<string, SeriesPoint[]>, options = {}, window = WINDOW) =>
    gradeAttempt({ criteria: [auth()] }, window, data(series), options);

  it('measured-looking data: no flag, full weight', () => {
    const g = grade({ temperature: measured(600, 1), humidity: measured(600, 2) });
    expect(g.flags).toEqual([]);
    expect(g.criteria[0]).toMatchObject({ passed: true, score: 20 });
    expect(g.criteria[0]?.evidence.measured.sensorsChecked).toBe(2);
    expectBilingual(g.criteria[0] as CriterionResult);
  });

  it('a constant series is flagged; a reading pinned at the limit of its range (0 lx in the dark) is not', () => {
    const g = grade({ temperature: build(600, () => 25), light: build(600, () => 0) });
    expect(g.flags.map((f) => [f.kind, f.sensor])).toEqual([['constant', 'temperature']]);
    expect(g.flags[0]?.evidence.measured).toMatchObject({ value: 25, readings: 600 });
    expect(g.criteria[0]).toMatchObject({ passed: false, score: 0 });
    expect(g.criteria[0]?.explanation.en).toContain('Flagged for the instructor');
  });

  it('a long constant run inside otherwise noisy data is flagged with its span', () => {
    const pts = measured(600, 3).map((p, i) => (i >= 200 && i < 330 ? { ...p, value: 21.7 } : p));
    const g = grade({ temperature: pts });
    expect(g.flags).toHaveLength(1);
    expect(g.flags[0]?.evidence.spans[0]).toMatchObject({ from: T0 + 200 * S, to: T0 + 329 * S, ok: false });
  });

  it('noiseless patterns: a ramp (constant steps), an exact periodic wave, a smooth curve', () => {
    const ramp = grade({ temperature: build(600, (i) => 20 + i * 0.01) });
    expect(ramp.flags[0]).toMatchObject({ kind: 'pattern', sensor: 'temperature' });
    expect(ramp.flags[0]?.evidence.measured.constantStepPercent).toBeGreaterThan(99);

    const wave = grade({
      temperature: build(600, (i) => Math.round((25 + 3 * Math.sin((2 * Math.PI * i) / 20)) * 10) / 10),
    });
    expect(wave.flags[0]?.kind).toBe('pattern');
    expect(wave.flags[0]?.evidence.measured.periodSeconds).toBe(20);

    const smooth = grade({
      temperature: build(600, (i) => 25 + 0.00002 * (i - 300) ** 2 + Math.sin(i / 97)),
    });
    expect(smooth.flags[0]?.kind).toBe('pattern');
    expect(smooth.flags[0]?.evidence.measured.smoothResidualRatio).toBeLessThan(0.002);
  });

  it('a replayed stretch of the same attempt', () => {
    const base = measured(600, 5);
    const pts = base.map((p, i) =>
      i >= 400 && i < 520 ? { ...p, value: (base[i - 300] as SeriesPoint).value } : p,
    );
    const g = grade({ temperature: pts });
    expect(g.flags.map((f) => f.kind)).toEqual(['replay']);
    expect(g.flags[0]?.evidence.measured.lagSeconds).toBe(300);
    expect(g.flags[0]?.evidence.spans[0]).toMatchObject({ ok: false });
    expect(g.flags[0]?.explanation.en).toContain('300 s earlier');
  });

  it('a replay of an earlier attempt (`previous`); the very same readings are not a replay', () => {
    const earlier = measured(600, 6, S, T0 - 3_600_000);
    const now = earlier.map((p) => ({ ts: p.ts + 3_600_000, value: p.value }));
    const g = grade({ temperature: now }, { previous: { series: { temperature: earlier } } });
    expect(g.flags).toMatchObject([{ kind: 'replay', sensor: 'temperature', source: 'previous' }]);
    expect(g.flags[0]?.evidence.measured.repeatedPercent).toBe(100);
    const same = grade({ temperature: now }, { previous: { series: { temperature: now } } });
    expect(same.flags).toEqual([]);
    const other = grade({ temperature: now }, { previous: { series: { temperature: measured(600, 7) } } });
    expect(other.flags).toEqual([]);
  });

  it("a copy of another kit's stream (peers); an independent kit is not a copy", () => {
    const theirs = measured(600, 8);
    const ours = theirs.map((p, i) => ({ ts: p.ts + 120, value: i % 10 === 0 ? p.value + 0.5 : p.value }));
    const g = grade(
      { temperature: ours },
      { peers: { 'kit-b': { temperature: theirs }, 'kit-c': { temperature: measured(600, 9) } } },
    );
    expect(g.flags).toMatchObject([{ kind: 'copy', sensor: 'temperature', source: 'kit-b' }]);
    expect(g.flags[0]?.evidence.measured.identicalPercent).toBe(90);
  });

  it('checks params.sensors, or the required sensors, or every non-actuator series', () => {
    const series = {
      temperature: build(600, () => 25),
      humidity: measured(600, 1),
      fan: build(600, () => 0),
    };
    const onlyHumidity = gradeAttempt({ criteria: [auth({ sensors: ['humidity'] })] }, WINDOW, data(series));
    expect(onlyHumidity.criteria[0]?.passed).toBe(true);
    // The flags are reported anyway, for the instructor.
    expect(onlyHumidity.flags.map((f) => f.sensor)).toEqual(['temperature']);
    const required = grade(series, { requiredSensors: ['humidity'] });
    expect(required.criteria[0]?.passed).toBe(true);
    expect(required.criteria[0]?.evidence.measured.sensorsChecked).toBe(1);
    const all = grade(series);
    expect(all.criteria[0]?.evidence.measured.sensorsChecked).toBe(2); // fan (0/1) is a state
  });

  it('flags are reported even when the rubric has no authenticity criterion', () => {
    const g = gradeAttempt({ criteria: [] }, WINDOW, data({ temperature: build(600, () => 25) }));
    expect(g.flags.map((f) => f.kind)).toEqual(['constant']);
    expect(g.flags[0]?.explanation['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
  });

  it('no data at all: nothing to vouch for', () => {
    const g = grade({});
    expect(g.criteria[0]).toMatchObject({ passed: false, score: 0 });
  });
});

describe('gradeAttempt', () => {
  const rubric = {
    criteria: [
      criterion('range', { sensor: 'temperature', min: 20, max: 24, minPercent: 90 }),
      criterion('sampling', { sensor: 'temperature', minHz: 1, minMinutes: 5 }),
      criterion('events', { event: 'button', minCount: 1 }, false),
    ].map((c, i) => ({ ...c, id: `c${i}`, weight: [50, 30, 20][i] as number })),
  };

  it('totals the scores, ignores data outside the window and sorts unsorted input', () => {
    const pts = measured(600, 1);
    const shuffled = [
      ...pts.slice(300),
      ...pts.slice(0, 300),
      { ts: T0 - 5000, value: 99 },
      { ts: WINDOW.to, value: 99 },
    ];
    const g = gradeAttempt(rubric, WINDOW, data({ temperature: shuffled }));
    expect(g.criteria.map((c) => [c.id, c.passed])).toEqual([
      ['c0', true],
      ['c1', true],
      ['c2', false],
    ]);
    expect(g.total).toBe(80);
    expect(g.maxTotal).toBe(100);
    expect(g.window).toEqual(WINDOW);
    expect(g.criteria[0]?.evidence.measured.max).toBeLessThan(99);
  });

  it('an empty window fails every criterion that needs data', () => {
    const g = gradeAttempt(rubric, { from: T0, to: T0 }, data({ temperature: measured(600, 1) }));
    expect(g.criteria.every((c) => !c.passed)).toBe(true);
    expect(g.total).toBe(0);
  });

  it('is deterministic', () => {
    const d = data({ temperature: measured(600, 1) });
    expect(gradeAttempt(rubric, WINDOW, d)).toEqual(gradeAttempt(rubric, WINDOW, d));
  });
});
