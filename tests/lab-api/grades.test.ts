/**
 * Grades over the real lab database and embedded store: telemetry written for each attempt's
 * window, graded with evidence in both languages; overrides (reason required, audited); the
 * enterprise mentor's weighted score and provisional grades; re-grading after a rubric change
 * with the history kept; grades per student and team; CSV and XLSX exports; statistics; access.
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  Assignment,
  AssignmentGrades,
  AssignmentStatistics,
  Attempt,
  AttemptGrade,
  AuditEntry,
  ClassInfo,
  LabSession,
  Organisation,
  Page,
  Project,
  RegradeReport,
  RunHistory,
  Task,
  Team,
  Telemetry,
} from '../../contract/index.ts';
import { Grades } from '../../lab-api/grades/index.ts';
import type { TelemetryRecord } from '../../protocol/index.ts';
import { type Person, startTestLab, type TestLab } from '../helpers/lab.ts';

const MINUTE = 60_000;
const T0 = Math.floor((Date.now() - 60 * MINUTE) / 1000) * 1000;
const T1 = T0 + 10 * MINUTE;

const rubric = {
  criteria: [
    {
      id: 'cold_range',
      title: { 'zh-CN': '温度保持在 2–8 °C', en: 'Kept at 2–8 °C' },
      weight: 60,
      partialCredit: true,
      type: 'range',
      params: { sensor: 'temperature', min: 2, max: 8, minPercent: 95 },
    },
    {
      id: 'no_gaps',
      title: { 'zh-CN': '数据无中断', en: 'No gaps in the data' },
      weight: 40,
      partialCredit: false,
      type: 'completeness',
      params: { sensor: 'temperature', maxGapSeconds: 5, minPercent: 99 },
    },
  ],
};

let lab: TestLab;
let instructor: Person;
let mentor: Person;
let alice: Person;
let bob: Person;
let carol: Person;
let dave: Person;
let classId: string;
let teamId: string;
let taskId: string;
let assignmentId: string;
const attempts: Record<string, string> = {};

async function call(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  as: Person,
  payload?: unknown,
  headers = {},
) {
  return lab.call({
    method,
    url: `/api/v1${url}`,
    as,
    headers,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

/** A deterministic, noisy-looking series (no two equal steps: it must look measured). */
function noise(i: number, seed: number): number {
  const x = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

/** Temperature at 1 Hz over [T0, T1): `value(i)`, leaving out readings where `skip(i)`. */
function temperature(
  kitId: string,
  value: (i: number) => number,
  skip: (i: number) => boolean = () => false,
): TelemetryRecord[] {
  const records: TelemetryRecord[] = [];
  for (let i = 0; i < (T1 - T0) / 1000; i++) {
    if (skip(i)) continue;
    records.push({ kitId, ts: T0 + i * 1000, readings: { temperature: Number(value(i).toFixed(2)) } });
  }
  return records;
}

beforeAll(async () => {
  // Automatic grading is exercised by calling it; no timer runs beside the assertions.
  lab = await startTestLab({ automaticGrading: false });
  instructor = lab.users.instructor;
  mentor = lab.users.mentor;
  const project = await call('POST', '/projects', mentor, { title: '冷链监测', difficulty: 2 });
  expect(project.statusCode, project.body).toBe(201);
  const task = await call('POST', '/tasks', mentor, {
    projectId: (project.json() as Project).id,
    title: '冷库温度监测',
    requiredSensors: ['temperature'],
    durationMinutes: 90,
    mentorWeight: 40,
    rubric,
  });
  expect(task.statusCode, task.body).toBe(201);
  taskId = (task.json() as Task).id;

  classId = ((await call('POST', '/classes', instructor, { name: '物联网2502' })).json() as ClassInfo).id;
  alice = await lab.addUser('student', { studentNumber: '2025000001' });
  bob = await lab.addUser('student', { studentNumber: '2025000002' });
  carol = await lab.addUser('student', { studentNumber: '2025000003' });
  dave = await lab.addUser('student', { studentNumber: '2025000004' });
  await call('POST', `/classes/${classId}/students`, instructor, {
    studentIds: [alice, bob, carol, dave].map((s) => s.id),
  });
  const team = await call('POST', `/classes/${classId}/teams`, instructor, {
    name: '冷链一组',
    memberIds: [alice.id, bob.id, dave.id],
  });
  teamId = (team.json() as Team).id;
  for (const student of [alice, bob, carol]) {
    const kitId = `${student.username}-kit`;
    await lab.registry.addKit({ id: kitId });
    const bound = await call('PUT', `/kits/${kitId}/binding`, instructor, { studentId: student.id });
    expect(bound.statusCode, bound.body).toBe(200);
  }
  const assignment = await call('POST', `/classes/${classId}/assignments`, instructor, {
    taskId,
    opensAt: T0 - 60 * MINUTE,
    dueAt: Date.now() + 60 * MINUTE,
    teamIds: [teamId],
    studentIds: [carol.id],
  });
  expect(assignment.statusCode, assignment.body).toBe(201);
  assignmentId = (assignment.json() as Assignment).id;
  expect((await call('POST', `/classes/${classId}/sessions`, instructor, { assignmentId })).statusCode).toBe(
    201,
  );
  for (const student of [alice, bob, carol]) {
    const started = await call('POST', `/assignments/${assignmentId}/attempts`, student);
    expect(started.statusCode, started.body).toBe(201);
    attempts[student.username] = (started.json() as Attempt).id;
    expect((await call('POST', `/attempts/${attempts[student.username]}/end`, student)).statusCode).toBe(200);
    // The experiment ran [T0, T1): the window is set to it, as if the attempt had lasted 10 minutes.
    await lab.db.run('UPDATE attempts SET started_at = ?, ended_at = ? WHERE id = ?', [
      T0,
      T1,
      attempts[student.username] as string,
    ]);
  }
  // alice: always in range, but 2 minutes without data; bob: complete, 30 % too warm;
  // carol: in range, with a 3-minute gap.
  await lab.store.write([
    ...temperature(
      `${alice.username}-kit`,
      (i) => 5 + Math.sin(i / 30) + noise(i, 1),
      (i) => i >= 180 && i < 300,
    ),
    ...temperature(`${bob.username}-kit`, (i) => (i % 10 < 3 ? 10.5 : 5) + noise(i, 2)),
    ...temperature(
      `${carol.username}-kit`,
      (i) => 4.5 + Math.cos(i / 40) + noise(i, 3),
      (i) => i >= 60 && i < 240,
    ),
  ]);
}, 60_000);

afterAll(async () => {
  await lab.close();
});

const aliceAttempt = () => attempts[alice.username] as string;

describe('grading an attempt', () => {
  it('grades from the telemetry of the window: evidence and explanations in zh-CN and en', async () => {
    const graded = await call('POST', `/attempts/${aliceAttempt()}/grade`, instructor);
    expect(graded.statusCode, graded.body).toBe(200);
    const review = graded.json() as AttemptGrade;
    expect(review.run).toMatchObject({ reason: 'manual' });
    const [range, gaps] = review.criteria;
    expect(range).toMatchObject({ id: 'cold_range', passed: true, score: 60 });
    expect(range?.title).toEqual({ 'zh-CN': '温度保持在 2–8 °C', en: 'Kept at 2–8 °C' });
    expect(range?.evidence.measured.percentInRange).toBe(100);
    expect(range?.evidence.measured.readings).toBe(480);
    expect(gaps).toMatchObject({ id: 'no_gaps', passed: false, score: 0 });
    expect(gaps?.evidence.spans.some((span) => !span.ok)).toBe(true);
    for (const c of review.criteria) {
      expect(c.explanation.en.length).toBeGreaterThan(10);
      expect(c.explanation['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
      // The numbers as sentences for people, not `readings = 480`.
      expect(c.evidence.summary?.['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
      expect(c.evidence.summary?.en).not.toMatch(/ = /);
    }
    // mentorWeight 40 and no mentor score yet: provisional, the mentor's part counted as 0.
    expect(review.final).toMatchObject({ status: 'provisional', autoScore: 60, score: 36 });
    expect(review.final.explanation.en).toMatch(/Provisional/);
    expect(review.final.explanation['zh-CN']).toMatch(/暂定/);
  });

  it('lets the student read their own grade with the evidence, but not anyone else’s, and not override', async () => {
    const mine = await call('GET', `/attempts/${aliceAttempt()}/grade`, alice);
    expect(mine.statusCode, mine.body).toBe(200);
    const review = mine.json() as AttemptGrade;
    expect(review.criteria.map((c) => c.evidence.measured.readings)).toEqual([480, 480]);
    expect(review.flags).toEqual([]);
    const other = await call('GET', `/attempts/${attempts[bob.username]}/grade`, alice);
    expect(other.json()).toMatchObject({ statusCode: 404, code: 'ATTEMPT_NOT_FOUND' });
    expect((await call('GET', `/attempts/${attempts[bob.username]}/grades`, alice)).statusCode).toBe(404);
    const override = await call('POST', `/attempts/${aliceAttempt()}/overrides`, alice, {
      criterionId: 'no_gaps',
      score: 40,
      reason: 'I think so',
    });
    expect(override.statusCode).toBe(403);
    expect((await call('POST', `/attempts/${aliceAttempt()}/grade`, alice)).statusCode).toBe(403);
  });

  it('shows the grade to the enterprise mentor, not to another enterprise’s, nor another class’s instructor', async () => {
    expect((await call('GET', `/attempts/${aliceAttempt()}/grade`, mentor)).statusCode).toBe(200);
    const other = await call('POST', '/organisations', lab.users.admin, {
      kind: 'enterprise',
      name: '别家企业',
    });
    const stranger = await lab.addUser('mentor', { organisationId: (other.json() as Organisation).id });
    expect((await call('GET', `/attempts/${aliceAttempt()}/grade`, stranger)).json()).toMatchObject({
      statusCode: 404,
    });
    const otherInstructor = await lab.addUser('instructor');
    expect((await call('POST', `/attempts/${aliceAttempt()}/grade`, otherInstructor)).json()).toMatchObject({
      statusCode: 403,
      code: 'NOT_YOUR_CLASS',
    });
  });
});

describe("an attempt's telemetry", () => {
  it("lets whoever may read the grade read the attempt's data, within its window only", async () => {
    const url = (as: typeof alice, query = '') =>
      call('GET', `/attempts/${aliceAttempt()}/telemetry?sensor=temperature${query}`, as);
    // The task's enterprise mentor scores from the data: theirs to read (the kit route is not).
    const forMentor = await url(mentor);
    expect(forMentor.statusCode, forMentor.body).toBe(200);
    const points = (forMentor.json() as Telemetry).points ?? [];
    expect(points.length).toBe(480);
    expect(points.every((p) => p.ts >= T0 && p.ts < T1)).toBe(true);
    expect(
      (await call('GET', `/kits/${alice.username}-kit/telemetry?sensor=temperature`, mentor)).statusCode,
    ).toBe(403);
    // Asking for more than the attempt gives the attempt.
    const wide = await url(instructor, `&from=${T0 - 3_600_000}&to=${T1 + 3_600_000}`);
    expect((wide.json() as Telemetry).from).toBe(T0);
    expect((wide.json() as Telemetry).to).toBe(T1);
    expect((await url(alice)).statusCode).toBe(200);
    expect((await url(bob)).statusCode).toBe(404);
    const other = await call('POST', '/organisations', lab.users.admin, {
      kind: 'enterprise',
      name: '另一家企业',
    });
    const stranger = await lab.addUser('mentor', { organisationId: (other.json() as Organisation).id });
    expect((await url(stranger)).statusCode).toBe(404);
  });
});

describe('overrides and the mentor score', () => {
  it('refuses an override without a reason, for an unknown criterion or out of range', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ criterionId: 'no_gaps', score: 30 }, 'REASON_REQUIRED'],
      [{ criterionId: 'no_gaps', score: 30, reason: '   ' }, 'REASON_REQUIRED'],
      [{ criterionId: 'no_gaps', score: 30, reason: 'x'.repeat(2001) }, 'REASON_TOO_LONG'],
      [{ criterionId: 'no_such', score: 1, reason: 'typo' }, 'UNKNOWN_CRITERION'],
      [{ criterionId: 'no_gaps', score: 41, reason: 'too much' }, 'SCORE_OUT_OF_RANGE'],
      [{ criterionId: 'no_gaps', score: -1, reason: 'too little' }, 'SCORE_OUT_OF_RANGE'],
    ];
    for (const [payload, code] of cases) {
      const refused = await call('POST', `/attempts/${aliceAttempt()}/overrides`, instructor, payload);
      expect(refused.json(), JSON.stringify(payload).slice(0, 80)).toMatchObject({ statusCode: 400, code });
    }
    expect(
      ((await call('GET', `/attempts/${aliceAttempt()}/grade`, instructor)).json() as AttemptGrade).final,
    ).toMatchObject({
      autoScore: 60,
    });
  });

  it('applies an override with its reason to the final grade, audited with before and after', async () => {
    const reason = '网关断线两分钟，学生已按指导书补测，数据记录在纸面实验报告中';
    const overridden = await call('POST', `/attempts/${aliceAttempt()}/overrides`, instructor, {
      criterionId: 'no_gaps',
      score: 30,
      reason,
    });
    expect(overridden.statusCode, overridden.body).toBe(201);
    const review = overridden.json() as AttemptGrade;
    expect(review.criteria[1]).toMatchObject({
      id: 'no_gaps',
      autoScore: 0,
      score: 30,
      override: { reason },
    });
    // What the telemetry earned stays apart from what the instructor made of it.
    expect(review.final).toMatchObject({
      status: 'provisional',
      autoScore: 60,
      adjustedScore: 90,
      adjustments: [{ criterionId: 'no_gaps', autoScore: 0, score: 30, reason }],
      score: 54,
    });
    expect(review.final.explanation['zh-CN']).toContain('遥测自动评分 60，教师调整后 90');
    // The student sees the override and why.
    const seen = (await call('GET', `/attempts/${aliceAttempt()}/grade`, alice)).json() as AttemptGrade;
    expect(seen.criteria[1]?.override?.reason).toBe(reason);

    const audit = await call('GET', `/audit?entity=grade&entityId=${aliceAttempt()}`, lab.users.admin);
    const entries = (audit.json() as Page<AuditEntry>).items;
    const entry = entries.find((e) => e.action === 'override');
    expect(entry?.before).toMatchObject({ criterionId: 'no_gaps', score: 0, override: null, finalScore: 36 });
    expect(entry?.after).toMatchObject({
      criterionId: 'no_gaps',
      score: 30,
      override: { reason },
      finalScore: 54,
    });
    expect(entries.map((e) => e.action)).toContain('grade');
  });

  it("weights the enterprise mentor's score; changing it needs If-Match", async () => {
    const url = `/attempts/${aliceAttempt()}/mentor-score`;
    expect((await call('PUT', url, instructor, { score: 80 })).statusCode).toBe(403);
    expect((await call('PUT', url, alice, { score: 100 })).statusCode).toBe(403);
    expect((await call('PUT', url, mentor, { score: 101 })).json()).toMatchObject({
      code: 'INVALID_REQUEST',
    });
    expect((await call('GET', url, instructor)).json()).toMatchObject({
      statusCode: 404,
      code: 'NO_MENTOR_SCORE',
    });

    const first = await call('PUT', url, mentor, { score: 80, comment: '现场接线规范，排障思路清晰' });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers.etag).toBe('"1"');
    let review = (await call('GET', `/attempts/${aliceAttempt()}/grade`, alice)).json() as AttemptGrade;
    // 90 × 60 % + 80 × 40 % = 86
    expect(review.final).toMatchObject({ status: 'final', autoScore: 60, adjustedScore: 90, score: 86 });
    expect(review.final.explanation['zh-CN']).toContain('企业导师评分 80 × 40 %');
    expect(review.mentorScore).toMatchObject({ score: 80, version: 1 });

    expect((await call('PUT', url, mentor, { score: 90 })).json()).toMatchObject({
      statusCode: 428,
      code: 'IF_MATCH_REQUIRED',
    });
    expect((await call('PUT', url, mentor, { score: 90 }, { 'if-match': '"7"' })).json()).toMatchObject({
      statusCode: 412,
      code: 'VERSION_CONFLICT',
    });
    const read = await call('GET', url, instructor);
    const second = await call('PUT', url, mentor, { score: 90 }, { 'if-match': read.headers.etag });
    expect(second.json()).toMatchObject({ score: 90, version: 2 });
    review = (await call('GET', `/attempts/${aliceAttempt()}/grade`, instructor)).json() as AttemptGrade;
    expect(review.final).toMatchObject({ status: 'final', score: 90 });
    const audit = await call('GET', `/audit?entity=grade&entityId=${aliceAttempt()}`, lab.users.admin);
    const actions = (audit.json() as Page<AuditEntry>).items.map((e) => e.action);
    expect(actions.filter((a) => a === 'mentor-score')).toHaveLength(2);
  });
});

