import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AuditEntry,
  ErrorResponse,
  MentorProfile,
  Organisation,
  Page,
  Project,
  Recommendations,
  Task,
} from '../../contract/index.ts';
import { type Person, startTestLab, type TestLab } from '../helpers/lab.ts';

let lab: TestLab;
/** A mentor of another enterprise. */
let rival: Person;
let rivalEnterpriseId: string;

beforeAll(async () => {
  lab = await startTestLab();
  const created = await lab.call({
    method: 'POST',
    url: '/api/v1/organisations',
    as: lab.users.admin,
    payload: { kind: 'enterprise', name: '绿源智慧农业科技', industry: 'smart agriculture' },
  });
  rivalEnterpriseId = (created.json() as Organisation).id;
  rival = await lab.addUser('mentor', { organisationId: rivalEnterpriseId });
}, 60_000);
afterAll(async () => {
  await lab.close();
});

const api = (path: string) => `/api/v1${path}`;

async function createProject(
  as: Person,
  fields: Record<string, unknown> = {},
): Promise<{ project: Project; etag: string }> {
  const response = await lab.call({
    method: 'POST',
    url: api('/projects'),
    as,
    payload: {
      title: '冷链运输温湿度监测',
      background: '冷藏车厢内的疫苗需保持 2–8 °C。',
      goals: 'Monitor the reefer container and alarm on excursions',
      requiredSkills: ['mqtt', 'sensors'],
      deliverables: '演示视频和数据报告',
      difficulty: 3,
      ...fields,
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  return { project: response.json() as Project, etag: response.headers.etag as string };
}

async function transition(as: Person, kind: 'projects' | 'tasks', id: string, verb: string, etag: string) {
  return lab.call({ method: 'POST', url: api(`/${kind}/${id}/${verb}`), as, headers: { 'if-match': etag } });
}

async function publishedProject(fields: Record<string, unknown> = {}): Promise<Project> {
  const { project, etag } = await createProject(lab.users.mentor, fields);
  const published = await transition(lab.users.mentor, 'projects', project.id, 'publish', etag);
  expect(published.statusCode, published.body).toBe(200);
  return published.json() as Project;
}

/** The audit entries' actions, oldest first (several may share a millisecond: insertion order decides). */
async function auditActions(entity: string, id: string): Promise<string[]> {
  const audit = await lab.call({
    method: 'GET',
    url: api(`/audit?entity=${entity}&entityId=${id}`),
    as: lab.users.admin,
  });
  const listed = (audit.json() as Page<AuditEntry>).items;
  const rows = await lab.db.all<{ id: string; action: string }>(
    // In the order written: SQLite's rowid; PostgreSQL's ctid (the audit log is only appended to).
    `SELECT id, action FROM audit_log WHERE entity = ? AND entity_id = ? ORDER BY ${lab.db.dialect === 'sqlite' ? 'rowid' : 'ctid'}`,
    [entity, id],
  );
  expect(listed.map((entry) => entry.id).sort()).toEqual(rows.map((row) => row.id).sort());
  return rows.map((row) => row.action);
}

const criterion = (id: string, weight: number, type: string, params: Record<string, unknown>) => ({
  id,
  title: { 'zh-CN': `标准 ${id}`, en: `Criterion ${id}` },
  weight,
  partialCredit: true,
  type,
  params,
});

const GOOD_RUBRIC = {
  criteria: [
    criterion('cold_range', 40, 'range', { sensor: 'temperature', min: 2, max: 8, minPercent: 95 }),
    criterion('sampling_rate', 20, 'sampling', {
      sensor: 'temperature',
      maxIntervalSeconds: 10,
      minMinutes: 30,
    }),
    criterion('fan_alarm', 30, 'threshold_response', {
      sensor: 'temperature',
      above: 8,
      respondWith: { actuator: 'fan' },
      withinSeconds: 30,
    }),
    { id: 'real_data', title: '真实数据', weight: 10, partialCredit: false, type: 'authenticity' },
  ],
};

/** GOOD_RUBRIC as the API stores and serves it: a plain-string title becomes one in both languages. */
const GOOD_RUBRIC_SERVED = {
  criteria: GOOD_RUBRIC.criteria.map((c) =>
    typeof c.title === 'string' ? { ...c, title: { 'zh-CN': c.title, en: c.title } } : c,
  ),
};

describe('mentor pool (师资库)', () => {
  it('lets a mentor fill in their profile with If-Match, searchable by everyone', async () => {
    const mentor = lab.users.mentor;
    const read = await lab.call({
      method: 'GET',
      url: api(`/mentors/${mentor.id}/profile`),
      as: lab.users.student,
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ version: 0, available: true, dualQualified: false, expertise: [] });
    expect(read.headers.etag).toBe('"0"');

    const body = {
      expertise: ['冷链物流', 'LoRa', 'mqtt', 'MQTT'],
      availability: '周二、周四下午（2026 秋季学期）',
      available: true,
      bio: '十年冷链监控系统经验，负责冷藏车温控。',
    };
    const noIfMatch = await lab.call({
      method: 'PUT',
      url: api(`/mentors/${mentor.id}/profile`),
      as: mentor,
      payload: body,
    });
    expect(noIfMatch.statusCode).toBe(428);
    const saved = await lab.call({
      method: 'PUT',
      url: api(`/mentors/${mentor.id}/profile`),
      as: mentor,
      headers: { 'if-match': '"0"' },
      payload: body,
    });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json()).toMatchObject({
      version: 1,
      expertise: ['冷链物流', 'LoRa', 'mqtt'],
      availability: body.availability,
      bio: body.bio,
      organisationName: '穗冷链物流有限公司',
    });
    const stale = await lab.call({
      method: 'PUT',
      url: api(`/mentors/${mentor.id}/profile`),
      as: mentor,
      headers: { 'if-match': '"0"' },
      payload: { ...body, available: false },
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'VERSION_CONFLICT' });

    const byTag = await lab.call({
      method: 'GET',
      url: api(`/mentors?tag=${encodeURIComponent('冷链物流')}`),
      as: lab.users.student,
    });
    expect((byTag.json() as Page<MentorProfile>).items.map((m) => m.userId)).toEqual([mentor.id]);
    const byBio = await lab.call({
      method: 'GET',
      url: api(`/mentors?q=${encodeURIComponent('冷藏车')}`),
      as: lab.users.instructor,
    });
    expect(byBio.json()).toMatchObject({ total: 1, items: [{ userId: mentor.id, role: 'mentor' }] });
    const all = await lab.call({ method: 'GET', url: api('/mentors?limit=1'), as: lab.users.student });
    expect(all.json()).toMatchObject({ limit: 1, offset: 0 });
    const everyone = (all.json() as Page<MentorProfile>).total;
    expect(everyone).toBeGreaterThanOrEqual(3); // the mentor, the rival mentor, the instructor
    expect(all.body).not.toMatch(/student|admin/);
    expect(await auditActions('mentor_profile', mentor.id)).toEqual(['create']);
  });

  it('keeps 双师型 for an admin to set, and one profile for its owner', async () => {
    const mentor = lab.users.mentor;
    const current = await lab.call({ method: 'GET', url: api(`/mentors/${mentor.id}/profile`), as: mentor });
    const etag = current.headers.etag as string;
    const body = { expertise: ['冷链物流'], availability: '', available: false, bio: '' };
    const self = await lab.call({
      method: 'PUT',
      url: api(`/mentors/${mentor.id}/profile`),
      as: mentor,
      headers: { 'if-match': etag },
      payload: { ...body, dualQualified: true },
    });
    expect(self.statusCode).toBe(403);
    expect(self.json()).toMatchObject({ message: expect.stringContaining('双师型') });
    const other = await lab.call({
      method: 'PUT',
      url: api(`/mentors/${lab.users.instructor.id}/profile`),
      as: mentor,
      headers: { 'if-match': '"0"' },
      payload: body,
    });
    expect(other.statusCode).toBe(403);
    const admin = await lab.call({
      method: 'PUT',
      url: api(`/mentors/${mentor.id}/profile`),
      as: lab.users.admin,
      headers: { 'if-match': etag },
      payload: { ...body, dualQualified: true },
    });
    expect(admin.statusCode, admin.body).toBe(200);
    expect(admin.json()).toMatchObject({ dualQualified: true, available: false, version: 2 });
    const unavailable = await lab.call({
      method: 'GET',
      url: api('/mentors?available=false'),
      as: lab.users.student,
    });
    expect((unavailable.json() as Page<MentorProfile>).items.map((m) => m.userId)).toEqual([mentor.id]);
    const student = await lab.call({
      method: 'PUT',
      url: api(`/mentors/${lab.users.student.id}/profile`),
      as: lab.users.student,
      headers: { 'if-match': '"0"' },
      payload: body,
    });
    expect(student.statusCode).toBe(403);
    const notInPool = await lab.call({
      method: 'GET',
      url: api(`/mentors/${lab.users.student.id}/profile`),
      as: lab.users.admin,
    });
    expect(notInPool.statusCode).toBe(404);
    expect((await lab.call({ method: 'GET', url: api('/mentors') })).statusCode).toBe(401);
  });
});

describe('enterprise projects', () => {
  it('lets a mentor create, search and publish their enterprise project; students see it once published', async () => {
    const { project, etag } = await createProject(lab.users.mentor);
    expect(project).toMatchObject({
      status: 'draft',
      organisationId: lab.enterprise.id,
      title: '冷链运输温湿度监测',
      requiredSkills: ['mqtt', 'sensors'],
      version: 1,
    });
    const asStudent = await lab.call({
      method: 'GET',
      url: api(`/projects/${project.id}`),
      as: lab.users.student,
    });
    expect(asStudent.statusCode).toBe(404);
    const asInstructor = await lab.call({
      method: 'GET',
      url: api(`/projects/${project.id}`),
      as: lab.users.instructor,
    });
    expect(asInstructor.statusCode).toBe(200);

    const changed = await lab.call({
      method: 'PATCH',
      url: api(`/projects/${project.id}`),
      as: lab.users.mentor,
      headers: { 'if-match': etag },
      payload: { goals: '实时监测冷藏车厢温度，超温自动报警', requiredSkills: ['mqtt', 'sensors', 'lora'] },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ version: 2, requiredSkills: ['mqtt', 'sensors', 'lora'] });

    const search = async (as: Person, query: string) =>
      (await lab.call({ method: 'GET', url: api(`/projects?${query}`), as })).json() as Page<Project>;
    const byKeyword = await search(lab.users.mentor, `q=${encodeURIComponent('超温自动报警')}`);
    expect(byKeyword.items.map((p) => p.id)).toEqual([project.id]);
    const bySkill = await search(lab.users.mentor, 'skill=LoRa');
    expect(bySkill.items.map((p) => p.id)).toEqual([project.id]);
    expect((await search(lab.users.mentor, `q=${encodeURIComponent("%' OR 1=1 --")}`)).total).toBe(0);
    expect((await search(lab.users.student, 'skill=lora')).total).toBe(0);

    const published = await transition(
      lab.users.mentor,
      'projects',
      project.id,
      'publish',
      changed.headers.etag as string,
    );
    expect(published.statusCode, published.body).toBe(200);
    expect(published.json()).toMatchObject({ status: 'published', version: 3 });
    const again = await transition(
      lab.users.mentor,
      'projects',
      project.id,
      'publish',
      published.headers.etag as string,
    );
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'INVALID_TRANSITION' });

    const studentSearch = await search(lab.users.student, 'skill=lora');
    expect(studentSearch.items.map((p) => p.id)).toEqual([project.id]);
    const read = await lab.call({
      method: 'GET',
      url: api(`/projects/${project.id}`),
      as: lab.users.student,
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({
      title: '冷链运输温湿度监测',
      background: '冷藏车厢内的疫苗需保持 2–8 °C。',
      deliverables: '演示视频和数据报告',
      organisationName: '穗冷链物流有限公司',
    });
    expect(read.headers.etag).toBe('"3"');
    expect(await auditActions('project', project.id)).toEqual(['create', 'update', 'publish']);
    const audit = await lab.call({
      method: 'GET',
      url: api(`/audit?entity=project&entityId=${project.id}`),
      as: lab.users.instructor,
    });
    const entries = (audit.json() as Page<AuditEntry>).items;
    const update = entries.find((entry) => entry.action === 'update');
    expect(update?.actor).toMatchObject({ id: lab.users.mentor.id, role: 'mentor' });
    expect(update?.before).toMatchObject({ goals: 'Monitor the reefer container and alarm on excursions' });
    expect(update?.after).toMatchObject({ goals: '实时监测冷藏车厢温度，超温自动报警' });
  });

  it("hides an enterprise's projects from another enterprise's mentor (404), and keeps them from changing them", async () => {
    const { project, etag } = await createProject(lab.users.mentor, { title: '仓库门磁报警' });
    const read = await lab.call({ method: 'GET', url: api(`/projects/${project.id}`), as: rival });
    expect(read.statusCode).toBe(404);
    expect(read.json()).toMatchObject({ code: 'PROJECT_NOT_FOUND' });
    const list = (
      await lab.call({ method: 'GET', url: api('/projects?limit=200'), as: rival })
    ).json() as Page<Project>;
    expect(list.items.every((p) => p.organisationId === rivalEnterpriseId)).toBe(true);
    const patch = await lab.call({
      method: 'PATCH',
      url: api(`/projects/${project.id}`),
      as: rival,
      headers: { 'if-match': etag },
      payload: { title: 'hijacked' },
    });
    expect(patch.statusCode).toBe(404);
    expect((await transition(rival, 'projects', project.id, 'publish', etag)).statusCode).toBe(404);
    const forOther = await lab.call({
      method: 'POST',
      url: api('/projects'),
      as: rival,
      payload: { title: 'x', difficulty: 1, organisationId: lab.enterprise.id },
    });
    expect(forOther.statusCode).toBe(403);
    // Published, the project is visible to the rival mentor? No: mentors see their own enterprise's only.
    await transition(lab.users.mentor, 'projects', project.id, 'publish', etag);
    expect(
      (await lab.call({ method: 'GET', url: api(`/projects/${project.id}`), as: rival })).statusCode,
    ).toBe(404);
    // Students may see projects but never change them.
    const student = await lab.call({
      method: 'PATCH',
      url: api(`/projects/${project.id}`),
      as: lab.users.student,
      headers: { 'if-match': '"2"' },
      payload: { title: 'x' },
    });
    expect(student.statusCode).toBe(403);
  });

  it('names the enterprise when an instructor creates a project, and refuses the college', async () => {
    const noOrg = await lab.call({
      method: 'POST',
      url: api('/projects'),
      as: lab.users.instructor,
      payload: { title: '智能温室', difficulty: 2 },
    });
    expect(noOrg.json()).toMatchObject({ code: 'ORGANISATION_REQUIRED' });
    const college = await lab.call({
      method: 'POST',
      url: api('/projects'),
      as: lab.users.instructor,
      payload: { title: '智能温室', difficulty: 2, organisationId: lab.college.id },
    });
    expect(college.json()).toMatchObject({ code: 'NOT_AN_ENTERPRISE' });
    const created = await lab.call({
      method: 'POST',
      url: api('/projects'),
      as: lab.users.instructor,
      payload: { title: '智能温室', difficulty: 2, organisationId: rivalEnterpriseId },
    });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as Project).id;
    expect((await lab.call({ method: 'GET', url: api(`/projects/${id}`), as: rival })).statusCode).toBe(200);
    expect(
      (await lab.call({ method: 'GET', url: api(`/projects/${id}`), as: lab.users.mentor })).statusCode,
    ).toBe(404);
  });

  it('archives: gone for students, kept for staff and the mentor; only an admin re-publishes', async () => {
    const project = await publishedProject({ title: '冷库能耗分析' });
    const archived = await transition(
      lab.users.instructor,
      'projects',
      project.id,
      'archive',
      `"${project.version}"`,
    );
    expect(archived.statusCode, archived.body).toBe(200);
    const etag = archived.headers.etag as string;
    expect(
      (await lab.call({ method: 'GET', url: api(`/projects/${project.id}`), as: lab.users.student }))
        .statusCode,
    ).toBe(404);
    expect(
      (
        await lab.call({ method: 'GET', url: api(`/projects/${project.id}`), as: lab.users.instructor })
      ).json(),
    ).toMatchObject({ status: 'archived' });
    expect(
      (await lab.call({ method: 'GET', url: api(`/projects/${project.id}`), as: lab.users.mentor })).json(),
    ).toMatchObject({ status: 'archived' });
    const edit = await lab.call({
      method: 'PATCH',
      url: api(`/projects/${project.id}`),
      as: lab.users.mentor,
      headers: { 'if-match': etag },
      payload: { difficulty: 4 },
    });
    expect(edit.statusCode).toBe(409);
    expect(edit.json()).toMatchObject({ code: 'ARCHIVED' });
    const byMentor = await transition(lab.users.mentor, 'projects', project.id, 'publish', etag);
    expect(byMentor.statusCode).toBe(403);
    const byAdmin = await transition(lab.users.admin, 'projects', project.id, 'publish', etag);
    expect(byAdmin.statusCode).toBe(200);
    expect(await auditActions('project', project.id)).toEqual(['create', 'publish', 'archive', 'republish']);
  });

  it('refuses invalid bodies: unknown fields, wrong types, oversized strings', async () => {
    const base = { title: '项目', difficulty: 2 };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, status: 'published' }, /additional/i],
      [{ ...base, difficulty: '2' }, /difficulty/],
      [{ ...base, difficulty: 6 }, /difficulty/],
      [{ ...base, title: '长'.repeat(201) }, /title/],
      [{ ...base, background: 'x'.repeat(20_001) }, /background/],
      [{ ...base, requiredSkills: ['ok', 'not "quoted"'] }, /requiredSkills/],
      [{ ...base, requiredSkills: 'mqtt' }, /requiredSkills/],
    ];
    for (const [payload, message] of cases) {
      const response = await lab.call({
        method: 'POST',
        url: api('/projects'),
        as: lab.users.mentor,
        payload,
      });
      expect(response.statusCode, JSON.stringify(payload).slice(0, 100)).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'INVALID_REQUEST',
        message: expect.stringMatching(message),
      });
    }
    const { project, etag } = await createProject(lab.users.mentor);
    const empty = await lab.call({
      method: 'PATCH',
      url: api(`/projects/${project.id}`),
      as: lab.users.mentor,
      headers: { 'if-match': etag },
      payload: {},
    });
    expect(empty.json()).toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('stores injection strings inert', async () => {
    const nasty = "x'); DROP TABLE projects;-- <script>alert(1)</script>";
    const { project } = await createProject(lab.users.mentor, {
      title: nasty,
      goals: '<img src=x onerror=alert(1)>',
    });
    const read = await lab.call({ method: 'GET', url: api(`/projects/${project.id}`), as: lab.users.mentor });
    expect(read.json()).toMatchObject({ title: nasty, goals: '<img src=x onerror=alert(1)>' });
  });
});

