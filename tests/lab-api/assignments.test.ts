import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  Assignment,
  Attempt,
  AuditEntry,
  ClassInfo,
  ErrorResponse,
  LabSession,
  Page,
  Project,
  Task,
  Team,
} from '../../contract/index.ts';
import { type Person, startTestLab, type TestLab } from '../helpers/lab.ts';

let lab: TestLab;
let classId: string;
let taskId: string;
let teamId: string;
/** alice: in the team (team kit); bob: targeted directly (own kit); carol: in class, not targeted; dave: targeted, no kit. */
let alice: Person;
let bob: Person;
let carol: Person;
let dave: Person;
let assignmentId: string;

const HOUR = 3_600_000;

async function insertTask(title: string, status = 'published'): Promise<string> {
  const id = randomUUID();
  await lab.db.run(
    `INSERT INTO lab_tasks (id, project_id, title, duration_minutes, rubric, status, created_by, created_at, updated_at)
     VALUES (?, NULL, ?, 90, '{"criteria":[]}', ?, ?, ?, ?)`,
    [id, title, status, lab.users.instructor.id, Date.now(), Date.now()],
  );
  return id;
}

async function post(url: string, as: Person, payload?: Record<string, unknown>) {
  return lab.call({
    method: 'POST',
    url: `/api/v1${url}`,
    as,
    ...(payload === undefined ? {} : { payload }),
  });
}

async function get(url: string, as: Person) {
  return lab.call({ method: 'GET', url: `/api/v1${url}`, as });
}

beforeAll(async () => {
  lab = await startTestLab();
  const instructor = lab.users.instructor;
  classId = ((await post('/classes', instructor, { name: '物联网2501' })).json() as ClassInfo).id;
  alice = await lab.addUser('student');
  bob = await lab.addUser('student');
  carol = await lab.addUser('student');
  dave = await lab.addUser('student');
  await post(`/classes/${classId}/students`, instructor, {
    studentIds: [alice, bob, carol, dave].map((s) => s.id),
  });
  const team = await post(`/classes/${classId}/teams`, instructor, { name: '温控组', memberIds: [alice.id] });
  teamId = (team.json() as Team).id;
  await lab.registry.addKit({ id: 'team-kit' });
  await lab.registry.addKit({ id: 'bob-kit' });
  for (const [kit, target] of [
    ['team-kit', { teamId }],
    ['bob-kit', { studentId: bob.id }],
  ] as const) {
    const bound = await lab.call({
      method: 'PUT',
      url: `/api/v1/kits/${kit}/binding`,
      as: instructor,
      payload: target,
    });
    expect(bound.statusCode, bound.body).toBe(200);
  }
  taskId = await insertTask('冷库温度报警');
}, 60_000);
afterAll(async () => {
  await lab.close();
});

