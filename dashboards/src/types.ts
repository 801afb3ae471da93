/**
 * What the dashboards read. The lab API's answers are its contract's types (contract/, the schemas
 * the server validates and serializes with), imported as types only: nothing of the contract
 * reaches the bundle, and a change to an answer's shape fails the dashboards' typecheck. Below
 * them, what arrives over MQTT and the rubric editor's view of a criterion.
 */
import type { Localized, Task as TaskAnswer } from '../../contract/index.ts';

export type {
  Assignment,
  AssignmentGrades,
  AssignmentStatistics,
  Attempt,
  AttemptGrade,
  Board,
  BoardKit,
  ClassInfo,
  GradeCriterion,
  Kit,
  KitDetail,
  Leaderboard,
  List,
  LiveCriterionState as LiveCriterion,
  LiveReview,
  LiveState as LiveGrading,
  MentorAttempt,
  MyClass,
  Page,
  Project,
  RosterImport,
  RosterStudent,
  RowError,
  TaskSummary,
  Team,
  Telemetry,
} from '../../contract/index.ts';
/** The body the platform publishes on a kit's `errors` topic (also `GET /dashboard/kits/:kitId/errors`). */
export type { KitErrorMessage } from '../../protocol/index.ts';

/** A lab task, its rubric's criteria as the editor works on them (the contract leaves them to GET /tasks/rubric-schema). */
export type Task = Omit<TaskAnswer, 'rubric'> & { rubric: { criteria: RubricCriterion[] } };

export interface RubricCriterion {
  id: string;
  title: Localized;
  weight: number;
  partialCredit: boolean;
  type: string;
  params?: Record<string, unknown>;
}

/** A kit's `telemetry` message as it arrives (not checked: the platform checks what it stores). */
export interface TelemetryMessage {
  ts?: number | string;
  seq?: number;
  readings?: Record<string, unknown>;
}
