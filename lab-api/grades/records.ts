/**
 * Grade records: the stored runs, overrides and mentor scores as rows and as types, an attempt
 * loaded with its assignment, class and task, and who may read an attempt's grade. The other grade
 * parts share one `GradeRecords`.
 */
import type {
  Override as GradeOverride,
  RunSummary as GradeRunSummary,
  MentorScore,
} from '../../contract/index.ts';
import type { LabDb } from '../../labdb/index.ts';
import type { Principal } from '../auth.ts';
import { Assignments, Classes, type ClassInfo } from '../classes/index.ts';
import { ApiError, say } from '../errors.ts';
import type { Rubric } from '../rubric.ts';
import type { AttemptInfo, GradeReason, GradeRun, RunResult, TaskInfo } from './types.ts';

function jsonList(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

export interface TaskRow {
  id: string;
  title: string;
  version: number;
  mentor_weight: number;
  organisation_id: string | null;
  required_sensors: string;
  rubric: string;
}

export function toTaskInfo(row: TaskRow): TaskInfo {
  let rubric: Rubric;
  try {
    rubric = JSON.parse(row.rubric) as Rubric;
    if (!Array.isArray(rubric?.criteria)) rubric = { criteria: [] };
  } catch {
    rubric = { criteria: [] };
  }
  return {
    id: row.id,
    title: row.title,
    version: row.version,
    mentorWeight: row.mentor_weight,
    organisationId: row.organisation_id,
    requiredSensors: jsonList(row.required_sensors),
    rubric,
  };
}

export const TASK_SELECT = `SELECT t.id, t.title, t.version, t.mentor_weight, t.required_sensors, t.rubric, p.organisation_id
  FROM lab_tasks t LEFT JOIN projects p ON p.id = t.project_id`;

export interface RunRow {
  id: string;
  attempt_id: string;
  task_version: number;
  reason: GradeReason;
  result: string;
  auto_score: number;
  created_at: number;
  created_by: string;
}

export function toRun(row: RunRow): GradeRun {
  return {
    id: row.id,
    attemptId: row.attempt_id,
    taskVersion: row.task_version,
    reason: row.reason,
    autoScore: row.auto_score,
    createdAt: row.created_at,
    createdBy: row.created_by,
    result: JSON.parse(row.result) as RunResult,
  };
}

export function summarizeRun(run: GradeRun): GradeRunSummary {
  return {
    id: run.id,
    attemptId: run.attemptId,
    taskVersion: run.taskVersion,
    reason: run.reason,
    autoScore: run.autoScore,
    createdAt: run.createdAt,
    createdBy: run.createdBy,
    window: run.result.window,
    total: run.result.total,
    maxTotal: run.result.maxTotal,
    criteria: run.result.criteria.map((c) => ({
      id: c.id,
      weight: c.weight,
      score: c.score,
      passed: c.passed,
    })),
    flagCount: run.result.flags.length,
  };
}

export interface OverrideRow {
  id: string;
  attempt_id: string;
  criterion_id: string;
  score: number;
  reason: string;
  created_by: string;
  created_by_name: string | null;
  created_at: number;
}

export function toOverride(row: OverrideRow): GradeOverride {
  return {
    id: row.id,
    attemptId: row.attempt_id,
    criterionId: row.criterion_id,
    score: row.score,
    reason: row.reason,
    createdBy: row.created_by,
    createdByName: row.created_by_name,
    createdAt: row.created_at,
  };
}

export const OVERRIDE_SELECT = `SELECT o.*, u.display_name AS created_by_name
  FROM grade_overrides o LEFT JOIN users u ON u.id = o.created_by`;

export interface MentorRow {
  attempt_id: string;
  score: number;
  comment: string;
  mentor_id: string;
  mentor_name: string | null;
  updated_at: number;
  version: number;
}

export function toMentorScore(row: MentorRow): MentorScore {
  return {
    attemptId: row.attempt_id,
    score: row.score,
    comment: row.comment,
    mentorId: row.mentor_id,
    mentorName: row.mentor_name,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

export const MENTOR_SELECT = `SELECT m.*, u.display_name AS mentor_name
  FROM mentor_scores m LEFT JOIN users u ON u.id = m.mentor_id`;

export const notFound = (id: string) =>
  new ApiError(404, 'ATTEMPT_NOT_FOUND', say(`no attempt ${id}`, `找不到作答 ${id}`));

/** Loading an attempt's grade records, and the access checks on them. */
export class GradeRecords {
  readonly db: LabDb;
  readonly classes: Classes;
  readonly assignments: Assignments;

  constructor(db: LabDb) {
    this.db = db;
    this.classes = new Classes(db);
    this.assignments = new Assignments(db, this.classes);
  }

  /** A lab task as grading sees it. */
  async task(id: string, db: LabDb = this.db): Promise<TaskInfo | undefined> {
    const row = await db.get<TaskRow>(`${TASK_SELECT} WHERE t.id = ?`, [id]);
    return row ? toTaskInfo(row) : undefined;
  }

  /** An attempt with its assignment, class and task; 404 when there is none. */
  async info(attemptId: string, db: LabDb = this.db): Promise<AttemptInfo> {
    const attempt = await this.assignments.attempts.attemptById(attemptId, db);
    if (!attempt) throw notFound(attemptId);
    const assignment = await this.assignments.assignmentOr404(attempt.assignmentId, db);
    const cls = await this.classes.classOr404(assignment.classId, db);
    const task = await this.task(assignment.taskId, db);
    if (!task)
      throw new ApiError(
        404,
        'TASK_NOT_FOUND',
        say(`no lab task ${assignment.taskId}`, `找不到实训任务 ${assignment.taskId}`),
      );
    return { attempt, assignment, cls, task };
  }

  /**
   * Who reads an attempt's grade: its student, the staff of its class, mentors of the enterprise
   * whose project the task belongs to, platform services. Others learn nothing (404), except
   * instructors, who are told the class is not theirs (as everywhere in the API).
   */
  assertCanRead(actor: Principal, info: AttemptInfo): void {
    if (actor.kind === 'service') return;
    switch (actor.role) {
      case 'admin':
        return;
      case 'instructor':
        this.classes.assertManages(actor, info.cls);
        return;
      case 'student':
        if (info.attempt.studentId !== actor.id) throw notFound(info.attempt.id);
        return;
      case 'mentor':
        if (!actor.organisationId || info.task.organisationId !== actor.organisationId)
          throw notFound(info.attempt.id);
        return;
    }
  }

  /** Staff of a class: its instructor and admins; services pass. */
  assertStaff(actor: Principal, cls: ClassInfo): void {
    if (actor.kind === 'service') return;
    this.classes.assertManages(actor, cls);
  }

  async latestRun(attemptId: string, db: LabDb = this.db): Promise<GradeRun | null> {
    const row = await db.get<RunRow>(
      'SELECT * FROM grade_runs WHERE attempt_id = ? ORDER BY created_at DESC, id DESC LIMIT 1',
      [attemptId],
    );
    return row ? toRun(row) : null;
  }

  async overrides(attemptId: string, db: LabDb = this.db): Promise<GradeOverride[]> {
    const rows = await db.all<OverrideRow>(
      `${OVERRIDE_SELECT} WHERE o.attempt_id = ? ORDER BY o.created_at DESC, o.id DESC`,
      [attemptId],
    );
    return rows.map(toOverride);
  }

  async mentorScore(attemptId: string, db: LabDb = this.db): Promise<MentorScore | null> {
    const row = await db.get<MentorRow>(`${MENTOR_SELECT} WHERE m.attempt_id = ?`, [attemptId]);
    return row ? toMentorScore(row) : null;
  }
}