describe('automatic grading, grades per student and team, statistics', () => {
  it('grades the attempts that ended without a grade, once, however many instances sweep at the same time', async () => {
    // Two platform instances on the same lab database, each with its own connection and sweep.
    const sweep = { settleMs: 0, lookbackMs: 365 * 86_400_000 };
    const instances = [lab.db, await lab.openLabDb()].map((db) => new Grades({ db, store: lab.store }));
    await Promise.all(instances.map((grades) => grades.runs.gradeEndedAttempts(sweep)));
    const runs = await lab.db.all<{ attempt_id: string; n: number }>(
      'SELECT attempt_id, count(*) AS n FROM grade_runs GROUP BY attempt_id',
    );
    // Every attempt has one run: an earlier test's graded attempt, and the two that ended ungraded.
    expect(runs.map((r) => r.n)).toEqual([1, 1, 1]);
    expect(await instances[0]?.runs.gradeEndedAttempts(sweep)).toBe(0);
    const history = await call('GET', `/attempts/${attempts[bob.username]}/grades`, bob);
    expect((history.json() as RunHistory).items.map((r) => r.reason)).toEqual(['attempt-ended']);
    const bobs = (await call('GET', `/attempts/${attempts[bob.username]}/grade`, bob)).json() as AttemptGrade;
    expect(bobs.criteria.map((c) => [c.id, c.passed])).toEqual([
      ['cold_range', false],
      ['no_gaps', true],
    ]);
    // 70 % in range of 95 % required: partial credit, floored to the cent.
    expect(bobs.criteria[0]?.score).toBeCloseTo(44.21, 2);
  });

  it("lists each student's best attempt and each team's mean", async () => {
    const response = await call('GET', `/assignments/${assignmentId}/grades`, instructor);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as AssignmentGrades;
    expect(body.policy).toBe('best');
    const byNumber = Object.fromEntries(body.students.map((s) => [s.studentNumber, s]));
    expect(Object.keys(byNumber)).toEqual(['2025000001', '2025000002', '2025000003', '2025000004']);
    expect(byNumber['2025000001']).toMatchObject({ status: 'final', score: 90, teamName: '冷链一组' });
    expect(byNumber['2025000001']?.criteria).toEqual({ cold_range: 60, no_gaps: 30 });
    expect(byNumber['2025000002']).toMatchObject({ status: 'provisional', teamName: '冷链一组' });
    expect(byNumber['2025000002']?.score).toBeCloseTo(0.6 * 84.21, 2);
    expect(byNumber['2025000003']).toMatchObject({ status: 'provisional', score: 36, teamName: null });
    expect(byNumber['2025000004']).toMatchObject({ status: 'no-attempt', score: null });
    expect(body.teams).toHaveLength(1);
    expect(body.teams[0]).toMatchObject({ name: '冷链一组', members: 3, graded: 2, provisional: true });
    expect(body.teams[0]?.score).toBeCloseTo((90 + 0.6 * 84.21) / 2, 1);
    expect((await call('GET', `/assignments/${assignmentId}/grades`, alice)).statusCode).toBe(403);
  });

  it('names the criterion most students fail', async () => {
    const response = await call('GET', `/assignments/${assignmentId}/statistics`, instructor);
    expect(response.statusCode, response.body).toBe(200);
    const stats = response.json() as AssignmentStatistics;
    expect(stats.attemptsGraded).toBe(3);
    expect(stats.criteria.map((c) => [c.criterionId, c.attemptsGraded, c.studentsFailed])).toEqual([
      ['cold_range', 3, 1],
      ['no_gaps', 3, 2],
    ]);
    expect(stats.criteria[0]?.passRate).toBeCloseTo(66.67, 2);
    expect(stats.criteria[1]?.passRate).toBeCloseTo(33.33, 2);
    expect(stats.mostFailed).toMatchObject({
      criterionId: 'no_gaps',
      studentsFailed: 2,
      title: { en: 'No gaps in the data' },
    });
  });
});

