/**
 * Grade types: what a grading run stores, a criterion as reviewed (override applied), an attempt's
 * grade, and what the grading parts pass one another (a task as grading sees it, an attempt with
 * its class and task, an attempt's grade data). The API's answer shapes are in contract/grades.ts.
 */
import type {
  AttemptGrade as AttemptGradeAnswer,
  FinalGrade,
  Override as GradeOverride,
  GradeReason,
  MentorScore,
} from '../../contract/index.ts';
import type {
  AuthenticityFlag,
  CriterionResult,
  GradeResult,
  Localized,
  SeriesSet,
} from '../../grading/index.ts';
import type { Assignment, Attempt, ClassInfo } from '../classes/index.ts';
import type { Rubric } from '../rubric.ts';

/** As the API answers them (contract/grades.ts). */
export type {
  Adjustment,
  AssignmentGrades,
  AssignmentStatistics,
  CriterionStatistics,
  FinalGrade,
  GradeReason,
  GradeStatus,
  MentorScore,
  Override as GradeOverride,
  RegradeReport,
  RunSummary as GradeRunSummary,
  StudentGrade,
  TeamGrade,
} from '../../contract/index.ts';

/** A criterion of a stored run: the engine's result with the criterion's title. */
export interface RunCriterion extends CriterionResult {
  title: Localized;
}

/** What a run stores: the engine's result (evidence included), criteria titled. */
export interface RunResult extends Omit<GradeResult, 'criteria'> {
  criteria: RunCriterion[];
}

export interface GradeRun {
  id: string;
  attemptId: string;
  /** The lab task's version (its rubric) the run was graded with. */
  taskVersion: number;
  reason: GradeReason;
  /** Points out of 100 from telemetry, before overrides. */
  autoScore: number;
  createdAt: number;
  /** A user id, `service:<name>`, or `system` (automatic grading). */
  createdBy: string;
  result: RunResult;
}

/** A criterion as reviewed: the engine's result, and the score that counts (override applied). */
export interface ReviewedCriterion extends RunCriterion {
  autoScore: number;
  autoPassed: boolean;
  override: GradeOverride | null;
}

/**
 * An attempt's grade as the API answers it (contract/grades.ts `AttemptGrade`), with the criteria
 * and flags as grading made them (the answer leaves out what the contract does not list).
 */
export interface AttemptGrade extends Omit<AttemptGradeAnswer, 'criteria' | 'flags' | 'live'> {
  criteria: ReviewedCriterion[];
  /** Authenticity flags for the assessors (empty for students). */
  flags: AuthenticityFlag[];
}

/** A lab task as grading sees it: its version, mentor weight, enterprise and rubric. */
export interface TaskInfo {
  id: string;
  title: string;
  version: number;
  mentorWeight: number;
  organisationId: string | null;
  requiredSensors: string[];
  rubric: Rubric;
}

/** Loaded series, shared by the attempts of one batch (one load per kit and session). */
export type SeriesCache = Map<string, Promise<SeriesSet>>;

/** An attempt with its assignment, class and task. */
export interface AttemptInfo {
  attempt: Attempt;
  assignment: Assignment;
  cls: ClassInfo;
  task: TaskInfo;
}

/** An attempt with its latest run, overrides, mentor score, and its grade from them. */
export interface AttemptData {
  attempt: Attempt;
  run: GradeRun | null;
  overrides: GradeOverride[];
  mentor: MentorScore | null;
  criteria: ReviewedCriterion[];
  final: FinalGrade;
}
