import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  type GradeOptions,
  type GradeResult,
  gradeAttempt,
  gradingDataOf,
  loadGradingData,
  loadKitSeries,
  type Rubric,
  rubricSensors,
  type SeriesSet,
  type TimeWindow,
} from '../../grading/index.ts';
import { createInfluxDatabase, serverAvailable, startInfluxd } from '../../harness/index.ts';
import { createEmbeddedStore, createInfluxStore, type TelemetryStore } from '../../telemetry/index.ts';

import {
  checkedRubric,
  classBatches,
  emit,
  FINAL_TARGET_SECONDS,
  type GradingBenchOptions,
  kitName,
  r2,
  r3,
  SENSORS,
  WRITE_BATCH,
} from './class-data.ts';

interface StoreRun {
  store: TelemetryStore;
  stop(): Promise<void>;
}

async function openStore(name: 'embedded' | 'influxdb', dir: string): Promise<StoreRun> {
  if (name === 'embedded') {
    const store = createEmbeddedStore({ path: join(dir, 'telemetry.sqlite'), retentionDays: 0 });
    return { store, stop: () => store.close() };
  }
  const influx = await startInfluxd();
  try {
    await createInfluxDatabase(influx.url, 'bench');
  } catch (error) {
    await influx.stop();
    throw error;
  }
  const store = createInfluxStore({ url: influx.url, apiVersion: 1, database: 'bench', timeoutMs: 60_000 });
  return {
    store,
    stop: async () => {
      await store.close();
      await influx.stop();
    },
  };
}

interface GradedClass {
  results: Map<string, GradeResult>;
  seconds: number;
  loadSeconds: number;
  gradeSeconds: number;
  readingsGraded: number;
}

/**
 * Grades every kit's attempt one after the other, as the lab API grades a batch. With `peers`,
 * each attempt also gets the other kits' series for copy detection, and the task's required
 * sensors; each kit is then read once, for its own attempt and as a peer, and shared (the lab
 * API's batch cache: `loadKitSeries` over the session, `gradingDataOf` for the attempt's window).
 */
async function gradeClass(
  store: TelemetryStore,
  kitIds: readonly string[],
  window: TimeWindow,
  rubric: Rubric,
  peers: boolean,
): Promise<GradedClass> {
  const sensors = rubricSensors(rubric, SENSORS);
  const results = new Map<string, GradeResult>();
  const kitSeries = new Map<string, SeriesSet>();
  const read = async (kitId: string): Promise<SeriesSet> => {
    let series = kitSeries.get(kitId);
    if (!series) {
      series = await loadKitSeries(store, kitId, window, sensors);
      kitSeries.set(kitId, series);
    }
    return series;
  };
  let loadMs = 0;
  let gradeMs = 0;
  let readingsGraded = 0;
  const start = performance.now();
  for (const kitId of kitIds) {
    const loadStart = performance.now();
    const data = peers
      ? gradingDataOf(await read(kitId), window, sensors)
      : await loadGradingData(store, kitId, window, sensors);
    const options: GradeOptions = {};
    if (peers) {
      const others: Record<string, SeriesSet> = {};
      for (const other of kitIds) {
        if (other === kitId) continue;
        others[other] = gradingDataOf(await read(other), window, sensors).series;
      }
      options.peers = others;
      options.requiredSensors = SENSORS;
    }
    const gradeStart = performance.now();
    loadMs += gradeStart - loadStart;
    results.set(kitId, gradeAttempt(rubric, window, data, options));
    gradeMs += performance.now() - gradeStart;
    for (const points of Object.values(data.series)) readingsGraded += points.length;
  }
  return {
    results,
    seconds: (performance.now() - start) / 1000,
    loadSeconds: loadMs / 1000,
    gradeSeconds: gradeMs / 1000,
    readingsGraded,
  };
}

function summary(results: Map<string, GradeResult>) {
  const totals = [...results.values()].map((r) => r.total);
  const flagged = [...results.values()].filter((r) => r.flags.length > 0).length;
  const full = [...results.values()].filter((r) => r.criteria.every((c) => c.passed)).length;
  return {
    meanTotal: r2(totals.reduce((a, b) => a + b, 0) / Math.max(1, totals.length)),
    minTotal: Math.min(...totals),
    maxTotal: Math.max(...totals),
    attemptsPassingEveryCriterion: full,
    attemptsFlagged: flagged,
  };
}

