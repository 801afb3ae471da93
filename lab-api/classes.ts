import { randomInt, randomUUID } from 'node:crypto';
import type {
  Assignment,
  AssignmentStatus,
  Attempt,
  ClassInfo,
  KitBinding,
  LabSession,
  RosterImport as RosterImportAnswer,
  RosterStudent,
  Team,
  TeamMember,
} from '../contract/index.ts';
import type { LabDb, SqlValue } from '../labdb/index.ts';
import { recordAudit } from './audit.ts';
import type { Person } from './auth.ts';
import { ApiError, roleZh, say, zhTime } from './errors.ts';
import { versionConflict } from './http.ts';
import { naturalOrder } from './names.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import { toUser, uniqueViolation } from './people.ts';
import { escapeLike, listPage, Where } from './query.ts';
import type { RosterEncoding, RosterRow, RowError } from './roster.ts';

export type { Person };

type Db = LabDb;

/** As the API answers them (contract/classes.ts, contract/assignments.ts, contract/kits.ts). */
export type {
  Assignment,
  AssignmentStatus,
  Attempt,
  ClassInfo,
  KitBinding,
  LabSession,
  RosterStudent,
  Team,
  TeamMember,
} from '../contract/index.ts';

/** As the API answers it (contract/classes.ts), with the encoding and row problems as the roster reader names them. */
export interface RosterImport extends Omit<RosterImportAnswer, 'encoding' | 'warnings'> {
  encoding: RosterEncoding;
  warnings: RowError[];
}

/**
 * A roster with row problems: 400 with every row's problem in `details.rows` (row, field, column,
 * problem code, params, and the sentence in both languages); nothing is imported.
 */
export class RosterRejected extends ApiError {
  readonly errors: RowError[];
  constructor(errors: RowError[], encoding?: RosterEncoding) {
    const rows = new Set(errors.map((error) => error.row)).size;
    super(
      400,
      'ROSTER_INVALID',
      say(
        `the roster has problems on ${rows} row${rows === 1 ? '' : 's'}${encoding ? ` (read as ${encoding})` : ''}: nothing was imported; fix the file and upload it again`,
        `名单有 ${rows} 行存在问题${encoding ? `（文件按 ${ENCODING_ZH[encoding]} 读取）` : ''}，未导入任何学生；请修改文件后重新上传`,
      ),
      { encoding: encoding ?? null, rows: errors },
    );
    this.errors = errors;
  }
}

const ENCODING_ZH: Record<RosterEncoding, string> = {
  'utf-8': 'UTF-8',
  gb18030: 'GBK/GB18030',
  'utf-16le': 'UTF-16',
  'utf-16be': 'UTF-16',
};

interface ClassRow {
  id: string;
  name: string;
  term: string;
  instructor_id: string | null;
  instructor_name: string | null;
  student_count: number;
  team_count: number;
  created_at: number;
  updated_at: number;
  version: number;
}

interface TeamRow {
  id: string;
  class_id: string;
  class_name: string;
  name: string;
  project_id: string | null;
  project_title: string | null;
  created_at: number;
  version: number;
}

interface BindingRow {
  kit_id: string;
  student_id: string | null;
  team_id: string | null;
  class_id: string | null;
  bound_by: string;
  bound_at: number;
}

interface AssignmentRow {
  id: string;
  task_id: string;
  task_title: string;
  class_id: string;
  class_name: string;
  opens_at: number;
  due_at: number;
  created_by: string;
  created_at: number;
  updated_at: number;
  version: number;
}

interface SessionRow {
  id: string;
  class_id: string;
  assignment_id: string | null;
  started_by: string;
  started_at: number;
  ended_at: number | null;
}

/** An `attempts` row as SQL returns it. */
export interface AttemptRow {
  id: string;
  assignment_id: string;
  session_id: string | null;
  student_id: string;
  team_id: string | null;
  kit_id: string;
  started_at: number;
  ended_at: number | null;
}

const CLASS_SELECT = `SELECT c.id, c.name, c.term, c.instructor_id, c.created_at, c.updated_at, c.version,
    u.display_name AS instructor_name,
    (SELECT count(*) FROM class_members m WHERE m.class_id = c.id) AS student_count,
    (SELECT count(*) FROM teams t WHERE t.class_id = c.id) AS team_count
  FROM classes c LEFT JOIN users u ON u.id = c.instructor_id`;

const TEAM_SELECT = `SELECT t.id, t.class_id, c.name AS class_name, t.name, t.project_id, p.title AS project_title,
    t.created_at, t.version
  FROM teams t JOIN classes c ON c.id = t.class_id LEFT JOIN projects p ON p.id = t.project_id`;

const ASSIGNMENT_SELECT = `SELECT a.id, a.task_id, lt.title AS task_title, a.class_id, c.name AS class_name,
    a.opens_at, a.due_at, a.created_by, a.created_at, a.updated_at, a.version
  FROM assignments a JOIN lab_tasks lt ON lt.id = a.task_id JOIN classes c ON c.id = a.class_id`;

