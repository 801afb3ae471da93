/**
 * Who reads the audit log: admins everything; an instructor their own changes, the shared
 * catalogue and their own classes — never another class's roster, people or grades.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, ClassInfo, Page } from '../../contract/index.ts';
import { startTestLab, type TestLab } from '../helpers/lab.ts';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
}, 60_000);
afterAll(async () => {
  await lab.close();
});

describe('audit log', () => {
  it("shows an instructor their classes and the catalogue, not another instructor's class", async () => {
    const other = await lab.addUser('instructor');
    const student = await lab.addUser('student');
    const created = await lab.call({
      method: 'POST',
      url: '/api/v1/classes',
      as: other,
      payload: { name: '物联网2410' },
    });
    const classId = (created.json() as ClassInfo).id;
    const enrolled = await lab.call({
      method: 'POST',
      url: `/api/v1/classes/${classId}/students`,
      as: other,
      payload: { studentIds: [student.id] },
    });
    expect(enrolled.statusCode).toBeLessThan(300);
    const read = async (as: typeof other) =>
      ((await lab.call({ method: 'GET', url: '/api/v1/audit?limit=200', as })).json() as Page<AuditEntry>)
        .items;

    const admin = await read(lab.users.admin);
    expect(admin.some((e) => e.entity === 'class' && e.entityId === classId)).toBe(true);
    expect(admin.some((e) => e.entity === 'user' && e.entityId === student.id)).toBe(true);

    const owner = await read(other);
    expect(owner.some((e) => e.entity === 'class' && e.entityId === classId)).toBe(true);
    expect(owner.some((e) => e.entity === 'user' && e.entityId === student.id)).toBe(true);

    const outsider = await read(lab.users.instructor);
    expect(outsider.filter((e) => e.entityId === classId || e.entityId === student.id)).toEqual([]);
    expect(
      outsider.every(
        (e) =>
          e.actor.id === lab.users.instructor.id ||
          ['organisation', 'project', 'task', 'mentor_profile', 'flow_settings'].includes(e.entity),
      ),
    ).toBe(true);
    // The catalogue is shared: the college and enterprise set up for the lab are there.
    expect(outsider.some((e) => e.entity === 'organisation')).toBe(true);
  });
});
