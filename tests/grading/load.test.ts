/**
 * loadGradingData: the store's readings of an attempt, paged past the query limit, give the
 * same grade as the same data in memory — on the embedded store, as on any TelemetryStore; a kit
 * read once over a span (loadKitSeries) and cut to a window (gradingDataOf) gives the same data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  gradeAttempt,
  gradingDataOf,
  loadGradingData,
  loadKitSeries,
  type Rubric,
  rubricSensors,
} from '../../grading/index.ts';
import type { TelemetryRecord } from '../../protocol/index.ts';
import { createEmbeddedStore, DEFAULT_QUERY_LIMIT } from '../../telemetry/index.ts';

const T0 = Date.UTC(2025, 3, 15, 2, 0, 0);

const rubric: Rubric = {
  criteria: [
    {
      id: 'complete',
      title: 'complete',
      weight: 50,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'temperature', maxGapSeconds: 5, minPercent: 99 },
    },
    {
      id: 'fan',
      title: 'fan',
      weight: 50,
      partialCredit: true,
      type: 'threshold_response',
      params: { sensor: 'temperature', above: 30, respondWith: { actuator: 'fan' }, withinSeconds: 10 },
    },
  ],
};

describe('loadGradingData', () => {
  it('lists the series a rubric reads', () => {
    expect(rubricSensors(rubric)).toEqual(['fan', 'temperature']);
    expect(rubricSensors(rubric, ['humidity', 'temperature'])).toEqual(['fan', 'humidity', 'temperature']);
  });

  it('pages through the query limit, keeps the window [from, to), and reads events and commands', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotlab-grading-'));
    const store = createEmbeddedStore({ path: join(dir, 'telemetry.sqlite'), retentionDays: 0 });
    try {
      const n = 2 * DEFAULT_QUERY_LIMIT + 123;
      const temperature = Array.from({ length: n }, (_, i) => ({
        ts: T0 + i * 500,
        value: 20 + (i % 7) / 10,
      }));
      await store.write(
        temperature.map((p) => ({ kitId: 'kit-1', ts: p.ts, readings: { temperature: p.value } })),
      );
      await store.write([
        { kitId: 'kit-1', ts: T0 + 1_000, readings: { '@event.alarm': 1 } },
        { kitId: 'kit-1', ts: T0 + 2_000, readings: { '@command.fan': 1 } },
        { kitId: 'kit-1', ts: T0 + 3_000, readings: { '@event.alarm': 0 } },
        { kitId: 'kit-2', ts: T0 + 1_500, readings: { '@event.button': 1 } },
      ]);
      const window = { from: T0 + 500, to: T0 + (n - 1) * 500 };
      const data = await loadGradingData(store, 'kit-1', window, ['temperature', 'temperature', 'fan']);
      expect(data.series.temperature).toEqual(temperature.slice(1, n - 1));
      expect(data.series.fan).toEqual([]);
      expect(data.events).toEqual([
        { ts: T0 + 1_000, event: 'alarm', value: 1 },
        { ts: T0 + 3_000, event: 'alarm', value: 0 },
      ]);
      expect(data.commands).toEqual([{ ts: T0 + 2_000, command: 'fan', value: 1 }]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the embedded store gives the same grade as the data in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotlab-grading-'));
    const store = createEmbeddedStore({ path: join(dir, 'telemetry.sqlite'), retentionDays: 0 });
    try {
      const records = Array.from({ length: 1200 }, (_, i) => ({
        kitId: 'kit-1',
        ts: T0 + i * 500,
        seq: i,
        readings: {
          temperature: i >= 400 && i < 500 ? 31 : 25 + (i % 5) / 10,
          fan: i >= 402 && i < 520 ? 1 : 0,
        },
      }));
      const kept = records.filter((r) => r.ts < T0 + 200_000 || r.ts >= T0 + 230_000);
      await store.write(kept);
      const window = { from: T0, to: T0 + 600_000 };
      const loaded = await loadGradingData(store, 'kit-1', window, rubricSensors(rubric));
      const memory = {
        series: {
          temperature: kept.map((r) => ({ ts: r.ts, value: r.readings.temperature })),
          fan: kept.map((r) => ({ ts: r.ts, value: r.readings.fan })),
        },
        events: [],
        commands: [],
      };
      const fromStore = gradeAttempt(rubric, window, loaded);
      expect(fromStore).toEqual(gradeAttempt(rubric, window, memory));
      expect(fromStore.criteria.map((c) => c.passed)).toEqual([false, true]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a kit read once over a span gives, for any window inside it, what reading the window gives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotlab-grading-'));
    const store = createEmbeddedStore({ path: join(dir, 'telemetry.sqlite'), retentionDays: 0 });
    try {
      const n = DEFAULT_QUERY_LIMIT + 500;
      await store.write(
        Array.from({ length: n }, (_, i) => ({
          kitId: 'kit-1',
          ts: T0 + i * 1000,
          readings: { temperature: 25 + (i % 11) / 10, fan: i % 600 < 30 ? 1 : 0, humidity: 50 + (i % 3) },
        })),
      );
      // Events and commands at the same times (their order between series is kept), and on the
      // windows' bounds.
      await store.write(
        [0, 999, 1000, 4000, 4000, 5000, 9999, n - 1].flatMap((i, k): TelemetryRecord[] => [
          { kitId: 'kit-1', ts: T0 + i * 1000, readings: { '@event.alarm': k } },
          { kitId: 'kit-1', ts: T0 + i * 1000, readings: { '@event.button': 1 } },
          { kitId: 'kit-1', ts: T0 + i * 1000 + 1, readings: { '@command.fan': k % 2 } },
        ]),
      );
      const span = { from: T0 - 5000, to: T0 + n * 1000 };
      const sensors = ['temperature', 'fan', 'temperature'];
      const loaded = await loadKitSeries(store, 'kit-1', span, [...sensors, 'humidity']);
      for (const window of [
        span,
        { from: T0, to: T0 + n * 1000 },
        { from: T0 + 1000 * 1000, to: T0 + 5000 * 1000 },
        { from: T0 + 1000 * 1000 + 1, to: T0 + 5000 * 1000 + 1 },
        { from: T0 + 4000 * 1000, to: T0 + 4000 * 1000 },
        { from: T0 + 9000 * 1000, to: T0 + n * 1000 - 1 },
      ]) {
        const cut = gradingDataOf(loaded, window, sensors);
        const read = await loadGradingData(store, 'kit-1', window, sensors);
        expect(JSON.stringify(cut)).toBe(JSON.stringify(read));
        expect(cut.events.length).toBe(read.events.length);
      }
      expect(() => gradingDataOf(loaded, span, ['light'])).toThrow(/light/);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
