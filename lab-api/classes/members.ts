/**
 * A class's members: listing its students (with their team), enrolling students, and taking a
 * student off a class with what hangs on their membership (team, running attempts, kits).
 */
import type { RosterStudent } from '../../contract/index.ts';
import type { LabDb } from '../../labdb/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person } from '../auth.ts';
import { ApiError, roleZh, say } from '../errors.ts';
import { listPage, Where } from '../query.ts';
import type { Classes } from './classes.ts';
import { type BindingRow, chunks, marks, toBinding, unique } from './rows.ts';

export class ClassMembers {
  readonly #db: LabDb;
  readonly #classes: Classes;

  constructor(db: LabDb, classes: Classes) {
    this.#db = db;
    this.#classes = classes;
  }

  async listStudents(
    classId: string,
    filter: { q?: string | undefined; limit: number; offset: number },
  ): Promise<{ items: RosterStudent[]; total: number }> {
    return listPage(this.#db, {
      from: 'FROM class_members m JOIN users u ON u.id = m.user_id',
      // The student's team in this class, if any.
      select: `SELECT u.id, u.username, u.display_name, u.student_number, u.disabled, t.id AS team_id, t.name AS team_name
       FROM class_members m JOIN users u ON u.id = m.user_id
       LEFT JOIN team_members tm ON tm.user_id = u.id AND tm.team_id IN (SELECT id FROM teams WHERE class_id = m.class_id)
       LEFT JOIN teams t ON t.id = tm.team_id`,
      where: new Where()
        .and('m.class_id = ?', classId)
        .contains(filter.q, ['u.display_name', 'u.student_number', 'u.username']),
      orderBy: 'u.student_number NULLS FIRST, u.username',
      limit: filter.limit,
      offset: filter.offset,
      map: (row: {
        id: string;
        username: string;
        display_name: string;
        student_number: string | null;
        disabled: number;
        team_id: string | null;
        team_name: string | null;
      }): RosterStudent => ({
        id: row.id,
        username: row.username,
        displayName: row.display_name,
        studentNumber: row.student_number,
        disabled: row.disabled === 1,
        teamId: row.team_id,
        teamName: row.team_name,
      }),
    });
  }

  async #students(
    ids: readonly string[],
    db: LabDb,
  ): Promise<Map<string, { role: string; display_name: string }>> {
    const found = new Map<string, { role: string; display_name: string }>();
    for (const part of chunks(ids)) {
      const rows = await db.all<{ id: string; role: string; display_name: string }>(
        `SELECT id, role, display_name FROM users WHERE id IN (${marks(part.length)})`,
        part,
      );
      for (const row of rows) found.set(row.id, row);
    }
    for (const id of ids) {
      const user = found.get(id);
      if (!user) throw new ApiError(400, 'UNKNOWN_USER', say(`no user ${id}`, `找不到用户 ${id}`));
      if (user.role !== 'student') {
        throw new ApiError(
          400,
          'NOT_A_STUDENT',
          say(
            `user ${id} is a ${user.role}: only students are enrolled`,
            `用户 ${id} 是${roleZh(user.role)}：只有学生可以加入班级`,
          ),
        );
      }
    }
    return found;
  }

  async enrol(
    actor: Person,
    classId: string,
    studentIds: readonly string[],
  ): Promise<{ enrolled: string[]; alreadyEnrolled: string[] }> {
    const ids = unique(studentIds);
    return this.#db.transaction(async (tx) => {
      this.#classes.assertManages(actor, await this.#classes.classOr404(classId, tx));
      await this.#students(ids, tx);
      const enrolled: string[] = [];
      const alreadyEnrolled: string[] = [];
      for (const id of ids) {
        if (await this.#classes.isEnrolled(classId, id, tx)) {
          alreadyEnrolled.push(id);
        } else {
          await tx.run('INSERT INTO class_members (class_id, user_id) VALUES (?, ?)', [classId, id]);
          enrolled.push(id);
        }
      }
      if (enrolled.length > 0) {
        await recordAudit(tx, actor, {
          entity: 'class',
          entityId: classId,
          action: 'enrol',
          after: { studentIds: enrolled },
        });
      }
      return { enrolled, alreadyEnrolled };
    });
  }

  /**
   * Takes a student off a class and its teams: kits bound to them in this class are released and
   * their running attempts in it end (their attempts stay on record). One transaction, audited.
   */
  async unenrol(actor: Person, classId: string, studentId: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      this.#classes.assertManages(actor, await this.#classes.classOr404(classId, tx));
      if (!(await this.#classes.isEnrolled(classId, studentId, tx))) {
        throw new ApiError(
          404,
          'NOT_ENROLLED',
          say(`student ${studentId} is not enrolled in this class`, `学生 ${studentId} 不在本班`),
        );
      }
      const team = await this.#classes.teams.teamIdOf(classId, studentId, tx);
      if (team) await tx.run('DELETE FROM team_members WHERE team_id = ? AND user_id = ?', [team, studentId]);
      await tx.run('DELETE FROM class_members WHERE class_id = ? AND user_id = ?', [classId, studentId]);
      const now = Date.now();
      const running = await tx.all<{ id: string }>(
        `SELECT a.id FROM attempts a JOIN assignments s ON s.id = a.assignment_id
         WHERE a.student_id = ? AND s.class_id = ? AND a.ended_at IS NULL`,
        [studentId, classId],
      );
      for (const { id } of running) {
        await tx.run('UPDATE attempts SET ended_at = ? WHERE id = ?', [now, id]);
        await recordAudit(tx, actor, {
          entity: 'attempt',
          entityId: id,
          action: 'end',
          after: { endedAt: now },
        });
      }
      const kits = await tx.all<BindingRow>(
        'SELECT * FROM kit_bindings WHERE student_id = ? AND class_id = ?',
        [studentId, classId],
      );
      for (const kit of kits) {
        await tx.run('DELETE FROM kit_bindings WHERE kit_id = ?', [kit.kit_id]);
        await recordAudit(tx, actor, {
          entity: 'kit-binding',
          entityId: kit.kit_id,
          action: 'unbind',
          before: toBinding(kit),
          after: null,
        });
      }
      await recordAudit(tx, actor, {
        entity: 'class',
        entityId: classId,
        action: 'unenrol',
        before: { studentId, teamId: team ?? null },
        after: { endedAttempts: running.map((row) => row.id), releasedKits: kits.map((kit) => kit.kit_id) },
      });
    });
  }
}
