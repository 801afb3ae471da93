/**
 * Final grading gives identical results on the embedded store and on InfluxDB for the same data:
 * the same attempt window, the same rubric, the same readings, events and commands.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKitModel, loadScenario } from '../../firmware-sim/index.ts';
import { gradeAttempt, loadGradingData, type Rubric, rubricSensors } from '../../grading/index.ts';
import { createInfluxDatabase, type RunningServer, startInfluxd } from '../../harness/index.ts';
import type { TelemetryRecord } from '../../protocol/index.ts';
import { createEmbeddedStore, createInfluxStore, type TelemetryStore } from '../../telemetry/index.ts';
import { describeWithServer } from '../helpers/suites.ts';

const T0 = Date.UTC(2026, 10, 20, 2, 0, 0);
const MINUTES = 20;

const rubric: Rubric = {
  criteria: [
    {
      id: 'rate',
      title: 'sampling',
      weight: 20,
      partialCredit: true,
      type: 'sampling',
      params: { sensor: 'temperature', maxIntervalSeconds: 3, minMinutes: 10 },
    },
    {
      id: 'gaps',
      title: 'completeness',
      weight: 20,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'humidity', maxGapSeconds: 10, minPercent: 95 },
    },
    {
      id: 'range',
      title: 'range',
      weight: 15,
      partialCredit: true,
      type: 'range',
      params: { sensor: 'temperature', min: 10, max: 40, minPercent: 95 },
    },
    {
      id: 'steady',
      title: 'stability',
      weight: 10,
      partialCredit: true,
      type: 'stability',
      params: { sensor: 'soil_moisture', maxStdDev: 8 },
    },
    {
      id: 'fan_on',
      title: 'threshold',
      weight: 15,
      partialCredit: true,
      type: 'threshold_response',
      params: { sensor: 'temperature', above: 26, respondWith: { command: 'fan' }, withinSeconds: 20 },
    },
    {
      id: 'alarms',
      title: 'events',
      weight: 10,
      partialCredit: true,
      type: 'events',
      params: { event: 'alarm', minCount: 1 },
    },
    { id: 'real', title: 'authenticity', weight: 10, partialCredit: false, type: 'authenticity' },
  ],
};

/** Twenty minutes of a simulated greenhouse kit every 2 s, with a fan command and two alarm events. */
function attemptData(kitId: string): TelemetryRecord[] {
  const spec = loadScenario('faults').kits.find((kit) => kit.id === 'f-ok');
  if (!spec) throw new Error('faults scenario has f-ok');
  const model = createKitModel({ ...spec, id: kitId, faults: [] });
  const records: TelemetryRecord[] = [];
  for (let i = 0; i < (MINUTES * 60) / 2; i++) {
    const ts = T0 + i * 2_000;
    const readings = Object.fromEntries(
      Object.entries({ ...model.sample(ts), ...model.actuators() }).filter(([, v]) => v !== null),
    ) as Record<string, number>;
    records.push({ kitId, ts, seq: i, readings });
  }
  records.push({ kitId, ts: T0 + 300_001, readings: { '@command.fan': 1 } });
  records.push({ kitId, ts: T0 + 400_001, readings: { '@event.alarm': 1 } });
  records.push({ kitId, ts: T0 + 500_001, readings: { '@event.alarm': 1 } });
  return records;
}

describeWithServer('influxd', 'grading on the embedded store and on InfluxDB', () => {
  let influx: RunningServer;
  let dir: string;
  let embedded: TelemetryStore;
  let influxStore: TelemetryStore;

  beforeAll(async () => {
    influx = await startInfluxd();
    await createInfluxDatabase(influx.url, 'grading');
    influxStore = createInfluxStore({ url: influx.url, apiVersion: 1, database: 'grading' });
    dir = mkdtempSync(join(tmpdir(), 'iotlab-grading-stores-'));
    embedded = createEmbeddedStore({ path: join(dir, 'telemetry.sqlite'), retentionDays: 0 });
    const records = attemptData('gh-kit');
    for (const store of [embedded, influxStore]) await store.write(records);
  }, 60_000);
  afterAll(async () => {
    await embedded?.close();
    await influxStore?.close();
    await influx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the same data and gives the same grade, evidence and explanations', async () => {
    const window = { from: T0, to: T0 + MINUTES * 60_000 };
    const sensors = rubricSensors(rubric, ['temperature', 'humidity', 'soil_moisture']);
    const fromEmbedded = await loadGradingData(embedded, 'gh-kit', window, sensors);
    const fromInflux = await loadGradingData(influxStore, 'gh-kit', window, sensors);
    expect(fromInflux).toEqual(fromEmbedded);
    expect(fromEmbedded.events).toHaveLength(2);
    expect(fromEmbedded.commands).toEqual([{ ts: T0 + 300_001, command: 'fan', value: 1 }]);
    const a = gradeAttempt(rubric, window, fromEmbedded);
    const b = gradeAttempt(rubric, window, fromInflux);
    expect(b).toEqual(a);
    expect(a.criteria.find((c) => c.id === 'alarms')?.passed).toBe(true);
    expect(a.criteria.find((c) => c.id === 'rate')?.passed).toBe(true);
  });
});
