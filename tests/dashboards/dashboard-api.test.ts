/** The dashboards' own HTTP routes: the class board, a kit's recent error reports, a mentor's attempts; who may read them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Board, KitErrors, List, MentorAttempt } from '../../contract/index.ts';
import { eventually } from '../helpers/platform.ts';
import { type DashboardLab, openDemoSession, startDashboardLab } from './fixture.ts';

let lab: DashboardLab;
beforeAll(async () => {
  lab = await startDashboardLab({ kits: 2 });
  await openDemoSession(lab);
}, 60_000);
afterAll(async () => {
  await lab?.close();
});

describe('dashboard routes', () => {
  it("gives the class's instructor every kit of the class with its status, readings, history and attempt", async () => {
    await eventually(
      async () => {
        const board = await lab.api<Board>(
          lab.accounts.instructor,
          'GET',
          `/dashboard/classes/${lab.classId}/board`,
        );
        const live = board.kits.find((kit) => kit.kitId === lab.kitIds[0]);
        return live?.online === true && (live.history.temperature?.length ?? 0) > 0;
      },
      30_000,
      'the first kit online with history',
    );
    const board = await lab.api<Board>(
      lab.accounts.instructor,
      'GET',
      `/dashboard/classes/${lab.classId}/board`,
    );
    expect(board.className).toBe('物联网2401');
    expect(board.session).not.toBeNull();
    expect(board.kits).toHaveLength(10);
    const live = board.kits.find((kit) => kit.kitId === lab.kitIds[0]);
    expect(live?.teamName).toBe('第1组');
    expect(live?.students).toHaveLength(4);
    expect(Object.keys(live?.latest ?? {})).toContain('temperature');
    expect(live?.attempt).not.toBeNull();
    expect(board.kits.filter((kit) => !kit.online)).toHaveLength(8);
  });

  it('keeps the board from students, mentors and other instructors', async () => {
    const path = `/dashboard/classes/${lab.classId}/board`;
    expect(await lab.status(lab.accounts.student, 'GET', path)).toBe(403);
    expect(await lab.status(lab.accounts.mentor, 'GET', path)).toBe(403);
    await lab.api(lab.accounts.admin, 'POST', '/users', {
      username: 'teacher.zhou',
      displayName: '周老师',
      role: 'instructor',
      password: 'another-long-password-2',
    });
    expect(
      await lab.status({ username: 'teacher.zhou', password: 'another-long-password-2' }, 'GET', path),
    ).toBe(403);
    expect(await lab.status(lab.accounts.admin, 'GET', path)).toBe(200);
  });

  it("lists a kit's recent error reports for its student, never another team's", async () => {
    const [mine, other] = lab.kitIds as [string, string];
    const { items } = await lab.api<KitErrors>(lab.accounts.student, 'GET', `/dashboard/kits/${mine}/errors`);
    expect(Array.isArray(items)).toBe(true);
    expect(await lab.status(lab.accounts.student, 'GET', `/dashboard/kits/${other}/errors`)).toBe(403);
  });

  it("lists a mentor's attempts at their enterprise's tasks, without 学号", async () => {
    const { items } = await lab.api<List<MentorAttempt>>(
      lab.accounts.mentor,
      'GET',
      '/dashboard/mentor/attempts',
    );
    expect(items.length).toBe(2);
    expect(items[0]?.taskTitle).toBe('温湿度采集与上报');
    expect(items.map((item) => item.studentNumber)).toEqual([null, null]);
    expect(await lab.status(lab.accounts.student, 'GET', '/dashboard/mentor/attempts')).toBe(403);
  });
});
