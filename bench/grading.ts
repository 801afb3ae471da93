/**
 * Grading benchmark (`npm run bench -- --suite grading`; never part of `npm test`). One JSON line per run:
 * - final: a class of kits (default 50) × 2 h × 8 sensors at 1 Hz (2.88 M readings) written into the
 *   embedded store and a real influxd (untimed, reported apart), then every attempt graded as
 *   the lab API does it — `loadGradingData` + `gradeAttempt` on a 14-criterion rubric — timed per
 *   store; once with the rubric alone, once with the session's other kits as copy-detection peers
 *   (as a batch of the lab API grades a session). The results must be identical on both stores.
 * - live-evaluation-cost: grading one kit's buffer of 1 min … 2 h from scratch (`gradeLive`, what a
 *   restarted grader does once per attempt), with and without the authenticity criterion;
 * - live-generator: the CPU the record generator and its pacing take alone;
 * - live: a LiveGrader on a lab database with 1,000 running attempts (25 classes, each a running
 *   lab session with 10 teams), fed one record per kit per second through its ingest listener;
 *   the process's CPU time minus that of the record generator alone, as % of one core. The
 *   attempts start with `historyMinutes` of readings already buffered (0: the start of a lab,
 *   when every partial score moves each second; 60: half-way through a 2-hour lab), since what
 *   is kept, published and re-checked depends on it. Measure for a few minutes
 *   (`--grading-live-seconds`): authenticity re-checks and details come in cycles of 15–60 s.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { PublishPacket } from 'aedes';
import { tuneHeapForServer } from '../cli/index.ts';
import {
  DELAY_BUCKET_MS,
  type GradeOptions,
  type GradeResult,
  type GradingData,
  gradeAttempt,
  gradeLive,
  LiveGrader,
  loadGradingData,
  type PublishedState,
  type Rubric,
  rubricProblems,
  rubricSensors,
  type SeriesPoint,
  type SeriesSet,
  type TimeWindow,
} from '../grading/index.ts';
import { createInfluxDatabase, serverAvailable, startInfluxd } from '../harness/index.ts';
import { LabLiveSource } from '../lab-api/index.ts';
import { type LabDb, openLabDb } from '../labdb/index.ts';
import type { TelemetryRecord } from '../protocol/index.ts';
import { createEmbeddedStore, createInfluxStore, type TelemetryStore } from '../telemetry/index.ts';
import { percentile } from './load.ts';
import { emitResult, profileCpu, sleep, threadCpuSeconds, watchGc } from './report.ts';

export interface GradingBenchOptions {
  /** Final grading: kits (attempts) of the class. */
  kits: number;
  /** Final grading: length of each attempt. */
  hours: number;
  stores: ('embedded' | 'influxdb')[];
  /** Live grading: running attempts, one kit each. */
  liveKits: number;
  /** Live grading: measured seconds per run. */
  liveSeconds: number;
  /** Live grading: one run per entry, with this many minutes already buffered per attempt. */
  liveHistoryMinutes: number[];
  /** Which parts run: final grading, live grading. */
  parts: ('final' | 'live')[];
}

const emit = (result: Record<string, unknown>) => emitResult('grading', result);

/** Eight sensors, as a full greenhouse-plus-safety kit sends them. */
export const SENSORS = [
  'temperature',
  'humidity',
  'light',
  'soil_moisture',
  'distance',
  'motion',
  'gas',
  'pressure',
] as const;

/** Records per store write. */
const WRITE_BATCH = 5_000;
const FINAL_TARGET_SECONDS = { embedded: 5, influxdb: 15 } as const;
const LIVE_TARGET_PERCENT = 10;
/** Longest wait for every attempt to be graded on live data before measuring anyway. */
const WARMUP_LIMIT_MS = 60_000;
/** Buffered windows (minutes) whose evaluation cost is measured alone. */
const COST_WINDOWS = [1, 10, 30, 60, 120];

// ---------------------------------------------------------------- the rubric

const range = (id: string, sensor: string, min: number, max: number, minPercent: number, weight: number) =>
  ({
    id,
    title: `${sensor} within ${min}–${max}`,
    weight,
    partialCredit: true,
    type: 'range',
    params: { sensor, min, max, minPercent },
  }) as const;