describe('project recommendations', () => {
  it('without evidence says so and puts the easiest first', async () => {
    await publishedProject({ title: '入门：温度采集', difficulty: 1, requiredSkills: ['sensors'] });
    const student = await lab.addUser('student');
    const response = await lab.call({ method: 'GET', url: api('/projects/recommended'), as: student });
    expect(response.statusCode).toBe(200);
    const body = response.json() as Recommendations;
    expect(body.basedOnEvidence).toBe(false);
    expect(body.message).toMatch(/no graded work/);
    // …in the student's language.
    const zh = await lab.call({
      method: 'GET',
      url: api('/projects/recommended'),
      as: student,
      headers: { 'accept-language': 'zh-CN' },
    });
    expect((zh.json() as Recommendations).message).toBe(
      '您还没有已评分的作业能体现技能，因此这些不是个性化推荐：最简单的项目排在最前',
    );
    const difficulties = body.items.map((item) => item.project.difficulty);
    expect(difficulties).toEqual([...difficulties].sort((a, b) => a - b));
    expect(body.items.every((item) => item.project.status === 'published')).toBe(true);
    expect(
      (await lab.call({ method: 'GET', url: api('/projects/recommended'), as: lab.users.mentor })).statusCode,
    ).toBe(403);
  });

  it('ranks by the skills graded work shows, with matched and missing skills', async () => {
    const full = await publishedProject({
      title: 'LoRa 网关',
      difficulty: 5,
      requiredSkills: ['lora', 'mqtt'],
    });
    const half = await publishedProject({
      title: '边缘计算',
      difficulty: 2,
      requiredSkills: ['MQTT', 'modbus'],
    });
    const none = await publishedProject({ title: '机器视觉', difficulty: 1, requiredSkills: ['opencv'] });
    const student = await lab.addUser('student');
    const now = Date.now();
    for (const [skill, score, source] of [
      ['lora', 0.9, 'task:a'],
      ['mqtt', 0.4, 'task:a'],
      ['mqtt', 0.7, 'task:b'],
    ] as const) {
      await lab.db.run(
        'INSERT INTO skill_evidence (user_id, skill, score, source, at) VALUES (?, ?, ?, ?, ?)',
        [student.id, skill, score, source, now],
      );
    }
    const response = await lab.call({
      method: 'GET',
      url: api('/projects/recommended?limit=200'),
      as: student,
    });
    const body = response.json() as Recommendations;
    expect(body.basedOnEvidence).toBe(true);
    const ids = body.items.map((item) => item.project.id);
    const item = (id: string) => body.items.find((i) => i.project.id === id);
    expect(ids.indexOf(full.id)).toBeLessThan(ids.indexOf(half.id));
    expect(ids.indexOf(half.id)).toBeLessThan(ids.indexOf(none.id));
    expect(item(full.id)).toMatchObject({
      score: 0.8,
      reasons: {
        matched: [
          { skill: 'lora', score: 0.9 },
          { skill: 'mqtt', score: 0.7 },
        ],
        missing: [],
      },
    });
    expect(item(half.id)).toMatchObject({
      score: 0.35,
      reasons: { matched: [{ skill: 'MQTT', score: 0.7 }], missing: ['modbus'] },
    });
    expect(item(half.id)?.reasons.text).toMatch(/1 of 2.*modbus/);
    expect(item(none.id)).toMatchObject({ score: 0, reasons: { matched: [], missing: ['opencv'] } });
    // Every project sharing no skill comes after every one that shares some.
    const firstWithout = body.items.findIndex((i) => i.reasons.matched.length === 0);
    expect(body.items.slice(firstWithout).every((i) => i.reasons.matched.length === 0)).toBe(true);
  });
});

