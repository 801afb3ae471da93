/**
 * Telemetry-based grading: a rubric (lab-api/rubric.ts) evaluated on the data of an attempt's
 * window, each criterion with its score, evidence (numbers and time spans) and a sentence in
 * zh-CN and en; plus authenticity flags for the instructor. Pure: no HTTP, no database —
 * `loadGradingData` reads the store, `gradeAttempt` grades what it is given.
 */
export { AUTHENTICITY } from './authenticity.ts';
export { SeriesBuffer } from './buffer.ts';
export { type CriterionOf, type GradingContext, RATE_JITTER } from './criteria.ts';
export { createContext, defaultAuthenticitySensors, evaluateCriterion, gradeAttempt } from './evaluate.ts';
export * from './incremental.ts';
export * from './live.ts';
export * from './live-state.ts';
export { loadGradingData, rubricSensors } from './load.ts';
export * from './types.ts';
