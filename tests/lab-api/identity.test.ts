import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, Organisation, Page, PasswordChanged } from '../../contract/index.ts';
import { ApiError, PasswordChecks, People, SignInLimiter } from '../../lab-api/index.ts';
import { PASSWORD, startTestLab, type TestLab } from '../helpers/lab.ts';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
}, 60_000);
afterAll(async () => {
  await lab.close();
});

describe('sign-in', () => {
  it('gives a token that identifies the person, and logout ends it', async () => {
    const student = await lab.addUser('student');
    const me = await lab.call({ method: 'GET', url: '/api/v1/me', as: student });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ username: student.username, role: 'student' });
    expect(me.body).not.toContain('password');
    expect((await lab.call({ method: 'POST', url: '/api/v1/auth/logout', as: student })).statusCode).toBe(
      204,
    );
    const after = await lab.call({ method: 'GET', url: '/api/v1/me', as: student });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ code: 'BAD_TOKEN' });
  });

  it('refuses a wrong password with the same answer as an unknown user', async () => {
    const wrong = await lab.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: lab.users.student.username, password: 'nope-nope-nope' },
    });
    const unknown = await lab.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'nobody-here', password: PASSWORD },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
  });

  it('slows down guessing: after 5 failures the account answers 429 with Retry-After', async () => {
    const target = await lab.addUser('instructor');
    for (let i = 0; i < 5; i++) {
      await lab.call({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: target.username, password: `guess-number-${i}` },
      });
    }
    const limited = await lab.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: target.username, password: PASSWORD },
    });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  const login = (username: string, password: string, remoteAddress: string) =>
    lab.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username, password },
      remoteAddress,
    });

  it('slows the guesser, not the person guessed at: another machine still signs in', async () => {
    const victim = await lab.addUser('instructor');
    for (let i = 0; i < 6; i++) await login(victim.username, `guess-number-${i}`, '10.0.0.66');
    expect((await login(victim.username, PASSWORD, '10.0.0.66')).statusCode).toBe(429);
    expect((await login(victim.username, PASSWORD, '10.0.0.7')).statusCode).toBe(200);
  });

  it('gives a burst of parallel guesses no more password checks than the limit', async () => {
    const target = await lab.addUser('instructor');
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) => login(target.username, `burst-guess-${i}`, '10.0.5.66')),
    );
    const answers = burst.map((answer) => answer.statusCode);
    // Five wrong passwords are told so; every other guess is refused before its check.
    expect(answers.filter((status) => status === 401)).toHaveLength(5);
    expect(answers.filter((status) => status === 429)).toHaveLength(25);
    expect((await login(target.username, PASSWORD, '10.0.5.66')).statusCode).toBe(429);
    // Guesses at many accounts at once from one address: no more than the address's limit.
    const spray = await Promise.all(
      Array.from({ length: 70 }, (_, i) =>
        login(`sprayed-${i}-${Math.random()}`, 'whatever-123', '10.0.6.66'),
      ),
    );
    const wrong = spray.filter((answer) => answer.statusCode === 401).length;
    expect(wrong).toBeGreaterThan(0);
    expect(wrong).toBeLessThanOrEqual(50);
    expect(spray.filter((answer) => answer.statusCode === 429)).toHaveLength(70 - wrong);
    // The person, from their own machine, still signs in.
    expect((await login(target.username, PASSWORD, '10.0.5.7')).statusCode).toBe(200);
  }, 60_000);

  it('signs in a whole class at once behind one classroom address, first time for everyone', async () => {
    const students = await Promise.all(Array.from({ length: 40 }, () => lab.addUser('student')));
    const answers = await Promise.all(
      students.map((student) => login(student.username, PASSWORD, '10.0.7.1')),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual(students.map(() => 200));
  }, 60_000);

  it('locks an address that tries many usernames, and nobody else', async () => {
    const teacher = await lab.addUser('instructor');
    for (let i = 0; i < 50; i++) await login(`random-${i}-${Math.random()}`, 'whatever-123', '10.0.1.66');
    const attacker = await login(teacher.username, PASSWORD, '10.0.1.66');
    expect(attacker.statusCode).toBe(429);
    expect(attacker.json()).toMatchObject({ code: 'TOO_MANY_ATTEMPTS' });
    expect((await login(teacher.username, PASSWORD, '10.0.1.8')).statusCode).toBe(200);
  }, 60_000);

  it("keeps a browser the person signed in from before open, even behind the attacker's address", async () => {
    const teacher = await lab.addUser('instructor');
    const classroom = '10.0.3.1'; // one NAT address for the whole room
    const first = await login(teacher.username, PASSWORD, classroom);
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/^iotlab_device=[\w-]+;.*HttpOnly; SameSite=Strict/);
    for (let i = 0; i < 50; i++) await login(`made-up-${i}`, 'whatever-123', classroom);
    for (let i = 0; i < 6; i++) await login(teacher.username, `guess-number-${i}`, classroom);
    // A browser without the cookie at that address is refused; the teacher's own browser is not.
    expect((await login(teacher.username, PASSWORD, classroom)).statusCode).toBe(429);
    const again = await lab.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: teacher.username, password: PASSWORD },
      remoteAddress: classroom,
      headers: { cookie: cookie.split(';')[0] as string },
    });
    expect(again.statusCode).toBe(200);
    // The cookie is this account's only: another username gains nothing from it.
    const other = await lab.addUser('instructor');
    const borrowed = await lab.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: other.username, password: PASSWORD },
      remoteAddress: classroom,
      headers: { cookie: cookie.split(';')[0] as string },
    });
    expect(borrowed.statusCode).toBe(429);
  }, 60_000);

  it('purges expired login tokens', async () => {
    const student = await lab.addUser('student');
    await lab.db.run('UPDATE auth_tokens SET expires_at = ? WHERE user_id = ?', [Date.now() - 1, student.id]);
    expect((await lab.call({ method: 'GET', url: '/api/v1/me', as: student })).statusCode).toBe(401);
    expect(await new PasswordChecks(lab.db).purge()).toBeGreaterThan(0);
    const left = await lab.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM auth_tokens WHERE user_id = ?', [
      student.id,
    ]);
    expect(left?.n).toBe(0);
  });

  it('limits guessing the current password when changing it', async () => {
    const student = await lab.addUser('student');
    const change = (currentPassword: string) =>
      lab.app.inject({
        method: 'POST',
        url: '/api/v1/me/password',
        headers: { authorization: `Bearer ${student.token}` },
        payload: { currentPassword, newPassword: 'a-much-longer-passphrase' },
        remoteAddress: '10.0.2.66',
      });
    for (let i = 0; i < 5; i++) expect((await change(`guess-number-${i}`)).statusCode).toBe(403);
    const limited = await change(PASSWORD);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('remembers a bounded number of failures, however many names and addresses are tried', () => {
    const limiter = new SignInLimiter({ maxKeys: 1_000 });
    for (let i = 0; i < 20_000; i++)
      limiter.fail(`name-${i}`, { address: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` });
    expect(limiter.size).toBeLessThanOrEqual(1_000);
    // The most recent failures are the ones kept.
    for (let i = 0; i < 4; i++) limiter.fail('name-19999', { address: '10.0.78.31' });
    expect(limiter.retryAfter('name-19999', { address: '10.0.78.31' })).toBeGreaterThan(0);
  });

  it('changes a password: the old one stops working, other sessions end', async () => {
    const mentor = await lab.addUser('mentor');
    const changed = await lab.call({
      method: 'POST',
      url: '/api/v1/me/password',
      as: mentor,
      payload: { currentPassword: PASSWORD, newPassword: 'a-much-longer-passphrase' },
    });
    expect(changed.statusCode).toBe(200);
    expect((await lab.call({ method: 'GET', url: '/api/v1/me', as: mentor })).statusCode).toBe(401);
    const fresh = { ...mentor, token: (changed.json() as PasswordChanged).token };
    expect((await lab.call({ method: 'GET', url: '/api/v1/me', as: fresh })).statusCode).toBe(200);
    const old = await lab.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: mentor.username, password: PASSWORD },
    });
    expect(old.statusCode).toBe(401);
    const weak = await lab.call({
      method: 'POST',
      url: '/api/v1/me/password',
      as: fresh,
      payload: { currentPassword: 'a-much-longer-passphrase', newPassword: '12345678901' },
    });
    expect(weak.json()).toMatchObject({ code: 'WEAK_PASSWORD' });
  });
});

describe('people and organisations', () => {
  it('lets an admin create people, and stores no password in the clear', async () => {
    const created = await lab.call({
      method: 'POST',
      url: '/api/v1/users',
      as: lab.users.admin,
      payload: {
        username: 'li.ming',
        displayName: '李明',
        role: 'student',
        password: 'student-password-1',
        studentNumber: '2026030117',
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ displayName: '李明', studentNumber: '2026030117' });
    const row = await lab.db.get<{ password_hash: string }>(
      "SELECT password_hash FROM users WHERE username = 'li.ming'",
    );
    expect(row?.password_hash).toMatch(/^scrypt\$/);
    expect(row?.password_hash).not.toContain('student-password-1');
    const again = await lab.call({
      method: 'POST',
      url: '/api/v1/users',
      as: lab.users.admin,
      payload: {
        username: 'li.ming',
        displayName: 'x',
        role: 'student',
        password: 'student-password-1',
        studentNumber: '2026030118',
      },
    });
    expect(again.statusCode).toBe(409);
  });

  it('explains invalid bodies: unknown fields, wrong types, oversized strings', async () => {
    const base = {
      username: 'wang.fang',
      displayName: '王芳',
      role: 'instructor',
      password: 'instructor-pass-1',
    };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, isAdmin: true }, /isAdmin|additional/i],
      [{ ...base, role: 'root' }, /role/],
      [{ ...base, displayName: 'x'.repeat(101) }, /displayName/],
      [{ ...base, username: 42 }, /username/],
    ];
    for (const [payload, message] of cases) {
      const response = await lab.call({ method: 'POST', url: '/api/v1/users', as: lab.users.admin, payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'INVALID_REQUEST',
        message: expect.stringMatching(message),
      });
    }
  });

  it('refuses text longer than its column outside the API too (the CLI), naming the field', async () => {
    const people = new People(lab.db);
    const cli = { kind: 'service', name: 'cli' } as const;
    const base = {
      username: 'long.one',
      displayName: '张伟',
      role: 'instructor',
      password: PASSWORD,
    } as const;
    const cases: [Partial<Parameters<People['createUser']>[1]>, string, string][] = [
      [
        { username: 'u'.repeat(65) },
        'username is 65 characters; at most 64',
        '用户名有 65 个字符，最多 64 个',
      ],
      [{ displayName: '张'.repeat(101) }, 'display name is 101 characters; at most 100', '姓名有 101 个字符'],
      [
        { role: 'student', studentNumber: '2'.repeat(33) },
        'student number (学号) is 33 characters; at most 32',
        '学号有 33 个字符',
      ],
      [{ email: `${'e'.repeat(196)}@x.cn` }, 'email is 201 characters; at most 200', '邮箱有 201 个字符'],
    ];
    for (const [change, en, zh] of cases) {
      const refused = people.createUser(cli, { ...base, ...change });
      await expect(refused, en).rejects.toBeInstanceOf(ApiError);
      await expect(refused).rejects.toMatchObject({
        statusCode: 400,
        code: 'TOO_LONG',
        message: en,
        text: { 'zh-CN': expect.stringContaining(zh) },
      });
    }
    expect((await people.userForLogin('long.one'))?.user).toBeUndefined();
    // Up to the column it is stored (in characters, as PostgreSQL counts them).
    const full = await people.createUser(cli, { ...base, displayName: '张'.repeat(100) });
    expect(full.displayName).toBe('张'.repeat(100));
  });

  it('refuses text with a NUL character, naming the field, on either lab database, and stores nothing', async () => {
    const created = await lab.call({
      method: 'POST',
      url: '/api/v1/users',
      as: lab.users.admin,
      headers: { 'accept-language': 'zh-CN' },
      payload: {
        username: 'nul.user',
        displayName: '王\u0000芳',
        role: 'instructor',
        password: 'instructor-pass-1',
      },
    });
    expect(created.statusCode, created.body).toBe(400);
    expect(created.json()).toMatchObject({
      code: 'INVALID_TEXT',
      message: expect.stringMatching(/displayName.*空字符/),
    });
    const search = await lab.call({ method: 'GET', url: '/api/v1/users?q=a%00b', as: lab.users.admin });
    expect(search.statusCode, search.body).toBe(400);
    expect(search.json()).toMatchObject({ code: 'INVALID_TEXT', message: expect.stringMatching(/\bq\b/) });
    const users = await lab.call({ method: 'GET', url: '/api/v1/users?q=nul.user', as: lab.users.admin });
    expect((users.json() as { items: unknown[] }).items).toEqual([]);
  });

  it('stores SQL and HTML injection strings as text and returns them inert', async () => {
    const nasty = "Robert'); DROP TABLE users;-- <script>alert(1)</script>";
    const created = await lab.call({
      method: 'POST',
      url: '/api/v1/organisations',
      as: lab.users.admin,
      payload: { kind: 'enterprise', name: nasty, description: '<img src=x onerror=alert(1)>' },
    });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as Organisation).id;
    const read = await lab.call({ method: 'GET', url: `/api/v1/organisations/${id}`, as: lab.users.student });
    expect(read.json()).toMatchObject({ name: nasty, description: '<img src=x onerror=alert(1)>' });
    expect(read.headers['content-type']).toMatch(/application\/json/);
    const users = await lab.call({
      method: 'GET',
      url: `/api/v1/users?q=${encodeURIComponent("%' OR 1=1 --")}`,
      as: lab.users.admin,
    });
    expect(users.json()).toMatchObject({ total: 0 });
  });

  it('refuses a concurrent edit: the second writer gets 412 and must reload', async () => {
    const created = await lab.call({
      method: 'POST',
      url: '/api/v1/organisations',
      as: lab.users.admin,
      payload: { kind: 'enterprise', name: '智慧农业科技' },
    });
    const id = (created.json() as Organisation).id;
    const etag = created.headers.etag as string;
    const first = await lab.call({
      method: 'PATCH',
      url: `/api/v1/organisations/${id}`,
      as: lab.users.admin,
      headers: { 'if-match': etag },
      payload: { industry: 'smart agriculture' },
    });
    expect(first.statusCode).toBe(200);
    const second = await lab.call({
      method: 'PATCH',
      url: `/api/v1/organisations/${id}`,
      as: lab.users.admin,
      headers: { 'if-match': etag },
      payload: { industry: 'greenhouses' },
    });
    expect(second.statusCode).toBe(412);
    expect(second.json()).toMatchObject({ code: 'VERSION_CONFLICT' });
    const missing = await lab.call({
      method: 'PATCH',
      url: `/api/v1/organisations/${id}`,
      as: lab.users.admin,
      payload: { industry: 'x' },
    });
    expect(missing.statusCode).toBe(428);
    const audit = await lab.call({
      method: 'GET',
      url: `/api/v1/audit?entity=organisation&entityId=${id}`,
      as: lab.users.instructor,
    });
    expect((audit.json() as Page<AuditEntry>).items.map((e) => e.action)).toEqual(['update', 'create']);
  });
});
