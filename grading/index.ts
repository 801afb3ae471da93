/**
 * Grading's public entry (the server's; the browser's is criteria/index.ts, the criterion
 * registry, which imports nothing Node-only). Telemetry-based grading as a core that knows nothing
 * of the lab's HTTP or database:
 *
 * - **Rubrics** (rubric.ts): the schema, built from the criterion registry, and every problem of a
 *   rubric named by criterion, in zh-CN and en (the lab wraps them in its own API error).
 * - **Criteria as plug-ins** (criteria/): one module per type (criteria/<type>.ts, built with
 *   `defineCriterion`) — its name and hint, parameter schema, editor template, the sensors and
 *   actuators it reads, its checks, its evaluation and sentences — listed, one line each, in one
 *   registry (criteria/index.ts) from which the union of types, the rubric schema, the rubric
 *   editor's list and the README's table follow.
 * - **Grading an attempt** (evaluate.ts, load.ts): `loadGradingData` reads the telemetry store,
 *   `gradeAttempt` grades what it is given — each criterion's score, evidence (numbers, time
 *   spans, a summary) and a sentence in zh-CN and en — plus authenticity flags (authenticity.ts)
 *   for the instructor. Pure: the same rubric, window and data give the same result.
 * - **Live grading** (live/): attempts graded as their data arrives, published on MQTT and to
 *   event streams, and competition leaderboards. It learns about running attempts, tasks and
 *   teams through the {@link LiveGradingSource} port, which the lab implements
 *   (lab-api/live-source.ts) and the composition root (cli/platform.ts) hands to the LiveGrader.
 *
 * It reads protocol (sensor labels and kinds, topics) and the telemetry store; other folders
 * import grading from this entry only.
 */
export { AUTHENTICITY } from './authenticity.ts';
export { SeriesBuffer } from './buffer.ts';
export { CRITERIA_TABLE_END, CRITERIA_TABLE_START, criteriaTable } from './criteria/docs.ts';
export {
  type AnyCriterionPlugin,
  CRITERION_PLUGINS,
  type CriterionDefinition,
  type CriterionPlugin,
  type CriterionReads,
  type CriterionScan,
  type CriterionWith,
  createScan,
  criterionDefinition,
  defineCriterion,
  type EvaluationEnv,
  type GradingContext,
  isCriterionType,
  LIVE_MINIMUM,
  type PluginOf,
  pluginOf,
  RATE_JITTER,
  type RegisteredPlugin,
  rubricReads,
  type ScanOptions,
} from './criteria/index.ts';
export { createContext, defaultAuthenticitySensors, evaluateCriterion, gradeAttempt } from './evaluate.ts';
export type { Detail } from './evidence.ts';
export * from './incremental.ts';
export { DELAY_BUCKET_MS, LIVE_DEFAULTS, LiveGrader, type LiveGraderOptions } from './live/grader.ts';
export { type Leaderboard, type LeaderboardTeam, rankTeams } from './live/leaderboard.ts';
export { type LivePartitions, partitionOf } from './live/partitions.ts';
export type { LiveUpdate } from './live/publisher.ts';
export type { LiveGradingSource, LiveTask, RunningAttempt, SessionBoardInputs } from './live/source.ts';
export * from './live/state.ts';
export { gradingDataOf, loadGradingData, loadKitSeries, rubricSensors } from './load.ts';
export {
  CRITERION_PARAMS,
  CRITERION_TYPES,
  CriterionSchema,
  CriterionTitle,
  emptyRubric,
  localizedTitle,
  MAX_CRITERIA,
  normalizeTitles,
  type RubricIssue,
  RubricSchema,
  type RubricTask,
  rubricIssues,
  rubricProblems,
} from './rubric.ts';
export * from './types.ts';