/** A greenhouse monitoring task: every sensor reports at 1 Hz, stays plausible, and is measured. */
export const RUBRIC: Rubric = {
  criteria: [
    {
      id: 'sampling_1hz',
      title: { 'zh-CN': '温度 1 Hz 采样', en: 'Temperature sampled at 1 Hz' },
      weight: 10,
      partialCredit: true,
      type: 'sampling',
      params: { sensor: 'temperature', minHz: 1, minMinutes: 45 },
    },
    {
      id: 'motion_reported',
      title: 'PIR state reported at least every 5 s',
      weight: 5,
      partialCredit: false,
      type: 'sampling',
      params: { sensor: 'motion', maxIntervalSeconds: 5, minMinutes: 45 },
    },
    {
      id: 'temperature_complete',
      title: 'No temperature gap over 10 s',
      weight: 10,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'temperature', maxGapSeconds: 10, minPercent: 99 },
    },
    {
      id: 'humidity_complete',
      title: 'No humidity gap over 10 s',
      weight: 5,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'humidity', maxGapSeconds: 10, minPercent: 99 },
    },
    {
      id: 'pressure_complete',
      title: 'No pressure gap over 10 s',
      weight: 5,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'pressure', maxGapSeconds: 10, minPercent: 99 },
    },
    range('temperature_range', 'temperature', 18, 30, 95, 10),
    range('humidity_range', 'humidity', 35, 80, 95, 5),
    range('soil_range', 'soil_moisture', 30, 60, 95, 5),
    range('gas_safe', 'gas', 0, 400, 99, 10),
    range('light_range', 'light', 100, 2000, 95, 5),
    range('distance_range', 'distance', 20, 300, 90, 5),
    {
      id: 'pressure_stable',
      title: 'Barometer steady',
      weight: 5,
      partialCredit: true,
      type: 'stability',
      params: { sensor: 'pressure', maxStdDev: 1.5, maxDriftPerMinute: 0.05 },
    },
    {
      id: 'temperature_stable',
      title: 'No temperature drift',
      weight: 5,
      partialCredit: true,
      type: 'stability',
      params: { sensor: 'temperature', maxDriftPerMinute: 0.05 },
    },
    {
      id: 'authentic',
      title: { 'zh-CN': '数据真实', en: 'Measured, not fabricated' },
      weight: 15,
      partialCredit: false,
      type: 'authenticity',
      params: { sensors: SENSORS.filter((s) => s !== 'motion') },
    },
  ],
};

export function checkedRubric(): Rubric {
  const problems = rubricProblems(
    RUBRIC,
    { requiredSensors: SENSORS, requiredActuators: [] },
    { requireCriteria: true },
  );
  if (problems.length > 0) throw new Error(`the benchmark's rubric is invalid: ${problems.join('; ')}`);
  return RUBRIC;
}

// ---------------------------------------------------------------- the readings

/** mulberry32: a small, fast, seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const round = (value: number, step: number) => Math.round(value / step) * step;
const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;

/**
 * One kit's readings, second by second: offsets per kit, slow drifts (AR(1)), slow cycles and
 * noise, quantized to each part's resolution; people passing the HC-SR04 / PIR now and then. By
 * its index in the class, a kit has a fault a real class has: a 4-minute Wi-Fi drop (index 3 of
 * 10: no record), a 15-minute temperature excursion to 32 °C (5), a humidity reading stuck for
 * 4 minutes (7), a 3-minute gas leak to ~600 ppm (11 of 25), or it copies the previous kit's
 * stream (49 of 50: only copy detection against peers sees it).
 */
export class KitSignal {
  readonly #fault: number;
  readonly #leak: boolean;
  readonly #noise: () => number;
  readonly #jitter: () => number;
  readonly #off: { t: number; h: number; l: number; m: number; d: number; g: number; p: number };
  readonly #phase: number;
  #walk = { t: 0, h: 0, l: 0, m: 0, g: 0 };
  #passing = 0;
  #pirHold = 0;
  #stuckHumidity: number | undefined;

