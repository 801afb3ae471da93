/**
 * Automatic grading when an attempt ends: ending an attempt, or the session it runs in, grades it
 * without anyone asking — the instructor's first look at the grade finds a run made by the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment, Attempt, ClassInfo, LabSession, Project, Task } from '../../contract/index.ts';
import { type Person, startTestLab, type TestLab } from '../helpers/lab.ts';

let lab: TestLab;
let instructor: Person;
let assignmentId: string;
let classId: string;
const students: Person[] = [];

const rubric = {
  criteria: [
    {
      id: 'warm',
      title: { 'zh-CN': '温度在 20–30 °C', en: 'Temperature within 20–30 °C' },
      weight: 100,
      partialCredit: true,
      type: 'range',
      params: { sensor: 'temperature', min: 20, max: 30, minPercent: 90 },
    },
  ],
};

async function call(method: 'GET' | 'POST' | 'PUT', url: string, as: Person, payload?: unknown) {
  return lab.call({
    method,
    url: `/api/v1${url}`,
    as,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

/** The grade runs stored for an attempt, read from the database (a read through the API would grade). */
async function runsOf(attemptId: string): Promise<{ reason: string }[]> {
  return lab.db.all<{ reason: string }>('SELECT reason FROM grade_runs WHERE attempt_id = ?', [attemptId]);
}

async function waitForRun(attemptId: string, timeoutMs = 15_000): Promise<{ reason: string }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs = await runsOf(attemptId);
    if (runs.length > 0 || Date.now() > deadline) return runs;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts an attempt for the student and writes a few in-range readings from their kit. */
async function attemptWithData(student: Person): Promise<string> {
  const started = await call('POST', `/assignments/${assignmentId}/attempts`, student);
  expect(started.statusCode, started.body).toBe(201);
  const now = Date.now();
  await lab.store.write(
    [0, 1, 2].map((i) => ({
      kitId: `${student.username}-kit`,
      ts: now + i * 10,
      readings: { temperature: 24.5 + i * 0.3 },
    })),
  );
  return (started.json() as Attempt).id;
}

beforeAll(async () => {
  // The periodic sweep would also grade ended attempts; keep it out of the way (once an hour), so
  // only the end routes can have graded what this file checks.
  lab = await startTestLab({ automaticGrading: { sweepMs: 3_600_000, settleMs: 2_000 } });
  instructor = lab.users.instructor;
  const project = await call('POST', '/projects', lab.users.mentor, { title: '温室监测', difficulty: 1 });
  const task = await call('POST', '/tasks', lab.users.mentor, {
    projectId: (project.json() as Project).id,
    title: '温度采集',
    requiredSensors: ['temperature'],
    durationMinutes: 30,
    rubric,
  });
  expect(task.statusCode, task.body).toBe(201);
  classId = ((await call('POST', '/classes', instructor, { name: '物联网2503' })).json() as ClassInfo).id;
  for (const n of [1, 2, 3]) {
    const student = await lab.addUser('student', { studentNumber: `202500010${n}` });
    students.push(student);
    await lab.registry.addKit({ id: `${student.username}-kit` });
  }
  await call('POST', `/classes/${classId}/students`, instructor, { studentIds: students.map((s) => s.id) });
  for (const student of students) {
    const bound = await call('PUT', `/kits/${student.username}-kit/binding`, instructor, {
      studentId: student.id,
    });
    expect(bound.statusCode, bound.body).toBe(200);
  }
  const assignment = await call('POST', `/classes/${classId}/assignments`, instructor, {
    taskId: (task.json() as Task).id,
    opensAt: Date.now() - 60_000,
    dueAt: Date.now() + 3_600_000,
    studentIds: students.map((s) => s.id),
  });
  expect(assignment.statusCode, assignment.body).toBe(201);
  assignmentId = (assignment.json() as Assignment).id;
}, 60_000);

afterAll(async () => {
  await lab.close();
});

describe('grading when attempts end', () => {
  it('grades an attempt its student ends, with the score of its telemetry', async () => {
    const session = await call('POST', `/classes/${classId}/sessions`, instructor, { assignmentId });
    expect(session.statusCode, session.body).toBe(201);
    const student = students[0] as Person;
    const attemptId = await attemptWithData(student);
    expect(await runsOf(attemptId)).toEqual([]);

    expect((await call('POST', `/attempts/${attemptId}/end`, student)).statusCode).toBe(200);
    expect(await waitForRun(attemptId)).toEqual([{ reason: 'attempt-ended' }]);

    const review = await call('GET', `/attempts/${attemptId}/grade`, instructor);
    expect(review.json()).toMatchObject({
      run: { reason: 'attempt-ended' },
      final: { autoScore: 100 },
    });

    // The other students' attempts run on: ending one attempt grades only that one.
    const other = await attemptWithData(students[1] as Person);
    expect(await runsOf(other)).toEqual([]);
    const ended = await call('POST', `/sessions/${(session.json() as LabSession).id}/end`, instructor);
    expect(ended.json()).toMatchObject({ endedAttempts: [other] });
    expect(await waitForRun(other)).toEqual([{ reason: 'attempt-ended' }]);
  });
});