function toClass(row: ClassRow): ClassInfo {
  return {
    id: row.id,
    name: row.name,
    term: row.term,
    instructorId: row.instructor_id,
    instructorName: row.instructor_name,
    studentCount: Number(row.student_count),
    teamCount: Number(row.team_count),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

function toBinding(row: BindingRow): KitBinding {
  return {
    kitId: row.kit_id,
    studentId: row.student_id,
    teamId: row.team_id,
    classId: row.class_id,
    boundBy: row.bound_by,
    boundAt: row.bound_at,
  };
}

function toSession(row: SessionRow): LabSession {
  return {
    id: row.id,
    classId: row.class_id,
    assignmentId: row.assignment_id,
    startedBy: row.started_by,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

export function toAttempt(row: AttemptRow): Attempt {
  return {
    id: row.id,
    assignmentId: row.assignment_id,
    sessionId: row.session_id,
    studentId: row.student_id,
    teamId: row.team_id,
    kitId: row.kit_id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

export function assignmentStatus(opensAt: number, dueAt: number, now = Date.now()): AssignmentStatus {
  return now < opensAt ? 'upcoming' : now < dueAt ? 'open' : 'closed';
}

function marks(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

function unique<T>(items: readonly T[] | undefined): T[] {
  return [...new Set(items ?? [])];
}

function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const PASSWORD_ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random initial password (about 70 bits), in blocks a student can type from a printout. */
export function initialPassword(): string {
  for (;;) {
    const chars = Array.from({ length: 12 }, () => PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)]);
    const password = `${chars.slice(0, 4).join('')}-${chars.slice(4, 8).join('')}-${chars.slice(8).join('')}`;
    if (!passwordProblem(password)) return password;
  }
}

/** Runs `work` over `items`, at most `limit` at a time (scrypt is heavy: keep the thread pool usable). */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Classes, rosters, teams and kit bindings: queries with their visibility rules and the changes,
 * each audited in the transaction that makes it.
 */
export class Classes {
  readonly #db: LabDb;

  constructor(db: LabDb) {
    this.#db = db;
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

  async isEnrolled(classId: string, userId: string, db: Db = this.#db): Promise<boolean> {
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

  /** A team: its class's managers, its members, and mentors of the enterprise whose project it works on. */
  async assertCanReadTeam(actor: Person, team: Team): Promise<void> {
    if (actor.role === 'admin') return;
    if (actor.role === 'instructor') {
      const cls = await this.classOr404(team.classId);
      if (this.manages(actor, cls)) return;
    }
    if (actor.role === 'student' && team.members.some((member) => member.id === actor.id)) return;
    if (actor.role === 'mentor' && team.projectId && actor.organisationId) {
      const project = await this.#db.get<{ organisation_id: string }>(
        'SELECT organisation_id FROM projects WHERE id = ?',
        [team.projectId],
      );
      if (project?.organisation_id === actor.organisationId) return;
    }
    throw new ApiError(
      403,
      'NOT_YOUR_TEAM',
      say(`you may not see team "${team.name}"`, `您无权查看小组“${team.name}”`),
    );
  }

  // ── classes ─────────────────────────────────────────────────────────────────────────────────

  async classById(id: string, db: Db = this.#db): Promise<ClassInfo | undefined> {
    const row = await db.get<ClassRow>(`${CLASS_SELECT} WHERE c.id = ?`, [id]);
    return row ? toClass(row) : undefined;
  }

  async classOr404(id: string, db: Db = this.#db): Promise<ClassInfo> {
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

  /** The running lab session of each class, for a student's view of their classes. */
  async runningSessions(classIds: readonly string[]): Promise<Map<string, LabSession>> {
    const sessions = new Map<string, LabSession>();
    for (const ids of chunks(classIds)) {
      const rows = await this.#db.all<SessionRow>(
        `SELECT * FROM lab_sessions WHERE ended_at IS NULL AND class_id IN (${marks(ids.length)})`,
        ids,
      );
      for (const row of rows) sessions.set(row.class_id, toSession(row));
    }
    return sessions;
  }

  async #assertInstructor(instructorId: string, db: Db): Promise<void> {
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

  // ── roster ──────────────────────────────────────────────────────────────────────────────────

  async listStudents(
    classId: string,
    filter: { q?: string | undefined; limit: number; offset: number },
  ): Promise<{ items: RosterStudent[]; total: number }> {
    const params: SqlValue[] = [classId];
    let search = '';
    if (filter.q) {
      search =
        " AND (u.display_name LIKE ? ESCAPE '\\' OR u.student_number LIKE ? ESCAPE '\\' OR u.username LIKE ? ESCAPE '\\')";
      const like = `%${escapeLike(filter.q)}%`;
      params.push(like, like, like);
    }
    const total =
      (
        await this.#db.get<{ n: number }>(
          `SELECT count(*) AS n FROM class_members m JOIN users u ON u.id = m.user_id WHERE m.class_id = ?${search}`,
          params,
        )
      )?.n ?? 0;
    const rows = await this.#db.all<{
      id: string;
      username: string;
      display_name: string;
      student_number: string | null;
      disabled: number;
      team_id: string | null;
      team_name: string | null;
    }>(
      `SELECT u.id, u.username, u.display_name, u.student_number, u.disabled, x.team_id, x.team_name
       FROM class_members m JOIN users u ON u.id = m.user_id
       LEFT JOIN (SELECT tm.user_id, t.id AS team_id, t.name AS team_name
                  FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE t.class_id = ?) x
         ON x.user_id = u.id
       WHERE m.class_id = ?${search}
       ORDER BY u.student_number, u.username LIMIT ? OFFSET ?`,
      [classId, ...params, filter.limit, filter.offset],
    );
    return {
      items: rows.map((row) => ({
        id: row.id,
        username: row.username,
        displayName: row.display_name,
        studentNumber: row.student_number,
        disabled: row.disabled === 1,
        teamId: row.team_id,
        teamName: row.team_name,
      })),
      total,
    };
  }

  async #students(
    ids: readonly string[],
    db: Db,
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
      this.assertManages(actor, await this.classOr404(classId, tx));
      await this.#students(ids, tx);
      const enrolled: string[] = [];
      const alreadyEnrolled: string[] = [];
      for (const id of ids) {
        if (await this.isEnrolled(classId, id, tx)) {
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
      this.assertManages(actor, await this.classOr404(classId, tx));
      if (!(await this.isEnrolled(classId, studentId, tx))) {
        throw new ApiError(
          404,
          'NOT_ENROLLED',
          say(`student ${studentId} is not enrolled in this class`, `学生 ${studentId} 不在本班`),
        );
      }
      const team = await this.teamIdOf(classId, studentId, tx);
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

  /**
   * Imports checked roster rows into a class, all or nothing: students whose 学号 is unknown get
   * an account (username = 学号, a random initial password returned once), known ones are
   * enrolled. Rows that clash with existing accounts reject the whole file.
   */
  async importRoster(
    actor: Person,
    classId: string,
    rows: readonly RosterRow[],
    encoding: RosterEncoding,
  ): Promise<RosterImport> {
    const cls = await this.classOr404(classId);
    this.assertManages(actor, cls);
    type Existing = {
      id: string;
      role: string;
      username: string;
      display_name: string;
      student_number: string;
    };
    const byNumber = new Map<string, Existing>();
    const byUsername = new Map<string, Existing>();
    const numbers = rows.map((row) => row.studentNumber);
    for (const part of chunks(numbers)) {
      const found = await this.#db.all<Existing>(
        `SELECT id, role, username, display_name, student_number FROM users
         WHERE student_number IN (${marks(part.length)}) OR username IN (${marks(part.length)})`,
        [...part, ...part],
      );
      for (const user of found) {
        if (user.student_number !== null) byNumber.set(user.student_number, user);
        byUsername.set(user.username, user);
      }
    }
    const errors: RowError[] = [];
    const warnings: RowError[] = [];
    const existing: { row: RosterRow; user: Existing }[] = [];
    const fresh: RosterRow[] = [];
    for (const row of rows) {
      const user = byNumber.get(row.studentNumber);
      if (user) {
        if (user.role !== 'student') {
          errors.push({
            row: row.row,
            field: 'studentNumber',
            column: '学号',
            problem: 'NOT_A_STUDENT',
            params: { studentNumber: row.studentNumber, role: user.role },
            message: say(
              `学号 ${row.studentNumber} belongs to a ${user.role} account, not a student`,
              `学号 ${row.studentNumber} 已被${roleZh(user.role)}账号使用，不是学生账号`,
            ),
          });
        } else {
          existing.push({ row, user });
          if (user.display_name !== row.name) {
            warnings.push({
              row: row.row,
              field: 'name',
              column: '姓名',
              problem: 'NAME_DIFFERS',
              params: { studentNumber: row.studentNumber, registeredName: user.display_name, name: row.name },
              message: say(
                `学号 ${row.studentNumber} is already ${user.display_name}; the name "${row.name}" in the file was not applied`,
                `学号 ${row.studentNumber} 已登记为“${user.display_name}”，文件中的姓名“${row.name}”未采用`,
              ),
            });
          }
        }
        continue;
      }
      const owner = byUsername.get(row.studentNumber);
      if (owner) {
        errors.push({
          row: row.row,
          field: 'studentNumber',
          column: '学号',
          problem: 'USERNAME_TAKEN',
          params: { studentNumber: row.studentNumber, owner: owner.display_name },
          message: say(
            `the username ${row.studentNumber} is taken by another account (${owner.display_name})`,
            `用户名 ${row.studentNumber} 已被其他账号（${owner.display_name}）占用`,
          ),
        });
        continue;
      }
      fresh.push(row);
    }
    if (errors.length > 0) throw new RosterRejected(errors, encoding);

    const passwords = fresh.map(() => initialPassword());
    const hashes = await pool(passwords, 2, (password) => hashPassword(password));
    return this.#db.transaction(async (tx) => {
      const now = Date.now();
      const created: RosterImport['created'] = [];
      for (const [i, row] of fresh.entries()) {
        const id = randomUUID();
        try {
          await tx.run(
            `INSERT INTO users (id, username, display_name, role, organisation_id, student_number, email, password_hash, disabled, created_at, updated_at, version)
             VALUES (?, ?, ?, 'student', NULL, ?, '', ?, 0, ?, ?, 1)`,
            [id, row.studentNumber, row.name, row.studentNumber, hashes[i] as string, now, now],
          );
        } catch (error) {
          throw uniqueViolation(
            error,
            say(
              `学号 ${row.studentNumber} (row ${row.row}) was registered by someone else meanwhile: upload the roster again`,
              `学号 ${row.studentNumber}（第 ${row.row} 行）刚被他人注册：请重新上传名单`,
            ),
          );
        }
        const user = toUser(
          (await tx.get<Parameters<typeof toUser>[0]>('SELECT * FROM users WHERE id = ?', [
            id,
          ])) as Parameters<typeof toUser>[0],
        );
        await recordAudit(tx, actor, { entity: 'user', entityId: id, action: 'create', after: user });
        await tx.run('INSERT INTO class_members (class_id, user_id) VALUES (?, ?)', [classId, id]);
        created.push({
          row: row.row,
          userId: id,
          studentNumber: row.studentNumber,
          username: row.studentNumber,
          displayName: row.name,
          initialPassword: passwords[i] as string,
        });
      }
      const enrolled: RosterImport['enrolled'] = [];
      const alreadyEnrolled: RosterImport['alreadyEnrolled'] = [];
      for (const { row, user } of existing) {
        const entry = {
          row: row.row,
          userId: user.id,
          studentNumber: row.studentNumber,
          displayName: user.display_name,
        };
        if (await this.isEnrolled(classId, user.id, tx)) {
          alreadyEnrolled.push(entry);
        } else {
          await tx.run('INSERT INTO class_members (class_id, user_id) VALUES (?, ?)', [classId, user.id]);
          enrolled.push(entry);
        }
      }
      await recordAudit(tx, actor, {
        entity: 'class',
        entityId: classId,
        action: 'roster-import',
        after: {
          encoding,
          rows: rows.length,
          created: created.map((entry) => entry.studentNumber),
          enrolled: enrolled.map((entry) => entry.studentNumber),
          alreadyEnrolled: alreadyEnrolled.map((entry) => entry.studentNumber),
        },
      });
      return { classId, encoding, rows: rows.length, created, enrolled, alreadyEnrolled, warnings };
    });
  }

  // ── teams ───────────────────────────────────────────────────────────────────────────────────

  async teamIdOf(classId: string, studentId: string, db: Db = this.#db): Promise<string | undefined> {
    const row = await db.get<{ id: string }>(
      'SELECT t.id FROM teams t JOIN team_members tm ON tm.team_id = t.id WHERE t.class_id = ? AND tm.user_id = ?',
      [classId, studentId],
    );
    return row?.id;
  }

  async #withMembers(rows: TeamRow[], db: Db): Promise<Team[]> {
    const members = new Map<string, TeamMember[]>();
    for (const part of chunks(rows.map((row) => row.id))) {
      const found = await db.all<{
        team_id: string;
        id: string;
        display_name: string;
        student_number: string | null;
      }>(
        `SELECT tm.team_id, u.id, u.display_name, u.student_number
         FROM team_members tm JOIN users u ON u.id = tm.user_id
         WHERE tm.team_id IN (${marks(part.length)}) ORDER BY u.student_number, u.username`,
        part,
      );
      for (const member of found) {
        const list = members.get(member.team_id) ?? [];
        list.push({ id: member.id, displayName: member.display_name, studentNumber: member.student_number });
        members.set(member.team_id, list);
      }
    }
    return rows.map((row) => ({
      id: row.id,
      classId: row.class_id,
      className: row.class_name,
      name: row.name,
      projectId: row.project_id,
      projectTitle: row.project_title,
      members: members.get(row.id) ?? [],
      createdAt: row.created_at,
      version: row.version,
    }));
  }

  async teamById(id: string, db: Db = this.#db): Promise<Team | undefined> {
    const row = await db.get<TeamRow>(`${TEAM_SELECT} WHERE t.id = ?`, [id]);
    return row ? (await this.#withMembers([row], db))[0] : undefined;
  }

  async teamOr404(id: string, db: Db = this.#db): Promise<Team> {
    const team = await this.teamById(id, db);
    if (!team) throw new ApiError(404, 'TEAM_NOT_FOUND', say(`no team ${id}`, `找不到小组 ${id}`));
    return team;
  }

  async listTeams(filter: {
    classId?: string | undefined;
    instructorId?: string | undefined;
    memberId?: string | undefined;
    organisationId?: string | undefined;
    projectId?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<{ items: Team[]; total: number }> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const add = (clause: string, value: string | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      params.push(value);
    };
    add('t.class_id = ?', filter.classId);
    add('c.instructor_id = ?', filter.instructorId);
    add('t.id IN (SELECT team_id FROM team_members WHERE user_id = ?)', filter.memberId);
    add('p.organisation_id = ?', filter.organisationId);
    add('t.project_id = ?', filter.projectId);
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const from =
      'FROM teams t JOIN classes c ON c.id = t.class_id LEFT JOIN projects p ON p.id = t.project_id';
    const total =
      (await this.#db.get<{ n: number }>(`SELECT count(*) AS n ${from} ${clause}`, params))?.n ?? 0;
    // Ordered here, not in SQL: 第2组 before 第10组 (a class has tens of teams, not thousands).
    const rows = (await this.#db.all<TeamRow & { class_name: string }>(`${TEAM_SELECT} ${clause}`, params))
      .sort((a, b) => naturalOrder(a.class_name, b.class_name) || naturalOrder(a.name, b.name))
      .slice(filter.offset, filter.offset + filter.limit);
    return { items: await this.#withMembers(rows, this.#db), total };
  }

  async #assertProject(projectId: string, db: Db): Promise<void> {
    const project = await db.get<{ status: string }>('SELECT status FROM projects WHERE id = ?', [projectId]);
    if (!project)
      throw new ApiError(400, 'UNKNOWN_PROJECT', say(`no project ${projectId}`, `找不到项目 ${projectId}`));
    if (project.status === 'archived') {
      throw new ApiError(
        409,
        'PROJECT_ARCHIVED',
        say(
          `project ${projectId} is archived: teams cannot take it up`,
          `项目 ${projectId} 已归档，小组不能再选择它`,
        ),
      );
    }
  }

  async #assertCanJoin(classId: string, studentId: string, db: Db, exceptTeam?: string): Promise<void> {
    if (!(await this.isEnrolled(classId, studentId, db))) {
      throw new ApiError(
        409,
        'NOT_ENROLLED',
        say(
          `student ${studentId} is not enrolled in this class: enrol them before adding them to a team`,
          `学生 ${studentId} 不在本班：请先将其加入班级，再加入小组`,
        ),
      );
    }
    const current = await this.teamIdOf(classId, studentId, db);
    if (current && current !== exceptTeam) {
      const name = (await db.get<{ name: string }>('SELECT name FROM teams WHERE id = ?', [current]))?.name;
      throw new ApiError(
        409,
        'ALREADY_IN_TEAM',
        say(
          `student ${studentId} is already in team "${name}" of this class: remove them there first`,
          `学生 ${studentId} 已在本班小组“${name}”中：请先从该小组移出`,
        ),
      );
    }
  }

  async createTeam(
    actor: Person,
    classId: string,
    input: { name: string; projectId?: string | null | undefined; memberIds?: string[] | undefined },
  ): Promise<Team> {
    const id = randomUUID();
    return this.#db.transaction(async (tx) => {
      this.assertManages(actor, await this.classOr404(classId, tx));
      if (input.projectId) await this.#assertProject(input.projectId, tx);
      try {
        await tx.run(
          'INSERT INTO teams (id, class_id, name, project_id, created_at, version) VALUES (?, ?, ?, ?, ?, 1)',
          [id, classId, input.name, input.projectId ?? null, Date.now()],
        );
      } catch (error) {
        throw uniqueViolation(
          error,
          say(`class already has a team named "${input.name}"`, `本班已有名为“${input.name}”的小组`),
        );
      }
      for (const studentId of unique(input.memberIds)) {
        await this.#assertCanJoin(classId, studentId, tx);
        await tx.run('INSERT INTO team_members (team_id, user_id) VALUES (?, ?)', [id, studentId]);
      }
      const team = (await this.teamById(id, tx)) as Team;
      await recordAudit(tx, actor, { entity: 'team', entityId: id, action: 'create', after: team });
      return team;
    });
  }

  async updateTeam(
    actor: Person,
    id: string,
    expectedVersion: number,
    changes: { name?: string | undefined; projectId?: string | null | undefined },
  ): Promise<Team> {
    return this.#db.transaction(async (tx) => {
      const before = await this.teamOr404(id, tx);
      this.assertManages(actor, await this.classOr404(before.classId, tx));
      if (before.version !== expectedVersion) throw versionConflict('team', before.version);
      if (changes.projectId && changes.projectId !== before.projectId) {
        await this.#assertProject(changes.projectId, tx);
      }
      try {
        await tx.run('UPDATE teams SET name = ?, project_id = ?, version = version + 1 WHERE id = ?', [
          changes.name ?? before.name,
          changes.projectId === undefined ? before.projectId : changes.projectId,
          id,
        ]);
      } catch (error) {
        throw uniqueViolation(
          error,
          say(`class already has a team named "${changes.name}"`, `本班已有名为“${changes.name}”的小组`),
        );
      }
      const after = (await this.teamById(id, tx)) as Team;
      await recordAudit(tx, actor, { entity: 'team', entityId: id, action: 'update', before, after });
      return after;
    });
  }

  async addTeamMember(actor: Person, teamId: string, studentId: string): Promise<Team> {
    return this.#db.transaction(async (tx) => {
      const team = await this.teamOr404(teamId, tx);
      this.assertManages(actor, await this.classOr404(team.classId, tx));
      if (team.members.some((member) => member.id === studentId)) return team;
      await this.#assertCanJoin(team.classId, studentId, tx, teamId);
      await tx.run('INSERT INTO team_members (team_id, user_id) VALUES (?, ?)', [teamId, studentId]);
      await recordAudit(tx, actor, {
        entity: 'team',
        entityId: teamId,
        action: 'add-member',
        after: { studentId },
      });
      return (await this.teamById(teamId, tx)) as Team;
    });
  }

  async removeTeamMember(actor: Person, teamId: string, studentId: string): Promise<Team> {
    return this.#db.transaction(async (tx) => {
      const team = await this.teamOr404(teamId, tx);
      this.assertManages(actor, await this.classOr404(team.classId, tx));
      const { changes } = await tx.run('DELETE FROM team_members WHERE team_id = ? AND user_id = ?', [
        teamId,
        studentId,
      ]);
      if (changes === 0) {
        throw new ApiError(
          404,
          'NOT_A_MEMBER',
          say(
            `student ${studentId} is not in team "${team.name}"`,
            `学生 ${studentId} 不在小组“${team.name}”中`,
          ),
        );
      }
      await recordAudit(tx, actor, {
        entity: 'team',
        entityId: teamId,
        action: 'remove-member',
        before: { studentId },
      });
      return (await this.teamById(teamId, tx)) as Team;
    });
  }

  // ── kits: bindings and what students may see ────────────────────────────────────────────────

  async bindings(db: Db = this.#db): Promise<Map<string, KitBinding>> {
    const rows = await db.all<BindingRow>('SELECT * FROM kit_bindings');
    return new Map(rows.map((row) => [row.kit_id, toBinding(row)]));
  }

  async binding(kitId: string, db: Db = this.#db): Promise<KitBinding | null> {
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
    db: Db = this.#db,
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
    change: (tx: Db) => Promise<{ result: T; after: unknown; sensors?: readonly string[] }>,
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
  async #instructs(instructorId: string, classId: string | null, db: Db): Promise<boolean> {
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
    db: Db,
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

/** Assignments of lab tasks, lab sessions, and the attempts grading evaluates. */
export class Assignments {
  readonly #db: LabDb;
  readonly #classes: Classes;

  constructor(db: LabDb, classes: Classes) {
    this.#db = db;
    this.#classes = classes;
  }

  async #withTargets(rows: AssignmentRow[], db: Db): Promise<Assignment[]> {
    const targets = new Map<string, { teamIds: string[]; studentIds: string[] }>();
    for (const part of chunks(rows.map((row) => row.id))) {
      const found = await db.all<{
        assignment_id: string;
        team_id: string | null;
        student_id: string | null;
      }>(
        `SELECT assignment_id, team_id, student_id FROM assignment_targets WHERE assignment_id IN (${marks(part.length)})`,
        part,
      );
      for (const target of found) {
        const entry = targets.get(target.assignment_id) ?? { teamIds: [], studentIds: [] };
        if (target.team_id) entry.teamIds.push(target.team_id);
        if (target.student_id) entry.studentIds.push(target.student_id);
        targets.set(target.assignment_id, entry);
      }
    }
    const now = Date.now();
    return rows.map((row) => ({
      id: row.id,
      taskId: row.task_id,
      taskTitle: row.task_title,
      classId: row.class_id,
      className: row.class_name,
      opensAt: row.opens_at,
      dueAt: row.due_at,
      status: assignmentStatus(row.opens_at, row.due_at, now),
      targets: targets.get(row.id) ?? { teamIds: [], studentIds: [] },
      createdBy: row.created_by,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      version: row.version,
    }));
  }

  async assignmentById(id: string, db: Db = this.#db): Promise<Assignment | undefined> {
    const row = await db.get<AssignmentRow>(`${ASSIGNMENT_SELECT} WHERE a.id = ?`, [id]);
    return row ? (await this.#withTargets([row], db))[0] : undefined;
  }

  async assignmentOr404(id: string, db: Db = this.#db): Promise<Assignment> {
    const assignment = await this.assignmentById(id, db);
    if (!assignment)
      throw new ApiError(404, 'ASSIGNMENT_NOT_FOUND', say(`no assignment ${id}`, `找不到任务 ${id}`));
    return assignment;
  }

  /** Whether an assignment is for this student: them directly, or their team in its class. */
  async targets(assignment: Assignment, studentId: string, db: Db = this.#db): Promise<boolean> {
    if (!(await this.#classes.isEnrolled(assignment.classId, studentId, db))) return false;
    if (assignment.targets.studentIds.includes(studentId)) return true;
    const team = await this.#classes.teamIdOf(assignment.classId, studentId, db);
    return team !== undefined && assignment.targets.teamIds.includes(team);
  }

  /** The teams a student is in (in any class). */
  async teamIdsOf(studentId: string): Promise<Set<string>> {
    const rows = await this.#db.all<{ team_id: string }>(
      'SELECT team_id FROM team_members WHERE user_id = ?',
      [studentId],
    );
    return new Set(rows.map((row) => row.team_id));
  }

  /** A student's view of an assignment: its targets narrowed to them and their team. */
  forStudent(assignment: Assignment, studentId: string, teamIds: ReadonlySet<string>): Assignment {
    return {
      ...assignment,
      targets: {
        teamIds: assignment.targets.teamIds.filter((id) => teamIds.has(id)),
        studentIds: assignment.targets.studentIds.filter((id) => id === studentId),
      },
    };
  }

  async listAssignments(filter: {
    classId?: string | undefined;
    studentId?: string | undefined;
    status?: AssignmentStatus | undefined;
    limit: number;
    offset: number;
  }): Promise<{ items: Assignment[]; total: number }> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.classId) {
      where.push('a.class_id = ?');
      params.push(filter.classId);
    }
    if (filter.studentId) {
      where.push(`a.id IN (
          SELECT assignment_id FROM assignment_targets WHERE student_id = ?
          UNION
          SELECT at.assignment_id FROM assignment_targets at
            JOIN team_members tm ON tm.team_id = at.team_id WHERE tm.user_id = ?)
        AND a.class_id IN (SELECT class_id FROM class_members WHERE user_id = ?)`);
      params.push(filter.studentId, filter.studentId, filter.studentId);
    }
    const now = Date.now();
    if (filter.status === 'upcoming') {
      where.push('a.opens_at > ?');
      params.push(now);
    } else if (filter.status === 'open') {
      where.push('a.opens_at <= ? AND a.due_at > ?');
      params.push(now, now);
    } else if (filter.status === 'closed') {
      where.push('a.due_at <= ?');
      params.push(now);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total =
      (await this.#db.get<{ n: number }>(`SELECT count(*) AS n FROM assignments a ${clause}`, params))?.n ??
      0;
    const rows = await this.#db.all<AssignmentRow>(
      `${ASSIGNMENT_SELECT} ${clause} ORDER BY a.due_at, a.id LIMIT ? OFFSET ?`,
      [...params, filter.limit, filter.offset],
    );
    return { items: await this.#withTargets(rows, this.#db), total };
  }

  async #checkTargets(classId: string, teamIds: string[], studentIds: string[], db: Db): Promise<void> {
    if (teamIds.length + studentIds.length === 0) {
      throw new ApiError(
        400,
        'NO_TARGETS',
        say(
          'an assignment is for at least one team or student (teamIds, studentIds)',
          '任务至少要布置给一个小组或一名学生（teamIds、studentIds）',
        ),
      );
    }
    for (const teamId of teamIds) {
      const team = await db.get<{ class_id: string }>('SELECT class_id FROM teams WHERE id = ?', [teamId]);
      if (team?.class_id !== classId) {
        throw new ApiError(
          400,
          'UNKNOWN_TEAM',
          say(`team ${teamId} is not a team of this class`, `小组 ${teamId} 不是本班的小组`),
        );
      }
    }
    for (const studentId of studentIds) {
      if (!(await this.#classes.isEnrolled(classId, studentId, db))) {
        throw new ApiError(
          400,
          'NOT_ENROLLED',
          say(`student ${studentId} is not enrolled in this class`, `学生 ${studentId} 不在本班`),
        );
      }
    }
  }

  async #writeTargets(assignmentId: string, teamIds: string[], studentIds: string[], db: Db): Promise<void> {
    await db.run('DELETE FROM assignment_targets WHERE assignment_id = ?', [assignmentId]);
    for (const teamId of teamIds) {
      await db.run(
        'INSERT INTO assignment_targets (assignment_id, team_id, student_id) VALUES (?, ?, NULL)',
        [assignmentId, teamId],
      );
    }
    for (const studentId of studentIds) {
      await db.run(
        'INSERT INTO assignment_targets (assignment_id, team_id, student_id) VALUES (?, NULL, ?)',
        [assignmentId, studentId],
      );
    }
  }

  async createAssignment(
    actor: Person,
    classId: string,
    input: {
      taskId: string;
      opensAt: number;
      dueAt: number;
      teamIds?: string[] | undefined;
      studentIds?: string[] | undefined;
    },
  ): Promise<Assignment> {
    if (!(input.opensAt < input.dueAt)) {
      throw new ApiError(
        400,
        'INVALID_WINDOW',
        say('opensAt must be before dueAt', '开始时间（opensAt）必须早于截止时间（dueAt）'),
      );
    }
    const teamIds = unique(input.teamIds);
    const studentIds = unique(input.studentIds);
    const id = randomUUID();
    return this.#db.transaction(async (tx) => {
      const cls = await this.#classes.classOr404(classId, tx);
      const task = await tx.get<{ status: string; organisation_id: string | null }>(
        `SELECT lt.status, p.organisation_id FROM lab_tasks lt LEFT JOIN projects p ON p.id = lt.project_id
         WHERE lt.id = ?`,
        [input.taskId],
      );
      if (actor.role === 'mentor')
        await this.#assertMentorMayAssign(actor, task, classId, teamIds, studentIds, tx);
      else this.#classes.assertManages(actor, cls);
      if (!task)
        throw new ApiError(
          400,
          'UNKNOWN_TASK',
          say(`no lab task ${input.taskId}`, `找不到实训任务 ${input.taskId}`),
        );
      if (task.status === 'archived') {
        throw new ApiError(
          409,
          'TASK_ARCHIVED',
          say(
            `lab task ${input.taskId} is archived: it can no longer be assigned`,
            `实训任务 ${input.taskId} 已归档，不能再布置`,
          ),
        );
      }
      await this.#checkTargets(classId, teamIds, studentIds, tx);
      const now = Date.now();
      await tx.run(
        `INSERT INTO assignments (id, task_id, class_id, opens_at, due_at, created_by, created_at, updated_at, version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`,
        [id, input.taskId, classId, input.opensAt, input.dueAt, actor.id, now, now],
      );
      await this.#writeTargets(id, teamIds, studentIds, tx);
      const created = (await this.assignmentById(id, tx)) as Assignment;
      await recordAudit(tx, actor, { entity: 'assignment', entityId: id, action: 'create', after: created });
      return created;
    });
  }

  /**
   * School and enterprise teach together (校企合作): an enterprise mentor assigns a task of their
   * enterprise to the teams of a class that work on one of its projects — teams only, and only
   * those; the class's instructor assigns everything else.
   */
  async #assertMentorMayAssign(
    actor: Person,
    task: { organisation_id: string | null } | undefined,
    classId: string,
    teamIds: readonly string[],
    studentIds: readonly string[],
    tx: Db,
  ): Promise<void> {
    if (!task) return; // UNKNOWN_TASK follows
    if (!actor.organisationId || task.organisation_id !== actor.organisationId) {
      throw new ApiError(
        403,
        'NOT_YOUR_TASK',
        say("mentors assign only their own enterprise's lab tasks", '企业导师只能布置本企业的实训任务'),
      );
    }
    if (studentIds.length > 0 || teamIds.length === 0) {
      throw new ApiError(
        403,
        'MENTOR_ASSIGNS_TEAMS',
        say(
          'a mentor assigns a task to teams working on the enterprise’s projects (teamIds), not to single students',
          '企业导师只能把任务布置给参与本企业项目的小组（teamIds），不能布置给单个学生',
        ),
      );
    }
    for (const teamId of teamIds) {
      const team = await tx.get<{ name: string; organisation_id: string | null }>(
        `SELECT t.name, p.organisation_id FROM teams t LEFT JOIN projects p ON p.id = t.project_id
         WHERE t.id = ? AND t.class_id = ?`,
        [teamId, classId],
      );
      if (team && team.organisation_id !== actor.organisationId) {
        throw new ApiError(
          403,
          'NOT_YOUR_TEAM',
          say(
            `team "${team.name}" does not work on a project of your enterprise: its instructor assigns its tasks`,
            `小组“${team.name}”没有参与贵企业的项目：该小组的任务由任课教师布置`,
          ),
        );
      }
    }
  }

  async updateAssignment(
    actor: Person,
    id: string,
    expectedVersion: number,
    changes: {
      opensAt?: number | undefined;
      dueAt?: number | undefined;
      teamIds?: string[] | undefined;
      studentIds?: string[] | undefined;
    },
  ): Promise<Assignment> {
    return this.#db.transaction(async (tx) => {
      const before = await this.assignmentOr404(id, tx);
      this.#classes.assertManages(actor, await this.#classes.classOr404(before.classId, tx));
      if (before.version !== expectedVersion) throw versionConflict('assignment', before.version);
      const opensAt = changes.opensAt ?? before.opensAt;
      const dueAt = changes.dueAt ?? before.dueAt;
      if (!(opensAt < dueAt))
        throw new ApiError(
          400,
          'INVALID_WINDOW',
          say('opensAt must be before dueAt', '开始时间（opensAt）必须早于截止时间（dueAt）'),
        );
      if (changes.teamIds !== undefined || changes.studentIds !== undefined) {
        const teamIds = changes.teamIds === undefined ? before.targets.teamIds : unique(changes.teamIds);
        const studentIds =
          changes.studentIds === undefined ? before.targets.studentIds : unique(changes.studentIds);
        await this.#checkTargets(before.classId, teamIds, studentIds, tx);
        await this.#writeTargets(id, teamIds, studentIds, tx);
      }
      await tx.run(
        'UPDATE assignments SET opens_at = ?, due_at = ?, updated_at = ?, version = version + 1 WHERE id = ?',
        [opensAt, dueAt, Date.now(), id],
      );
      const after = (await this.assignmentById(id, tx)) as Assignment;
      await recordAudit(tx, actor, { entity: 'assignment', entityId: id, action: 'update', before, after });
      return after;
    });
  }

  // ── lab sessions ────────────────────────────────────────────────────────────────────────────

  async sessionById(id: string, db: Db = this.#db): Promise<LabSession | undefined> {
    const row = await db.get<SessionRow>('SELECT * FROM lab_sessions WHERE id = ?', [id]);
    return row ? toSession(row) : undefined;
  }

  async sessionOr404(id: string, db: Db = this.#db): Promise<LabSession> {
    const session = await this.sessionById(id, db);
    if (!session)
      throw new ApiError(404, 'SESSION_NOT_FOUND', say(`no lab session ${id}`, `找不到实训课 ${id}`));
    return session;
  }

  async runningSession(classId: string, db: Db = this.#db): Promise<LabSession | undefined> {
    const row = await db.get<SessionRow>(
      'SELECT * FROM lab_sessions WHERE class_id = ? AND ended_at IS NULL',
      [classId],
    );
    return row ? toSession(row) : undefined;
  }

  async listSessions(classId: string, page: { limit: number; offset: number }) {
    const total =
      (
        await this.#db.get<{ n: number }>('SELECT count(*) AS n FROM lab_sessions WHERE class_id = ?', [
          classId,
        ])
      )?.n ?? 0;
    const rows = await this.#db.all<SessionRow>(
      'SELECT * FROM lab_sessions WHERE class_id = ? ORDER BY started_at DESC, id LIMIT ? OFFSET ?',
      [classId, page.limit, page.offset],
    );
    return { items: rows.map(toSession), total };
  }

  async startSession(
    actor: Person,
    classId: string,
    input: { assignmentId?: string | undefined },
  ): Promise<LabSession> {
    const id = randomUUID();
    return this.#db.transaction(async (tx) => {
      this.#classes.assertManages(actor, await this.#classes.classOr404(classId, tx));
      if (input.assignmentId) {
        const assignment = await this.assignmentOr404(input.assignmentId, tx);
        if (assignment.classId !== classId) {
          throw new ApiError(
            400,
            'WRONG_CLASS',
            say(
              `assignment ${input.assignmentId} belongs to another class`,
              `任务 ${input.assignmentId} 属于其他班级`,
            ),
          );
        }
      }
      const running = await this.runningSession(classId, tx);
      if (running) {
        throw new ApiError(
          409,
          'SESSION_ALREADY_RUNNING',
          say(
            `a lab session (${running.id}) is already running for this class: end it first`,
            `本班已有一节实训课正在进行（${running.id}）：请先结束它`,
          ),
        );
      }
      await tx.run(
        'INSERT INTO lab_sessions (id, class_id, assignment_id, started_by, started_at, ended_at) VALUES (?, ?, ?, ?, ?, NULL)',
        [id, classId, input.assignmentId ?? null, actor.id, Date.now()],
      );
      const session = (await this.sessionById(id, tx)) as LabSession;
      await recordAudit(tx, actor, { entity: 'lab-session', entityId: id, action: 'start', after: session });
      return session;
    });
  }

  /** Ends a session and, with it, the attempts still running in it. */
  async endSession(actor: Person, id: string): Promise<{ session: LabSession; endedAttempts: string[] }> {
    return this.#db.transaction(async (tx) => {
      const before = await this.sessionOr404(id, tx);
      this.#classes.assertManages(actor, await this.#classes.classOr404(before.classId, tx));
      if (before.endedAt !== null) {
        throw new ApiError(
          409,
          'SESSION_ALREADY_ENDED',
          say(`lab session ${id} already ended`, `实训课 ${id} 已经结束`),
        );
      }
      const now = Date.now();
      const open = await tx.all<{ id: string }>(
        'SELECT id FROM attempts WHERE session_id = ? AND ended_at IS NULL ORDER BY id',
        [id],
      );
      await tx.run('UPDATE attempts SET ended_at = ? WHERE session_id = ? AND ended_at IS NULL', [now, id]);
      await tx.run('UPDATE lab_sessions SET ended_at = ? WHERE id = ?', [now, id]);
      const session = (await this.sessionById(id, tx)) as LabSession;
      const endedAttempts = open.map((row) => row.id);
      await recordAudit(tx, actor, {
        entity: 'lab-session',
        entityId: id,
        action: 'end',
        before,
        after: { ...session, endedAttempts },
      });
      return { session, endedAttempts };
    });
  }

  // ── attempts ────────────────────────────────────────────────────────────────────────────────

  async attemptById(id: string, db: Db = this.#db): Promise<Attempt | undefined> {
    const row = await db.get<AttemptRow>('SELECT * FROM attempts WHERE id = ?', [id]);
    return row ? toAttempt(row) : undefined;
  }

  async attemptOr404(id: string, db: Db = this.#db): Promise<Attempt> {
    const attempt = await this.attemptById(id, db);
    if (!attempt) throw new ApiError(404, 'ATTEMPT_NOT_FOUND', say(`no attempt ${id}`, `找不到作答 ${id}`));
    return attempt;
  }

  async listAttempts(filter: {
    assignmentId?: string | undefined;
    studentId?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<{ items: Attempt[]; total: number }> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.assignmentId) {
      where.push('assignment_id = ?');
      params.push(filter.assignmentId);
    }
    if (filter.studentId) {
      where.push('student_id = ?');
      params.push(filter.studentId);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total =
      (await this.#db.get<{ n: number }>(`SELECT count(*) AS n FROM attempts ${clause}`, params))?.n ?? 0;
    const rows = await this.#db.all<AttemptRow>(
      `SELECT * FROM attempts ${clause} ORDER BY started_at DESC, id LIMIT ? OFFSET ?`,
      [...params, filter.limit, filter.offset],
    );
    return { items: rows.map(toAttempt), total };
  }

  /**
   * Starts a student's attempt at an assignment: a time window on their bound kit. Refused, each
   * with its own code, when the student is not a target, the assignment is not open, no lab session
   * of the class is running (or it runs for another assignment), the student has no usable kit,
   * or they already have an attempt running.
   */
  async startAttempt(
    actor: Person,
    assignmentId: string,
    input: { studentId?: string | undefined; kitId?: string | undefined },
  ): Promise<Attempt> {
    const id = randomUUID();
    return this.#db.transaction(async (tx) => {
      const assignment = await this.assignmentOr404(assignmentId, tx);
      let studentId: string;
      if (actor.role === 'student') {
        if (input.studentId && input.studentId !== actor.id) {
          throw new ApiError(
            403,
            'FORBIDDEN',
            say('a student starts their own attempts only', '学生只能为自己开始作答'),
          );
        }
        studentId = actor.id;
      } else {
        this.#classes.assertManages(actor, await this.#classes.classOr404(assignment.classId, tx));
        if (!input.studentId) {
          throw new ApiError(
            400,
            'STUDENT_REQUIRED',
            say('say whose attempt this is: studentId', '请用 studentId 指明是哪位学生的作答'),
          );
        }
        studentId = input.studentId;
      }
      if (!(await this.targets(assignment, studentId, tx))) {
        throw new ApiError(
          actor.role === 'student' ? 403 : 409,
          'NOT_ASSIGNED',
          say(
            `this assignment is not for student ${studentId} (neither them nor their team is a target)`,
            `这个任务没有布置给学生 ${studentId}（本人及其小组都不在布置对象中）`,
          ),
        );
      }
      const now = Date.now();
      if (now < assignment.opensAt) {
        throw new ApiError(
          409,
          'ASSIGNMENT_NOT_OPEN',
          say(
            `the assignment opens at ${new Date(assignment.opensAt).toISOString()}`,
            `任务尚未开始，开始时间为 ${zhTime(assignment.opensAt)}`,
          ),
        );
      }
      if (now >= assignment.dueAt) {
        throw new ApiError(
          409,
          'ASSIGNMENT_NOT_OPEN',
          say(
            `the assignment closed at ${new Date(assignment.dueAt).toISOString()} (its due date)`,
            `任务已于 ${zhTime(assignment.dueAt)} 截止`,
          ),
        );
      }
      const session = await this.runningSession(assignment.classId, tx);
      if (!session) {
        throw new ApiError(
          409,
          'NO_SESSION_RUNNING',
          say(
            `no lab session is running for class "${assignment.className}": the instructor starts one first`,
            `班级“${assignment.className}”还没有开始实训课：请等老师开始实训课后再作答`,
          ),
        );
      }
      if (session.assignmentId && session.assignmentId !== assignment.id) {
        throw new ApiError(
          409,
          'SESSION_FOR_ANOTHER_ASSIGNMENT',
          say(
            `the running lab session is for assignment ${session.assignmentId}, not this one`,
            `正在进行的实训课属于任务 ${session.assignmentId}，不是这个任务`,
          ),
        );
      }
      const teamId = (await this.#classes.teamIdOf(assignment.classId, studentId, tx)) ?? null;
      const kits = await this.#classes.kitsOfStudent(studentId, tx);
      // A kit bound to a team of another class is not for this assignment.
      for (const [kitId, binding] of kits) {
        if (binding.teamId !== null && binding.teamId !== teamId) kits.delete(kitId);
      }
      if (kits.size === 0) {
        throw new ApiError(
          409,
          'NO_KIT_BOUND',
          say(
            `student ${studentId} has no kit bound (directly or through their team): bind one first`,
            `学生 ${studentId} 没有绑定套件（本人或其小组都没有）：请先绑定套件`,
          ),
        );
      }
      let kitId: string;
      if (input.kitId) {
        if (!kits.has(input.kitId)) {
          throw new ApiError(
            409,
            'KIT_NOT_BOUND',
            say(
              `kit "${input.kitId}" is not bound to student ${studentId} or their team`,
              `套件“${input.kitId}”没有绑定给学生 ${studentId} 或其小组`,
            ),
          );
        }
        kitId = input.kitId;
      } else if (kits.size > 1) {
        throw new ApiError(
          400,
          'KIT_CHOICE_REQUIRED',
          say(
            `student ${studentId} has several kits (${[...kits.keys()].join(', ')}): say which in kitId`,
            `学生 ${studentId} 绑定了多台套件（${[...kits.keys()].join('、')}）：请用 kitId 指定一台`,
          ),
        );
      } else {
        kitId = [...kits.keys()][0] as string;
      }
      const kit = await tx.get<{ secret_hash: string | null }>('SELECT secret_hash FROM kits WHERE id = ?', [
        kitId,
      ]);
      if (!kit?.secret_hash) {
        throw new ApiError(
          409,
          'KIT_REVOKED',
          say(
            `kit "${kitId}" has its credentials revoked: it cannot send data`,
            `套件“${kitId}”的密钥已被吊销，无法发送数据`,
          ),
        );
      }
      const running = await tx.get<{ id: string }>(
        'SELECT id FROM attempts WHERE assignment_id = ? AND student_id = ? AND ended_at IS NULL',
        [assignment.id, studentId],
      );
      if (running) {
        throw new ApiError(
          409,
          'ATTEMPT_IN_PROGRESS',
          say(
            `student ${studentId} already has an attempt running (${running.id}): end it first`,
            `学生 ${studentId} 已有一次作答正在进行（${running.id}）：请先结束它`,
          ),
        );
      }
      await tx.run(
        `INSERT INTO attempts (id, assignment_id, session_id, student_id, team_id, kit_id, started_at, ended_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`,
        [id, assignment.id, session.id, studentId, teamId, kitId, now],
      );
      const attempt = (await this.attemptById(id, tx)) as Attempt;
      await recordAudit(tx, actor, { entity: 'attempt', entityId: id, action: 'start', after: attempt });
      return attempt;
    });
  }

  async endAttempt(actor: Person, id: string): Promise<Attempt> {
    return this.#db.transaction(async (tx) => {
      const before = await this.attemptOr404(id, tx);
      if (actor.role === 'student') {
        if (before.studentId !== actor.id)
          throw new ApiError(
            403,
            'NOT_YOUR_ATTEMPT',
            say(`attempt ${id} is not yours`, `作答 ${id} 不是您的`),
          );
      } else {
        const assignment = await this.assignmentOr404(before.assignmentId, tx);
        this.#classes.assertManages(actor, await this.#classes.classOr404(assignment.classId, tx));
      }
      if (before.endedAt !== null) {
        throw new ApiError(
          409,
          'ATTEMPT_ALREADY_ENDED',
          say(`attempt ${id} already ended`, `作答 ${id} 已经结束`),
        );
      }
      await tx.run('UPDATE attempts SET ended_at = ? WHERE id = ?', [Date.now(), id]);
      const after = (await this.attemptById(id, tx)) as Attempt;
      await recordAudit(tx, actor, { entity: 'attempt', entityId: id, action: 'end', before, after });
      return after;
    });
  }
}
