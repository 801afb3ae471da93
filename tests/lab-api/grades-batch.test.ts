/**
 * Grading a lab session's attempts in one batch (re-grading, automatic grading): each kit is read
 * from the telemetry store once — for its own attempt and as the other attempts' copy-detection
 * peer — and every attempt gets exactly the grade it gets graded alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment, Attempt, ClassInfo, LabSession, Project, Task } from '../../contract/index.ts';
import { Grades } from '../../lab-api/grades/index.ts';
import type { TelemetryRecord } from '../../protocol/index.ts';
import type { TelemetryStore } from '../../telemetry/index.ts';
import { type Person, startTestLab, type TestLab } from '../helpers/lab.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const T0 = Math.floor((Date.now() - 60 * MINUTE) / 1000) * 1000;
/** The session ran [SESSION_FROM, SESSION_TO); the kits sent data all along, the attempts less. */
const SESSION_FROM = T0 - MINUTE;
const SESSION_TO = T0 + 12 * MINUTE;

const rubric = {
  criteria: [
    {
      id: 'cold_range',
      title: { 'zh-CN': '温度保持在 2–8 °C', en: 'Kept at 2–8 °C' },
      weight: 30,
      partialCredit: true,
      type: 'range',
      params: { sensor: 'temperature', min: 2, max: 8, minPercent: 90 },
    },
    {
      id: 'no_gaps',
      title: { 'zh-CN': '数据无中断', en: 'No gaps in the data' },
      weight: 20,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'temperature', maxGapSeconds: 5, minPercent: 95 },
    },
    {
      id: 'fan_on_warm',
      title: { 'zh-CN': '过热时开风扇', en: 'Fan on when too warm' },
      weight: 20,
      partialCredit: true,
      type: 'threshold_response',
      params: { sensor: 'temperature', above: 7.5, respondWith: { actuator: 'fan' }, withinSeconds: 10 },
    },
    {
      id: 'door_alarm',
      title: { 'zh-CN': '开门报警', en: 'Door alarm raised' },
      weight: 10,
      partialCredit: false,
      type: 'events',
      params: { event: 'door', minCount: 2 },
    },
    {
      id: 'measured',
      title: { 'zh-CN': '数据真实', en: 'Measured data' },
      weight: 20,
      partialCredit: false,
      type: 'authenticity',
      params: { sensors: ['temperature'] },
    },
  ],
};

/**
 * The store the lab reads, counting what grading reads of it: `readings` calls per kit and
 * series, `seriesNames` calls per kit.
 */
function countingStore(store: TelemetryStore) {
  const readings = new Map<string, number>();
  const names = new Map<string, number>();
  const add = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const counting: TelemetryStore = {
    kind: store.kind,
    write: (records) => store.write(records),
    readings(query) {
      add(readings, `${query.kitId}|${query.sensor}`);
      return store.readings(query);
    },
    aggregate: (query) => store.aggregate(query),
    latest: (kitId) => store.latest(kitId),
    count: (query) => store.count(query),
    sequence: (query) => store.sequence(query),
    seriesNames(kitId) {
      add(names, kitId);
      return store.seriesNames(kitId);
    },
    ping: () => store.ping(),
    close: async () => {},
  };
  return {
    store: counting,
    readings,
    names,
    reset() {
      readings.clear();
      names.clear();
    },
  };
}