describe('assignments', () => {
  it('assigns a task to teams and students of a class, refusing what does not fit', async () => {
    const now = Date.now();
    const base = { taskId, opensAt: now - HOUR, dueAt: new Date(now + HOUR).toISOString() };
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...base, taskId: randomUUID(), teamIds: [teamId] }, 400, 'UNKNOWN_TASK'],
      [base, 400, 'NO_TARGETS'],
      [{ ...base, studentIds: [lab.users.student.id] }, 400, 'NOT_ENROLLED'],
      [{ ...base, teamIds: [randomUUID()] }, 400, 'UNKNOWN_TEAM'],
      [{ ...base, opensAt: now + HOUR, dueAt: now, teamIds: [teamId] }, 400, 'INVALID_WINDOW'],
      [{ ...base, teamIds: [teamId], weight: 3 }, 400, 'INVALID_REQUEST'],
    ];
    for (const [payload, status, code] of cases) {
      const response = await post(`/classes/${classId}/assignments`, lab.users.instructor, payload);
      expect(response.json(), JSON.stringify(payload)).toMatchObject({ statusCode: status, code });
    }
    const stranger = await lab.addUser('instructor');
    const foreign = await post(`/classes/${classId}/assignments`, stranger, { ...base, teamIds: [teamId] });
    expect(foreign.json()).toMatchObject({ statusCode: 403, code: 'NOT_YOUR_CLASS' });

    const created = await post(`/classes/${classId}/assignments`, lab.users.instructor, {
      ...base,
      teamIds: [teamId],
      studentIds: [bob.id, dave.id],
    });
    expect(created.statusCode, created.body).toBe(201);
    const body = created.json() as Assignment;
    expect(body).toMatchObject({ status: 'open', taskTitle: '冷库温度报警', dueAt: Date.parse(base.dueAt) });
    assignmentId = body.id;
    const list = await get(`/classes/${classId}/assignments?status=open`, lab.users.instructor);
    expect((list.json() as Page<Assignment>).items.map((a) => a.id)).toEqual([assignmentId]);
  });

  it('shows a student only the assignments for them or their team, and only their part of the targets', async () => {
    for (const [student, expected] of [
      [alice, [assignmentId]],
      [bob, [assignmentId]],
      [carol, []],
      [lab.users.student, []],
    ] as const) {
      const mine = await get('/me/assignments', student);
      expect(mine.statusCode).toBe(200);
      expect((mine.json() as Page<Assignment>).items.map((a) => a.id)).toEqual(expected);
    }
    const seen = await get(`/assignments/${assignmentId}`, alice);
    expect(seen.json()).toMatchObject({ targets: { teamIds: [teamId], studentIds: [] } });
    expect((await get(`/assignments/${assignmentId}`, carol)).json()).toMatchObject({
      statusCode: 403,
      code: 'NOT_ASSIGNED',
    });
    expect((await get(`/classes/${classId}/assignments`, alice)).statusCode).toBe(403);
    expect((await get('/me/assignments', lab.users.instructor)).statusCode).toBe(403);
  });

  it("lets a class's students read a draft task their instructor assigned, and nobody else's", async () => {
    const draft = await insertTask('试做：温湿度曲线', 'draft');
    expect((await get(`/tasks/${draft}`, alice)).statusCode).toBe(404);
    const assigned = await post(`/classes/${classId}/assignments`, lab.users.instructor, {
      taskId: draft,
      opensAt: Date.now() - HOUR,
      dueAt: Date.now() + HOUR,
      teamIds: [teamId],
    });
    expect(assigned.statusCode, assigned.body).toBe(201);
    expect((await get(`/tasks/${draft}`, alice)).json()).toMatchObject({ id: draft, status: 'draft' });
    expect((await get(`/tasks/${draft}`, lab.users.student)).statusCode).toBe(404);
  });

  it('changes the window with If-Match, audited', async () => {
    const read = await get(`/assignments/${assignmentId}`, lab.users.instructor);
    const dueAt = Date.now() + 2 * HOUR;
    const changed = await lab.call({
      method: 'PATCH',
      url: `/api/v1/assignments/${assignmentId}`,
      as: lab.users.instructor,
      headers: { 'if-match': read.headers.etag as string },
      payload: { dueAt },
    });
    expect(changed.json()).toMatchObject({ dueAt, version: 2 });
    const stale = await lab.call({
      method: 'PATCH',
      url: `/api/v1/assignments/${assignmentId}`,
      as: lab.users.instructor,
      headers: { 'if-match': read.headers.etag as string },
      payload: { dueAt: dueAt + 1 },
    });
    expect(stale.statusCode).toBe(412);
    const audit = await get(`/audit?entity=assignment&entityId=${assignmentId}`, lab.users.admin);
    expect((audit.json() as Page<AuditEntry>).items.map((e) => e.action).sort()).toEqual([
      'create',
      'update',
    ]);
  });
});