  constructor(index: number, classSize = 50) {
    const source = index % classSize === classSize - 1 && index > 0 ? index - 1 : index;
    this.#fault = source % 10;
    this.#leak = source % 25 === 11;
    const setup = prng(source * 7919 + 17);
    this.#noise = prng(source * 104_729 + 3);
    this.#jitter = prng(index * 15_485_863 + 11); // the copy keeps its own clock
    const spread = (half: number) => (setup() * 2 - 1) * half;
    this.#off = {
      t: spread(1.5),
      h: spread(5),
      l: spread(150),
      m: spread(4),
      d: spread(20),
      g: spread(30),
      p: spread(4),
    };
    this.#phase = setup() * 2 * Math.PI;
  }

  /** ≈ N(0, 1), cheaply. */
  #gauss(): number {
    const r = this.#noise;
    return (r() + r() + r() + r() - 2) * 1.732_050_8;
  }

  /** Clock jitter of the kit's ts (0–40 ms). */
  jitterMs(): number {
    return Math.floor(this.#jitter() * 40);
  }

  /** The readings at second `s` of the attempt; undefined while the kit's Wi-Fi is down. */
  sample(s: number): Record<string, number> | undefined {
    const g = () => this.#gauss();
    const w = this.#walk;
    w.t = 0.999 * w.t + 0.01 * g();
    w.h = 0.998 * w.h + 0.05 * g();
    w.l = 0.995 * w.l + 3 * g();
    w.m = 0.999 * w.m + 0.005 * g();
    w.g = 0.995 * w.g + 0.8 * g();
    if (this.#passing > 0) this.#passing--;
    else if (this.#noise() < 0.005) this.#passing = 3 + Math.floor(this.#noise() * 6);
    this.#pirHold = this.#passing > 0 ? 3 : Math.max(0, this.#pirHold - 1);

    const cycle = Math.sin((2 * Math.PI * s) / 7200 + this.#phase);
    let excursion = 0;
    if (this.#fault === 5 && s >= 3000 && s < 3900) {
      excursion = 10 * Math.min(1, (s - 3000) / 60, (3900 - s) / 60);
    }
    const warm = 0.8 * cycle + w.t + excursion;
    const temperature = round1(22 + this.#off.t + warm + 0.08 * g());
    let humidity = round1(55 + this.#off.h - 1.5 * warm + w.h + 0.25 * g());
    if (this.#fault === 7 && s >= 2400 && s < 2640) {
      this.#stuckHumidity ??= humidity;
      humidity = this.#stuckHumidity;
    }
    const light = Math.max(
      0,
      round(650 + this.#off.l + 120 * Math.sin((2 * Math.PI * s) / 5400 + this.#phase) + w.l + 5 * g(), 1),
    );
    const soil = round1(45 + this.#off.m - 0.0004 * s + w.m + 0.15 * g());
    const distance = this.#passing > 0 ? round1(60 + 10 * g()) : round1(120 + this.#off.d + 0.6 * g());
    const leak = this.#leak && s >= 5000 && s < 5180 ? 450 : 0;
    const gas = Math.max(0, round(150 + this.#off.g + w.g + leak + 3 * g(), 1));
    const pressure = round2(1010 + this.#off.p + 0.3 * cycle + 0.04 * g());
    if (this.#fault === 3 && s >= 1800 && s < 2040) return undefined;
    return {
      temperature,
      humidity,
      light,
      soil_moisture: soil,
      distance: Math.min(400, Math.max(2, distance)),
      motion: this.#pirHold > 0 ? 1 : 0,
      gas,
      pressure,
    };
  }
}

export const kitName = (prefix: string, i: number) => `${prefix}-${String(i).padStart(4, '0')}`;

/** The class's records in time order (all kits at second 0, then second 1, …), in batches. */
export function* classBatches(
  kitIds: readonly string[],
  window: TimeWindow,
  seconds: number,
): Generator<TelemetryRecord[]> {
  const signals = kitIds.map((_, i) => new KitSignal(i, kitIds.length));
  let batch: TelemetryRecord[] = [];
  for (let s = 0; s < seconds; s++) {
    for (let k = 0; k < kitIds.length; k++) {
      const signal = signals[k] as KitSignal;
      const readings = signal.sample(s);
      const ts = window.from + s * 1000 + signal.jitterMs();
      if (!readings) continue;
      batch.push({ kitId: kitIds[k] as string, ts, seq: s, readings });
      if (batch.length >= WRITE_BATCH) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

// ---------------------------------------------------------------- final grading

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
 * each attempt also gets the other kits' series (each kit read once, then shared: the lab API's
 * batch cache) for copy detection, and the task's required sensors.
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
  const peerSeries = new Map<string, SeriesSet>();
  let loadMs = 0;
  let gradeMs = 0;
  let readingsGraded = 0;
  const start = performance.now();
  for (const kitId of kitIds) {
    const loadStart = performance.now();
    const data = await loadGradingData(store, kitId, window, sensors);
    const options: GradeOptions = {};
    if (peers) {
      const others: Record<string, SeriesSet> = {};
      for (const other of kitIds) {
        if (other === kitId) continue;
        let series = peerSeries.get(other);
        if (!series) {
          series = (await loadGradingData(store, other, window, sensors)).series;
          peerSeries.set(other, series);
        }
        others[other] = series;
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

const r2 = (n: number) => Math.round(n * 100) / 100;
const r3 = (n: number) => Math.round(n * 1000) / 1000;

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

async function finalGrading(opts: GradingBenchOptions): Promise<void> {
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

interface LiveSetup {
  attempts: { id: string; kitId: string }[];
  startedAt: number;
}

/** 1,000 running attempts: classes of 40 with a running lab session and teams of 4, one task. */
async function seedLive(db: LabDb, kits: number, startedAt: number): Promise<LiveSetup> {
  const now = Date.now();
  const perClass = 40;
  return db.transaction(async (tx) => {
    const instructor = randomUUID();
    await tx.run(
      "INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at) VALUES (?, 'bench-teacher', '教师', 'instructor', 'x', ?, ?)",
      [instructor, now, now],
    );
    const task = randomUUID();
    await tx.run(
      `INSERT INTO lab_tasks (id, title, instructions, required_sensors, duration_minutes, rubric, status, created_by, created_at, updated_at)
       VALUES (?, '温室环境监测', '## 实验步骤', ?, 120, ?, 'published', ?, ?, ?)`,
      [task, JSON.stringify(SENSORS), JSON.stringify(RUBRIC), instructor, now, now],
    );
    const attempts: { id: string; kitId: string }[] = [];
    let classId = '';
    let assignment = '';
    let session = '';
    let team = '';
    for (let i = 0; i < kits; i++) {
      if (i % perClass === 0) {
        classId = randomUUID();
        await tx.run(
          'INSERT INTO classes (id, name, term, instructor_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
          [classId, `物联网${2400 + i / perClass}`, '2026秋', instructor, now, now],
        );
        assignment = randomUUID();
        await tx.run(
          'INSERT INTO assignments (id, task_id, class_id, opens_at, due_at, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          [assignment, task, classId, now - 86_400_000, now + 86_400_000, instructor, now, now],
        );
        session = randomUUID();
        await tx.run(
          'INSERT INTO lab_sessions (id, class_id, assignment_id, started_by, started_at) VALUES (?, ?, ?, ?, ?)',
          [session, classId, assignment, instructor, startedAt],
        );
      }
      if (i % 4 === 0) {
        team = randomUUID();
        await tx.run('INSERT INTO teams (id, class_id, name, created_at) VALUES (?, ?, ?, ?)', [
          team,
          classId,
          `第${(i % perClass) / 4 + 1}组`,
          now,
        ]);
        await tx.run('INSERT INTO assignment_targets (assignment_id, team_id) VALUES (?, ?)', [
          assignment,
          team,
        ]);
      }
      const student = randomUUID();
      const number = `2026${String(i).padStart(6, '0')}`;
      await tx.run(
        "INSERT INTO users (id, username, display_name, role, student_number, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'student', ?, 'x', ?, ?)",
        [student, number, `学生${number}`, number, now, now],
      );
      await tx.run('INSERT INTO team_members (team_id, user_id) VALUES (?, ?)', [team, student]);
      const kitId = kitName('live', i);
      await tx.run("INSERT INTO kits (id, name, kind, created_at, updated_at) VALUES (?, ?, 'esp32', ?, ?)", [
        kitId,
        kitId,
        now,
        now,
      ]);
      const id = randomUUID();
      await tx.run(
        'INSERT INTO attempts (id, assignment_id, session_id, student_id, team_id, kit_id, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [id, assignment, session, student, team, kitId, startedAt],
      );
      attempts.push({ id, kitId });
    }
    return { attempts, startedAt };
  });
}

/**
 * Feeds one record per kit per second (kits in turn, spread over the second) to `sink` until
 * `shouldStop()` or `maxSeconds`; ts is the platform's receive time. Returns the records fed.
 */
async function feed(
  kitIds: readonly string[],
  signals: readonly KitSignal[],
  firstSecond: number,
  sink: (record: TelemetryRecord) => void,
  maxSeconds: number,
  shouldStop: () => boolean,
): Promise<number> {
  const tickMs = 10;
  const perSecond = kitIds.length;
  const start = Date.now();
  const deadline = start + maxSeconds * 1000;
  const maxRecords = Math.ceil(perSecond * maxSeconds);
  let sent = 0;
  let fed = 0;
  while (!shouldStop() && Date.now() < deadline && sent < maxRecords) {
    const due = Math.min(maxRecords, Math.floor(((Date.now() - start) * perSecond) / 1000));
    while (sent < due) {
      const k = sent % kitIds.length;
      const s = firstSecond + Math.floor(sent / kitIds.length);
      sent++;
      const readings = (signals[k] as KitSignal).sample(s);
      if (!readings) continue;
      sink({ kitId: kitIds[k] as string, ts: Date.now(), seq: s, readings });
      fed++;
    }
    await sleep(tickMs);
  }
  return fed;
}

function cpuPercent(since: NodeJS.CpuUsage, wallMs: number): number {
  const used = process.cpuUsage(since);
  return ((used.user + used.system) / 1000 / wallMs) * 100;
}

/** Heap in use after a full garbage collection: what the grader's buffers really hold, in MB. */
function retainedHeapMB(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  return Math.round(process.memoryUsage().heapUsed / 1_048_576);
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** The record generator and pacing alone, for the same duration: subtracted from the live runs. */
async function generatorBaseline(kits: number, seconds: number): Promise<number> {
  const kitIds = Array.from({ length: kits }, (_, i) => kitName('live', i));
  const signals = kitIds.map((_, i) => new KitSignal(i));
  const sink: TelemetryRecord[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  const fed = await feed(
    kitIds,
    signals,
    0,
    (record) => {
      // Kept for a moment, as a listener would: the generator's work cannot be optimized away.
      sink.push(record);
      if (sink.length > 1_000) sink.length = 0;
    },
    seconds,
    () => false,
  );
  const wall = performance.now() - start;
  const percent = cpuPercent(cpu, wall);
  emit({
    run: 'live-generator',
    kits,
    seconds: r2(wall / 1000),
    recordsFed: fed,
    cpuPercent: r2(percent),
  });
  return percent;
}

async function liveRun(opts: GradingBenchOptions, historyMinutes: number, generatorPercent: number) {
  const dir = mkdtempSync(join(tmpdir(), 'iotlab-bench-live-'));
  const db = openLabDb(join(dir, 'lab.sqlite'));
  const store = createEmbeddedStore({ path: join(dir, 'telemetry.sqlite'), retentionDays: 0 });
  const historySeconds = Math.round(historyMinutes * 60);
  const prefillStart = Date.now();
  const { attempts, startedAt } = await seedLive(db, opts.liveKits, prefillStart - historySeconds * 1000);
  let published = 0;
  let publishedBytes = 0;
  // The broker's publish, minus routing to subscribers: each state is still serialized to JSON.
  const aedes = {
    publish(packet: PublishPacket, callback: (error?: Error) => void) {
      published++;
      publishedBytes += (packet.payload as Buffer).length;
      callback();
    },
  };
  const grader = new LiveGrader({ source: new LabLiveSource(db), store, aedes });
  // Each attempt followed as an event stream would be: it gets the state's JSON bytes.
  const latest = new Map<string, PublishedState>();
  let updates = 0;
  const unsubscribe = attempts.map(({ id }) =>
    grader.subscribe(id, (update) => {
      if (update.type === 'closed') return;
      updates++;
      latest.set(id, update.published);
    }),
  );
  const kitIds = attempts.map((a) => a.kitId);
  const signals = kitIds.map((_, i) => new KitSignal(i));
  let stopFeeding = false;
  let feeding: Promise<number> | undefined;
  try {
    grader.start();
    const tracked = await waitFor(() => latest.size === attempts.length, 120_000);
    if (!tracked)
      throw new Error(`live: only ${latest.size} of ${attempts.length} attempts graded after 120 s`);

    // What the attempts sent before: their readings, through the ingest listener (not measured).
    for (let s = 0; s < historySeconds; s++) {
      for (let k = 0; k < kitIds.length; k++) {
        const signal = signals[k] as KitSignal;
        const readings = signal.sample(s);
        const ts = startedAt + s * 1000 + signal.jitterMs();
        if (readings) grader.record({ kitId: kitIds[k] as string, ts, seq: s, readings });
      }
    }
    const prefillSeconds = (Date.now() - prefillStart) / 1000;

    // Live: one record per kit per second. Warm up until every attempt is graded on live data.
    const liveFrom = Date.now();
    const totalSeconds = 600 + opts.liveSeconds;
    feeding = feed(
      kitIds,
      signals,
      historySeconds,
      (r) => grader.record(r),
      totalSeconds,
      () => stopFeeding,
    );
    const caughtUp = await waitFor(
      () =>
        Date.now() - liveFrom > 5_000 &&
        [...latest.values()].every((state) => (state.lastReadingAt ?? 0) >= liveFrom),
      WARMUP_LIMIT_MS,
    );
    const warmupSeconds = (Date.now() - liveFrom) / 1000;

    const updatesBefore = updates;
    const publishedBefore = published;
    const stopProfile = await profileCpu();
    const stopGc = await watchGc();
    const evaluationMsBefore = grader.stats.evaluationMs;
    const evaluationsBefore = grader.stats.evaluations;
    const renderedBefore = grader.stats.criteriaRendered;
    const delaysBefore = grader.stats.delayHistogram.slice();
    const threadsBefore = threadCpuSeconds();
    const cpu = process.cpuUsage();
    const wallStart = performance.now();
    await sleep(opts.liveSeconds * 1000);
    const threadsAfter = threadCpuSeconds();
    const wall = performance.now() - wallStart;
    const percent = cpuPercent(cpu, wall);
    const evaluationPercent = (100 * (grader.stats.evaluationMs - evaluationMsBefore)) / wall;
    const gcPauses = stopGc();
    await stopProfile();
    const evaluations = grader.stats.evaluations - evaluationsBefore;
    const statesSent = updates - updatesBefore;
    const delays = grader.stats.delayHistogram.map((count, i) => count - (delaysBefore[i] ?? 0));
    const now = Date.now();
    const ages = [...latest.values()]
      .map((state) => (now - (state.lastReadingAt ?? now)) / 1000)
      .sort((a, b) => a - b);
    const windows = [...latest.values()]
      .map(({ state }) => (state.window.to - state.window.from) / 60_000)
      .sort((a, b) => a - b);
    const memory = process.memoryUsage();
    stopFeeding = true;
    const fed = await feeding;
    feeding = undefined;
    const heapRetainedMB = retainedHeapMB();
    // What the heap holds (IOTLAB_BENCH_HEAP_SNAPSHOT=<file>: a .heapsnapshot for DevTools).
    if (process.env.IOTLAB_BENCH_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.IOTLAB_BENCH_HEAP_SNAPSHOT);
    const net = percent - generatorPercent;
    emit({
      run: 'live',
      kits: opts.liveKits,
      sensorsPerKit: SENSORS.length,
      recordsPerSecond: opts.liveKits,
      historyMinutes,
      sessions: Math.ceil(opts.liveKits / 40),
      criteria: RUBRIC.criteria.length,
      prefillSeconds: r2(prefillSeconds),
      warmupSeconds: r2(warmupSeconds),
      caughtUp,
      seconds: r2(wall / 1000),
      recordsFedTotal: fed,
      evaluations,
      evaluationsPerSecond: Math.round(evaluations / (wall / 1000)),
      statesPublishedPerSecond: Math.round((published - publishedBefore) / (wall / 1000)),
      avgStateBytes: Math.round(publishedBytes / Math.max(1, published)),
      statesToSubscribersPerSecond: Math.round(statesSent / (wall / 1000)),
      criteriaRenderedPerSecond: Math.round((grader.stats.criteriaRendered - renderedBefore) / (wall / 1000)),
      // From a record's arrival to the evaluation that graded it (and published what it changed).
      delayP50Seconds: r2(histogramPercentile(delays, 50)),
      delayP99Seconds: r2(histogramPercentile(delays, 99)),
      delayMaxSeconds: r2(histogramPercentile(delays, 100)),
      // How old the newest reading of each attempt's latest published state is (details refresh).
      stateAgeP50Seconds: r2(percentile(ages, 50)),
      stateAgeP99Seconds: r2(percentile(ages, 99)),
      gradedWindowMinutesP50: r2(percentile(windows, 50)),
      processCpuPercent: r2(percent),
      // Of which the main thread (grading, and the generator) and the other threads (V8's GC helpers).
      ...(threadsBefore && threadsAfter
        ? {
            mainThreadPercent: r2((100 * (threadsAfter.main - threadsBefore.main) * 1000) / wall),
            otherThreadsPercent: r2((100 * (threadsAfter.others - threadsBefore.others) * 1000) / wall),
          }
        : {}),
      generatorCpuPercent: r2(generatorPercent),
      cpuPercent: r2(net),
      // The rubric evaluations alone (wall time inside them), apart from building and publishing states.
      evaluationPercent: r2(evaluationPercent),
      targetPercent: LIVE_TARGET_PERCENT,
      meetsTarget: net < LIVE_TARGET_PERCENT,
      // Main-thread pauses for garbage collection during the measured seconds.
      gcPauses,
      heapUsedMB: Math.round(memory.heapUsed / 1_048_576),
      heapRetainedMB,
      rssMB: Math.round(memory.rss / 1_048_576),
    });
  } finally {
    stopFeeding = true;
    await feeding;
    for (const stop of unsubscribe) stop();
    await grader.close();
    await store.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The upper edge (s) of the delay bucket where the p-th percentile of the counts falls. */
function histogramPercentile(counts: ArrayLike<number>, p: number): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] as number;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] as number;
    if (seen >= (total * p) / 100) return ((i + 1) * DELAY_BUCKET_MS) / 1000;
  }
  return (counts.length * DELAY_BUCKET_MS) / 1000;
}

/**
 * What one live evaluation (`gradeLive`, what LiveGrader runs per attempt and second) costs on
 * one kit's buffer of `minutes`, with and without the authenticity criterion.
 */
function evaluationCost(): void {
  const withoutAuthenticity: Rubric = { criteria: RUBRIC.criteria.filter((c) => c.type !== 'authenticity') };
  const options: GradeOptions = { requiredSensors: SENSORS };
  const time = (rubric: Rubric, window: TimeWindow, data: GradingData) => {
    for (let i = 0; i < 3; i++) gradeLive(rubric, window, data, options);
    let runs = 0;
    const start = performance.now();
    while (runs < 200 && performance.now() - start < 2_000) {
      gradeLive(rubric, window, data, options);
      runs++;
    }
    return (performance.now() - start) / runs;
  };
  for (const minutes of COST_WINDOWS) {
    const signal = new KitSignal(1);
    const series: Record<string, SeriesPoint[]> = Object.fromEntries(SENSORS.map((s) => [s, []]));
    const from = Date.now() - minutes * 60_000;
    let readings = 0;
    for (let s = 0; s < minutes * 60; s++) {
      const values = signal.sample(s);
      for (const [sensor, value] of Object.entries(values ?? {})) {
        series[sensor]?.push({ ts: from + s * 1000, value });
        readings++;
      }
    }
    const data: GradingData = { series, events: [], commands: [] };
    const window = { from, to: from + minutes * 60_000 };
    const ms = time(RUBRIC, window, data);
    const msWithout = time(withoutAuthenticity, window, data);
    emit({
      run: 'live-evaluation-cost',
      windowMinutes: minutes,
      readings,
      criteria: RUBRIC.criteria.length,
      msPerEvaluation: r3(ms),
      msWithoutAuthenticity: r3(msWithout),
      authenticityPercent: Math.round((100 * (ms - msWithout)) / ms),
      kitsAt1HzPerCore: Math.floor(1000 / ms),
      kitsAt1HzWithin10PercentOfACore: Math.floor(100 / ms),
    });
  }
}

async function liveGrading(opts: GradingBenchOptions): Promise<void> {
  // Live grading runs in the platform's process, with its garbage-collection settings.
  tuneHeapForServer();
  evaluationCost();
  const generatorPercent = await generatorBaseline(opts.liveKits, opts.liveSeconds);
  for (const minutes of opts.liveHistoryMinutes) await liveRun(opts, minutes, generatorPercent);
}

export async function gradingBench(opts: GradingBenchOptions): Promise<void> {
  if (opts.parts.includes('final')) await finalGrading(opts);
  if (opts.parts.includes('live')) await liveGrading(opts);
}
