/**
 * Attempts: a student's time window on their bound kit at an assignment, made in a running lab
 * session; grading evaluates the kit's data in that window.
 */
import { randomUUID } from 'node:crypto';
import type { Attempt } from '../../contract/index.ts';
import type { LabDb } from '../../labdb/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person } from '../auth.ts';
import { ApiError, say, zhTime } from '../errors.ts';
import { listPage, Where } from '../query.ts';
import type { Assignments } from './assignments.ts';
import type { Classes } from './classes.ts';
import { type AttemptRow, toAttempt } from './rows.ts';

/** Attempts; starting and ending one audited in its transaction. */
export class Attempts {
  readonly #db: LabDb;
  readonly #classes: Classes;
  readonly #assignments: Assignments;

  constructor(db: LabDb, classes: Classes, assignments: Assignments) {
    this.#db = db;
    this.#classes = classes;
    this.#assignments = assignments;
  }

  async attemptById(id: string, db: LabDb = this.#db): Promise<Attempt | undefined> {
    const row = await db.get<AttemptRow>('SELECT * FROM attempts WHERE id = ?', [id]);
    return row ? toAttempt(row) : undefined;
  }

  async attemptOr404(id: string, db: LabDb = this.#db): Promise<Attempt> {
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
    return listPage(this.#db, {
      from: 'FROM attempts',
      where: new Where()
        .when(filter.assignmentId, 'assignment_id = ?')
        .when(filter.studentId, 'student_id = ?'),
      orderBy: 'started_at DESC, id',
      limit: filter.limit,
      offset: filter.offset,
      map: toAttempt,
    });
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
      const assignment = await this.#assignments.assignmentOr404(assignmentId, tx);
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
      if (!(await this.#assignments.targets(assignment, studentId, tx))) {
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
      const session = await this.#assignments.sessions.runningSession(assignment.classId, tx);
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
      const teamId = (await this.#classes.teams.teamIdOf(assignment.classId, studentId, tx)) ?? null;
      const kits = await this.#classes.kits.kitsOfStudent(studentId, tx);
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
        const assignment = await this.#assignments.assignmentOr404(before.assignmentId, tx);
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
