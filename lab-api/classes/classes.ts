/**
 * Classes themselves: who may manage and read a class, finding and listing classes, creating and
 * changing them.
 */
import { randomUUID } from 'node:crypto';
import type { ClassInfo } from '../../contract/index.ts';
import type { LabDb } from '../../labdb/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person } from '../auth.ts';
import { ApiError, roleZh, say } from '../errors.ts';
import { versionConflict } from '../http.ts';
import { uniqueViolation } from '../people.ts';
import { listPage, Where } from '../query.ts';
import { KitBindings } from './bindings.ts';
import { ClassMembers } from './members.ts';
import { RosterImports } from './roster-import.ts';
import { type ClassRow, toClass } from './rows.ts';
import { Teams } from './teams.ts';

const CLASS_SELECT = `SELECT c.id, c.name, c.term, c.instructor_id, c.created_at, c.updated_at, c.version,
    u.display_name AS instructor_name,
    (SELECT count(*) FROM class_members m WHERE m.class_id = c.id) AS student_count,
    (SELECT count(*) FROM teams t WHERE t.class_id = c.id) AS team_count
  FROM classes c LEFT JOIN users u ON u.id = c.instructor_id`;

/**
 * Classes: queries with their visibility rules and the changes, each audited in the transaction
 * that makes it. Carries the services of what belongs to a class: its members, roster imports,
 * teams and kit bindings (`classes.teams.createTeam(…)`).
 */
export class Classes {
  readonly #db: LabDb;
  /** Who is enrolled: listing, enrolling and unenrolling students. */
  readonly members: ClassMembers;
  /** Importing a roster file into a class. */
  readonly rosters: RosterImports;
  readonly teams: Teams;
  readonly kits: KitBindings;

  constructor(db: LabDb) {
    this.#db = db;
    this.kits = new KitBindings(db);
    this.teams = new Teams(db, this);
    this.members = new ClassMembers(db, this);
    this.rosters = new RosterImports(db, this);
  }

  // ── visibility ──────────────────────────────────────────────────────────────────────────────

  /** Admins manage every class; an instructor the classes they teach. */
  manages(actor: Person, cls: { instructorId: string | null }): boolean {
    return actor.role === 'admin' || (actor.role === 'instructor' && cls.instructorId === actor.id);
  }

  assertManages(actor: Person, cls: ClassInfo): void {
    if (!this.manages(actor, cls)) {
      throw new ApiError(
        403,
        'NOT_YOUR_CLASS',
        say(
          `class "${cls.name}" is taught by someone else: only its instructor or an admin may do this`,
          `班级“${cls.name}”由其他教师任教：只有任课教师或管理员可以操作`,
        ),
      );
    }
  }

  async isEnrolled(classId: string, userId: string, db: LabDb = this.#db): Promise<boolean> {
    return (
      (await db.get('SELECT 1 AS x FROM class_members WHERE class_id = ? AND user_id = ?', [
        classId,
        userId,
      ])) !== undefined
    );
  }

  /** Reading a class: its managers and its students. */
  async assertCanRead(actor: Person, cls: ClassInfo): Promise<void> {
    if (this.manages(actor, cls)) return;
    if (actor.role === 'student' && (await this.isEnrolled(cls.id, actor.id))) return;
    throw new ApiError(
      403,
      'NOT_YOUR_CLASS',
      say(`you are not teaching or enrolled in class "${cls.name}"`, `您没有任教或加入班级“${cls.name}”`),
    );
  }

  // ── classes ─────────────────────────────────────────────────────────────────────────────────

  async classById(id: string, db: LabDb = this.#db): Promise<ClassInfo | undefined> {
    const row = await db.get<ClassRow>(`${CLASS_SELECT} WHERE c.id = ?`, [id]);
    return row ? toClass(row) : undefined;
  }

  async classOr404(id: string, db: LabDb = this.#db): Promise<ClassInfo> {
    const cls = await this.classById(id, db);
    if (!cls) throw new ApiError(404, 'CLASS_NOT_FOUND', say(`no class ${id}`, `找不到班级 ${id}`));
    return cls;
  }

