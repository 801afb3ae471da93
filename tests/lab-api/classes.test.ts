import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AuditEntry,
  ClassInfo,
  Kit,
  KitSecret,
  List,
  MyClass,
  NewKit,
  Organisation,
  Page,
  RosterErrorResponse,
  RosterImport,
  Team,
  Telemetry,
} from '../../contract/index.ts';
import { decodeRoster, parseCsv, readRoster } from '../../lab-api/roster.ts';
import { type Person, startTestLab, type TestLab } from '../helpers/lab.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
}, 60_000);
afterAll(async () => {
  await lab.close();
});

async function createClass(name: string, as: Person = lab.users.instructor): Promise<ClassInfo> {
  const response = await lab.call({
    method: 'POST',
    url: '/api/v1/classes',
    as,
    payload: { name, term: '2026秋' },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as ClassInfo;
}

async function uploadRoster(classId: string, body: Buffer | string, as: Person = lab.users.instructor) {
  return lab.call({
    method: 'POST',
    url: `/api/v1/classes/${classId}/roster`,
    as,
    headers: { 'content-type': 'text/csv' },
    payload: body,
  });
}

async function studentCount(): Promise<number> {
  return (await lab.db.get<{ n: number }>("SELECT count(*) AS n FROM users WHERE role = 'student'"))?.n ?? 0;
}

async function enrol(classId: string, ...students: Person[]) {
  const response = await lab.call({
    method: 'POST',
    url: `/api/v1/classes/${classId}/students`,
    as: lab.users.instructor,
    payload: { studentIds: students.map((s) => s.id) },
  });
  expect(response.statusCode, response.body).toBe(200);
}

async function insertProject(organisationId: string, createdBy: string, title: string): Promise<string> {
  const id = randomUUID();
  await lab.db.run(
    `INSERT INTO projects (id, organisation_id, title, difficulty, status, created_by, created_at, updated_at)
     VALUES (?, ?, ?, 3, 'published', ?, ?, ?)`,
    [id, organisationId, title, createdBy, Date.now(), Date.now()],
  );
  return id;
}

describe('roster files', () => {
  it('decodes GBK when the bytes are not UTF-8, and UTF-8 with or without BOM', () => {
    const gbk = decodeRoster(fixture('roster-gbk.csv'));
    expect(gbk.encoding).toBe('gb18030');
    expect(gbk.text.startsWith('学号,姓名,班级')).toBe(true);
    const bom = decodeRoster(fixture('roster-utf8-bom.csv'));
    expect(bom).toMatchObject({ encoding: 'utf-8' });
    expect(bom.text.startsWith('Student Number')).toBe(true);
    expect(decodeRoster(Buffer.from('学号,姓名\n1,张三\n')).encoding).toBe('utf-8');
  });

  it('parses quotes, doubled quotes, separators and line breaks inside quotes, CRLF and CR', () => {
    const { records } = parseCsv('a,"b,c","say ""hi"""\r\n"two\nlines",x\rlast,"",\n');
    expect(records.map((r) => r.fields)).toEqual([
      ['a', 'b,c', 'say "hi"'],
      ['two\nlines', 'x'],
      ['last', '', ''],
    ]);
    expect(parseCsv('a,"open\n').unterminatedQuoteAt).toBe(1);
  });

  it('finds the header under a title row and reports Excel-mangled 学号', () => {
    const { rows, errors } = readRoster(
      '物联网2401班花名册,,\n学号,姓名,班级\n2.02401E+11,张三,物联网2401\n',
      '物联网2401',
    );
    expect(rows).toEqual([]);
    expect(errors).toEqual([
      {
        row: 3,
        field: 'studentNumber',
        column: '学号',
        problem: 'STUDENT_NUMBER_MANGLED',
        params: { studentNumber: '2.02401E+11' },
        message: { en: expect.stringContaining('Excel'), 'zh-CN': expect.stringContaining('Excel') },
      },
    ]);
  });
});

describe('classes and roster import', () => {
  it('imports a roster whose export left control characters in a name, without them', async () => {
    const cls = await createClass('物联网2499');
    const file = Buffer.from('学号,姓名\r\n20249901,赵\u0000磊\r\n20249902,钱\u0007敏\r\n', 'utf8');
    const response = await uploadRoster(cls.id, file);
    expect(response.statusCode, response.body).toBe(200);
    expect((response.json() as RosterImport).created.map((c) => c.displayName)).toEqual(['赵磊', '钱敏']);
  });

  it('imports a GBK roster exported from Excel: accounts with one-time passwords, enrolled', async () => {
    const cls = await createClass('物联网2401');
    const before = await studentCount();
    const response = await uploadRoster(cls.id, fixture('roster-gbk.csv'));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json() as RosterImport;
    expect(body.encoding).toBe('gb18030');
    expect(body.rows).toBe(4);
    expect(body.created.map((c) => [c.studentNumber, c.displayName])).toEqual([
      ['20240101', '张伟'],
      ['20240102', '王芳'],
      ['20240103', '李娜'],
      ['20240104', '欧阳晓明'],
    ]);
    expect(await studentCount()).toBe(before + 4);
    // The initial password works, and is stored only hashed.
    const first = body.created[0] as (typeof body.created)[number];
    expect(first.username).toBe('20240101');
    const login = await lab.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: first.username, password: first.initialPassword },
    });
    expect(login.statusCode).toBe(200);
    const stored = await lab.db.get<{ password_hash: string }>(
      "SELECT password_hash FROM users WHERE username = '20240101'",
    );
    expect(stored?.password_hash).toMatch(/^scrypt\$/);
    expect(stored?.password_hash).not.toContain(first.initialPassword);

    const roster = await lab.call({
      method: 'GET',
      url: `/api/v1/classes/${cls.id}/students`,
      as: lab.users.instructor,
    });
    expect(roster.json()).toMatchObject({ total: 4 });
    const audit = await lab.call({
      method: 'GET',
      url: `/api/v1/audit?entity=class&entityId=${cls.id}`,
      as: lab.users.admin,
    });
    const importEntry = (audit.json() as Page<AuditEntry>).items.find((e) => e.action === 'roster-import');
    expect(importEntry?.after).toMatchObject({
      encoding: 'gb18030',
      created: expect.arrayContaining(['20240104']),
    });
    expect(JSON.stringify(audit.json())).not.toContain(first.initialPassword);

    // Importing again creates nobody and reports everyone as already enrolled.
    const again = await uploadRoster(cls.id, fixture('roster-gbk.csv'));
    expect(again.json()).toMatchObject({ created: [], enrolled: [] });
    expect((again.json() as RosterImport).alreadyEnrolled).toHaveLength(4);
  });

  it('reads GB18030 four-byte characters and a UTF-8 BOM file without a class column', async () => {
    const cls = await lab.call({
      method: 'GET',
      url: '/api/v1/classes?q=2401',
      as: lab.users.instructor,
    });
    const id = (cls.json() as Page<ClassInfo>).items[0]?.id as string;
    const gb = await uploadRoster(id, fixture('roster-gb18030.csv'));
    expect(gb.statusCode, gb.body).toBe(200);
    expect((gb.json() as RosterImport).created.map((c) => c.displayName)).toEqual(['𠮷亮', '䶮明']);

    const other = await createClass('物联网2402');
    const utf8 = await uploadRoster(other.id, fixture('roster-utf8-bom.csv'));
    expect(utf8.statusCode, utf8.body).toBe(200);
    expect(utf8.json()).toMatchObject({ encoding: 'utf-8', rows: 3 });
    expect((utf8.json() as RosterImport).created.map((c) => c.displayName)).toEqual([
      '陈静',
      '刘 洋',
      '赵磊',
    ]);
  });

  it('rejects a roster with broken rows: every row error, nothing half-imported', async () => {
    const cls = await createClass('物联网2403');
    const before = await studentCount();
    const text = readFileSync(join(FIXTURES, 'roster-broken.csv'), 'utf8').replaceAll(
      '物联网2401',
      '物联网2403',
    );
    // The fixture's class 物联网2401 becomes this one's on every row but 冯倩's (物联网2402).
    const response = await uploadRoster(cls.id, text);
    expect(response.statusCode).toBe(400);
    const body = response.json() as Required<RosterErrorResponse>;
    expect(body.code).toBe('ROSTER_INVALID');
    expect(body.message).toContain('nothing was imported');
    const errors = body.details.rows;
    expect(errors.map((e) => [e.row, e.column])).toEqual([
      [3, '学号'], // missing
      [4, '学号'], // duplicate of row 2
      [5, '学号'], // bad format
      [6, '姓名'], // empty name
      [7, '班级'], // another class
    ]);
    expect(errors.map((e) => e.problem)).toEqual([
      'STUDENT_NUMBER_MISSING',
      'STUDENT_NUMBER_REPEATED',
      'STUDENT_NUMBER_INVALID',
      'NAME_MISSING',
      'WRONG_CLASS',
    ]);
    expect(errors[1]).toMatchObject({
      params: { firstRow: 2 },
      message: { en: expect.stringContaining('row 2') },
    });
    expect(await studentCount()).toBe(before);
    const roster = await lab.call({
      method: 'GET',
      url: `/api/v1/classes/${cls.id}/students`,
      as: lab.users.admin,
    });
    expect(roster.json()).toMatchObject({ total: 0 });
  });

  it('rejects rows whose 学号 clashes with a non-student account, and files without the columns', async () => {
    const cls = await createClass('物联网2404');
    await lab.addUser('instructor', { username: '20249999' });
    const before = await studentCount();
    const clash = await uploadRoster(cls.id, '学号,姓名\n20240501,甲\n20249999,乙\n');
    expect(clash.statusCode).toBe(400);
    expect(clash.json()).toMatchObject({
      details: {
        rows: [
          {
            row: 3,
            column: '学号',
            problem: 'USERNAME_TAKEN',
            message: { en: expect.stringContaining('taken') },
          },
        ],
      },
    });
    expect(await studentCount()).toBe(before);
    const noHeader = await uploadRoster(cls.id, 'id,who\n1,2\n');
    expect(noHeader.json()).toMatchObject({
      code: 'ROSTER_INVALID',
      details: {
        rows: [
          { row: 1, column: '学号', field: 'studentNumber', problem: 'MISSING_COLUMN' },
          { row: 1, column: '姓名', field: 'name', problem: 'MISSING_COLUMN' },
        ],
      },
    });
    const json = await lab.call({
      method: 'POST',
      url: `/api/v1/classes/${cls.id}/roster`,
      as: lab.users.instructor,
      payload: { csv: 'x' },
    });
    expect(json.statusCode).toBe(400);
    const huge = await uploadRoster(cls.id, Buffer.alloc(3 * 1024 * 1024, 0x41));
    expect(huge.statusCode).toBe(413);
  });

  it('lets an instructor manage only their own classes; If-Match on edits', async () => {
    const mine = await createClass('物联网2405');
    const otherInstructor = await lab.addUser('instructor');
    const theirs = await createClass('物联网2406', otherInstructor);
    const list = await lab.call({ method: 'GET', url: '/api/v1/classes', as: otherInstructor });
    expect((list.json() as Page<ClassInfo>).items.map((c) => c.name)).toEqual(['物联网2406']);
    const all = await lab.call({ method: 'GET', url: '/api/v1/classes?limit=200', as: lab.users.admin });
    expect((all.json() as Page<ClassInfo>).total).toBeGreaterThanOrEqual(6);

    const foreign = await lab.call({
      method: 'GET',
      url: `/api/v1/classes/${theirs.id}/students`,
      as: lab.users.instructor,
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json()).toMatchObject({ code: 'NOT_YOUR_CLASS' });
    expect((await uploadRoster(theirs.id, '学号,姓名\n20240601,丙\n')).statusCode).toBe(403);

    const read = await lab.call({
      method: 'GET',
      url: `/api/v1/classes/${mine.id}`,
      as: lab.users.instructor,
    });
    const etag = read.headers.etag as string;
    const renamed = await lab.call({
      method: 'PATCH',
      url: `/api/v1/classes/${mine.id}`,
      as: lab.users.instructor,
      headers: { 'if-match': etag },
      payload: { term: '2026春' },
    });
    expect(renamed.statusCode).toBe(200);
    const stale = await lab.call({
      method: 'PATCH',
      url: `/api/v1/classes/${mine.id}`,
      as: lab.users.instructor,
      headers: { 'if-match': etag },
      payload: { name: '物联网2405B' },
    });
    expect(stale.json()).toMatchObject({ statusCode: 412, code: 'VERSION_CONFLICT' });
    const handOver = await lab.call({
      method: 'PATCH',
      url: `/api/v1/classes/${mine.id}`,
      as: lab.users.instructor,
      headers: { 'if-match': renamed.headers.etag as string },
      payload: { instructorId: otherInstructor.id },
    });
    expect(handOver.statusCode).toBe(403);
    const duplicate = await lab.call({
      method: 'POST',
      url: '/api/v1/classes',
      as: lab.users.admin,
      payload: { name: '物联网2405', instructorId: lab.users.instructor.id },
    });
    expect(duplicate.statusCode).toBe(409);
  });
});