/** A deterministic, noisy-looking value (no two equal steps: it must look measured). */
function noise(i: number, seed: number): number {
  const x = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

let lab: TestLab;
let instructor: Person;
let assignmentId: string;
/** The session's attempts as re-grading orders them (started_at, id). */
let attempts: { id: string; sessionId: string | null }[] = [];

async function call(method: 'GET' | 'POST' | 'PUT', url: string, as: Person, payload?: unknown) {
  return lab.call({
    method,
    url: `/api/v1${url}`,
    as,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

async function attempt(student: Person, from: number, to: number): Promise<string> {
  const started = await call('POST', `/assignments/${assignmentId}/attempts`, student, {
    kitId: `${student.username}-kit`,
  });
  expect(started.statusCode, started.body).toBe(201);
  const id = (started.json() as Attempt).id;
  expect((await call('POST', `/attempts/${id}/end`, student)).statusCode).toBe(200);
  await lab.db.run('UPDATE attempts SET started_at = ?, ended_at = ? WHERE id = ?', [from, to, id]);
  return id;
}

beforeAll(async () => {
  lab = await startTestLab({ automaticGrading: false });
  instructor = lab.users.instructor;
  const project = await call('POST', '/projects', lab.users.mentor, { title: '冷链监测', difficulty: 2 });
  const task = await call('POST', '/tasks', lab.users.mentor, {
    projectId: (project.json() as Project).id,
    title: '冷库温度监测',
    requiredSensors: ['temperature', 'humidity'],
    requiredActuators: ['fan'],
    durationMinutes: 90,
    rubric,
  });
  expect(task.statusCode, task.body).toBe(201);
  const classId = ((await call('POST', '/classes', instructor, { name: '物联网2504' })).json() as ClassInfo)
    .id;
  const [alice, bob, carol, dave] = [
    await lab.addUser('student'),
    await lab.addUser('student'),
    await lab.addUser('student'),
    await lab.addUser('student'),
  ] as Person[] as [Person, Person, Person, Person];
  const students = [alice, bob, carol, dave];
  await call('POST', `/classes/${classId}/students`, instructor, { studentIds: students.map((s) => s.id) });
  for (const student of students) {
    await lab.registry.addKit({ id: `${student.username}-kit` });
    const bound = await call('PUT', `/kits/${student.username}-kit/binding`, instructor, {
      studentId: student.id,
    });
    expect(bound.statusCode, bound.body).toBe(200);
  }
  const assignment = await call('POST', `/classes/${classId}/assignments`, instructor, {
    taskId: (task.json() as Task).id,
    opensAt: T0 - 60 * MINUTE,
    dueAt: Date.now() + 60 * MINUTE,
    studentIds: students.map((s) => s.id),
  });
  expect(assignment.statusCode, assignment.body).toBe(201);
  assignmentId = (assignment.json() as Assignment).id;
  const session = await call('POST', `/classes/${classId}/sessions`, instructor, { assignmentId });
  expect(session.statusCode, session.body).toBe(201);
  const sessionId = (session.json() as LabSession).id;

  // alice and dave: the whole lab (dave's stream a copy of alice's); bob: part of it; carol: two
  // attempts, the second replaying a stretch of the first.
  await attempt(alice, T0, T0 + 10 * MINUTE);
  await attempt(bob, T0 + MINUTE, T0 + 9 * MINUTE);
  await attempt(carol, T0, T0 + 4 * MINUTE);
  await attempt(carol, T0 + 5 * MINUTE, T0 + 10 * MINUTE);
  await attempt(dave, T0 + 30 * SECOND, T0 + 10 * MINUTE);
  expect((await call('POST', `/sessions/${sessionId}/end`, instructor)).statusCode).toBe(200);
  await lab.db.run('UPDATE lab_sessions SET started_at = ?, ended_at = ? WHERE id = ?', [
    SESSION_FROM,
    SESSION_TO,
    sessionId,
  ]);
  attempts = await lab.db.all<{ id: string; sessionId: string | null }>(
    'SELECT id, session_id AS "sessionId" FROM attempts WHERE assignment_id = ? ORDER BY started_at, id',
    [assignmentId],
  );
  expect(attempts).toHaveLength(5);
  expect(new Set(attempts.map((a) => a.sessionId))).toEqual(new Set([sessionId]));

  const records: TelemetryRecord[] = [];
  const seconds = (SESSION_TO - SESSION_FROM) / SECOND;
  for (const [k, student] of students.entries()) {
    const kitId = `${student.username}-kit`;
    for (let i = 0; i < seconds; i++) {
      const ts = SESSION_FROM + i * SECOND;
      // dave copies alice; carol replays, from minute 6 of the session on, her own minutes 1–3.
      const seed = student === dave ? 0 : k;
      const j = student === carol && i >= 6 * 60 + 30 && i < 8 * 60 ? i - 5 * 60 : i;
      const offset = seed === 1 ? j % 120 : j % 300;
      const warm = offset < (seed === 1 ? 20 : 10);
      const temperature = Number(((warm ? 8.5 : 5) + Math.sin(j / 40) + noise(j, seed)).toFixed(2));
      const humidity = Number((60 + 5 * noise(j, seed + 10)).toFixed(1));
      if (student === bob && i >= 200 && i < 230) continue;
      // The fan runs from 4 s into each warm stretch (bob's: 15 s, too late), on a command.
      const fan = warm && offset >= (seed === 1 ? 15 : 4) ? 1 : 0;
      records.push({ kitId, ts, readings: { temperature, humidity, fan } });
      if (fan && offset === (seed === 1 ? 15 : 4))
        records.push({ kitId, ts: ts + 200, readings: { '@command.fan': 1 } });
    }
    // Door alarms, some of them outside the attempts' windows.
    for (const at of [T0 - 30 * SECOND, T0 + 2 * MINUTE, T0 + 3 * MINUTE + k * SECOND, T0 + 11 * MINUTE])
      records.push({ kitId, ts: at, readings: { '@event.door': 1 } });
    // An alarm at the very end of every window: [from, to) leaves it out.
    records.push({ kitId, ts: T0 + 10 * MINUTE, readings: { '@event.door': 1 } });
  }
  await lab.store.write(records);
}, 60_000);

afterAll(async () => {
  await lab.close();
});

describe('grading a session in one batch', () => {
  it('gives every attempt the grade it gets alone, reading each kit once', async () => {
    const counted = countingStore(lab.store);
    const grades = new Grades({ db: lab.db, store: counted.store });

    const alone: Record<string, unknown> = {};
    for (const { id } of attempts) alone[id] = (await grades.runs.gradeAttempt(id, 'manual', null)).result;
    const readAlone = [...counted.readings.values()].reduce((a, b) => a + b, 0);

    counted.reset();
    const batch = await grades.runs.gradeBatch(attempts, 'rubric-changed', null, false);
    expect(batch.failed).toEqual([]);
    expect(batch.graded.map((run) => run.attemptId)).toEqual(attempts.map((a) => a.id));
    for (const run of batch.graded)
      expect(JSON.stringify(run.result)).toBe(JSON.stringify(alone[run.attemptId]));

    // The scenario exercises what the batch shares: copies, a replay of an earlier attempt,
    // events and commands cut to each window.
    const results = batch.graded.map((run) => run.result);
    const flags = results.flatMap((r) => r.flags.map((f) => `${f.kind} ${f.sensor}`)).sort();
    // alice's and dave's (a copy flags both kits), carol's second attempt.
    expect(flags).toEqual([
      'copy humidity',
      'copy humidity',
      'copy temperature',
      'copy temperature',
      'replay humidity',
      'replay temperature',
    ]);
    expect(new Set(results.map((r) => r.total)).size).toBeGreaterThan(1);
    const doors = results.flatMap((r) => r.criteria.filter((c) => c.id === 'door_alarm'));
    // Carol's second attempt saw no alarm: the one at its very end is outside [from, to).
    expect(doors.filter((c) => c.passed)).toHaveLength(4);

    // Each kit once: every series a use reads (the rubric's temperature and fan, the checked
    // temperature and humidity, its events and commands) read in one request, its series listed once.
    const kits = [...counted.names.keys()].sort();
    expect(kits).toHaveLength(4);
    expect([...counted.names.values()]).toEqual([1, 1, 1, 1]);
    for (const kit of kits) {
      const read = [...counted.readings].filter(([key]) => key.startsWith(`${kit}|`));
      expect(read.map(([key]) => key.slice(kit.length + 1)).sort()).toEqual([
        '@command.fan',
        '@event.door',
        'fan',
        'humidity',
        'temperature',
      ]);
      expect(read.every(([, n]) => n === 1)).toBe(true);
    }
    const readInBatch = [...counted.readings.values()].reduce((a, b) => a + b, 0);
    expect(readInBatch).toBe(20);
    expect(readAlone).toBeGreaterThan(2 * readInBatch);
  });
});