describe('re-grading after a rubric change', () => {
  it('re-grades every ended attempt with the current rubric and keeps every run', async () => {
    const task = await call('GET', `/tasks/${taskId}`, mentor);
    const looser = structuredClone(rubric);
    (looser.criteria[1] as { params: { maxGapSeconds: number } }).params.maxGapSeconds = 200;
    const changed = await call('PUT', `/tasks/${taskId}/rubric`, mentor, looser, {
      'if-match': task.headers.etag,
    });
    expect(changed.statusCode, changed.body).toBe(200);
    const version = (changed.json() as Task).version;

    expect((await call('POST', `/tasks/${taskId}/regrade`, alice)).statusCode).toBe(403);
    const regraded = await call('POST', `/tasks/${taskId}/regrade`, instructor);
    expect(regraded.statusCode, regraded.body).toBe(200);
    const report = regraded.json() as RegradeReport;
    expect(report.regraded).toHaveLength(3);
    const alices = report.regraded.find((r) => r.attemptId === aliceAttempt());
    expect(alices).toMatchObject({ previousAutoScore: 60, autoScore: 100 });
    // Nothing changed since: nothing to do.
    const again = (await call('POST', `/tasks/${taskId}/regrade`, instructor, {})).json() as RegradeReport;
    expect(again.regraded).toHaveLength(0);
    expect(again.skipped).toHaveLength(3);

    const history = (await call('GET', `/attempts/${aliceAttempt()}/grades`, alice)).json() as RunHistory;
    expect(history.items.map((r) => [r.reason, r.autoScore])).toEqual([
      ['rubric-changed', 100],
      ['manual', 60],
    ]);
    expect(history.items[0]?.taskVersion).toBe(version);
    expect(history.items[1]?.taskVersion).toBeLessThan(version);
    // The override stays on the criterion: the instructor's judgment is kept across re-grades.
    const review = (
      await call('GET', `/attempts/${aliceAttempt()}/grade`, instructor)
    ).json() as AttemptGrade;
    expect(review.outdated).toBe(false);
    expect(review.criteria[1]).toMatchObject({ autoScore: 40, autoPassed: true, score: 30 });
    const audit = await call('GET', `/audit?entity=task&entityId=${taskId}`, lab.users.admin);
    expect((audit.json() as Page<AuditEntry>).items.map((e) => e.action)).toContain('regrade');
    // Each run is a grade change of its own, in the attempt's audit trail with its scores.
    const trail = (
      await call('GET', `/audit?entity=grade&entityId=${aliceAttempt()}`, lab.users.admin)
    ).json() as Page<AuditEntry>;
    const regrade = trail.items.find((e) => e.action === 'rubric-changed');
    expect(regrade).toMatchObject({ before: { autoScore: 60 }, after: { autoScore: 100 } });
  });
});