describe('teams and who sees them', () => {
  let classId: string;
  let alice: Person;
  let bob: Person;
  let carol: Person;
  let teamId: string;
  let ourProject: string;
  let theirProject: string;

  beforeAll(async () => {
    classId = (await createClass('物联网2407')).id;
    alice = await lab.addUser('student');
    bob = await lab.addUser('student');
    carol = await lab.addUser('student');
    await enrol(classId, alice, bob);
    ourProject = await insertProject(lab.enterprise.id, lab.users.mentor.id, '冷库温湿度监测');
    const elsewhere = await lab.call({
      method: 'POST',
      url: '/api/v1/organisations',
      as: lab.users.admin,
      payload: { kind: 'enterprise', name: '绿野智慧农业' },
    });
    const otherMentor = await lab.addUser('mentor', {
      organisationId: (elsewhere.json() as Organisation).id,
    });
    theirProject = await insertProject((elsewhere.json() as Organisation).id, otherMentor.id, '温室灌溉');
  });

  it('creates a team of enrolled students, one team per class each', async () => {
    const created = await lab.call({
      method: 'POST',
      url: `/api/v1/classes/${classId}/teams`,
      as: lab.users.instructor,
      payload: { name: '第一组', memberIds: [alice.id] },
    });
    expect(created.statusCode, created.body).toBe(201);
    teamId = (created.json() as Team).id;
    const outsider = await lab.call({
      method: 'POST',
      url: `/api/v1/teams/${teamId}/members`,
      as: lab.users.instructor,
      payload: { studentId: carol.id },
    });
    expect(outsider.json()).toMatchObject({ statusCode: 409, code: 'NOT_ENROLLED' });
    const added = await lab.call({
      method: 'POST',
      url: `/api/v1/teams/${teamId}/members`,
      as: lab.users.instructor,
      payload: { studentId: bob.id },
    });
    expect((added.json() as Team).members.map((m) => m.id).sort()).toEqual([alice.id, bob.id].sort());
    const second = await lab.call({
      method: 'POST',
      url: `/api/v1/classes/${classId}/teams`,
      as: lab.users.instructor,
      payload: { name: '第二组', memberIds: [bob.id] },
    });
    expect(second.json()).toMatchObject({ statusCode: 409, code: 'ALREADY_IN_TEAM' });
    const removed = await lab.call({
      method: 'DELETE',
      url: `/api/v1/teams/${teamId}/members/${bob.id}`,
      as: lab.users.instructor,
    });
    expect((removed.json() as Team).members).toHaveLength(1);
    await lab.call({
      method: 'POST',
      url: `/api/v1/teams/${teamId}/members`,
      as: lab.users.instructor,
      payload: { studentId: bob.id },
    });
  });

  it("sets the team's project with If-Match, audited", async () => {
    const read = await lab.call({ method: 'GET', url: `/api/v1/teams/${teamId}`, as: lab.users.instructor });
    const set = await lab.call({
      method: 'PATCH',
      url: `/api/v1/teams/${teamId}`,
      as: lab.users.instructor,
      headers: { 'if-match': read.headers.etag as string },
      payload: { projectId: ourProject },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ projectId: ourProject, projectTitle: '冷库温湿度监测' });
    const missing = await lab.call({
      method: 'PATCH',
      url: `/api/v1/teams/${teamId}`,
      as: lab.users.instructor,
      payload: { name: 'x' },
    });
    expect(missing.statusCode).toBe(428);
    const audit = await lab.call({
      method: 'GET',
      url: `/api/v1/audit?entity=team&entityId=${teamId}`,
      as: lab.users.instructor,
    });
    expect((audit.json() as Page<AuditEntry>).items.map((e) => e.action).sort()).toEqual([
      'add-member',
      'add-member',
      'create',
      'remove-member',
      'update',
    ]);
  });

  it('shows a mentor only the teams on their enterprise projects, without 学号', async () => {
    const other = await lab.call({
      method: 'POST',
      url: `/api/v1/classes/${classId}/teams`,
      as: lab.users.instructor,
      payload: { name: '第二组', projectId: theirProject },
    });
    const otherTeam = (other.json() as Team).id;
    const list = await lab.call({ method: 'GET', url: '/api/v1/teams', as: lab.users.mentor });
    expect(list.statusCode).toBe(200);
    const items = (list.json() as Page<Team>).items;
    expect(items.map((t) => t.id)).toEqual([teamId]);
    expect(items[0]?.members.every((m) => m.studentNumber === null)).toBe(true);
    expect(
      (await lab.call({ method: 'GET', url: `/api/v1/teams/${teamId}`, as: lab.users.mentor })).statusCode,
    ).toBe(200);
    const refused = await lab.call({
      method: 'GET',
      url: `/api/v1/teams/${otherTeam}`,
      as: lab.users.mentor,
    });
    expect(refused.json()).toMatchObject({ statusCode: 403, code: 'NOT_YOUR_TEAM' });
    expect((await lab.call({ method: 'GET', url: '/api/v1/classes', as: lab.users.mentor })).statusCode).toBe(
      403,
    );
  });

  it('shows a student only their own classes and teams', async () => {
    const classes = await lab.call({ method: 'GET', url: '/api/v1/me/classes', as: alice });
    expect((classes.json() as Page<MyClass>).items.map((c) => c.id)).toEqual([classId]);
    const teams = await lab.call({ method: 'GET', url: '/api/v1/me/teams', as: alice });
    expect((teams.json() as Page<Team>).items.map((t) => t.id)).toEqual([teamId]);
    expect((await lab.call({ method: 'GET', url: `/api/v1/classes/${classId}`, as: alice })).statusCode).toBe(
      200,
    );
    expect((await lab.call({ method: 'GET', url: `/api/v1/classes/${classId}`, as: carol })).statusCode).toBe(
      403,
    );
    expect((await lab.call({ method: 'GET', url: `/api/v1/teams/${teamId}`, as: carol })).statusCode).toBe(
      403,
    );
    expect((await lab.call({ method: 'GET', url: '/api/v1/me/teams', as: carol })).json()).toMatchObject({
      total: 0,
    });
    expect(
      (await lab.call({ method: 'GET', url: `/api/v1/classes/${classId}/students`, as: alice })).statusCode,
    ).toBe(403);
  });

  it('unenrols a student from the class and its team', async () => {
    const gone = await lab.call({
      method: 'DELETE',
      url: `/api/v1/classes/${classId}/students/${bob.id}`,
      as: lab.users.instructor,
    });
    expect(gone.statusCode).toBe(204);
    const team = await lab.call({ method: 'GET', url: `/api/v1/teams/${teamId}`, as: lab.users.instructor });
    expect((team.json() as Team).members.map((m) => m.id)).toEqual([alice.id]);
    await enrol(classId, bob);
  });
});

