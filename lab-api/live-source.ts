/**
 * Live grading's view of the lab (grading's `LiveGradingSource` port), answered from the lab
 * database: the running attempts, attempts by id, tasks with their rubric, and what a lab
 * session's leaderboard needs. The composition root (cli/platform.ts) hands it to the LiveGrader.
 */
import type {
  LiveAttempt,
  LiveGradingSource,
  LiveTask,
  Rubric,
  RunningAttempt,
  SessionBoardInputs,
} from '../grading/index.ts';
import type { LabDb } from '../labdb/index.ts';
import { type AttemptRow, toAttempt } from './classes/index.ts';

/** Each poll: the running attempts and their task's version (the rest only for new ones). */
const RUNNING_SQL = `SELECT at.id, at.kit_id, at.session_id, a.task_id, lt.version AS task_version
  FROM attempts at JOIN assignments a ON a.id = at.assignment_id JOIN lab_tasks lt ON lt.id = a.task_id
  WHERE at.ended_at IS NULL`;
const ATTEMPT_SQL = `SELECT id, assignment_id, session_id, student_id, team_id, kit_id, started_at, ended_at
  FROM attempts WHERE id IN`;
/** Ids per query (SQLite's and PostgreSQL's limits on bound parameters are far above). */
const CHUNK = 500;

function parseRubric(text: string): Rubric {
  try {
    const rubric = JSON.parse(text) as Rubric;
    return Array.isArray(rubric?.criteria) ? rubric : { criteria: [] };
  } catch {
    return { criteria: [] };
  }
}

function parseList(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

export class LabLiveSource implements LiveGradingSource {
  readonly #db: LabDb;

  constructor(db: LabDb) {
    this.#db = db;
  }

  async runningAttempts(): Promise<RunningAttempt[]> {
    const rows = await this.#db.all<{
      id: string;
      kit_id: string;
      session_id: string | null;
      task_id: string;
      task_version: number;
    }>(RUNNING_SQL);
    return rows.map((row) => ({
      id: row.id,
      kitId: row.kit_id,
      sessionId: row.session_id,
      taskId: row.task_id,
      taskVersion: row.task_version,
    }));
  }

  async attempts(ids: readonly string[]): Promise<LiveAttempt[]> {
    const attempts: LiveAttempt[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const rows = await this.#db.all<AttemptRow>(
        `${ATTEMPT_SQL} (${chunk.map(() => '?').join(', ')})`,
        chunk,
      );
      for (const row of rows) attempts.push(toAttempt(row));
    }
    return attempts;
  }

  async task(taskId: string): Promise<LiveTask | undefined> {
    const row = await this.#db.get<{
      title: string;
      rubric: string;
      required_sensors: string;
      version: number;
    }>('SELECT title, rubric, required_sensors, version FROM lab_tasks WHERE id = ?', [taskId]);
    if (!row) return undefined;
    return {
      version: row.version,
      title: row.title,
      rubric: parseRubric(row.rubric),
      requiredSensors: parseList(row.required_sensors),
    };
  }

  async assignmentTask(assignmentId: string): Promise<{ taskId: string; version: number } | undefined> {
    const row = await this.#db.get<{ task_id: string; version: number }>(
      'SELECT a.task_id, lt.version FROM assignments a JOIN lab_tasks lt ON lt.id = a.task_id WHERE a.id = ?',
      [assignmentId],
    );
    return row ? { taskId: row.task_id, version: row.version } : undefined;
  }

  async sessionBoardInputs(sessionId: string): Promise<SessionBoardInputs | undefined> {
    const session = await this.#db.get<{
      id: string;
      class_id: string;
      assignment_id: string | null;
      started_at: number;
      ended_at: number | null;
    }>('SELECT id, class_id, assignment_id, started_at, ended_at FROM lab_sessions WHERE id = ?', [
      sessionId,
    ]);
    if (!session) return undefined;
    let assignmentId = session.assignment_id;
    if (!assignmentId) {
      const used = await this.#db.all<{ assignment_id: string }>(
        'SELECT DISTINCT assignment_id FROM attempts WHERE session_id = ?',
        [sessionId],
      );
      if (used.length === 1) assignmentId = (used[0] as { assignment_id: string }).assignment_id;
    }
    if (!assignmentId) return undefined;
    const teams = await this.#db.all<{ id: string; name: string }>(
      `SELECT t.id, t.name FROM teams t WHERE t.class_id = ? AND (
         t.id IN (SELECT team_id FROM assignment_targets WHERE assignment_id = ? AND team_id IS NOT NULL)
         OR t.id IN (SELECT tm.team_id FROM team_members tm
                     JOIN assignment_targets x ON x.student_id = tm.user_id WHERE x.assignment_id = ?)
         OR t.id IN (SELECT team_id FROM attempts WHERE session_id = ? AND team_id IS NOT NULL))`,
      [session.class_id, assignmentId, assignmentId, sessionId],
    );
    const rows = await this.#db.all<AttemptRow>(
      `SELECT id, assignment_id, session_id, student_id, team_id, kit_id, started_at, ended_at
       FROM attempts WHERE session_id = ? AND assignment_id = ? AND team_id IS NOT NULL
       ORDER BY started_at, id`,
      [sessionId, assignmentId],
    );
    return {
      sessionId: session.id,
      classId: session.class_id,
      assignmentId,
      startedAt: session.started_at,
      endedAt: session.ended_at,
      teams,
      attempts: rows.map(toAttempt),
    };
  }

  async endedSessions(sessionIds: readonly string[]): Promise<string[]> {
    if (sessionIds.length === 0) return [];
    const ended: string[] = [];
    for (let i = 0; i < sessionIds.length; i += CHUNK) {
      const chunk = sessionIds.slice(i, i + CHUNK);
      const rows = await this.#db.all<{ id: string }>(
        `SELECT id FROM lab_sessions WHERE id IN (${chunk.map(() => '?').join(', ')}) AND ended_at IS NOT NULL`,
        chunk,
      );
      for (const { id } of rows) ended.push(id);
    }
    return ended;
  }
}
