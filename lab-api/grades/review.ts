/**
 * Review of an attempt's grade: the latest run with its evidence, the instructors'
 * per-criterion overrides (with their reason), the enterprise mentor's score, and the final grade
 * from them; the run history; grading on request by the staff of the class.
 */
import { randomUUID } from 'node:crypto';
import type { LabDb } from '../../labdb/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person, Principal } from '../auth.ts';
import { ApiError, say } from '../errors.ts';
import { versionConflict } from '../http.ts';
import { gradeOf } from './final-grade.ts';
import { type GradeRecords, notFound, type RunRow, summarizeRun, toRun } from './records.ts';
import type { GradingRuns } from './runs.ts';
import type { AttemptGrade, AttemptInfo, GradeRunSummary, MentorScore, ReviewedCriterion } from './types.ts';

/** The longest reason an override may give, in characters. */
export const MAX_REASON = 2000;

/** The mentor of the task's enterprise reading or scoring: 404 for others, 409 without a weight. */
function assertMentor(actor: Person, info: AttemptInfo): void {
  if (actor.role !== 'mentor' || !actor.organisationId || info.task.organisationId !== actor.organisationId) {
    throw notFound(info.attempt.id);
  }
}

/** Reading an attempt's grade, overriding a criterion's score, the enterprise mentor's score. */
export class GradeReviews {
  readonly #records: GradeRecords;
  readonly #runs: GradingRuns;

  constructor(records: GradeRecords, runs: GradingRuns) {
    this.#records = records;
    this.#runs = runs;
  }

