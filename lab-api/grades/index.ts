/** Grades of attempts (grades.ts names the parts and the rules): what the rest of the lab API uses. */
export {
  attachment,
  COLUMNS,
  CONTENT_TYPES,
  type HeaderLanguage,
  SHEETS,
  STATUS_WORDS,
  studentTable,
  teamTable,
  toCsv,
  toXlsx,
} from './export.ts';
export { applyOverrides, finalGrade } from './final-grade.ts';
export { Grades } from './grades.ts';
export { MAX_REASON } from './review.ts';
export type { AttemptGrade, GradeRun, ReviewedCriterion, RunCriterion, RunResult } from './types.ts';