  async listClasses(filter: {
    instructorId?: string | undefined;
    studentId?: string | undefined;
    q?: string | undefined;
    term?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<{ items: ClassInfo[]; total: number }> {
    return listPage(this.#db, {
      from: 'FROM classes c',
      select: CLASS_SELECT,
      where: new Where()
        .when(filter.instructorId, 'c.instructor_id = ?')
        .when(filter.studentId, 'c.id IN (SELECT class_id FROM class_members WHERE user_id = ?)')
        .when(filter.term, 'c.term = ?')
        .contains(filter.q, ['c.name']),
      orderBy: 'c.name',
      limit: filter.limit,
      offset: filter.offset,
      map: toClass,
    });
  }

  async #assertInstructor(instructorId: string, db: LabDb): Promise<void> {
    const user = await db.get<{ role: string }>('SELECT role FROM users WHERE id = ?', [instructorId]);
    if (!user)
      throw new ApiError(400, 'UNKNOWN_USER', say(`no user ${instructorId}`, `找不到用户 ${instructorId}`));
    if (user.role !== 'instructor') {
      throw new ApiError(
        400,
        'NOT_AN_INSTRUCTOR',
        say(
          `user ${instructorId} is a ${user.role}, not an instructor`,
          `用户 ${instructorId} 是${roleZh(user.role)}，不是教师`,
        ),
      );
    }
  }

  async createClass(
    actor: Person,
    input: { name: string; term?: string | undefined; instructorId?: string | null | undefined },
  ): Promise<ClassInfo> {
    let instructorId = input.instructorId ?? null;
    if (actor.role === 'instructor') {
      if (instructorId !== null && instructorId !== actor.id) {
        throw new ApiError(
          403,
          'FORBIDDEN',
          say('an instructor creates classes they teach themselves', '教师只能创建由自己任教的班级'),
        );
      }
      instructorId = actor.id;
    }
    const id = randomUUID();
    const now = Date.now();
    return this.#db.transaction(async (tx) => {
      if (instructorId) await this.#assertInstructor(instructorId, tx);
      try {
        await tx.run(
          'INSERT INTO classes (id, name, term, instructor_id, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, 1)',
          [id, input.name, input.term ?? '', instructorId, now, now],
        );
      } catch (error) {
        throw uniqueViolation(
          error,
          say(`a class named "${input.name}" already exists`, `已有名为“${input.name}”的班级`),
        );
      }
      const created = (await this.classById(id, tx)) as ClassInfo;
      await recordAudit(tx, actor, { entity: 'class', entityId: id, action: 'create', after: created });
      return created;
    });
  }

  async updateClass(
    actor: Person,
    id: string,
    expectedVersion: number,
    changes: {
      name?: string | undefined;
      term?: string | undefined;
      instructorId?: string | null | undefined;
    },
  ): Promise<ClassInfo> {
    return this.#db.transaction(async (tx) => {
      const before = await this.classOr404(id, tx);
      this.assertManages(actor, before);
      if (changes.instructorId !== undefined && changes.instructorId !== before.instructorId) {
        if (actor.role !== 'admin') {
          throw new ApiError(
            403,
            'FORBIDDEN',
            say('only an admin hands a class to another instructor', '只有管理员可以把班级转给其他教师'),
          );
        }
        if (changes.instructorId) await this.#assertInstructor(changes.instructorId, tx);
      }
      if (before.version !== expectedVersion) throw versionConflict('class', before.version);
      try {
        await tx.run(
          'UPDATE classes SET name = ?, term = ?, instructor_id = ?, updated_at = ?, version = version + 1 WHERE id = ?',
          [
            changes.name ?? before.name,
            changes.term ?? before.term,
            changes.instructorId === undefined ? before.instructorId : changes.instructorId,
            Date.now(),
            id,
          ],
        );
      } catch (error) {
        throw uniqueViolation(
          error,
          say(`a class named "${changes.name}" already exists`, `已有名为“${changes.name}”的班级`),
        );
      }
      const after = (await this.classById(id, tx)) as ClassInfo;
      await recordAudit(tx, actor, { entity: 'class', entityId: id, action: 'update', before, after });
      return after;
    });
  }
}