describe('exports', () => {
  it('exports an assignment as XLSX with Chinese headers, one row per student, and a team sheet', async () => {
    const response = await call('GET', `/assignments/${assignmentId}/grades.xlsx?headers=zh`, instructor);
    expect(response.statusCode, response.body.slice(0, 200)).toBe(200);
    expect(response.headers['content-type']).toContain('spreadsheetml');
    expect(response.headers['content-disposition']).toContain("filename*=UTF-8''");
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(response.rawPayload as unknown as ExcelJS.Buffer);
    const sheet = workbook.getWorksheet('学生成绩');
    expect(sheet).toBeDefined();
    const rows: unknown[][] = [];
    sheet?.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
    const header = rows[0] as string[];
    for (const name of [
      '学号',
      '姓名',
      '小组',
      '实训任务',
      '自动评分',
      '教师调整',
      '调整后评分',
      '企业导师评分',
      '最终成绩',
      '状态',
    ]) {
      expect(header).toContain(name);
    }
    expect(header).toContain('数据无中断（40分）');
    expect(rows).toHaveLength(5);
    const col = (name: string) => header.indexOf(name);
    const alicesRow = rows.find((row) => row[col('学号')] === '2025000001') as unknown[];
    expect(alicesRow[col('小组')]).toBe('冷链一组');
    expect(alicesRow[col('实训任务')]).toBe('冷库温度监测');
    // The telemetry's score, the instructor's change (what, who, why) and the adjusted score apart.
    // (Since the looser rubric, the telemetry earns 100; the override of no_gaps still holds at 30.)
    expect(alicesRow[col('自动评分')]).toBe(100);
    expect(alicesRow[col('教师调整')]).toMatch(/^数据无中断 40→30（instructor \d+：网关断线两分钟/);
    expect(alicesRow[col('调整后评分')]).toBe(90);
    expect(alicesRow[col('企业导师评分')]).toBe(90);
    expect(alicesRow[col('最终成绩')]).toBe(90);
    expect(alicesRow[col('状态')]).toBe('已定分');
    // On the classroom's clock (Asia/Shanghai), not UTC.
    expect(alicesRow[col('评分时间')]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    const davesRow = rows.find((row) => row[col('学号')] === '2025000004') as unknown[];
    expect(davesRow[col('状态')]).toBe('未作答');
    const teams = workbook.getWorksheet('小组成绩');
    expect(teams?.getRow(2).getCell(1).value).toBe('冷链一组');
  });

  it('exports CSV in UTF-8 with a BOM, English headers by default', async () => {
    const zh = await call('GET', `/assignments/${assignmentId}/grades.csv?headers=zh`, instructor);
    expect(zh.statusCode).toBe(200);
    expect(zh.headers['content-type']).toBe('text/csv; charset=utf-8');
    const bytes = zh.rawPayload;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8').slice(1);
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]?.startsWith('学号,姓名,小组,实训任务,自动评分,教师调整,调整后评分,企业导师评分')).toBe(
      true,
    );
    expect(lines).toHaveLength(5);
    expect(lines.find((line) => line.startsWith('2025000001'))).toContain(',冷链一组,冷库温度监测,100,');

    const en = await call('GET', `/assignments/${assignmentId}/grades.csv`, instructor);
    expect(en.rawPayload.toString('utf8').slice(1).split('\r\n')[0]).toMatch(
      /^Student no\.,Name,Team,Lab task,Auto score,Adjustments,Adjusted score,Mentor score,/,
    );
  });

  it('exports a class over its assignments, for its staff only', async () => {
    const xlsx = await call('GET', `/classes/${classId}/grades.xlsx?headers=zh`, instructor);
    expect(xlsx.statusCode).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.rawPayload as unknown as ExcelJS.Buffer);
    const sheet = workbook.getWorksheet('学生成绩');
    expect((sheet?.getRow(1).values as unknown[] | undefined)?.slice(1, 4)).toEqual(['班级', '学号', '姓名']);
    expect(sheet?.rowCount).toBe(5);
    const csv = await call('GET', `/classes/${classId}/grades.csv`, instructor);
    expect(csv.rawPayload.subarray(0, 3).toString('hex')).toBe('efbbbf');
    expect((await call('GET', `/classes/${classId}/grades.csv`, alice)).statusCode).toBe(403);
    const otherInstructor = await lab.addUser('instructor');
    expect((await call('GET', `/classes/${classId}/grades.xlsx`, otherInstructor)).json()).toMatchObject({
      statusCode: 403,
      code: 'NOT_YOUR_CLASS',
    });
  });
});