describe('lab tasks and rubrics', () => {
  async function createTask(as: Person, fields: Record<string, unknown>) {
    return lab.call({
      method: 'POST',
      url: api('/tasks'),
      as,
      payload: {
        title: '冷藏车温度监控',
        instructions: '# 任务\n\n用 **DHT22** 采集温度，超过 8 °C 时打开风扇。',
        requiredSensors: ['temperature', 'humidity'],
        requiredActuators: ['fan'],
        skills: ['sensors', 'mqtt'],
        durationMinutes: 90,
        mentorWeight: 30,
        ...fields,
      },
    });
  }

  it('creates a task with a rubric in a project, and lets a student read it once published', async () => {
    const { project } = await createProject(lab.users.mentor, { title: '疫苗冷链' });
    const created = await createTask(lab.users.mentor, { projectId: project.id, rubric: GOOD_RUBRIC });
    expect(created.statusCode, created.body).toBe(201);
    const task = created.json() as Task;
    expect(task).toMatchObject({
      status: 'draft',
      projectId: project.id,
      organisationId: lab.enterprise.id,
      instructions: '# 任务\n\n用 **DHT22** 采集温度，超过 8 °C 时打开风扇。',
      // Normalised at the source: no reader meets a plain-string title.
      rubric: GOOD_RUBRIC_SERVED,
      mentorWeight: 30,
    });
    expect(
      (await lab.call({ method: 'GET', url: api(`/tasks/${task.id}`), as: lab.users.student })).statusCode,
    ).toBe(404);
    expect((await lab.call({ method: 'GET', url: api(`/tasks/${task.id}`), as: rival })).statusCode).toBe(
      404,
    );
    const rivalEdit = await lab.call({
      method: 'PATCH',
      url: api(`/tasks/${task.id}`),
      as: rival,
      headers: { 'if-match': created.headers.etag as string },
      payload: { title: 'x' },
    });
    expect(rivalEdit.statusCode).toBe(404);
    const published = await transition(
      lab.users.mentor,
      'tasks',
      task.id,
      'publish',
      created.headers.etag as string,
    );
    expect(published.statusCode, published.body).toBe(200);
    const read = await lab.call({ method: 'GET', url: api(`/tasks/${task.id}`), as: lab.users.student });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ title: '冷藏车温度监控', rubric: GOOD_RUBRIC_SERVED });
    expect((await lab.call({ method: 'GET', url: api('/tasks'), as: lab.users.student })).statusCode).toBe(
      403,
    );
    const list = await lab.call({
      method: 'GET',
      url: api(`/tasks?projectId=${project.id}`),
      as: lab.users.mentor,
    });
    expect(list.json()).toMatchObject({ total: 1, items: [{ id: task.id, criteriaCount: 4 }] });
    expect(list.body).not.toContain('instructions');
    expect((await lab.call({ method: 'GET', url: api('/tasks?limit=200'), as: rival })).json()).toMatchObject(
      {
        total: 0,
      },
    );
    expect(await auditActions('task', task.id)).toEqual(['create', 'publish']);
  });

  it('explains rubric problems, each naming its criterion', async () => {
    const { project } = await createProject(lab.users.mentor, { title: '冷链 rubric' });
    const [first, second, third, fourth] = GOOD_RUBRIC_SERVED.criteria;
    const cases: [unknown[], RegExp[]][] = [
      [[{ ...first, weight: 30 }, second, third, fourth], [/weights add up to 90, not 100/]],
      [
        [first, second, third, { ...fourth, type: 'vibes' }],
        [/criterion "real_data" \(#4\): unknown type "vibes": use one of sampling, .*authenticity/],
      ],
      [
        [{ ...first, params: { sensor: 'co2', min: 0, max: 1000, minPercent: 90 } }, second, third, fourth],
        [
          /criterion "cold_range" \(#1\): sensor "co2" is not among the task's required sensors \(temperature, humidity\)/,
        ],
      ],
      [
        [first, { ...second, id: 'cold_range' }, third, fourth],
        [/duplicate criterion id "cold_range" \(criteria #1 and #2\)/],
      ],
      [
        [{ ...first, id: 'Cold Range' }, second, third, fourth],
        [/criterion "Cold Range" \(#1\): id must be snake_case/],
      ],
      [
        [
          { ...first, params: { sensor: 'temperature', min: 8, max: 2, minPercent: 95 } },
          second,
          third,
          fourth,
        ],
        [/criterion "cold_range" \(#1\): params.min \(8\) must be below params.max \(2\)/],
      ],
      [
        [
          first,
          { ...second, params: { sensor: 'temperature', minHz: 1, maxIntervalSeconds: 10, minMinutes: 30 } },
          third,
          fourth,
        ],
        [/criterion "sampling_rate" \(#2\): give exactly one of params.minHz or params.maxIntervalSeconds/],
      ],
      [
        [
          first,
          second,
          {
            ...third,
            params: { sensor: 'temperature', above: 8, respondWith: { actuator: 'pump' }, withinSeconds: 30 },
          },
          fourth,
        ],
        [
          /criterion "fan_alarm" \(#3\): params.respondWith.actuator "pump" is not among the task's required actuators \(fan\)/,
        ],
      ],
      [
        [{ ...first, params: { sensor: 'temperature', min: '2', max: 8 } }, second, third, fourth],
        [/criterion "cold_range" \(#1\): params.min must be number/, /params.minPercent is required/],
      ],
      [
        [{ ...first, extra: 1 }, second, third, fourth],
        [/criterion "cold_range" \(#1\): extra is not a known field/],
      ],
      [[{ ...first, title: '' }, second, third, fourth], [/criterion "cold_range" \(#1\): title must be/]],
    ];
    for (const [criteria, messages] of cases) {
      const response = await createTask(lab.users.mentor, { projectId: project.id, rubric: { criteria } });
      expect(response.statusCode, response.body).toBe(400);
      const body = response.json() as ErrorResponse;
      expect(body.code).toBe('INVALID_RUBRIC');
      for (const message of messages) expect(body.message).toMatch(message);
    }
    const badSensor = await createTask(lab.users.mentor, {
      projectId: project.id,
      requiredSensors: ['Temp'],
    });
    expect(badSensor.statusCode).toBe(400);
    expect(badSensor.json()).toMatchObject({
      code: 'INVALID_SENSOR_NAME',
      message: expect.stringContaining('"Temp"'),
    });
    const notAList = await createTask(lab.users.mentor, {
      projectId: project.id,
      rubric: { criteria: 'none' },
    });
    expect(notAList.json()).toMatchObject({ code: 'INVALID_REQUEST' });
    const schema = await lab.call({ method: 'GET', url: api('/tasks/rubric-schema'), as: lab.users.student });
    expect(schema.statusCode).toBe(200);
    expect(JSON.stringify(schema.json())).toContain('threshold_response');
  });

  it('refuses a concurrent rubric edit: the second writer gets 412 VERSION_CONFLICT', async () => {
    const created = await createTask(lab.users.instructor, { mentorWeight: 0, rubric: GOOD_RUBRIC });
    expect(created.statusCode, created.body).toBe(201);
    const task = created.json() as Task;
    const etag = created.headers.etag as string;
    const [first, second, third, fourth] = GOOD_RUBRIC_SERVED.criteria;
    const mine = { criteria: [{ ...first, weight: 50 }, { ...second, weight: 10 }, third, fourth] };
    const theirs = { criteria: [{ ...first, weight: 20 }, { ...second, weight: 40 }, third, fourth] };
    const [a, b] = await Promise.all([
      lab.call({
        method: 'PUT',
        url: api(`/tasks/${task.id}/rubric`),
        as: lab.users.instructor,
        headers: { 'if-match': etag },
        payload: mine,
      }),
      lab.call({
        method: 'PUT',
        url: api(`/tasks/${task.id}/rubric`),
        as: lab.users.admin,
        headers: { 'if-match': etag },
        payload: theirs,
      }),
    ]);
    expect([a?.statusCode, b?.statusCode].sort()).toEqual([200, 412]);
    const loser = a?.statusCode === 412 ? a : b;
    expect(loser?.json()).toMatchObject({
      code: 'VERSION_CONFLICT',
      message: expect.stringContaining('version 2'),
    });
    const winner = a?.statusCode === 200 ? mine : theirs;
    const read = await lab.call({ method: 'GET', url: api(`/tasks/${task.id}`), as: lab.users.admin });
    expect(read.json()).toMatchObject({ version: 2, rubric: winner });
    const patchStale = await lab.call({
      method: 'PATCH',
      url: api(`/tasks/${task.id}`),
      as: lab.users.instructor,
      headers: { 'if-match': etag },
      payload: { rubric: mine },
    });
    expect(patchStale.statusCode).toBe(412);
    const noIfMatch = await lab.call({
      method: 'PUT',
      url: api(`/tasks/${task.id}/rubric`),
      as: lab.users.instructor,
      payload: mine,
    });
    expect(noIfMatch.statusCode).toBe(428);
    expect(await auditActions('task', task.id)).toEqual(['create', 'update-rubric']);
  });

  it('checks the rubric again when the task changes, and publishing needs criteria', async () => {
    const created = await createTask(lab.users.instructor, { mentorWeight: 0 });
    expect(created.statusCode, created.body).toBe(201);
    const task = created.json() as Task;
    expect(task.rubric).toEqual({ criteria: [] });
    const publish = await transition(
      lab.users.instructor,
      'tasks',
      task.id,
      'publish',
      created.headers.etag as string,
    );
    expect(publish.statusCode).toBe(400);
    expect(publish.json()).toMatchObject({
      code: 'INVALID_RUBRIC',
      message: expect.stringContaining('no criteria'),
    });
    const withRubric = await lab.call({
      method: 'PUT',
      url: api(`/tasks/${task.id}/rubric`),
      as: lab.users.instructor,
      headers: { 'if-match': created.headers.etag as string },
      payload: GOOD_RUBRIC,
    });
    expect(withRubric.statusCode, withRubric.body).toBe(200);
    const dropSensor = await lab.call({
      method: 'PATCH',
      url: api(`/tasks/${task.id}`),
      as: lab.users.instructor,
      headers: { 'if-match': withRubric.headers.etag as string },
      payload: { requiredSensors: ['humidity'] },
    });
    expect(dropSensor.statusCode).toBe(400);
    expect(dropSensor.json()).toMatchObject({
      code: 'INVALID_RUBRIC',
      message: expect.stringContaining('criterion "cold_range" (#1): sensor "temperature" is not among'),
    });
    const long = await lab.call({
      method: 'PATCH',
      url: api(`/tasks/${task.id}`),
      as: lab.users.instructor,
      headers: { 'if-match': withRubric.headers.etag as string },
      payload: { instructions: 'x'.repeat(50_001) },
    });
    expect(long.json()).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringContaining('instructions'),
    });
    const unknown = await lab.call({
      method: 'PATCH',
      url: api(`/tasks/${task.id}`),
      as: lab.users.instructor,
      headers: { 'if-match': withRubric.headers.etag as string },
      payload: { status: 'published' },
    });
    expect(unknown.json()).toMatchObject({ code: 'INVALID_REQUEST' });
    const wrongType = await lab.call({
      method: 'PATCH',
      url: api(`/tasks/${task.id}`),
      as: lab.users.instructor,
      headers: { 'if-match': withRubric.headers.etag as string },
      payload: { durationMinutes: '90' },
    });
    expect(wrongType.json()).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringContaining('durationMinutes'),
    });
  });

  it('keeps mentors to their enterprise projects and standalone tasks free of mentor weight', async () => {
    const standalone = await createTask(lab.users.mentor, { mentorWeight: 0 });
    expect(standalone.statusCode).toBe(403);
    const { project } = await createProject(lab.users.mentor, { title: '冷链网关' });
    const inOther = await createTask(rival, { projectId: project.id, mentorWeight: 0 });
    expect(inOther.statusCode).toBe(404);
    const weighted = await createTask(lab.users.instructor, { mentorWeight: 30 });
    expect(weighted.json()).toMatchObject({ code: 'MENTOR_WEIGHT_WITHOUT_PROJECT' });
    const byStudent = await createTask(lab.users.student, { projectId: project.id });
    expect(byStudent.statusCode).toBe(403);
    const anonymous = await lab.call({ method: 'GET', url: api(`/tasks/${project.id}`) });
    expect(anonymous.statusCode).toBe(401);
  });
});
