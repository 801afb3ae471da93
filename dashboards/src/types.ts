/**
 * What the dashboards read. The lab API's answers are its contract's types (contract/, the schemas
 * the server validates and serializes with), imported as types only: nothing of the contract
 * reaches the bundle, and a change to an answer's shape fails the dashboards' typecheck. Below
 * them, what arrives over MQTT and the rubric editor's view of a criterion.
 */
import type { CriterionTitle, Localized, Task as TaskAnswer } from '../../contract/index.ts';

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
  LiveReview,
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

/**
 * A criterion of live grading's state (MQTT iotlab/v1/attempts/<id>/grading and the event stream
 * GET /attempts/:id/live): grading/'s live state, which is not an HTTP answer of the contract.
 */
export interface LiveCriterion {
  id: string;
  type: string;
  title: CriterionTitle;
  weight: number;
  /** 0 while pending. */
  score: number;
  passed: boolean;
  /**
   * Not enough data to judge it yet: neither passed nor failed (shown neutral, "等待中");
   * absent from states published before live grading had it.
   */
  pending?: boolean;
  /** The sentence for the score and state, from the same evaluation. */
  explanation: Localized;
  /** What a pending criterion waits for ("需要 30 分钟的数据，已有 2 分钟"), else null. */
  waitingFor?: Localized | null;
  measured: Record<string, number>;
}

/** Live grading's state of an attempt, as published. */
export interface LiveGrading {
  attemptId: string;
  kitId: string;
  seq: number;
  score: number;
  maxScore: number;
  passed: boolean;
  timeToPassSeconds: number | null;
  ended: boolean;
  lastReadingAt: number | null;
  criteria: LiveCriterion[];
}
