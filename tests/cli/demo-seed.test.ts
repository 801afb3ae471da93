import { afterAll, describe, expect, it } from 'vitest';
import { seedDemoLab } from '../../cli/demo-seed.ts';
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

    // A second start renews the passwords and creates nothing twice.
    const again = await seedDemoLab(lab.db, lab.registry, ['demo-01']);
    expect(again.map((a) => a.username)).toEqual(accounts.map((a) => a.username));
    expect(again[0]?.password).not.toBe(accounts[0]?.password);
    const count = await lab.db.get<{ n: number }>(
      "SELECT count(*) AS n FROM classes WHERE name = '物联网2401'",
    );
    expect(count?.n).toBe(1);
  }, 60_000);
});
