/**
 * Grades: an attempt's grade with its evidence, overrides, the enterprise mentor's score and the
 * final grade; grades per assignment, statistics, re-grading, exports.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Attempt } from './assignments.ts';
import { Id, Localized, Nullable } from './primitives.ts';
import { CriterionTitle } from './rubric.ts';

export const Evidence = Type.Object({
  measured: Type.Record(Type.String(), Nullable(Type.Number()), { description: 'the numbers, for programs' }),
  summary: Type.Optional({
    ...Localized,
    description: 'the same numbers as sentences with units, for people (grades made before it have none)',
  }),
  spans: Type.Array(
    Type.Object({
      from: Type.Number(),
      to: Type.Number(),
      ok: Type.Boolean(),
      note: Type.Optional(Type.String()),
    }),
  ),
});
export type Evidence = Static<typeof Evidence>;
/** A stretch of time that passed (`ok`) or failed. */
export type EvidenceSpan = Evidence['spans'][number];

export const Override = Type.Object({
  id: Id,
  attemptId: Id,
  criterionId: Type.String(),
  score: Type.Number(),
  reason: Type.String(),
  createdBy: Type.String(),
  createdByName: Nullable(Type.String()),
  createdAt: Type.Integer(),
});
export type Override = Static<typeof Override>;