describe('authenticity across the session', () => {
  it('flags a stream copied from another kit of the same session (for assessors, not students); services grade', async () => {
    const sessions = await call('GET', `/classes/${classId}/sessions`, instructor);
    const running = (sessions.json() as Page<LabSession>).items.find((s) => s.endedAt === null);
    expect((await call('POST', `/sessions/${running?.id}/end`, instructor)).statusCode).toBe(200);
    const second = await call('POST', `/classes/${classId}/assignments`, instructor, {
      taskId,
      opensAt: T0 - 60 * MINUTE,
      dueAt: Date.now() + 60 * MINUTE,
      studentIds: [bob.id, carol.id],
    });
    const secondId = (second.json() as Assignment).id;
    expect(
      (await call('POST', `/classes/${classId}/sessions`, instructor, { assignmentId: secondId })).statusCode,
    ).toBe(201);
    const from = T1 + MINUTE;
    const ids: Record<string, string> = {};
    for (const student of [bob, carol]) {
      const started = await call('POST', `/assignments/${secondId}/attempts`, student, {
        kitId: `${student.username}-kit`,
      });
      expect(started.statusCode, started.body).toBe(201);
      ids[student.username] = (started.json() as Attempt).id;
      await call('POST', `/attempts/${ids[student.username]}/end`, student);
      await lab.db.run('UPDATE attempts SET started_at = ?, ended_at = ? WHERE id = ?', [
        from,
        from + 5 * MINUTE,
        ids[student.username] as string,
      ]);
    }
    const values = Array.from({ length: 300 }, (_, i) =>
      Number((5 + Math.sin(i / 20) + noise(i, 9)).toFixed(2)),
    );
    await lab.store.write(
      [bob, carol].flatMap((student) =>
        values.map((value, i) => ({
          kitId: `${student.username}-kit`,
          ts: from + i * 1000,
          readings: { temperature: value },
        })),
      ),
    );
    // A service reads by default; grading is a scope given on purpose.
    const viewer = await lab.registry.addService('viewer');
    const refused = await lab.app.inject({
      method: 'POST',
      url: `/api/v1/attempts/${ids[carol.username]}/grade`,
      headers: { authorization: `Basic ${Buffer.from(`viewer:${viewer.secret}`).toString('base64')}` },
    });
    expect([refused.statusCode, refused.json().code]).toEqual([403, 'ROLE_NOT_ALLOWED']);
    const { secret } = await lab.registry.addService('grader', 'grading service', ['read', 'grade']);
    const graded = await lab.app.inject({
      method: 'POST',
      url: `/api/v1/attempts/${ids[carol.username]}/grade`,
      headers: { authorization: `Basic ${Buffer.from(`grader:${secret}`).toString('base64')}` },
    });
    expect(graded.statusCode, graded.body).toBe(200);
    const flags = (graded.json() as AttemptGrade).flags;
    expect(flags).toContainEqual(
      expect.objectContaining({ kind: 'copy', sensor: 'temperature', source: `${bob.username}-kit` }),
    );
    const history = await call('GET', `/attempts/${ids[carol.username]}/grades`, instructor);
    expect((history.json() as RunHistory).items[0]?.createdBy).toBe('service:grader');
    const studentView = (
      await call('GET', `/attempts/${ids[carol.username]}/grade`, carol)
    ).json() as AttemptGrade;
    expect(studentView.flags).toEqual([]);
  });
});

