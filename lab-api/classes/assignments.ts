/**
 * Assignments: a lab task given to teams and students of a class for a time window, who it is
 * for, and the changes to it.
 */
import { randomUUID } from 'node:crypto';
import type { Assignment, AssignmentStatus } from '../../contract/index.ts';
import type { LabDb } from '../../labdb/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person } from '../auth.ts';
import { ApiError, say } from '../errors.ts';
import { versionConflict } from '../http.ts';
import { listPage, Where } from '../query.ts';
import { Attempts } from './attempts.ts';
import type { Classes } from './classes.ts';
import { type AssignmentRow, chunks, marks, unique } from './rows.ts';
import { Sessions } from './sessions.ts';

const ASSIGNMENT_SELECT = `SELECT a.id, a.task_id, lt.title AS task_title, a.class_id, c.name AS class_name,
    a.opens_at, a.due_at, a.created_by, a.created_at, a.updated_at, a.version
  FROM assignments a JOIN lab_tasks lt ON lt.id = a.task_id JOIN classes c ON c.id = a.class_id`;

export function assignmentStatus(opensAt: number, dueAt: number, now = Date.now()): AssignmentStatus {
  return now < opensAt ? 'upcoming' : now < dueAt ? 'open' : 'closed';
}

/**
 * Assignments of lab tasks, each change audited in its transaction. Carries the services of the
 * work done on them: lab sessions and the attempts grading evaluates (`assignments.attempts.…`).
 */
export class Assignments {
  readonly #db: LabDb;
  readonly #classes: Classes;
  readonly sessions: Sessions;
  readonly attempts: Attempts;

  constructor(db: LabDb, classes: Classes) {
    this.#db = db;
    this.#classes = classes;
    this.sessions = new Sessions(db, classes, this);
    this.attempts = new Attempts(db, classes, this);
  }

  async #withTargets(rows: AssignmentRow[], db: LabDb): Promise<Assignment[]> {
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

  async assignmentById(id: string, db: LabDb = this.#db): Promise<Assignment | undefined> {
    const row = await db.get<AssignmentRow>(`${ASSIGNMENT_SELECT} WHERE a.id = ?`, [id]);
    return row ? (await this.#withTargets([row], db))[0] : undefined;
  }

  async assignmentOr404(id: string, db: LabDb = this.#db): Promise<Assignment> {
    const assignment = await this.assignmentById(id, db);
    if (!assignment)
      throw new ApiError(404, 'ASSIGNMENT_NOT_FOUND', say(`no assignment ${id}`, `找不到任务 ${id}`));
    return assignment;
  }

  /** Whether an assignment is for this student: them directly, or their team in its class. */
  async targets(assignment: Assignment, studentId: string, db: LabDb = this.#db): Promise<boolean> {
    if (!(await this.#classes.isEnrolled(assignment.classId, studentId, db))) return false;
    if (assignment.targets.studentIds.includes(studentId)) return true;
    const team = await this.#classes.teams.teamIdOf(assignment.classId, studentId, db);
    return team !== undefined && assignment.targets.teamIds.includes(team);
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
    const where = new Where().when(filter.classId, 'a.class_id = ?');
    if (filter.studentId) {
      where.and(
        `a.id IN (
          SELECT assignment_id FROM assignment_targets WHERE student_id = ?
          UNION
          SELECT at.assignment_id FROM assignment_targets at
            JOIN team_members tm ON tm.team_id = at.team_id WHERE tm.user_id = ?)
        AND a.class_id IN (SELECT class_id FROM class_members WHERE user_id = ?)`,
        filter.studentId,
        filter.studentId,
        filter.studentId,
      );
    }
    const now = Date.now();
    if (filter.status === 'upcoming') where.and('a.opens_at > ?', now);
    else if (filter.status === 'open') where.and('a.opens_at <= ? AND a.due_at > ?', now, now);
    else if (filter.status === 'closed') where.and('a.due_at <= ?', now);
    const { items, total } = await listPage(this.#db, {
      from: 'FROM assignments a',
      select: ASSIGNMENT_SELECT,
      where,
      orderBy: 'a.due_at, a.id',
      limit: filter.limit,
      offset: filter.offset,
      map: (row: AssignmentRow) => row,
    });
    return { items: await this.#withTargets(items, this.#db), total };
  }

  async #checkTargets(classId: string, teamIds: string[], studentIds: string[], db: LabDb): Promise<void> {
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

  async #writeTargets(
    assignmentId: string,
    teamIds: string[],
    studentIds: string[],
    db: LabDb,
  ): Promise<void> {
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
    tx: LabDb,
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
}
