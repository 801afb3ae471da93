import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seedDemoLab, startDemoSession } from '../../cli/demo-seed.ts';
import { startTestLab, type TestLab } from '../helpers/lab.ts';

describe('the demo lab', () => {
  let lab: TestLab;
  afterAll(async () => {
    await lab?.close();
  });

  it('seeds a class of 40 in teams with kits, a project with two tasks and an open assignment, once', async () => {
    lab = await startTestLab();
    await lab.registry.addKit({ id: 'demo-01' });
    const accounts = await seedDemoLab(lab.db, lab.registry, ['demo-01']);
    expect(accounts.map((a) => a.role)).toEqual(['admin', 'instructor', 'mentor', 'student']);
    const signIn = async (username: string, password: string) => {
      const response = await lab.call({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password },
      });
      expect(response.statusCode, response.body).toBe(200);
      return {
        id: '',
        username,
        role: 'student' as const,
        token: (response.json() as { token: string }).token,
      };
    };
    const teacher = accounts.find((a) => a.role === 'instructor') as (typeof accounts)[number];
    const instructor = await signIn(teacher.username, teacher.password);
    const classes = (await lab.call({ method: 'GET', url: '/api/v1/classes', as: instructor })).json();
    expect(classes.items).toMatchObject([{ name: '物联网2401', studentCount: 40, teamCount: 10 }]);

    // 40 students, each with a name of their own (a roster where 第1组 and 第6组 read the same is no
    // class anyone has taught), 学号 2026010001…2026010040, four to a team.
    const classId = classes.items[0].id as string;
    const roster = (
      await lab.call({ method: 'GET', url: `/api/v1/classes/${classId}/students`, as: instructor })
    ).json();
    const students = roster.items as { displayName: string; studentNumber: string }[];
    expect(students.map((s) => s.studentNumber).sort()).toEqual(
      Array.from({ length: 40 }, (_, i) => `20260100${String(i + 1).padStart(2, '0')}`),
    );
    const names = students.map((s) => s.displayName);
    expect(new Set(names).size).toBe(40);
    for (const name of names) expect(name).toMatch(/^[\u4e00-\u9fff]{2,3}$/);
    const teams = (
      await lab.call({ method: 'GET', url: `/api/v1/classes/${classId}/teams`, as: instructor })
    ).json();
    const members = (team: string) =>
      (teams.items as { name: string; members: { displayName: string }[] }[])
        .find((t) => t.name === team)
        ?.members.map((m) => m.displayName)
        .sort();
    expect(teams.items).toHaveLength(10);
    expect(members('第1组')).toHaveLength(4);
    expect(members('第1组')).not.toEqual(members('第6组'));

    // What a person reads is Chinese: the kits' names, the project's skills, the tasks' skills.
    const teacherKits = (await lab.call({ method: 'GET', url: '/api/v1/kits', as: instructor })).json();
    const benches = (teacherKits.items as { id: string; name: string }[]).filter((k) => k.id !== 'demo-01');
    expect(benches.map((k) => k.name)).toContain('温室5号工位');
    for (const kit of benches) expect(kit.name).toMatch(/^温室\d+号工位$/);
    const project = (await lab.call({ method: 'GET', url: '/api/v1/projects', as: instructor })).json()
      .items[0] as { id: string; requiredSkills: string[] };
    expect(project.requiredSkills).toEqual(['ESP32', 'MQTT', '传感器接线', '闭环控制']);
    const tasks = (
      await lab.call({ method: 'GET', url: `/api/v1/tasks?projectId=${project.id}`, as: instructor })
    ).json();
    for (const task of tasks.items as { skills: string[] }[]) {
      for (const skill of task.skills) expect(project.requiredSkills).toContain(skill);
    }

    const pupil = accounts.find((a) => a.role === 'student') as (typeof accounts)[number];
    const student = await signIn(pupil.username, pupil.password);
    const assignments = (
      await lab.call({ method: 'GET', url: '/api/v1/me/assignments', as: student })
    ).json();
    expect(assignments.items).toMatchObject([{ taskTitle: '温湿度采集与上报', status: 'open' }]);
    const kits = (await lab.call({ method: 'GET', url: '/api/v1/kits', as: student })).json();
    expect(kits.items.map((k: { id: string }) => k.id)).toEqual(['demo-01']);
    const projects = (await lab.call({ method: 'GET', url: '/api/v1/projects', as: student })).json();
    expect(projects.items).toMatchObject([{ title: '温室大棚环境智能监测', status: 'published' }]);

    // A second start creates nothing twice; without the accounts file (a data directory seeded
    // before it existed), it gives new passwords once.
    const again = await seedDemoLab(lab.db, lab.registry, ['demo-01']);
    expect(again.map((a) => a.username)).toEqual(accounts.map((a) => a.username));
    expect(again[0]?.password).not.toBe(accounts[0]?.password);
    const count = await lab.db.get<{ n: number }>(
      "SELECT count(*) AS n FROM classes WHERE name = '物联网2401'",
    );
    expect(count?.n).toBe(1);
  }, 60_000);
});

describe('restarting the demo', () => {
  let lab: TestLab;
  afterAll(async () => {
    await lab?.close();
  });

  it('leaves the lab as it was: the same passwords, the teacher still signed in, the running session and its attempts', async () => {
    lab = await startTestLab();
    const dir = mkdtempSync(join(tmpdir(), 'iotlab-demo-accounts-'));
    const file = join(dir, 'demo-accounts.json');
    for (const id of ['demo-01', 'demo-02']) await lab.registry.addKit({ id });
    const first = await seedDemoLab(lab.db, lab.registry, ['demo-01', 'demo-02'], file);
    const session = await startDemoSession(lab.db, ['demo-01', 'demo-02']);
    expect(session.attempts).toBe(2);
    const teacher = first.find((a) => a.role === 'instructor') as (typeof first)[number];
    const login = await lab.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: teacher.username, password: teacher.password },
    });
    const token = (login.json() as { token: string }).token;

    const again = await seedDemoLab(lab.db, lab.registry, ['demo-01', 'demo-02'], file);
    expect(again).toEqual(first);
    const restarted = await startDemoSession(lab.db, ['demo-01', 'demo-02']);
    expect(restarted).toEqual(session);
    const running = await lab.db.get<{ n: number }>(
      'SELECT count(*) AS n FROM lab_sessions WHERE ended_at IS NULL',
    );
    expect(running?.n).toBe(1);
    const me = await lab.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.statusCode).toBe(200);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