/** Totals and per-criterion scores of each attempt (what the brief calls "the results"). */
const scoresOf = (results: Map<string, GradeResult>) =>
  Object.fromEntries(
    [...results].map(([kitId, r]) => [
      kitId,
      { total: r.total, criteria: r.criteria.map((c) => [c.id, c.score]) },
    ]),
  );

function differences(a: Map<string, GradeResult>, b: Map<string, GradeResult>): string[] {
  const out: string[] = [];
  for (const [kitId, ra] of a) {
    const rb = b.get(kitId);
    if (!rb) {
      out.push(`${kitId}: missing`);
      continue;
    }
    if (ra.total !== rb.total) out.push(`${kitId}: total ${ra.total} vs ${rb.total}`);
    ra.criteria.forEach((c, i) => {
      const other = rb.criteria[i];
      if (!isDeepStrictEqual(c, other))
        out.push(`${kitId}/${c.id}: score ${c.score} vs ${other?.score} (evidence or text differ)`);
    });
    if (!isDeepStrictEqual(ra.flags, rb.flags)) out.push(`${kitId}: flags differ`);
  }
  return out;
}

export async function finalGrading(opts: GradingBenchOptions): Promise<void> {
  const rubric = checkedRubric();
  const seconds = Math.round(opts.hours * 3600);
  const hour = 3_600_000;
  // A finished lab that started a few hours ago, on the hour.
  const from = Math.floor(Date.now() / hour) * hour - Math.ceil(opts.hours + 1) * hour;
  const window: TimeWindow = { from, to: from + seconds * 1000 };
  const kitIds = Array.from({ length: opts.kits }, (_, i) => kitName('class', i));
  const graded: Partial<Record<'embedded' | 'influxdb', { rubric: GradedClass; peers: GradedClass }>> = {};

  for (const name of opts.stores) {
    if (name === 'influxdb' && !serverAvailable('influxd')) {
      emit({ run: 'final', store: name, skipped: 'influxd not installed (apt-get install influxdb)' });
      continue;
    }
    const dir = mkdtempSync(join(tmpdir(), `iotlab-bench-grading-${name}-`));
    const target = await openStore(name, dir);
    try {
      // Writing: not part of the grading time.
      let readings = 0;
      let records = 0;
      let batches = 0;
      const writeStart = performance.now();
      for (const batch of classBatches(kitIds, window, seconds)) {
        await target.store.write(batch);
        batches++;
        records += batch.length;
        for (const record of batch) readings += Object.keys(record.readings).length;
      }
      const writeSeconds = (performance.now() - writeStart) / 1000;
      emit({
        run: 'write',
        store: name,
        kits: opts.kits,
        hours: opts.hours,
        sensorsPerKit: SENSORS.length,
        records,
        readings,
        batches,
        recordsPerBatch: WRITE_BATCH,
        seconds: r2(writeSeconds),
        readingsPerSecond: Math.round(readings / writeSeconds),
      });
      const stored = await target.store.count({ kitId: kitIds[0] as string, ...window });
      if (stored === 0) throw new Error(`${name}: nothing stored for ${kitIds[0]}`);

      const plain = await gradeClass(target.store, kitIds, window, rubric, false);
      const withPeers = await gradeClass(target.store, kitIds, window, rubric, true);
      graded[name] = { rubric: plain, peers: withPeers };
      for (const [mode, run] of [
        ['rubric', plain],
        ['rubric+peers', withPeers],
      ] as const) {
        emit({
          run: 'final',
          mode,
          store: name,
          attempts: run.results.size,
          criteria: rubric.criteria.length,
          readingsGraded: run.readingsGraded,
          seconds: r3(run.seconds),
          loadSeconds: r3(run.loadSeconds),
          gradeSeconds: r3(run.gradeSeconds),
          targetSeconds: FINAL_TARGET_SECONDS[name],
          meetsTarget: run.seconds < FINAL_TARGET_SECONDS[name],
          ...summary(run.results),
        });
      }
    } finally {
      await target.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const { embedded, influxdb } = graded;
  if (embedded && influxdb) {
    for (const mode of ['rubric', 'peers'] as const) {
      const a = embedded[mode].results;
      const b = influxdb[mode].results;
      const diffs = differences(a, b);
      emit({
        run: 'final-compare',
        mode: mode === 'peers' ? 'rubric+peers' : 'rubric',
        stores: 'embedded vs influxdb',
        attempts: a.size,
        identicalScores: isDeepStrictEqual(scoresOf(a), scoresOf(b)),
        identicalResults: isDeepStrictEqual([...a], [...b]),
        differences: diffs.slice(0, 5),
      });
    }
  }
}

// ---------------------------------------------------------------- live grading
