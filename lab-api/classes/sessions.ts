/**
 * Lab sessions: the class period an instructor runs (for one assignment or any), at most one per
 * class at a time; attempts are made in a running session and end with it.
 */
import { randomUUID } from 'node:crypto';
import type { LabSession } from '../../contract/index.ts';
import type { LabDb } from '../../labdb/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person } from '../auth.ts';
import { ApiError, say } from '../errors.ts';
import { listPage, Where } from '../query.ts';
import type { Assignments } from './assignments.ts';
import type { Classes } from './classes.ts';
import { chunks, marks, type SessionRow, toSession } from './rows.ts';

/** Lab sessions; starting and ending one audited in its transaction. */
export class Sessions {
  readonly #db: LabDb;
  readonly #classes: Classes;
  readonly #assignments: Assignments;

  constructor(db: LabDb, classes: Classes, assignments: Assignments) {
    this.#db = db;
    this.#classes = classes;
    this.#assignments = assignments;
  }

  async sessionById(id: string, db: LabDb = this.#db): Promise<LabSession | undefined> {
    const row = await db.get<SessionRow>('SELECT * FROM lab_sessions WHERE id = ?', [id]);
    return row ? toSession(row) : undefined;
  }

  async sessionOr404(id: string, db: LabDb = this.#db): Promise<LabSession> {
    const session = await this.sessionById(id, db);
    if (!session)
      throw new ApiError(404, 'SESSION_NOT_FOUND', say(`no lab session ${id}`, `找不到实训课 ${id}`));
    return session;
  }

  async runningSession(classId: string, db: LabDb = this.#db): Promise<LabSession | undefined> {
    const row = await db.get<SessionRow>(
      'SELECT * FROM lab_sessions WHERE class_id = ? AND ended_at IS NULL',
      [classId],
    );
    return row ? toSession(row) : undefined;
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

  async listSessions(classId: string, page: { limit: number; offset: number }) {
    return listPage(this.#db, {
      from: 'FROM lab_sessions',
      where: new Where().and('class_id = ?', classId),
      orderBy: 'started_at DESC, id',
      limit: page.limit,
      offset: page.offset,
      map: toSession,
    });
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
        const assignment = await this.#assignments.assignmentOr404(input.assignmentId, tx);
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
}