describe('kits: registry, secrets, bindings and students', () => {
  let classId: string;
  let dana: Person;
  let eve: Person;

  beforeAll(async () => {
    classId = (await createClass('物联网2408')).id;
    dana = await lab.addUser('student');
    eve = await lab.addUser('student');
    await enrol(classId, dana, eve);
  });

  it('registers a kit with its sensors and shows the secret once', async () => {
    const created = await lab.call({
      method: 'POST',
      url: '/api/v1/kits',
      as: lab.users.instructor,
      payload: { id: 'kit-2408-01', name: '冷库1号', kind: 'esp32', sensors: ['temperature', 'humidity'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { kit, secret } = created.json() as NewKit;
    expect(kit).toMatchObject({
      id: 'kit-2408-01',
      sensors: ['temperature', 'humidity'],
      binding: null,
      active: true,
    });
    expect(await lab.registry.verifyKit('kit-2408-01', secret)).toBe(true);
    const read = await lab.call({ method: 'GET', url: '/api/v1/kits/kit-2408-01', as: lab.users.admin });
    expect(read.body).not.toContain(secret);
    const again = await lab.call({
      method: 'POST',
      url: '/api/v1/kits',
      as: lab.users.admin,
      payload: { id: 'kit-2408-01' },
    });
    expect(again.json()).toMatchObject({ statusCode: 409, code: 'KIT_EXISTS' });
    const student = await lab.call({
      method: 'POST',
      url: '/api/v1/kits',
      as: dana,
      payload: { id: 'kit-mine' },
    });
    expect(student.statusCode).toBe(403);
  });

  it('rotates and revokes the secret', async () => {
    const old = await lab.registry.rotateKitSecret('kit-2408-01');
    const rotated = await lab.call({
      method: 'POST',
      url: '/api/v1/kits/kit-2408-01/secret',
      as: lab.users.instructor,
    });
    expect(rotated.statusCode).toBe(200);
    const { secret } = rotated.json() as KitSecret;
    expect(await lab.registry.verifyKit('kit-2408-01', old)).toBe(false);
    expect(await lab.registry.verifyKit('kit-2408-01', secret)).toBe(true);
    const revoked = await lab.call({
      method: 'DELETE',
      url: '/api/v1/kits/kit-2408-01/secret',
      as: lab.users.admin,
    });
    expect(revoked.json()).toMatchObject({ id: 'kit-2408-01', active: false });
    expect(await lab.registry.verifyKit('kit-2408-01', secret)).toBe(false);
    const back = await lab.call({
      method: 'POST',
      url: '/api/v1/kits/kit-2408-01/secret',
      as: lab.users.admin,
    });
    expect(await lab.registry.verifyKit('kit-2408-01', (back.json() as KitSecret).secret)).toBe(true);
    const unknown = await lab.call({
      method: 'POST',
      url: '/api/v1/kits/no-such-kit/secret',
      as: lab.users.admin,
    });
    expect(unknown.json()).toMatchObject({ statusCode: 404, code: 'KIT_NOT_FOUND' });
    const audit = await lab.call({
      method: 'GET',
      url: '/api/v1/audit?entity=kit&entityId=kit-2408-01',
      as: lab.users.admin,
    });
    // Entries made within one millisecond have no order among them: compare as sets.
    expect((audit.json() as Page<AuditEntry>).items.map((e) => e.action).sort()).toEqual([
      'create',
      'revoke-secret',
      'rotate-secret',
      'rotate-secret',
    ]);
    expect(audit.body).not.toContain(secret);
  });

  it('binds a kit to a student, audited as kit-binding; the student sees it and its data from then on', async () => {
    const t0 = Date.now() - 60_000;
    await lab.store.write([{ kitId: 'kit-2408-01', ts: t0, readings: { temperature: 4.5 } }]);
    const bound = await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/kit-2408-01/binding',
      as: lab.users.instructor,
      payload: { studentId: dana.id },
    });
    expect(bound.statusCode, bound.body).toBe(200);
    expect(bound.json()).toMatchObject({
      binding: { kitId: 'kit-2408-01', studentId: dana.id, teamId: null },
    });
    const t1 = Date.now() + 1;
    await lab.store.write([{ kitId: 'kit-2408-01', ts: t1, readings: { temperature: 5.5 } }]);

    const mine = await lab.call({ method: 'GET', url: '/api/v1/kits', as: dana });
    expect((mine.json() as List<Kit>).items.map((k) => k.id)).toEqual(['kit-2408-01']);
    const theirs = await lab.call({ method: 'GET', url: '/api/v1/kits', as: eve });
    expect(theirs.json()).toMatchObject({ items: [] });
    expect(
      (await lab.call({ method: 'GET', url: '/api/v1/kits/kit-2408-01', as: eve })).json(),
    ).toMatchObject({
      statusCode: 403,
      code: 'NOT_YOUR_KIT',
    });
    const telemetry = await lab.call({
      method: 'GET',
      url: `/api/v1/kits/kit-2408-01/telemetry?sensor=temperature&from=${t0 - 1000}&to=${t1 + 1000}`,
      as: dana,
    });
    expect(telemetry.statusCode, telemetry.body).toBe(200);
    expect((telemetry.json() as Telemetry).points?.map((p) => p.value)).toEqual([5.5]);
    const staff = await lab.call({
      method: 'GET',
      url: `/api/v1/kits/kit-2408-01/telemetry?sensor=temperature&from=${t0 - 1000}&to=${t1 + 1000}`,
      as: lab.users.instructor,
    });
    expect((staff.json() as Telemetry).points?.map((p) => p.value)).toEqual([4.5, 5.5]);
    expect(
      (
        await lab.call({
          method: 'GET',
          url: '/api/v1/kits/kit-2408-01/telemetry?sensor=temperature',
          as: eve,
        })
      ).statusCode,
    ).toBe(403);

    const empty = await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/kit-2408-01/binding',
      as: lab.users.instructor,
    });
    expect(empty.json()).toMatchObject({ statusCode: 400, code: 'INVALID_REQUEST' });
    const unbound = await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/kit-2408-01/binding',
      as: lab.users.instructor,
      headers: { 'content-type': 'application/json' },
      payload: 'null',
    });
    expect(unbound.json()).toEqual({ binding: null });
    const audit = await lab.call({
      method: 'GET',
      url: '/api/v1/audit?entity=kit-binding&entityId=kit-2408-01',
      as: lab.users.admin,
    });
    const entries = (audit.json() as Page<AuditEntry>).items;
    expect(entries.map((e) => e.action).sort()).toEqual(['bind', 'unbind']);
    expect(entries.find((e) => e.action === 'bind')).toMatchObject({
      before: null,
      after: { studentId: dana.id, boundBy: lab.users.instructor.id },
    });
    expect(entries.find((e) => e.action === 'unbind')).toMatchObject({
      before: { studentId: dana.id },
      after: null,
    });
  });

  it('binds to a team: every member sees the kit; instructors only bind within their classes', async () => {
    const team = await lab.call({
      method: 'POST',
      url: `/api/v1/classes/${classId}/teams`,
      as: lab.users.instructor,
      payload: { name: '冷链组', memberIds: [dana.id, eve.id] },
    });
    const teamId = (team.json() as Team).id;
    await lab.registry.addKit({ id: 'kit-2408-02' });
    const bound = await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/kit-2408-02/binding',
      as: lab.users.instructor,
      payload: { teamId },
    });
    expect(bound.statusCode, bound.body).toBe(200);
    for (const member of [dana, eve]) {
      const kits = await lab.call({ method: 'GET', url: '/api/v1/kits', as: member });
      expect((kits.json() as List<Kit>).items.map((k) => k.id)).toEqual(['kit-2408-02']);
    }
    const stranger = await lab.addUser('instructor');
    const taken = await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/kit-2408-02/binding',
      as: stranger,
      headers: { 'content-type': 'application/json' },
      payload: 'null',
    });
    expect(taken.json()).toMatchObject({ statusCode: 403, code: 'KIT_BOUND_ELSEWHERE' });
    const notTheirs = await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/kit-2408-01/binding',
      as: stranger,
      payload: { studentId: dana.id },
    });
    expect(notTheirs.json()).toMatchObject({ statusCode: 403, code: 'NOT_YOUR_CLASS' });
    const both = await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/kit-2408-01/binding',
      as: lab.users.admin,
      payload: { studentId: dana.id, teamId },
    });
    expect(both.statusCode).toBe(400);
    const staffView = await lab.call({ method: 'GET', url: '/api/v1/kits', as: lab.users.instructor });
    const kit = (staffView.json() as List<Kit>).items.find((k) => k.id === 'kit-2408-02');
    expect(kit?.binding).toMatchObject({ teamId, studentId: null });
  });
});

