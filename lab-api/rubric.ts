/**
 * The lab's side of rubrics: grading owns the schema and the checks (grading/rubric.ts, every
 * problem named by criterion in zh-CN and en); here they become the API's error — a 400
 * INVALID_RUBRIC with the problems in `details.problems` — and are re-exported for the lab's
 * routes and stores.
 */
import { normalizeTitles, type Rubric, type RubricTask, rubricIssues } from '../grading/index.ts';
import { ApiError, say } from './errors.ts';

export {
  CRITERION_TYPES,
  type Criterion,
  CriterionTitle,
  type CriterionType,
  emptyRubric,
  localizedTitle,
  MAX_CRITERIA,
  normalizeTitles,
  type Rubric,
  type RubricIssue,
  RubricSchema,
  type RubricTask,
  rubricIssues,
  rubricProblems,
} from '../grading/index.ts';

/**
 * The rubric, typed, or a 400 INVALID_RUBRIC listing every problem (the first 20 in the message;
 * all of them, with the criterion each is about, in `details.problems`).
 */
export function checkRubric(
  rubric: unknown,
  task: RubricTask,
  options: { requireCriteria?: boolean } = {},
): Rubric {
  const problems = rubricIssues(rubric, task, options);
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).map((problem) => problem.message);
    const left = problems.length - shown.length;
    throw new ApiError(
      400,
      'INVALID_RUBRIC',
      say(
        `invalid rubric: ${shown.map((m) => m.en).join('; ')}${left > 0 ? `; and ${left} more` : ''}`,
        `评分标准有误：${shown.map((m) => m['zh-CN']).join('；')}${left > 0 ? `；另有 ${left} 处问题` : ''}`,
      ),
      { problems },
    );
  }
  return normalizeTitles(rubric as Rubric);
}
