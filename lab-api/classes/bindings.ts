/**
 * Kit bindings: which student or team (and so which class) a kit belongs to, what kits a student
 * may use and see, and the changes to kits that depend on where they are bound — binding,
 * rebinding and releasing them, registering a kit and rotating or revoking its secret.
 */
import type { KitBinding } from '../../contract/index.ts';
import type { LabDb } from '../../labdb/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person } from '../auth.ts';
import { ApiError, roleZh, say } from '../errors.ts';
import { type BindingRow, toBinding, unique } from './rows.ts';

/** Kit bindings and the kit changes that need them; each change audited in its transaction. */
export class KitBindings {
  readonly #db: LabDb;

  constructor(db: LabDb) {
    this.#db = db;
  }

  async bindings(db: LabDb = this.#db): Promise<Map<string, KitBinding>> {
    const rows = await db.all<BindingRow>('SELECT * FROM kit_bindings');
    return new Map(rows.map((row) => [row.kit_id, toBinding(row)]));
  }

  async binding(kitId: string, db: LabDb = this.#db): Promise<KitBinding | null> {
    const row = await db.get<BindingRow>('SELECT * FROM kit_bindings WHERE kit_id = ?', [kitId]);
    return row ? toBinding(row) : null;
  }

  /** Each kit's sensors (JSON in kits.sensors). */
  async kitSensors(kitId?: string): Promise<Map<string, string[]>> {
    const rows = kitId
      ? await this.#db.all<{ id: string; sensors: string }>('SELECT id, sensors FROM kits WHERE id = ?', [
          kitId,
        ])
      : await this.#db.all<{ id: string; sensors: string }>('SELECT id, sensors FROM kits');
    return new Map(rows.map((row) => [row.id, JSON.parse(row.sensors) as string[]]));
  }

  /**
   * The kits a student may use and see: bound to them, or to a team they are in; with the time
   * the binding began (their view of a kit's data starts there, not with an earlier user's).
   */
  async kitsOfStudent(
    studentId: string,
    db: LabDb = this.#db,
  ): Promise<Map<string, { boundAt: number; teamId: string | null }>> {
    const rows = await db.all<{ kit_id: string; bound_at: number; team_id: string | null }>(
      `SELECT kit_id, bound_at, team_id FROM kit_bindings WHERE student_id = ?
       UNION ALL
       SELECT b.kit_id, b.bound_at, b.team_id FROM kit_bindings b
         JOIN team_members tm ON tm.team_id = b.team_id WHERE tm.user_id = ?`,
      [studentId, studentId],
    );
    return new Map(rows.map((row) => [row.kit_id, { boundAt: row.bound_at, teamId: row.team_id }]));
  }

  /**
   * Changes a kit — registers it, rotates or revokes its secret — with the authorisation, the
   * change and its audit record in one transaction: a refused or failed request changes nothing.
   * An instructor manages kits that are unbound or bound in their own classes (a rotated secret in
   * another class would stop that class mid-lab); an admin every kit. Secrets never reach the
   * audit log; `sensors`, when the change gives them, become the kit's sensor list.
   */
  async changeKit<T>(
    actor: Person,
    kitId: string,
    action: 'create' | 'rotate-secret' | 'revoke-secret',
    change: (tx: LabDb) => Promise<{ result: T; after: unknown; sensors?: readonly string[] }>,
  ): Promise<T> {
    return this.#db.transaction(async (tx) => {
      if (action !== 'create') {
        if (!(await tx.get('SELECT id FROM kits WHERE id = ?', [kitId]))) {
          throw new ApiError(404, 'KIT_NOT_FOUND', say(`no kit "${kitId}"`, `找不到套件“${kitId}”`));
        }
        const binding = await this.binding(kitId, tx);
        if (
          actor.role === 'instructor' &&
          binding &&
          !(await this.#instructs(actor.id, binding.classId, tx))
        ) {
          throw new ApiError(
            403,
            'KIT_BOUND_ELSEWHERE',
            say(
              `kit "${kitId}" is bound in another instructor's class: ask them or an admin`,
              `套件“${kitId}”已绑定在其他教师的班级：请联系该教师或管理员`,
            ),
          );
        }
      }
      const { result, after, sensors } = await change(tx);
      if (sensors !== undefined) {
        await tx.run('UPDATE kits SET sensors = ?, updated_at = ? WHERE id = ?', [
          JSON.stringify(unique(sensors)),
          Date.now(),
          kitId,
        ]);
      }
      await recordAudit(tx, actor, { entity: 'kit', entityId: kitId, action, after });
      return result;
    });
  }

  /** Whether the instructor teaches this class (a binding without a class is an admin's). */
  async #instructs(instructorId: string, classId: string | null, db: LabDb): Promise<boolean> {
    if (classId === null) return false;
    return (
      (await db.get('SELECT 1 AS x FROM classes WHERE id = ? AND instructor_id = ?', [
        classId,
        instructorId,
      ])) !== undefined
    );
  }

  /**
   * The class a new binding belongs to: a team's class; for a student, the class given, or the one
   * class they are in (among the instructor's, for an instructor). An admin may bind a kit to a
   * student who is in no class yet (no class, then).
   */
  async #bindingClass(
    actor: Person,
    target: { studentId: string; classId?: string | undefined } | { teamId: string },
    db: LabDb,
  ): Promise<string | null> {
    if ('teamId' in target) {
      const team = await db.get<{ class_id: string }>('SELECT class_id FROM teams WHERE id = ?', [
        target.teamId,
      ]);
      if (!team)
        throw new ApiError(
          400,
          'UNKNOWN_TEAM',
          say(`no team ${target.teamId}`, `找不到小组 ${target.teamId}`),
        );
      return team.class_id;
    }
    const { studentId } = target;
    const user = await db.get<{ role: string }>('SELECT role FROM users WHERE id = ?', [studentId]);
    if (!user)
      throw new ApiError(400, 'UNKNOWN_USER', say(`no user ${studentId}`, `找不到用户 ${studentId}`));
    if (user.role !== 'student') {
      throw new ApiError(
        400,
        'NOT_A_STUDENT',
        say(
          `user ${studentId} is a ${user.role}: kits are bound to students`,
          `用户 ${studentId} 是${roleZh(user.role)}：套件只能绑定给学生`,
        ),
      );
    }
    const classes = await db.all<{ id: string; name: string }>(
      `SELECT c.id, c.name FROM class_members m JOIN classes c ON c.id = m.class_id
       WHERE m.user_id = ? ${actor.role === 'instructor' ? 'AND c.instructor_id = ?' : ''} ORDER BY c.name`,
      actor.role === 'instructor' ? [studentId, actor.id] : [studentId],
    );
    if (target.classId !== undefined) {
      if (!classes.some((cls) => cls.id === target.classId)) {
        throw new ApiError(
          400,
          'NOT_ENROLLED',
          say(
            `student ${studentId} is not enrolled in class ${target.classId}${actor.role === 'instructor' ? ' (of yours)' : ''}`,
            `学生 ${studentId} 不在${actor.role === 'instructor' ? '您任教的' : ''}班级 ${target.classId} 中`,
          ),
        );
      }
      return target.classId;
    }
    if (classes.length === 1) return (classes[0] as { id: string }).id;
    if (classes.length > 1) {
      throw new ApiError(
        400,
        'CLASS_REQUIRED',
        say(
          `student ${studentId} is in several classes (${classes.map((cls) => cls.name).join(', ')}): say which with classId`,
          `学生 ${studentId} 在多个班级中（${classes.map((cls) => cls.name).join('、')}）：请用 classId 指定班级`,
        ),
      );
    }
    if (actor.role === 'instructor') {
      throw new ApiError(
        403,
        'NOT_YOUR_CLASS',
        say(
          `student ${studentId} is not enrolled in any class you teach`,
          `学生 ${studentId} 不在您任教的任何班级中`,
        ),
      );
    }
    return null;
  }

  /**
   * Binds a kit to one student or one team, or unbinds it (`null`). An instructor binds kits to
   * their own students and teams, and may not take a kit from another instructor's class; a kit
   * in the middle of an attempt stays where it is.
   */
  async setBinding(
    actor: Person,
    kitId: string,
    target: { studentId: string; classId?: string | undefined } | { teamId: string } | null,
  ): Promise<KitBinding | null> {
    return this.#db.transaction(async (tx) => {
      if (!(await tx.get('SELECT id FROM kits WHERE id = ?', [kitId]))) {
        throw new ApiError(404, 'KIT_NOT_FOUND', say(`no kit "${kitId}"`, `找不到套件“${kitId}”`));
      }
      const before = await this.binding(kitId, tx);
      if (actor.role === 'instructor' && before && !(await this.#instructs(actor.id, before.classId, tx))) {
        throw new ApiError(
          403,
          'KIT_BOUND_ELSEWHERE',
          say(
            `kit "${kitId}" is bound in another instructor's class: ask them or an admin to release it`,
            `套件“${kitId}”已绑定在其他教师的班级：请联系该教师或管理员解除绑定`,
          ),
        );
      }
      const studentId = target && 'studentId' in target ? target.studentId : null;
      const teamId = target && 'teamId' in target ? target.teamId : null;
      const classId = target ? await this.#bindingClass(actor, target, tx) : null;
      if (actor.role === 'instructor' && target && !(await this.#instructs(actor.id, classId, tx))) {
        throw new ApiError(
          403,
          'NOT_YOUR_CLASS',
          say(`team ${teamId} is not in a class you teach`, `小组 ${teamId} 不在您任教的班级中`),
        );
      }
      if (
        before &&
        before.studentId === studentId &&
        before.teamId === teamId &&
        before.classId === classId
      ) {
        return before;
      }
      if (!before && !target) return null;
      const running = await tx.get<{ id: string }>(
        'SELECT id FROM attempts WHERE kit_id = ? AND ended_at IS NULL',
        [kitId],
      );
      if (running) {
        throw new ApiError(
          409,
          'KIT_IN_USE',
          say(
            `kit "${kitId}" is in use by a running attempt (${running.id}): end it before rebinding the kit`,
            `套件“${kitId}”正被一次进行中的作答使用（${running.id}）：请先结束该作答再改绑`,
          ),
        );
      }
      await tx.run('DELETE FROM kit_bindings WHERE kit_id = ?', [kitId]);
      let after: KitBinding | null = null;
      if (target) {
        await tx.run(
          'INSERT INTO kit_bindings (kit_id, student_id, team_id, class_id, bound_by, bound_at) VALUES (?, ?, ?, ?, ?, ?)',
          [kitId, studentId, teamId, classId, actor.id, Date.now()],
        );
        after = await this.binding(kitId, tx);
      }
      await recordAudit(tx, actor, {
        entity: 'kit-binding',
        entityId: kitId,
        action: !before ? 'bind' : after ? 'rebind' : 'unbind',
        before,
        after,
      });
      return after;
    });
  }
}