describe('a regrade that cannot read the telemetry', () => {
  it("says so per attempt in the person's language, with a code, and the audit keeps the error", async () => {
    // The store fails every read for the length of this request (a disk or server gone).
    const readings = lab.store.readings;
    lab.store.readings = async () => {
      throw new Error('telemetry.sqlite: disk I/O error');
    };
    let report: RegradeReport;
    try {
      const response = await call(
        'POST',
        `/tasks/${taskId}/regrade`,
        instructor,
        { force: true },
        {
          'accept-language': 'zh-CN',
        },
      );
      expect(response.statusCode, response.body).toBe(200);
      report = response.json() as RegradeReport;
    } finally {
      lab.store.readings = readings;
    }
    expect(report.regraded).toEqual([]);
    expect(report.failed.length).toBeGreaterThan(0);
    for (const failure of report.failed) {
      expect(failure).toMatchObject({ code: 'GRADING_FAILED' });
      expect(failure.message).toMatch(/^无法评分：/);
      expect(failure.message).not.toContain('disk I/O');
    }
    const audit = (
      await call('GET', `/audit?entity=task&entityId=${taskId}`, lab.users.admin)
    ).json() as Page<AuditEntry>;
    const entry = audit.items.find(
      (e) => e.action === 'regrade' && (e.after as { failed: number }).failed > 0,
    );
    expect(JSON.stringify(entry?.after)).toContain('telemetry.sqlite: disk I/O error');
  });
});