export const OverrideBody = Type.Object(
  {
    criterionId: Type.Optional(Type.String({ maxLength: 64 })),
    score: Type.Number(),
    reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type OverrideBody = Static<typeof OverrideBody>;

export const MentorScore = Type.Object({
  attemptId: Id,
  score: Type.Number(),
  comment: Type.String(),
  mentorId: Type.String(),
  mentorName: Nullable(Type.String()),
  updatedAt: Type.Integer(),
  version: Type.Integer(),
});
export type MentorScore = Static<typeof MentorScore>;

export const MentorScoreBody = Type.Object(
  {
    score: Type.Number({ minimum: 0, maximum: 100 }),
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type MentorScoreBody = Static<typeof MentorScoreBody>;

/** Why a grading run was made. */
export const GradeReason = Type.Union([
  Type.Literal('attempt-ended'),
  Type.Literal('manual'),
  Type.Literal('rubric-changed'),
]);
export type GradeReason = Static<typeof GradeReason>;

/** A grading run, without its criteria's evidence. */
export const RunSummary = Type.Object({
  id: Id,
  attemptId: Id,
  taskVersion: Type.Integer(),
  reason: GradeReason,
  autoScore: Type.Number({ description: 'points out of 100 from telemetry, before overrides' }),
  createdAt: Type.Integer(),
  createdBy: Type.String(),
  window: Type.Object({ from: Type.Number(), to: Type.Number() }),
  total: Type.Number(),
  maxTotal: Type.Number(),
  criteria: Type.Array(
    Type.Object({ id: Type.String(), weight: Type.Number(), score: Type.Number(), passed: Type.Boolean() }),
  ),
  flagCount: Type.Integer(),
});
export type RunSummary = Static<typeof RunSummary>;

export const GradeStatus = Type.Union([
  Type.Literal('not-graded'),
  Type.Literal('provisional'),
  Type.Literal('final'),
]);
export type GradeStatus = Static<typeof GradeStatus>;

/** An instructor's change to a criterion, as the final grade reports it. */
export const Adjustment = Type.Object({
  criterionId: Type.String(),
  title: Localized,
  weight: Type.Number(),
  autoScore: Type.Number({ description: "the criterion's points from the telemetry" }),
  score: Type.Number({ description: 'the points that count instead' }),
  reason: Type.String(),
  by: Type.String(),
  byName: Nullable(Type.String()),
  at: Type.Integer(),
});
export type Adjustment = Static<typeof Adjustment>;

export const FinalGrade = Type.Object({
  status: GradeStatus,
  autoScore: Nullable(
    Type.Number({ description: 'points out of 100 the telemetry earned, before any adjustment' }),
  ),
  adjustments: Type.Array(Adjustment, {
    description: "instructors' changes to criteria: what, who, why",
  }),
  adjustedScore: Nullable(
    Type.Number({ description: 'the auto score with the adjustments applied (out of 100)' }),
  ),
  mentorWeight: Type.Number({
    description: "0–100: the enterprise mentor's share of the final grade (from the task)",
  }),
  mentorScore: Nullable(Type.Number()),
  score: Nullable(Type.Number(), {
    description: '0–100; provisional: the missing mentor component counts as 0. Null until graded',
  }),
  explanation: Localized,
});
export type FinalGrade = Static<typeof FinalGrade>;

/** A running attempt's live grading state, as its review shows it (the same as the live stream's). */
export const LiveReview = Type.Object({
  evaluatedAt: Type.Integer(),
  lastReadingAt: Nullable(Type.Integer()),
  score: Type.Number(),
  maxScore: Type.Number(),
  passed: Type.Boolean(),
  criteria: Type.Array(
    Type.Object({
      id: Type.String(),
      type: Type.String(),
      title: CriterionTitle,
      weight: Type.Number(),
      score: Type.Number(),
      passed: Type.Boolean(),
      pending: Type.Boolean(),
      explanation: Localized,
      waitingFor: Nullable(Localized),
    }),
  ),
});
export type LiveReview = Static<typeof LiveReview>;

/** A criterion as reviewed: what the telemetry earned, and the score that counts. */
export const GradeCriterion = Type.Object({
  id: Type.String(),
  title: Localized,
  type: Type.String(),
  weight: Type.Number(),
  score: Type.Number({ description: 'the score that counts (override applied)' }),
  passed: Type.Boolean(),
  autoScore: Type.Number(),
  autoPassed: Type.Boolean(),
  evidence: Evidence,
  explanation: Localized,
  override: Nullable(Override),
});
export type GradeCriterion = Static<typeof GradeCriterion>;

/** Something that makes the data look fabricated, for the assessors. */
export const AuthenticityFlag = Type.Object({
  kind: Type.String(),
  sensor: Type.String(),
  source: Type.Optional(Type.String()),
  evidence: Evidence,
  explanation: Localized,
});
export type AuthenticityFlag = Static<typeof AuthenticityFlag>;

export const GradedTask = Type.Object({
  id: Id,
  title: Type.String(),
  version: Type.Integer(),
  mentorWeight: Type.Number(),
  organisationId: Nullable(Type.String()),
});
export type GradedTask = Static<typeof GradedTask>;

export const AttemptGrade = Type.Object({
  attempt: Attempt,
  task: GradedTask,
  classId: Id,
  run: Nullable(RunSummary, {
    description: 'the latest run, without its criteria (they are below, reviewed); null until graded',
  }),
  outdated: Type.Boolean({ description: 'graded with an earlier version of the task (re-grade to update)' }),
  criteria: Type.Array(GradeCriterion),
  flags: Type.Array(AuthenticityFlag, { description: 'for the assessors (empty for students)' }),
  overrides: Type.Array(Override, {
    description: 'every override of the attempt, newest first (the latest of each criterion applies)',
  }),
  mentorScore: Nullable(MentorScore),
  final: FinalGrade,
  live: Type.Optional(
    Nullable({
      ...LiveReview,
      description: 'while the attempt runs: its live grading so far (null when none runs in this process)',
    }),
  ),
});
export type AttemptGrade = Static<typeof AttemptGrade>;

export const RunHistory = Type.Object({ items: Type.Array(RunSummary) });
export type RunHistory = Static<typeof RunHistory>;

/** A student's grade for an assignment: their best attempt's. */
export const StudentGrade = Type.Object({
  studentId: Id,
  studentNumber: Nullable(Type.String()),
  displayName: Type.String(),
  teamId: Nullable(Id),
  teamName: Nullable(Type.String()),
  attempts: Type.Integer(),
  attemptId: Nullable(Id, { description: 'the attempt that counts (the best); null without a graded one' }),
  status: Type.Union([GradeStatus, Type.Literal('no-attempt')]),
  autoScore: Nullable(Type.Number()),
  adjustments: Type.Array(Adjustment),
  adjustedScore: Nullable(Type.Number()),
  mentorScore: Nullable(Type.Number()),
  score: Nullable(Type.Number()),
  gradedAt: Nullable(Type.Integer()),
  criteria: Type.Record(Type.String(), Type.Number(), {
    description: 'per criterion id, the score that counts (overrides applied)',
  }),
});
export type StudentGrade = Static<typeof StudentGrade>;

/** A team's grade: the mean of its graded members' grades. */
export const TeamGrade = Type.Object({
  teamId: Id,
  name: Type.String(),
  members: Type.Integer(),
  graded: Type.Integer(),
  score: Nullable(Type.Number(), {
    description: "the mean of the graded members' grades; null when none is",
  }),
  provisional: Type.Boolean(),
});
export type TeamGrade = Static<typeof TeamGrade>;

export const AssignmentGrades = Type.Object({
  assignment: Type.Object({
    id: Id,
    taskId: Id,
    taskTitle: Type.String(),
    classId: Id,
    className: Type.String(),
    opensAt: Type.Integer(),
    dueAt: Type.Integer(),
  }),
  mentorWeight: Type.Number(),
  policy: Type.Literal('best', { description: "a student's grade is their best attempt's" }),
  criteria: Type.Array(
    Type.Object({ id: Type.String(), title: Localized, type: Type.String(), weight: Type.Number() }),
    { description: "the criteria of the task's current rubric" },
  ),
  students: Type.Array(StudentGrade),
  teams: Type.Array(TeamGrade),
});
export type AssignmentGrades = Static<typeof AssignmentGrades>;

export const CriterionStatistics = Type.Object({
  criterionId: Type.String(),
  title: Localized,
  type: Type.String(),
  weight: Type.Number(),
  attemptsGraded: Type.Integer({ description: 'graded attempts whose latest run has this criterion' }),
  attemptsPassed: Type.Integer(),
  passRate: Type.Number({ description: '% of graded attempts that passed' }),
  meanScore: Type.Number(),
  meanPercent: Type.Number({ description: 'mean score / weight, in %' }),
  studentsGraded: Type.Integer({ description: 'students whose counted (best) attempt has the criterion' }),
  studentsFailed: Type.Integer({ description: 'those of them who failed it' }),
});
export type CriterionStatistics = Static<typeof CriterionStatistics>;

export const AssignmentStatistics = Type.Object({
  assignmentId: Id,
  taskId: Id,
  attemptsGraded: Type.Integer(),
  studentsGraded: Type.Integer(),
  criteria: Type.Array(CriterionStatistics),
  mostFailed: Nullable(
    Type.Object({
      criterionId: Type.String(),
      title: Localized,
      studentsFailed: Type.Integer(),
      passRate: Type.Number(),
    }),
    { description: 'the criterion most students fail (then the lowest pass rate); null when none is failed' },
  ),
});
export type AssignmentStatistics = Static<typeof AssignmentStatistics>;

export const RegradeBody = Type.Object(
  { force: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type RegradeBody = Static<typeof RegradeBody>;

export const RegradeReport = Type.Object({
  taskId: Id,
  taskVersion: Type.Integer(),
  regraded: Type.Array(
    Type.Object({
      attemptId: Id,
      runId: Id,
      autoScore: Type.Number(),
      previousAutoScore: Nullable(Type.Number()),
    }),
  ),
  skipped: Type.Array(Id, {
    description: 'already graded with this version of the task (send force to grade them again)',
  }),
  failed: Type.Array(
    Type.Object({
      attemptId: Id,
      code: Type.String({ description: 'GRADING_FAILED, or the code of the refusal (e.g. RUBRIC_EMPTY)' }),
      message: Type.String({ description: "why, in the request's language (Accept-Language)" }),
    }),
  ),
});
export type RegradeReport = Static<typeof RegradeReport>;

export const ExportQuery = Type.Object({
  headers: Type.Optional(
    Type.Union([Type.Literal('en'), Type.Literal('zh'), Type.Literal('zh-CN')], {
      description:
        'column headers: en (default) or zh (学号, 姓名, 小组, 任务, 自动评分, 企业导师评分, 最终成绩, …)',
    }),
  ),
});
export type ExportQuery = Static<typeof ExportQuery>;
