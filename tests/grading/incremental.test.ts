/**
 * Live grading evaluates each criterion incrementally (scans fed only the readings that arrived
 * since the last evaluation). Whatever arrives — gaps, excursions, threshold crossings, late and
 * repeated readings — the incremental result must be the one grading the whole window gives.
 */
import { describe, expect, it } from 'vitest';
import {
  type GradingEvent,
  gradeLive,
  IncrementalGrading,
  type Rubric,
  SeriesBuffer,
  type SeriesPoint,
} from '../../grading/index.ts';

const RUBRIC: Rubric = {
  criteria: [
    {
      id: 'rate',
      title: 'Temperature at 1 Hz',
      weight: 10,
      partialCredit: true,
      type: 'sampling',
      params: { sensor: 'temperature', minHz: 1, minMinutes: 3 },
    },
    {
      id: 'every5',
      title: 'Humidity at least every 5 s',
      weight: 10,
      partialCredit: true,
      type: 'sampling',
      params: { sensor: 'humidity', maxIntervalSeconds: 5, minMinutes: 3 },
    },
    {
      id: 'complete',
      title: 'No gap over 5 s',
      weight: 10,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'temperature', maxGapSeconds: 5, minPercent: 99 },
    },
    {
      id: 'range',
      title: 'Temperature 20–30',
      weight: 10,
      partialCredit: true,
      type: 'range',
      params: { sensor: 'temperature', min: 20, max: 30, minPercent: 95 },
    },
    {
      id: 'tolerance',
      title: 'Humidity 55 ± 5',
      weight: 10,
      partialCredit: true,
      type: 'tolerance',
      params: { sensor: 'humidity', reference: 55, epsilon: 5, minPercent: 90 },
    },
    {
      id: 'stable',
      title: 'Humidity stable',
      weight: 10,
      partialCredit: true,
      type: 'stability',
      params: { sensor: 'humidity', maxStdDev: 3, maxDriftPerMinute: 0.5 },
    },
    {
      id: 'alarm',
      title: 'Alarm above 30',
      weight: 10,
      partialCredit: true,
      type: 'threshold_response',
      params: { sensor: 'temperature', above: 30, respondWith: { event: 'alarm' }, withinSeconds: 3 },
    },
    {
      id: 'fan',
      title: 'Fan cools',
      weight: 10,
      partialCredit: true,
      type: 'actuator_effect',
      params: { actuator: 'fan', sensor: 'temperature', minChange: -2, withinSeconds: 30 },
    },
    {
      id: 'button',
      title: 'Button pressed',
      weight: 10,
      partialCredit: true,
      type: 'events',
      params: { event: 'button', minCount: 2 },
    },
    {
      id: 'measured',
      title: 'Measured data',
      weight: 10,
      partialCredit: false,
      type: 'authenticity',
      params: { sensors: ['temperature', 'humidity'] },
    },
  ],
};

const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);