  async #compose(
    info: AttemptInfo,
    forStudent: boolean,
    db: LabDb = this.#records.db,
  ): Promise<AttemptGrade> {
    const run = await this.#records.latestRun(info.attempt.id, db);
    const overrides = await this.#records.overrides(info.attempt.id, db);
    const mentor = await this.#records.mentorScore(info.attempt.id, db);
    const { criteria, final } = gradeOf(info.task, run, overrides, mentor);
    return {
      attempt: info.attempt,
      task: {
        id: info.task.id,
        title: info.task.title,
        version: info.task.version,
        mentorWeight: info.task.mentorWeight,
        organisationId: info.task.organisationId,
      },
      classId: info.cls.id,
      run: run ? summarizeRun(run) : null,
      outdated: run !== null && run.taskVersion !== info.task.version,
      criteria,
      flags: run && !forStudent ? run.result.flags : [],
      overrides,
      mentorScore: mentor,
      final,
    };
  }

  /** An ended attempt without a run is graded on its first read (automatic grading's safety net). */
  async #ensureGraded(info: AttemptInfo): Promise<void> {
    if (info.attempt.endedAt === null || info.task.rubric.criteria.length === 0) return;
    if (await this.#records.latestRun(info.attempt.id)) return;
    // A failure (the store unreachable) leaves it ungraded: the reader sees "not graded yet".
    await this.#runs.attemptEnded(info.attempt.id);
  }

  /** GET /attempts/:id/grade: the latest run with evidence, overrides, mentor score, final grade. */
  async review(actor: Principal, attemptId: string): Promise<AttemptGrade> {
    const info = await this.#records.info(attemptId);
    this.#records.assertCanRead(actor, info);
    await this.#ensureGraded(info);
    return this.#compose(info, actor.kind === 'user' && actor.role === 'student');
  }

  /**
   * The kit and time window of an attempt, for a caller who may read its grade: its telemetry is
   * theirs to see within that window (a mentor of the task's enterprise scores from it).
   */
  async attemptWindow(
    actor: Principal,
    attemptId: string,
  ): Promise<{ kitId: string; from: number; to: number }> {
    const info = await this.#records.info(attemptId);
    this.#records.assertCanRead(actor, info);
    const { attempt } = info;
    return { kitId: attempt.kitId, from: attempt.startedAt, to: attempt.endedAt ?? Date.now() };
  }

  /** GET /attempts/:id/grades: every run, newest first. */
  async history(actor: Principal, attemptId: string): Promise<GradeRunSummary[]> {
    const info = await this.#records.info(attemptId);
    this.#records.assertCanRead(actor, info);
    await this.#ensureGraded(info);
    const rows = await this.#records.db.all<RunRow>(
      'SELECT * FROM grade_runs WHERE attempt_id = ? ORDER BY created_at DESC, id DESC',
      [attemptId],
    );
    return rows.map((row) => summarizeRun(toRun(row)));
  }

  /** POST /attempts/:id/grade: the staff of the class (or a service) grades it now. */
  async gradeAsStaff(actor: Principal, attemptId: string): Promise<AttemptGrade> {
    const info = await this.#records.info(attemptId);
    this.#records.assertStaff(actor, info.cls);
    await this.#runs.gradeAttempt(attemptId, 'manual', actor);
    return this.review(actor, attemptId);
  }

  // ---------------------------------------------------------------------------- overrides

  /**
   * Sets a criterion's score by hand, with the reason (required, ≤ 2000 characters): instructors
   * of the class and admins. The latest override of a criterion applies; audited with the
   * criterion's score and the final grade before and after.
   */
  async override(
    actor: Person,
    attemptId: string,
    input: { criterionId?: string | undefined; score: number; reason?: string | undefined },
  ): Promise<AttemptGrade> {
    const reason = (input.reason ?? '').trim();
    if (!reason) {
      throw new ApiError(
        400,
        'REASON_REQUIRED',
        say(
          'an override needs a reason: say why the automatic score is wrong (the student and the audit log see it)',
          '调整评分必须填写理由：说明自动评分为什么不对（学生和审计日志都能看到）',
        ),
      );
    }
    if (reason.length > MAX_REASON) {
      throw new ApiError(
        400,
        'REASON_TOO_LONG',
        say(
          `the reason has ${reason.length} characters: at most ${MAX_REASON}`,
          `理由有 ${reason.length} 个字，最多 ${MAX_REASON} 个`,
        ),
      );
    }
    const criterionId = input.criterionId ?? '';
    if (!criterionId)
      throw new ApiError(
        400,
        'CRITERION_REQUIRED',
        say('say which criterion: criterionId', '请用 criterionId 指明要调整的评分项'),
      );
    return this.#records.db.transaction(async (tx) => {
      const info = await this.#records.info(attemptId, tx);
      this.#records.classes.assertManages(actor, info.cls);
      const before = await this.#compose(info, false, tx);
      if (!before.run) {
        throw new ApiError(
          409,
          'NOT_GRADED',
          say(
            'the attempt has not been graded yet: grade it first (POST /attempts/:id/grade)',
            '该作答尚未评分：请先评分',
          ),
        );
      }
      const criterion = before.criteria.find((c) => c.id === criterionId);
      if (!criterion) {
        throw new ApiError(
          400,
          'UNKNOWN_CRITERION',
          say(
            `the graded rubric has no criterion "${criterionId.slice(0, 64)}" (it has ${before.criteria.map((c) => c.id).join(', ')})`,
            `评分时使用的评分标准中没有评分项“${criterionId.slice(0, 64)}”（现有：${before.criteria.map((c) => c.id).join('、')}）`,
          ),
        );
      }
      if (!Number.isFinite(input.score) || input.score < 0 || input.score > criterion.weight) {
        throw new ApiError(
          400,
          'SCORE_OUT_OF_RANGE',
          say(
            `criterion "${criterion.id}" is worth ${criterion.weight} points: the score must be within 0..${criterion.weight}`,
            `评分项“${criterion.id}”满分 ${criterion.weight} 分：得分须在 0 到 ${criterion.weight} 之间`,
          ),
        );
      }
      const last = await tx.get<{ created_at: number }>(
        'SELECT MAX(created_at) AS created_at FROM grade_overrides WHERE attempt_id = ? AND criterion_id = ?',
        [attemptId, criterionId],
      );
      const createdAt = Math.max(Date.now(), (last?.created_at ?? 0) + 1);
      await tx.run(
        `INSERT INTO grade_overrides (id, attempt_id, criterion_id, score, reason, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [randomUUID(), attemptId, criterionId, input.score, reason, actor.id, createdAt],
      );
      const after = await this.#compose(info, false, tx);
      const snapshot = (grade: AttemptGrade) => {
        const c = grade.criteria.find((item) => item.id === criterionId) as ReviewedCriterion;
        return {
          criterionId,
          weight: c.weight,
          autoScore: c.autoScore,
          score: c.score,
          override: c.override ? { score: c.override.score, reason: c.override.reason } : null,
          autoScoreTotal: grade.final.autoScore,
          adjustedScore: grade.final.adjustedScore,
          finalScore: grade.final.score,
          status: grade.final.status,
        };
      };
      await recordAudit(tx, actor, {
        entity: 'grade',
        entityId: attemptId,
        action: 'override',
        before: snapshot(before),
        after: snapshot(after),
      });
      return after;
    });
  }

  // ---------------------------------------------------------------------------- mentor score

  async mentorScore(actor: Principal, attemptId: string): Promise<MentorScore> {
    const info = await this.#records.info(attemptId);
    this.#records.assertCanRead(actor, info);
    const score = await this.#records.mentorScore(attemptId);
    if (!score) {
      throw new ApiError(
        404,
        'NO_MENTOR_SCORE',
        say('the enterprise mentor has not scored this attempt yet', '企业导师还没有给这次作答评分'),
      );
    }
    return score;
  }

  /**
   * The enterprise mentor's score (0–100) and comment for an attempt: a mentor of the enterprise
   * whose project the task belongs to. Creating needs no If-Match (or If-Match "0"); changing
   * needs the version read. Audited.
   */
  async setMentorScore(
    actor: Person,
    attemptId: string,
    expectedVersion: number | null,
    input: { score: number; comment?: string | undefined },
  ): Promise<MentorScore> {
    return this.#records.db.transaction(async (tx) => {
      const info = await this.#records.info(attemptId, tx);
      assertMentor(actor, info);
      if (info.task.mentorWeight === 0) {
        throw new ApiError(
          409,
          'NO_MENTOR_COMPONENT',
          say(
            `lab task "${info.task.title}" gives the enterprise mentor no share of the grade (mentorWeight 0)`,
            `实训任务“${info.task.title}”的成绩不含企业导师评分（mentorWeight 为 0）`,
          ),
        );
      }
      const before = await this.#records.mentorScore(attemptId, tx);
      const now = Date.now();
      const comment = input.comment ?? '';
      if (before) {
        if (expectedVersion === null) {
          throw new ApiError(
            428,
            'IF_MATCH_REQUIRED',
            say(
              `the attempt already has a mentor score (version ${before.version}): send it in If-Match to change it`,
              `这次作答已有企业评分（第 ${before.version} 版）：修改时请在 If-Match 中带上该版本`,
            ),
          );
        }
        if (expectedVersion !== before.version) throw versionConflict('mentor score', before.version);
        await tx.run(
          `UPDATE mentor_scores SET score = ?, comment = ?, mentor_id = ?, updated_at = ?, version = version + 1
           WHERE attempt_id = ?`,
          [input.score, comment, actor.id, now, attemptId],
        );
      } else {
        if (expectedVersion !== null && expectedVersion !== 0) throw versionConflict('mentor score', 0);
        await tx.run(
          `INSERT INTO mentor_scores (attempt_id, score, comment, mentor_id, updated_at, version)
           VALUES (?, ?, ?, ?, ?, 1)`,
          [attemptId, input.score, comment, actor.id, now],
        );
      }
      const after = (await this.#records.mentorScore(attemptId, tx)) as MentorScore;
      await recordAudit(tx, actor, {
        entity: 'grade',
        entityId: attemptId,
        action: 'mentor-score',
        before: before ?? undefined,
        after,
      });
      return after;
    });
  }
}