describe('a kit binding belongs to one class', () => {
  it("keeps another instructor away from a student's kit, even after enrolling that student", async () => {
    const owner = await lab.addUser('instructor');
    const other = await lab.addUser('instructor');
    const student = await lab.addUser('student');
    const mine = await createClass('物联网2411', owner);
    const theirs = await createClass('物联网2412', other);
    for (const [cls, as] of [
      [mine, owner],
      [theirs, other],
    ] as const) {
      const enrolled = await lab.call({
        method: 'POST',
        url: `/api/v1/classes/${cls.id}/students`,
        as,
        payload: { studentIds: [student.id] },
      });
      expect(enrolled.statusCode, enrolled.body).toBe(200);
    }
    await lab.registry.addKit({ id: 'kit-2411-01' });
    const bound = await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/kit-2411-01/binding',
      as: owner,
      payload: { studentId: student.id },
    });
    expect(bound.json()).toMatchObject({ binding: { studentId: student.id, classId: mine.id } });
    // The other class's instructor teaches the student too, but not the class the kit is bound in.
    const rebind = await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/kit-2411-01/binding',
      as: other,
      payload: { studentId: student.id, classId: theirs.id },
    });
    expect(rebind.json()).toMatchObject({ statusCode: 403, code: 'KIT_BOUND_ELSEWHERE' });
    const rotate = await lab.call({ method: 'POST', url: '/api/v1/kits/kit-2411-01/secret', as: other });
    expect(rotate.json()).toMatchObject({ statusCode: 403, code: 'KIT_BOUND_ELSEWHERE' });
    const board = await lab.call({
      method: 'GET',
      url: `/api/v1/dashboard/classes/${theirs.id}/board`,
      as: other,
    });
    expect(board.body).not.toContain('kit-2411-01');
    const ownBoard = await lab.call({
      method: 'GET',
      url: `/api/v1/dashboard/classes/${mine.id}/board`,
      as: owner,
    });
    expect(ownBoard.body).toContain('kit-2411-01');
  });

  it('asks which class when a student is in several of the instructor’s classes', async () => {
    const teacher = await lab.addUser('instructor');
    const student = await lab.addUser('student');
    const first = await createClass('物联网2413', teacher);
    const second = await createClass('物联网2414', teacher);
    for (const cls of [first, second]) {
      await lab.call({
        method: 'POST',
        url: `/api/v1/classes/${cls.id}/students`,
        as: teacher,
        payload: { studentIds: [student.id] },
      });
    }
    await lab.registry.addKit({ id: 'kit-2413-01' });
    const unclear = await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/kit-2413-01/binding',
      as: teacher,
      payload: { studentId: student.id },
    });
    expect(unclear.json()).toMatchObject({ statusCode: 400, code: 'CLASS_REQUIRED' });
    const clear = await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/kit-2413-01/binding',
      as: teacher,
      payload: { studentId: student.id, classId: second.id },
    });
    expect(clear.json()).toMatchObject({ binding: { classId: second.id } });
  });

  it('releases a student’s kits when they leave the class', async () => {
    const teacher = await lab.addUser('instructor');
    const student = await lab.addUser('student');
    const cls = await createClass('物联网2415', teacher);
    await lab.call({
      method: 'POST',
      url: `/api/v1/classes/${cls.id}/students`,
      as: teacher,
      payload: { studentIds: [student.id] },
    });
    await lab.registry.addKit({ id: 'kit-2415-01' });
    await lab.call({
      method: 'PUT',
      url: '/api/v1/kits/kit-2415-01/binding',
      as: teacher,
      payload: { studentId: student.id },
    });
    expect((await lab.call({ method: 'GET', url: '/api/v1/kits', as: student })).body).toContain(
      'kit-2415-01',
    );
    const removed = await lab.call({
      method: 'DELETE',
      url: `/api/v1/classes/${cls.id}/students/${student.id}`,
      as: teacher,
    });
    expect(removed.statusCode, removed.body).toBeLessThan(300);
    expect((await lab.call({ method: 'GET', url: '/api/v1/kits', as: student })).json()).toMatchObject({
      items: [],
    });
    const telemetry = await lab.call({
      method: 'GET',
      url: '/api/v1/kits/kit-2415-01/telemetry?sensor=temperature',
      as: student,
    });
    expect(telemetry.statusCode).toBe(403);
  });
});

describe('names with numbers', () => {
  it('lists 第2组 before 第10组, as people count', async () => {
    const cls = await createClass('物联网2416');
    for (const name of ['第10组', '第2组', '第1组', '第11组']) {
      const made = await lab.call({
        method: 'POST',
        url: `/api/v1/classes/${cls.id}/teams`,
        as: lab.users.instructor,
        payload: { name },
      });
      expect(made.statusCode, made.body).toBe(201);
    }
    const teams = await lab.call({
      method: 'GET',
      url: `/api/v1/classes/${cls.id}/teams?limit=2&offset=1`,
      as: lab.users.instructor,
    });
    expect((teams.json() as Page<Team>).items.map((t) => t.name)).toEqual(['第2组', '第10组']);
    expect((teams.json() as Page<Team>).total).toBe(4);
  });
});
