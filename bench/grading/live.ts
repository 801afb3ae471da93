/** Live grading: the cost of one evaluation, and a LiveGrader fed 1,000 running attempts at 1 Hz. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { PublishPacket } from 'aedes';
import { tuneHeapForServer } from '../../cli/heap.ts';
import {
  DELAY_BUCKET_MS,
  type GradeOptions,
  type GradingData,
  gradeLive,
  LiveGrader,
  type PublishedState,
  type Rubric,
  type SeriesPoint,
  type TimeWindow,
} from '../../grading/index.ts';
import { LabLiveSource } from '../../lab-api/index.ts';
import { type LabDb, openLabDb } from '../../labdb/index.ts';
import type { TelemetryRecord } from '../../protocol/index.ts';
import { createEmbeddedStore } from '../../telemetry/index.ts';
import { percentile } from '../load.ts';
import { profileCpu, sleep, threadCpuSeconds, watchGc } from '../report.ts';

import {
  COST_WINDOWS,
  emit,
  type GradingBenchOptions,
  KitSignal,
  kitName,
  LIVE_TARGET_PERCENT,
  RUBRIC,
  r2,
  r3,
  SENSORS,
  WARMUP_LIMIT_MS,
} from './class-data.ts';

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
  // The heap before the grader: the modules loaded (the lab API's among them) and the lab's data;
  // reported apart, so graderHeapMB is what live grading itself holds.
  const heapBeforeGraderMB = retainedHeapMB();
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
      heapBeforeGraderMB,
      graderHeapMB: heapRetainedMB - heapBeforeGraderMB,
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

export async function liveGrading(opts: GradingBenchOptions): Promise<void> {
  // Live grading runs in the platform's process, with its garbage-collection settings.
  tuneHeapForServer();
  evaluationCost();
  const generatorPercent = await generatorBaseline(opts.liveKits, opts.liveSeconds);
  for (const minutes of opts.liveHistoryMinutes) await liveRun(opts, minutes, generatorPercent);
}
