/**
 * Final-grade arithmetic: a run's criteria with the overrides applied, the adjustments they make,
 * and the final grade from the adjusted score and the enterprise mentor's score (provisional while
 * a weighted mentor score is missing). Pure functions: no database, no access checks.
 */
import type { Adjustment, FinalGrade, Override as GradeOverride, MentorScore } from '../../contract/index.ts';
import { say } from '../errors.ts';
import type { GradeRun, ReviewedCriterion, TaskInfo } from './types.ts';

export const round2 = (value: number) => Math.round(value * 100) / 100;
const fmt = (value: number) => String(round2(value));

/** The reviewed criteria of a run: each with the latest override of its criterion applied. */
export function applyOverrides(run: GradeRun, overrides: readonly GradeOverride[]): ReviewedCriterion[] {
  const latest = new Map<string, GradeOverride>();
  for (const o of overrides) {
    const seen = latest.get(o.criterionId);
    if (!seen || o.createdAt > seen.createdAt) latest.set(o.criterionId, o);
  }
  return run.result.criteria.map((c) => {
    const override = latest.get(c.id) ?? null;
    const score = override ? Math.min(Math.max(override.score, 0), c.weight) : c.score;
    return {
      ...c,
      autoScore: c.score,
      autoPassed: c.passed,
      score,
      passed: override ? score >= c.weight : c.passed,
      override,
    };
  });
}

/** Points out of 100: the criteria scores over their weights. */
function outOf100(criteria: readonly { score: number; weight: number }[]): number {
  const max = criteria.reduce((sum, c) => sum + c.weight, 0);
  const total = criteria.reduce((sum, c) => sum + c.score, 0);
  return max > 0 ? round2((100 * total) / max) : 0;
}

/**
 * The final grade: adjusted score (auto score with the adjustments) × (100 − mentorWeight) % +
 * mentor score × mentorWeight %; provisional while a weighted mentor score is missing (counted
 * as 0). The explanation names each number for what it is.
 */
export function finalGrade(input: {
  mentorWeight: number;
  autoScore: number | null;
  adjustments: Adjustment[];
  adjustedScore: number | null;
  mentorScore: number | null;
}): FinalGrade {
  const w = input.mentorWeight;
  const base = {
    autoScore: input.autoScore,
    adjustments: input.adjustments,
    adjustedScore: input.adjustedScore,
    mentorWeight: w,
    mentorScore: input.mentorScore,
  };
  if (w < 100 && input.adjustedScore === null) {
    return {
      ...base,
      status: 'not-graded',
      score: null,
      explanation: say(
        "Not graded yet: the attempt's telemetry has not been graded (it is when the attempt ends).",
        '尚未评分：本次实验的遥测数据还没有评分（实验结束时自动评分）。',
      ),
    };
  }
  const adjusted = input.adjustedScore ?? 0;
  // "telemetry 86.62" or "telemetry 86.62, adjusted to 98": the adjusted score never passes for the auto score.
  const school =
    input.adjustments.length === 0
      ? say(`telemetry ${fmt(adjusted)}`, `遥测自动评分 ${fmt(adjusted)}`)
      : say(
          `telemetry ${fmt(input.autoScore ?? 0)}, adjusted by the instructor to ${fmt(adjusted)}`,
          `遥测自动评分 ${fmt(input.autoScore ?? 0)}，教师调整后 ${fmt(adjusted)}`,
        );
  const schoolPart = (adjusted * (100 - w)) / 100;
  if (w === 0) {
    return {
      ...base,
      status: 'final',
      score: round2(adjusted),
      explanation: say(
        `Final: ${school.en} of 100 (the task has no enterprise mentor component).`,
        `最终成绩：${school['zh-CN']}（满分 100；该任务没有企业导师评分部分）。`,
      ),
    };
  }
  if (input.mentorScore === null) {
    const score = round2(schoolPart);
    return {
      ...base,
      status: 'provisional',
      score,
      explanation: say(
        `Provisional: the enterprise mentor's score (${w} % of the grade) is not in yet and counts as 0 until it is; ` +
          `${school.en} × ${100 - w} % = ${fmt(score)}.`,
        `暂定成绩：企业导师评分（占 ${w} %）尚未给出，给出前按 0 分计；${school['zh-CN']} × ${100 - w} % = ${fmt(score)}。`,
      ),
    };
  }
  const m = input.mentorScore;
  const score = round2(schoolPart + (m * w) / 100);
  return {
    ...base,
    status: 'final',
    score,
    explanation: say(
      `Final: ${school.en} × ${100 - w} % + enterprise mentor ${fmt(m)} × ${w} % = ${fmt(score)}.`,
      `最终成绩：${school['zh-CN']} × ${100 - w} % + 企业导师评分 ${fmt(m)} × ${w} % = ${fmt(score)}。`,
    ),
  };
}

/** The adjustments of reviewed criteria: those with an override. */
function adjustmentsOf(criteria: readonly ReviewedCriterion[]): Adjustment[] {
  return criteria.flatMap((c) =>
    c.override
      ? [
          {
            criterionId: c.id,
            title: c.title,
            weight: c.weight,
            autoScore: c.autoScore,
            score: c.score,
            reason: c.override.reason,
            by: c.override.createdBy,
            byName: c.override.createdByName,
            at: c.override.createdAt,
          },
        ]
      : [],
  );
}

/** An attempt's reviewed criteria and final grade, from its latest run (if any), overrides and mentor score. */
export function gradeOf(
  task: Pick<TaskInfo, 'mentorWeight'>,
  run: GradeRun | null,
  overrides: readonly GradeOverride[],
  mentor: MentorScore | null,
): { criteria: ReviewedCriterion[]; final: FinalGrade } {
  const criteria = run ? applyOverrides(run, overrides) : [];
  return {
    criteria,
    final: finalGrade({
      mentorWeight: task.mentorWeight,
      autoScore: run ? run.autoScore : null,
      adjustments: adjustmentsOf(criteria),
      adjustedScore: run ? outOf100(criteria) : null,
      mentorScore: mentor?.score ?? null,
    }),
  };
}