describe('lab sessions and attempts', () => {
  let sessionId: string;
  let aliceAttempt: string;
  let bobAttempt: string;

  it('refuses an attempt while no session runs', async () => {
    const refused = await post(`/assignments/${assignmentId}/attempts`, alice);
    expect(refused.json()).toMatchObject({ statusCode: 409, code: 'NO_SESSION_RUNNING' });
  });

  it('starts one session per class at a time; students see it in their classes', async () => {
    const started = await post(`/classes/${classId}/sessions`, lab.users.instructor);
    expect(started.statusCode, started.body).toBe(201);
    sessionId = (started.json() as LabSession).id;
    const twice = await post(`/classes/${classId}/sessions`, lab.users.instructor);
    expect(twice.json()).toMatchObject({ statusCode: 409, code: 'SESSION_ALREADY_RUNNING' });
    expect((await post(`/classes/${classId}/sessions`, alice)).statusCode).toBe(403);
    const mine = await get('/me/classes', alice);
    expect(mine.json()).toMatchObject({ items: [{ id: classId, activeSession: { id: sessionId } }] });
  });

  it('records attempts on the bound kit, refusing with clear codes', async () => {
    const first = await post(`/assignments/${assignmentId}/attempts`, alice);
    expect(first.statusCode, first.body).toBe(201);
    const attempt = first.json() as Attempt;
    expect(attempt).toMatchObject({
      assignmentId,
      sessionId,
      studentId: alice.id,
      teamId,
      kitId: 'team-kit',
      endedAt: null,
    });
    expect(attempt.startedAt).toBeGreaterThan(Date.now() - 60_000);
    aliceAttempt = attempt.id as string;

    const refusals: [Person, Record<string, unknown> | undefined, number, string][] = [
      [alice, undefined, 409, 'ATTEMPT_IN_PROGRESS'],
      [carol, undefined, 403, 'NOT_ASSIGNED'],
      [dave, undefined, 409, 'NO_KIT_BOUND'],
      [bob, { kitId: 'team-kit' }, 409, 'KIT_NOT_BOUND'],
      [alice, { studentId: bob.id }, 403, 'FORBIDDEN'],
      [lab.users.instructor, undefined, 400, 'STUDENT_REQUIRED'],
      [lab.users.instructor, { studentId: carol.id }, 409, 'NOT_ASSIGNED'],
    ];
    for (const [who, payload, status, code] of refusals) {
      const response = await post(`/assignments/${assignmentId}/attempts`, who, payload);
      expect(response.json(), `${who.username} ${JSON.stringify(payload)}`).toMatchObject({
        statusCode: status,
        code,
      });
    }
    expect((await post(`/assignments/${assignmentId}/attempts`, lab.users.mentor)).statusCode).toBe(403);

    // The instructor starts one for bob, on bob's own kit.
    const forBob = await post(`/assignments/${assignmentId}/attempts`, lab.users.instructor, {
      studentId: bob.id,
    });
    expect(forBob.statusCode, forBob.body).toBe(201);
    expect(forBob.json()).toMatchObject({ studentId: bob.id, kitId: 'bob-kit', teamId: null });
    bobAttempt = (forBob.json() as Attempt).id;

    // A kit in use is not rebound under a running attempt.
    const rebind = await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/team-kit/binding',
      as: lab.users.admin,
      payload: { studentId: dave.id },
    });
    expect(rebind.json()).toMatchObject({ statusCode: 409, code: 'KIT_IN_USE' });
  });

  it('ends attempts: the student their own, staff any in their class', async () => {
    expect((await post(`/attempts/${aliceAttempt}/end`, carol)).json()).toMatchObject({
      statusCode: 403,
      code: 'NOT_YOUR_ATTEMPT',
    });
    const ended = await post(`/attempts/${aliceAttempt}/end`, alice);
    expect(ended.statusCode).toBe(200);
    const window = ended.json() as Attempt;
    expect(window.endedAt).toBeGreaterThanOrEqual(window.startedAt);
    expect((await post(`/attempts/${aliceAttempt}/end`, alice)).json()).toMatchObject({
      statusCode: 409,
      code: 'ATTEMPT_ALREADY_ENDED',
    });
    const mine = await get('/me/attempts', alice);
    expect((mine.json() as Page<Attempt>).items.map((a) => a.id)).toEqual([aliceAttempt]);
    expect((await get(`/attempts/${bobAttempt}`, alice)).statusCode).toBe(403);
    const all = await get(`/assignments/${assignmentId}/attempts`, lab.users.instructor);
    expect((all.json() as Page<Attempt>).items.map((a) => a.id).sort()).toEqual(
      [aliceAttempt, bobAttempt].sort(),
    );
    expect((await get(`/assignments/${assignmentId}/attempts`, alice)).statusCode).toBe(403);
  });

  it('ends the session with the attempts still running in it; then attempts are refused', async () => {
    const ended = await post(`/sessions/${sessionId}/end`, lab.users.instructor);
    expect(ended.statusCode, ended.body).toBe(200);
    expect(ended.json()).toMatchObject({ id: sessionId, endedAttempts: [bobAttempt] });
    expect((await get(`/attempts/${bobAttempt}`, bob)).json()).toMatchObject({ endedAt: expect.any(Number) });
    expect((await post(`/sessions/${sessionId}/end`, lab.users.instructor)).json()).toMatchObject({
      statusCode: 409,
      code: 'SESSION_ALREADY_ENDED',
    });
    expect((await post(`/assignments/${assignmentId}/attempts`, alice)).json()).toMatchObject({
      code: 'NO_SESSION_RUNNING',
    });
    expect((await get('/me/classes', alice)).json()).toMatchObject({ items: [{ activeSession: null }] });
    const audit = await get(`/audit?entity=lab-session&entityId=${sessionId}`, lab.users.admin);
    expect((audit.json() as Page<AuditEntry>).items.map((e) => e.action).sort()).toEqual(['end', 'start']);
    const attemptAudit = await get(`/audit?entity=attempt&entityId=${aliceAttempt}`, lab.users.admin);
    expect((attemptAudit.json() as Page<AuditEntry>).items.map((e) => e.action).sort()).toEqual([
      'end',
      'start',
    ]);
  });

  it('refuses attempts at an assignment not open, in a session for another assignment, on a revoked kit', async () => {
    const now = Date.now();
    const later = await post(`/classes/${classId}/assignments`, lab.users.instructor, {
      taskId,
      opensAt: now + HOUR,
      dueAt: now + 2 * HOUR,
      teamIds: [teamId],
    });
    const past = await post(`/classes/${classId}/assignments`, lab.users.instructor, {
      taskId,
      opensAt: now - 2 * HOUR,
      dueAt: now - HOUR,
      teamIds: [teamId],
    });
    const session = await post(`/classes/${classId}/sessions`, lab.users.instructor, {
      assignmentId: (later.json() as Assignment).id,
    });
    expect(session.statusCode, session.body).toBe(201);
    for (const id of [(later.json() as Assignment).id, (past.json() as Assignment).id]) {
      const refused = await post(`/assignments/${id}/attempts`, alice);
      expect(refused.json()).toMatchObject({ statusCode: 409, code: 'ASSIGNMENT_NOT_OPEN' });
    }
    const other = await post(`/assignments/${assignmentId}/attempts`, alice);
    expect(other.json()).toMatchObject({ statusCode: 409, code: 'SESSION_FOR_ANOTHER_ASSIGNMENT' });
    await post(`/sessions/${(session.json() as LabSession).id}/end`, lab.users.instructor);

    await post(`/classes/${classId}/sessions`, lab.users.instructor, { assignmentId });
    const revoked = await lab.call({
      method: 'DELETE',
      url: '/api/v1/kits/team-kit/secret',
      as: lab.users.admin,
    });
    expect(revoked.statusCode).toBe(200);
    expect((await post(`/assignments/${assignmentId}/attempts`, alice)).json()).toMatchObject({
      statusCode: 409,
      code: 'KIT_REVOKED',
    });
    // Bob, with a kit of his own and now in the team too, has to say which kit.
    await post(`/teams/${teamId}/members`, lab.users.instructor, { studentId: bob.id });
    expect((await post(`/assignments/${assignmentId}/attempts`, bob)).json()).toMatchObject({
      statusCode: 400,
      code: 'KIT_CHOICE_REQUIRED',
    });
    const chosen = await post(`/assignments/${assignmentId}/attempts`, bob, { kitId: 'bob-kit' });
    expect(chosen.json()).toMatchObject({ kitId: 'bob-kit', teamId });
  });
});

