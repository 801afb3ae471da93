/**
 * The rows of the class tables (classes, teams, kit bindings, assignments, lab sessions, attempts)
 * as SQL returns them, their mappers to the API's shapes, and the helpers for `IN (…)` lists the
 * class services share.
 */
import type { Attempt, ClassInfo, KitBinding, LabSession } from '../../contract/index.ts';

export interface ClassRow {
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

export interface TeamRow {
  id: string;
  class_id: string;
  class_name: string;
  name: string;
  project_id: string | null;
  project_title: string | null;
  created_at: number;
  version: number;
}

export interface BindingRow {
  kit_id: string;
  student_id: string | null;
  team_id: string | null;
  class_id: string | null;
  bound_by: string;
  bound_at: number;
}

export interface AssignmentRow {
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

export interface SessionRow {
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

export function toClass(row: ClassRow): ClassInfo {
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

export function toBinding(row: BindingRow): KitBinding {
  return {
    kitId: row.kit_id,
    studentId: row.student_id,
    teamId: row.team_id,
    classId: row.class_id,
    boundBy: row.bound_by,
    boundAt: row.bound_at,
  };
}

export function toSession(row: SessionRow): LabSession {
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

/** `?, ?, …` for an `IN (…)` of `n` values. */
export function marks(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** The items once each, in their first order. */
export function unique<T>(items: readonly T[] | undefined): T[] {
  return [...new Set(items ?? [])];
}

/** `items` in parts small enough for one `IN (…)`. */
export function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