function noise(i: number, seed: number): number {
  const x = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

/** Ten minutes of a kit: a Wi-Fi drop, a hot spell answered by the alarm late once, a fan, button presses. */
function* readings(): Generator<{ sensor: string; point: SeriesPoint } | { event: string; ts: number }> {
  for (let s = 0; s < 600; s++) {
    const ts = T0 + s * 1000 + Math.floor((noise(s, 9) + 0.5) * 40);
    if (s >= 200 && s < 212) continue; // Wi-Fi drop
    const hot = (s >= 100 && s < 130) || (s >= 400 && s < 420);
    const fanOn = s >= 300 && s < 360;
    const temperature = (hot ? 33 : fanOn ? 26 - (s - 300) / 10 : 25) + noise(s, 1);
    yield { sensor: 'temperature', point: { ts, value: Number(temperature.toFixed(2)) } };
    if (s % 3 === 0)
      yield { sensor: 'humidity', point: { ts, value: Number((55 + 4 * noise(s, 2)).toFixed(1)) } };
    yield { sensor: 'fan', point: { ts, value: fanOn ? 1 : 0 } };
    if (s === 101 || s === 406) yield { event: 'alarm', ts: ts + (s === 406 ? 0 : 500) };
    if (s === 50 || s === 450) yield { event: 'button', ts };
  }
}

describe('incremental live evaluation', () => {
  it('gives the result of grading the whole window, after every arrival, late and repeated readings included', () => {
    const buffers = new Map(['temperature', 'humidity', 'fan'].map((name) => [name, new SeriesBuffer()]));
    const arrays: Record<string, SeriesPoint[]> = { temperature: [], humidity: [], fan: [] };
    const events: GradingEvent[] = [];
    const live = { series: buffers, events, commands: [] };
    const grading = new IncrementalGrading(RUBRIC, {}, { buffers: live });
    // As live grading keeps them: scans without evidence spans.
    const lean = new IncrementalGrading(RUBRIC, {}, { buffers: live }, { spans: false });
    let newest = T0;
    let compared = 0;
    let late: { sensor: string; point: SeriesPoint } | undefined;

    const compare = () => {
      // As LiveGrader's trim does: late readings are put in order, and their series' scans start over.
      for (const [name, buffer] of buffers) {
        if (buffer.unordered) {
          buffer.normalize();
          grading.forget(name);
          lean.forget(name);
        }
      }
      // Authenticity is refreshed periodically; here every time, to compare it too.
      grading.refreshFlags();
      lean.refreshFlags();
      const window = { from: T0, to: newest + 1 };
      const incremental = grading.evaluate(window);
      const whole = gradeLive(RUBRIC, window, { series: arrays, events, commands: [] });
      expect(incremental).toEqual(whole);
      // While the attempt runs (criteria without enough data pending), the same holds.
      const running = { running: true };
      expect(lean.evaluate(window, 'explained', running)).toEqual(
        gradeLive(RUBRIC, window, { series: arrays, events, commands: [] }, {}, 'explained', running),
      );
      // With less detail, the same verdicts (what live grading decides to publish on), and the
      // same sentence and numbers without the spans (what a live state shows).
      const verdicts = lean.evaluate(window, 'verdict');
      expect(verdicts.total).toBe(whole.total);
      expect(verdicts.criteria.map((c) => [c.id, c.score, c.passed])).toEqual(
        whole.criteria.map((c) => [c.id, c.score, c.passed]),
      );
      whole.criteria.forEach((full, index) => {
        expect(lean.result(index, 'explained')).toEqual({
          ...full,
          evidence: { measured: full.evidence.measured, spans: [] },
        });
      });
      compared++;
    };

    let i = 0;
    for (const item of readings()) {
      if ('event' in item) {
        events.push({ ts: item.ts, event: item.event });
        events.sort((a, b) => a.ts - b.ts);
        newest = Math.max(newest, item.ts);
        continue;
      }
      const { sensor, point } = item;
      i++;
      // Every 97th temperature arrives 10 s late; every 211th measurement is sent twice with a new value.
      if (sensor === 'temperature' && i % 97 === 0) {
        late = item;
        continue;
      }
      const deliver = (s: string, p: SeriesPoint) => {
        const outcome = buffers.get(s)?.push(p.ts, p.value);
        if (outcome === 'replaced') {
          grading.forget(s);
          lean.forget(s);
        }
        const array = arrays[s] as SeriesPoint[];
        const at = array.findIndex((q) => q.ts >= p.ts);
        if (at === -1) array.push(p);
        else if (array[at]?.ts === p.ts) array[at] = p;
        else array.splice(at, 0, p);
        newest = Math.max(newest, p.ts);
      };
      deliver(sensor, point);
      if (i % 211 === 0 && sensor !== 'fan') deliver(sensor, { ts: point.ts, value: point.value + 0.5 });
      if (late && point.ts - late.point.ts >= 10_000) {
        deliver(late.sensor, late.point);
        late = undefined;
      }
      if (i % 13 === 0) compare();
    }
    compare();
    expect(compared).toBeGreaterThan(100);
    // The data exercised what the scans keep: a gap, an excursion, a late alarm, the fan's effect.
    const final = gradeLive(RUBRIC, { from: T0, to: newest + 1 }, { series: arrays, events, commands: [] });
    const byId = Object.fromEntries(final.criteria.map((c) => [c.id, c]));
    expect(byId.complete?.passed).toBe(false);
    expect(byId.range?.passed).toBe(false);
    expect(byId.alarm?.evidence.measured).toMatchObject({ answered: 1, unanswered: 1 });
    expect(byId.fan?.passed).toBe(true);
    expect(byId.button?.passed).toBe(true);
  });

  it('checks authenticity on the last minutes only when asked to (live grading), and on everything otherwise', () => {
    const rubric: Rubric = {
      criteria: [
        {
          id: 'real',
          title: 'Measured',
          weight: 10,
          partialCredit: false,
          type: 'authenticity',
          params: { sensors: ['temperature'] },
        },
      ],
    };
    // Stuck at 21.5 for the first 5 minutes (a constant run: flagged), then 25 minutes of noise.
    const buffer = new SeriesBuffer();
    for (let s = 0; s < 30 * 60; s++) {
      buffer.push(T0 + s * 1000, s < 300 ? 21.5 : Number((21 + 2 * noise(s, 1)).toFixed(2)));
    }
    const buffers = { series: new Map([['temperature', buffer]]), events: [], commands: [] };
    const window = { from: T0, to: T0 + 30 * 60_000 };
    const whole = new IncrementalGrading(rubric, {}, { buffers }).evaluate(window);
    const recent = new IncrementalGrading(rubric, {}, { buffers }, { flagsWindowMs: 10 * 60_000 }).evaluate(
      window,
    );
    expect(whole.criteria[0]?.passed).toBe(false);
    expect(whole.criteria[0]?.evidence.measured.constant).toBe(1);
    expect(recent.criteria[0]?.passed).toBe(true);
  });
});