describe('an enterprise mentor assigning (校企合作)', () => {
  it("assigns their enterprise's task to the teams on its projects, and nothing else", async () => {
    const mentor = lab.users.mentor;
    const instructor = lab.users.instructor;
    const project = await post('/projects', mentor, { title: '智慧冷链', difficulty: 2 });
    expect(project.statusCode, project.body).toBe(201);
    const projectId = (project.json() as Project).id;
    const task = await post('/tasks', mentor, {
      projectId,
      title: '冷链温度监测',
      requiredSensors: ['temperature'],
      durationMinutes: 60,
    });
    expect(task.statusCode, task.body).toBe(201);
    const mentorTask = (task.json() as Task).id;
    const onProject = await post(`/classes/${classId}/teams`, instructor, {
      name: '冷链组',
      memberIds: [carol.id],
      projectId,
    });
    expect(onProject.statusCode, onProject.body).toBe(201);
    const ourTeam = (onProject.json() as Team).id;
    const now = Date.now();
    const window = { opensAt: now, dueAt: now + 24 * HOUR };

    const cases: [Person, Record<string, unknown>, number, string][] = [
      [mentor, { ...window, taskId: mentorTask, teamIds: [teamId] }, 403, 'NOT_YOUR_TEAM'],
      [mentor, { ...window, taskId: mentorTask, studentIds: [carol.id] }, 403, 'MENTOR_ASSIGNS_TEAMS'],
      [mentor, { ...window, taskId, teamIds: [ourTeam] }, 403, 'NOT_YOUR_TASK'],
      [
        await lab.addUser('mentor', { organisationId: lab.college.id }),
        { ...window, taskId: mentorTask, teamIds: [ourTeam] },
        403,
        'NOT_YOUR_TASK',
      ],
    ];
    for (const [who, payload, status, code] of cases) {
      const refused = await post(`/classes/${classId}/assignments`, who, payload);
      expect([refused.statusCode, (refused.json() as ErrorResponse).code], JSON.stringify(payload)).toEqual([
        status,
        code,
      ]);
    }

    const assigned = await post(`/classes/${classId}/assignments`, mentor, {
      ...window,
      taskId: mentorTask,
      teamIds: [ourTeam],
    });
    expect(assigned.statusCode, assigned.body).toBe(201);
    expect(assigned.json()).toMatchObject({
      taskId: mentorTask,
      targets: { teamIds: [ourTeam], studentIds: [] },
    });
    // The team's student sees it among their assignments.
    const mine = await get('/me/assignments', carol);
    expect((mine.json() as Page<Assignment>).items.map((a) => a.taskId)).toContain(mentorTask);
  });
});
