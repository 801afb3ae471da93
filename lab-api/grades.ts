/**
 * Grades of attempts: the grading engine (grading/) run over the telemetry store for an attempt's
 * window and kept as grade runs (every run stays: re-grading after a rubric change adds one), the
 * instructors' per-criterion overrides with their reason, the enterprise mentor's score, and the
 * final grade combining them; per assignment, the grade of each student and team, and per-criterion
 * statistics.
 *
 * Decisions:
 * - The final grade is `autoScore × (100 − mentorWeight) % + mentorScore × mentorWeight %`, where
 *   `autoScore` is the telemetry score out of 100 with the overrides applied. While a task with
 *   mentorWeight > 0 has no mentor score, the grade is *provisional* and the missing component
 *   counts as 0 (a lower bound: the grade never falls when the mentor scores).
 * - An override is for an attempt's criterion and applies on top of the latest run for as long as
 *   the criterion exists (a re-grade keeps it; it is capped to the criterion's weight if the
 *   weight shrank). The latest override of a criterion is the one applied; all are kept.
 * - A student's grade for an assignment is the one of their *best* attempt (highest final grade,
 *   the latest on a tie): trying again never costs a student points. A team's grade is the mean
 *   of its graded members' grades (members without a graded attempt are listed, not counted).
 * - Authenticity flags that cost no points are for the assessors: students see the criteria
 *   (scores, evidence, explanations), not the flags.
 * - Automatic grading when an attempt ends: the routes that end attempts report them to
 *   lab-api/auto-grading.ts, which calls `attemptEnded` once the last readings are stored; its
 *   sweep (`gradeEndedAttempts`) and every read of a grade catch the attempts that ended otherwise.
 */
import { randomUUID } from 'node:crypto';
import type {
  Adjustment,
  AssignmentGrades,
  AssignmentStatistics,
  AttemptGrade as AttemptGradeAnswer,
  CriterionStatistics,
  FinalGrade,
  Override as GradeOverride,
  GradeReason,
  RunSummary as GradeRunSummary,
  MentorScore,
  RegradeReport,
  StudentGrade,
  TeamGrade,
} from '../contract/index.ts';
import {
  type AuthenticityFlag,
  type CriterionResult,
  type GradeOptions,
  type GradeResult,
  type Localized,
  loadGradingData,
  rubricSensors,
  gradeAttempt as runRubric,
  type SeriesSet,
  type TimeWindow,
} from '../grading/index.ts';
import type { LabDb, SqlValue } from '../labdb/index.ts';
import type { TelemetryStore } from '../telemetry/index.ts';
import { recordAudit } from './audit.ts';
import type { Person, Principal } from './auth.ts';
import {
  type Assignment,
  Assignments,
  type Attempt,
  type AttemptRow,
  Classes,
  type ClassInfo,
  toAttempt,
} from './classes.ts';
import { ApiError, say } from './errors.ts';
import { versionConflict } from './http.ts';
import { naturalOrder } from './names.ts';
import { localizedTitle, type Rubric } from './rubric.ts';

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
} from '../contract/index.ts';
export type { Person };

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

// ------------------------------------------------------------------------------------ helpers

export const MAX_REASON = 2000;
const round2 = (value: number) => Math.round(value * 100) / 100;
const fmt = (value: number) => String(round2(value));

function jsonList(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/** Who graded when no person or service asked: the platform's automatic grading. */
const AUTOMATIC_GRADING: Principal = { kind: 'service', name: 'automatic-grading' };

function actorName(actor: Principal | null): string {
  if (!actor) return 'system';
  return actor.kind === 'user' ? actor.id : `service:${actor.name}`.slice(0, 64);
}

interface TaskInfo {
  id: string;
  title: string;
  version: number;
  mentorWeight: number;
  organisationId: string | null;
  requiredSensors: string[];
  rubric: Rubric;
}

interface TaskRow {
  id: string;
  title: string;
  version: number;
  mentor_weight: number;
  organisation_id: string | null;
  required_sensors: string;
  rubric: string;
}

function toTaskInfo(row: TaskRow): TaskInfo {
  let rubric: Rubric;
  try {
    rubric = JSON.parse(row.rubric) as Rubric;
    if (!Array.isArray(rubric?.criteria)) rubric = { criteria: [] };
  } catch {
    rubric = { criteria: [] };
  }
  return {
    id: row.id,
    title: row.title,
    version: row.version,
    mentorWeight: row.mentor_weight,
    organisationId: row.organisation_id,
    requiredSensors: jsonList(row.required_sensors),
    rubric,
  };
}

const TASK_SELECT = `SELECT t.id, t.title, t.version, t.mentor_weight, t.required_sensors, t.rubric, p.organisation_id
  FROM lab_tasks t LEFT JOIN projects p ON p.id = t.project_id`;

interface RunRow {
  id: string;
  attempt_id: string;
  task_version: number;
  reason: GradeReason;
  result: string;
  auto_score: number;
  created_at: number;
  created_by: string;
}

function toRun(row: RunRow): GradeRun {
  return {
    id: row.id,
    attemptId: row.attempt_id,
    taskVersion: row.task_version,
    reason: row.reason,
    autoScore: row.auto_score,
    createdAt: row.created_at,
    createdBy: row.created_by,
    result: JSON.parse(row.result) as RunResult,
  };
}

export function summarizeRun(run: GradeRun): GradeRunSummary {
  return {
    id: run.id,
    attemptId: run.attemptId,
    taskVersion: run.taskVersion,
    reason: run.reason,
    autoScore: run.autoScore,
    createdAt: run.createdAt,
    createdBy: run.createdBy,
    window: run.result.window,
    total: run.result.total,
    maxTotal: run.result.maxTotal,
    criteria: run.result.criteria.map((c) => ({
      id: c.id,
      weight: c.weight,
      score: c.score,
      passed: c.passed,
    })),
    flagCount: run.result.flags.length,
  };
}

interface OverrideRow {
  id: string;
  attempt_id: string;
  criterion_id: string;
  score: number;
  reason: string;
  created_by: string;
  created_by_name: string | null;
  created_at: number;
}

function toOverride(row: OverrideRow): GradeOverride {
  return {
    id: row.id,
    attemptId: row.attempt_id,
    criterionId: row.criterion_id,
    score: row.score,
    reason: row.reason,
    createdBy: row.created_by,
    createdByName: row.created_by_name,
    createdAt: row.created_at,
  };
}

const OVERRIDE_SELECT = `SELECT o.*, u.display_name AS created_by_name
  FROM grade_overrides o LEFT JOIN users u ON u.id = o.created_by`;

interface MentorRow {
  attempt_id: string;
  score: number;
  comment: string;
  mentor_id: string;
  mentor_name: string | null;
  updated_at: number;
  version: number;
}

function toMentorScore(row: MentorRow): MentorScore {
  return {
    attemptId: row.attempt_id,
    score: row.score,
    comment: row.comment,
    mentorId: row.mentor_id,
    mentorName: row.mentor_name,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

const MENTOR_SELECT = `SELECT m.*, u.display_name AS mentor_name
  FROM mentor_scores m LEFT JOIN users u ON u.id = m.mentor_id`;

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

function gradeOf(
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

/** Loaded series, shared by the attempts of one batch (one load per kit and session). */
type SeriesCache = Map<string, Promise<SeriesSet>>;

interface AttemptInfo {
  attempt: Attempt;
  assignment: Assignment;
  cls: ClassInfo;
  task: TaskInfo;
}

interface AttemptData {
  attempt: Attempt;
  run: GradeRun | null;
  overrides: GradeOverride[];
  mentor: MentorScore | null;
  criteria: ReviewedCriterion[];
  final: FinalGrade;
}

const notFound = (id: string) =>
  new ApiError(404, 'ATTEMPT_NOT_FOUND', say(`no attempt ${id}`, `找不到作答 ${id}`));

/** Grading, review, overrides, mentor scores, assignment grades and statistics. */
export class Grades {
  readonly #db: LabDb;
  readonly #store: TelemetryStore;
  readonly classes: Classes;
  readonly assignments: Assignments;
  /** Attempts automatic grading failed on, and when (retried after a while). */
  readonly #failed = new Map<string, number>();

  constructor(deps: { db: LabDb; store: TelemetryStore }) {
    this.#db = deps.db;
    this.#store = deps.store;
    this.classes = new Classes(deps.db);
    this.assignments = new Assignments(deps.db, this.classes);
  }

  // ---------------------------------------------------------------------------- loading, access

  async #task(id: string, db: LabDb = this.#db): Promise<TaskInfo | undefined> {
    const row = await db.get<TaskRow>(`${TASK_SELECT} WHERE t.id = ?`, [id]);
    return row ? toTaskInfo(row) : undefined;
  }

  async #info(attemptId: string, db: LabDb = this.#db): Promise<AttemptInfo> {
    const attempt = await this.assignments.attemptById(attemptId, db);
    if (!attempt) throw notFound(attemptId);
    const assignment = await this.assignments.assignmentOr404(attempt.assignmentId, db);
    const cls = await this.classes.classOr404(assignment.classId, db);
    const task = await this.#task(assignment.taskId, db);
    if (!task)
      throw new ApiError(
        404,
        'TASK_NOT_FOUND',
        say(`no lab task ${assignment.taskId}`, `找不到实训任务 ${assignment.taskId}`),
      );
    return { attempt, assignment, cls, task };
  }

  /**
   * Who reads an attempt's grade: its student, the staff of its class, mentors of the enterprise
   * whose project the task belongs to, platform services. Others learn nothing (404), except
   * instructors, who are told the class is not theirs (as everywhere in the API).
   */
  #assertCanRead(actor: Principal, info: AttemptInfo): void {
    if (actor.kind === 'service') return;
    switch (actor.role) {
      case 'admin':
        return;
      case 'instructor':
        this.classes.assertManages(actor, info.cls);
        return;
      case 'student':
        if (info.attempt.studentId !== actor.id) throw notFound(info.attempt.id);
        return;
      case 'mentor':
        if (!actor.organisationId || info.task.organisationId !== actor.organisationId)
          throw notFound(info.attempt.id);
        return;
    }
  }

  /** Staff of a class: its instructor and admins; services pass. */
  #assertStaff(actor: Principal, cls: ClassInfo): void {
    if (actor.kind === 'service') return;
    this.classes.assertManages(actor, cls);
  }

  // ---------------------------------------------------------------------------- grading

  async #latestRun(attemptId: string, db: LabDb = this.#db): Promise<GradeRun | null> {
    const row = await db.get<RunRow>(
      'SELECT * FROM grade_runs WHERE attempt_id = ? ORDER BY created_at DESC, id DESC LIMIT 1',
      [attemptId],
    );
    return row ? toRun(row) : null;
  }

  async #overrides(attemptId: string, db: LabDb = this.#db): Promise<GradeOverride[]> {
    const rows = await db.all<OverrideRow>(
      `${OVERRIDE_SELECT} WHERE o.attempt_id = ? ORDER BY o.created_at DESC, o.id DESC`,
      [attemptId],
    );
    return rows.map(toOverride);
  }

  async #mentorScore(attemptId: string, db: LabDb = this.#db): Promise<MentorScore | null> {
    const row = await db.get<MentorRow>(`${MENTOR_SELECT} WHERE m.attempt_id = ?`, [attemptId]);
    return row ? toMentorScore(row) : null;
  }

  /**
   * The authenticity checks' other inputs: the student's previous attempt (a replay of it) and
   * the other kits of the same lab session (a copy of their stream), on the sensors checked.
   */
  async #authenticityInputs(
    info: AttemptInfo,
    window: TimeWindow,
    sensors: readonly string[],
    cache: SeriesCache | undefined,
  ): Promise<Pick<GradeOptions, 'previous' | 'peers'>> {
    const { attempt } = info;
    const options: Pick<GradeOptions, 'previous' | 'peers'> = {};
    if (sensors.length === 0) return options;
    const previous = await this.#db.get<AttemptRow>(
      `SELECT * FROM attempts WHERE student_id = ? AND id <> ? AND ended_at IS NOT NULL AND started_at < ?
       ORDER BY started_at DESC, id DESC LIMIT 1`,
      [attempt.studentId, attempt.id, attempt.startedAt],
    );
    if (previous?.ended_at != null) {
      const data = await loadGradingData(
        this.#store,
        previous.kit_id,
        { from: previous.started_at, to: previous.ended_at },
        sensors,
      );
      options.previous = { series: data.series };
    }
    if (attempt.sessionId) {
      const others = await this.#db.all<{ kit_id: string }>(
        `SELECT DISTINCT kit_id FROM attempts WHERE session_id = ? AND kit_id <> ? AND started_at < ?
           AND (ended_at IS NULL OR ended_at > ?) ORDER BY kit_id`,
        [attempt.sessionId, attempt.kitId, window.to, window.from],
      );
      if (others.length > 0) {
        // In a batch, each kit is read once over the whole session; alone, over this window.
        let span = window;
        if (cache) {
          const session = await this.assignments.sessionById(attempt.sessionId);
          if (session) span = { from: session.startedAt, to: session.endedAt ?? Date.now() };
        }
        const peers: Record<string, SeriesSet> = {};
        for (const { kit_id: kitId } of others) {
          const load = async () => (await loadGradingData(this.#store, kitId, span, sensors)).series;
          if (!cache) {
            peers[kitId] = await load();
            continue;
          }
          const key = `${attempt.sessionId}|${kitId}|${sensors.join(',')}`;
          let loaded = cache.get(key);
          if (!loaded) {
            loaded = load();
            cache.set(key, loaded);
          }
          peers[kitId] = await loaded;
        }
        options.peers = peers;
      }
    }
    return options;
  }

  async #evaluate(info: AttemptInfo, cache?: SeriesCache): Promise<{ result: RunResult; autoScore: number }> {
    const { attempt, task } = info;
    const rubric = task.rubric;
    if (rubric.criteria.length === 0) {
      throw new ApiError(
        409,
        'RUBRIC_EMPTY',
        say(
          `lab task "${task.title}" has no rubric criteria yet: there is nothing to grade from telemetry`,
          `实训任务“${task.title}”还没有评分项，无法根据数据评分`,
        ),
      );
    }
    const window: TimeWindow = { from: attempt.startedAt, to: attempt.endedAt ?? Date.now() };
    const sensors = rubricSensors(rubric, task.requiredSensors);
    const data = await loadGradingData(this.#store, attempt.kitId, window, sensors);
    const explicit = rubric.criteria.flatMap((c) =>
      c.type === 'authenticity' ? (c.params?.sensors ?? []) : [],
    );
    const checked = [
      ...new Set([...explicit, ...(task.requiredSensors.length ? task.requiredSensors : sensors)]),
    ].sort();
    const options: GradeOptions = {
      ...(await this.#authenticityInputs(info, window, checked, cache)),
      ...(task.requiredSensors.length ? { requiredSensors: task.requiredSensors } : {}),
    };
    const graded = runRubric(rubric, window, data, options);
    const titles = new Map(rubric.criteria.map((c) => [c.id, localizedTitle(c.title, c.id)]));
    const result: RunResult = {
      ...graded,
      criteria: graded.criteria.map((c) => ({
        ...c,
        title: titles.get(c.id) ?? { 'zh-CN': c.id, en: c.id },
      })),
    };
    return { result, autoScore: graded.maxTotal > 0 ? round2((100 * graded.total) / graded.maxTotal) : 0 };
  }

  /**
   * Grades an attempt over the store for its window (`endedAt`, or now while it runs) with the
   * task's current rubric, and stores the run. No access check: callers check. `ifUngraded`: only
   * when the attempt has no run yet (automatic grading), else the existing latest run is returned.
   */
  async gradeAttempt(
    attemptId: string,
    reason: GradeReason,
    actor: Principal | null,
    options: { ifUngraded?: boolean; cache?: SeriesCache } = {},
  ): Promise<GradeRun> {
    const info = await this.#info(attemptId);
    if (options.ifUngraded) {
      const existing = await this.#latestRun(attemptId);
      if (existing) return existing;
    }
    const { result, autoScore } = await this.#evaluate(info, options.cache);
    return this.#db.transaction(async (tx) => {
      const last = await this.#latestRun(attemptId, tx);
      if (options.ifUngraded && last) return last;
      const run: GradeRun = {
        id: randomUUID(),
        attemptId,
        taskVersion: info.task.version,
        reason,
        autoScore,
        // Strictly increasing per attempt: the latest run is the one with the greatest time.
        createdAt: Math.max(Date.now(), (last?.createdAt ?? 0) + 1),
        createdBy: actorName(actor),
        result,
      };
      await tx.run(
        `INSERT INTO grade_runs (id, attempt_id, task_version, reason, result, auto_score, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          run.id,
          attemptId,
          run.taskVersion,
          reason,
          JSON.stringify(result),
          autoScore,
          run.createdAt,
          run.createdBy,
        ],
      );
      // Every run is a grade change: audited with it, whoever (or whatever) graded.
      await recordAudit(tx, actor ?? AUTOMATIC_GRADING, {
        entity: 'grade',
        entityId: attemptId,
        action: reason === 'manual' ? 'grade' : reason,
        before: last ? summarizeRun(last) : undefined,
        after: summarizeRun(run),
      });
      return run;
    });
  }

  /** POST /attempts/:id/grade: the staff of the class (or a service) grades it now. */
  async gradeAsStaff(actor: Principal, attemptId: string): Promise<AttemptGrade> {
    const info = await this.#info(attemptId);
    this.#assertStaff(actor, info.cls);
    await this.gradeAttempt(attemptId, 'manual', actor);
    return this.review(actor, attemptId);
  }

  /**
   * The hook for the code that ends attempts: grades the attempt unless it already has a run.
   * Never throws (an attempt that cannot be graded yet is graded on its next read).
   */
  async attemptEnded(attemptId: string): Promise<GradeRun | null> {
    try {
      return await this.gradeAttempt(attemptId, 'attempt-ended', null, { ifUngraded: true });
    } catch {
      this.#failed.set(attemptId, Date.now());
      return null;
    }
  }

  /**
   * Grades the attempts that ended (at least `settleMs` ago, within `lookbackMs`) without a run:
   * automatic grading for attempts ended by any code path. Returns how many were graded.
   */
  async gradeEndedAttempts(
    options: { settleMs?: number; lookbackMs?: number; max?: number; retryAfterMs?: number } = {},
  ): Promise<number> {
    const now = Date.now();
    const { settleMs = 2_000, lookbackMs = 86_400_000, max = 50, retryAfterMs = 300_000 } = options;
    const rows = await this.#db.all<{ id: string; session_id: string | null }>(
      `SELECT at.id, at.session_id FROM attempts at
       WHERE at.ended_at IS NOT NULL AND at.ended_at <= ? AND at.ended_at > ?
         AND NOT EXISTS (SELECT 1 FROM grade_runs r WHERE r.attempt_id = at.id)
       ORDER BY at.session_id, at.ended_at`,
      [now - settleMs, now - lookbackMs],
    );
    for (const [id, at] of this.#failed) if (now - at > retryAfterMs) this.#failed.delete(id);
    const due = rows.filter((row) => !this.#failed.has(row.id)).slice(0, max);
    return this.#gradeBatch(
      due.map((row) => ({ id: row.id, sessionId: row.session_id })),
      'attempt-ended',
      null,
      true,
    ).then((report) => report.graded.length);
  }

  /** Grades attempts one by one, sharing loaded peer series within each session. */
  async #gradeBatch(
    attempts: readonly { id: string; sessionId: string | null }[],
    reason: GradeReason,
    actor: Principal | null,
    ifUngraded: boolean,
  ): Promise<{ graded: GradeRun[]; failed: { attemptId: string; message: string }[] }> {
    const graded: GradeRun[] = [];
    const failed: { attemptId: string; message: string }[] = [];
    let cache: SeriesCache = new Map();
    let session: string | null | undefined;
    for (const attempt of attempts) {
      if (attempt.sessionId !== session) {
        cache = new Map();
        session = attempt.sessionId;
      }
      try {
        graded.push(await this.gradeAttempt(attempt.id, reason, actor, { ifUngraded, cache }));
      } catch (error) {
        if (reason === 'attempt-ended') this.#failed.set(attempt.id, Date.now());
        failed.push({ attemptId: attempt.id, message: (error as Error).message });
      }
    }
    return { graded, failed };
  }

  /**
   * Re-grades every ended attempt of the task's assignments (in the classes the actor teaches;
   * an admin's: all) with the current rubric, reason `rubric-changed`. Attempts whose latest run
   * already used this version of the task are skipped unless `force`. Every run stays in history.
   */
  async regradeTask(
    actor: Person,
    taskId: string,
    options: { force?: boolean } = {},
  ): Promise<RegradeReport> {
    const task = await this.#task(taskId);
    if (!task)
      throw new ApiError(404, 'TASK_NOT_FOUND', say(`no lab task ${taskId}`, `找不到实训任务 ${taskId}`));
    if (task.rubric.criteria.length === 0) {
      throw new ApiError(
        409,
        'RUBRIC_EMPTY',
        say(
          `lab task "${task.title}" has no rubric criteria to grade with`,
          `实训任务“${task.title}”没有可用于评分的评分项`,
        ),
      );
    }
    const params: SqlValue[] = [taskId];
    let scope = '';
    if (actor.role !== 'admin') {
      scope = 'AND c.instructor_id = ?';
      params.push(actor.id);
    }
    const rows = await this.#db.all<{ id: string; session_id: string | null; version: number | null }>(
      `SELECT at.id, at.session_id,
         (SELECT r.task_version FROM grade_runs r WHERE r.attempt_id = at.id ORDER BY r.created_at DESC LIMIT 1) AS version
       FROM attempts at JOIN assignments a ON a.id = at.assignment_id JOIN classes c ON c.id = a.class_id
       WHERE a.task_id = ? AND at.ended_at IS NOT NULL ${scope}
       ORDER BY at.session_id, at.started_at, at.id`,
      params,
    );
    const skipped = rows.filter((row) => !options.force && row.version === task.version).map((row) => row.id);
    const due = rows.filter((row) => options.force || row.version !== task.version);
    const previous = new Map<string, number>();
    for (const row of due) {
      const run = await this.#db.get<{ auto_score: number }>(
        'SELECT auto_score FROM grade_runs WHERE attempt_id = ? ORDER BY created_at DESC LIMIT 1',
        [row.id],
      );
      if (run) previous.set(row.id, run.auto_score);
    }
    const { graded, failed } = await this.#gradeBatch(
      due.map((row) => ({ id: row.id, sessionId: row.session_id })),
      'rubric-changed',
      actor,
      false,
    );
    const report: RegradeReport = {
      taskId,
      taskVersion: task.version,
      regraded: graded.map((run) => ({
        attemptId: run.attemptId,
        runId: run.id,
        autoScore: run.autoScore,
        previousAutoScore: previous.get(run.attemptId) ?? null,
      })),
      skipped,
      failed,
    };
    if (rows.length === 0) return report;
    await this.#db.transaction((tx) =>
      recordAudit(tx, actor, {
        entity: 'task',
        entityId: taskId,
        action: 'regrade',
        after: {
          taskVersion: task.version,
          regraded: report.regraded.length,
          skipped: skipped.length,
          failed: failed.length,
          attemptIds: report.regraded.map((r) => r.attemptId),
        },
      }),
    );
    return report;
  }

  // ---------------------------------------------------------------------------- review

  async #compose(info: AttemptInfo, forStudent: boolean, db: LabDb = this.#db): Promise<AttemptGrade> {
    const run = await this.#latestRun(info.attempt.id, db);
    const overrides = await this.#overrides(info.attempt.id, db);
    const mentor = await this.#mentorScore(info.attempt.id, db);
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
    if (await this.#latestRun(info.attempt.id)) return;
    // A failure (the store unreachable) leaves it ungraded: the reader sees "not graded yet".
    await this.attemptEnded(info.attempt.id);
  }

  /** GET /attempts/:id/grade: the latest run with evidence, overrides, mentor score, final grade. */
  async review(actor: Principal, attemptId: string): Promise<AttemptGrade> {
    const info = await this.#info(attemptId);
    this.#assertCanRead(actor, info);
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
    const info = await this.#info(attemptId);
    this.#assertCanRead(actor, info);
    const { attempt } = info;
    return { kitId: attempt.kitId, from: attempt.startedAt, to: attempt.endedAt ?? Date.now() };
  }

  /** GET /attempts/:id/grades: every run, newest first. */
  async history(actor: Principal, attemptId: string): Promise<GradeRunSummary[]> {
    const info = await this.#info(attemptId);
    this.#assertCanRead(actor, info);
    await this.#ensureGraded(info);
    const rows = await this.#db.all<RunRow>(
      'SELECT * FROM grade_runs WHERE attempt_id = ? ORDER BY created_at DESC, id DESC',
      [attemptId],
    );
    return rows.map((row) => summarizeRun(toRun(row)));
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
    return this.#db.transaction(async (tx) => {
      const info = await this.#info(attemptId, tx);
      this.classes.assertManages(actor, info.cls);
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

  /** The mentor of the task's enterprise reading or scoring: 404 for others, 409 without a weight. */
  #assertMentor(actor: Person, info: AttemptInfo): void {
    if (
      actor.role !== 'mentor' ||
      !actor.organisationId ||
      info.task.organisationId !== actor.organisationId
    ) {
      throw notFound(info.attempt.id);
    }
  }

  async mentorScore(actor: Principal, attemptId: string): Promise<MentorScore> {
    const info = await this.#info(attemptId);
    this.#assertCanRead(actor, info);
    const score = await this.#mentorScore(attemptId);
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
    return this.#db.transaction(async (tx) => {
      const info = await this.#info(attemptId, tx);
      this.#assertMentor(actor, info);
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
      const before = await this.#mentorScore(attemptId, tx);
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
      const after = (await this.#mentorScore(attemptId, tx)) as MentorScore;
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

  // ---------------------------------------------------------------------------- assignments

  /** The staff of the assignment's class (admins, its instructor). */
  async assignmentForStaff(actor: Principal, assignmentId: string): Promise<Assignment> {
    const assignment = await this.assignments.assignmentOr404(assignmentId);
    this.#assertStaff(actor, await this.classes.classOr404(assignment.classId));
    return assignment;
  }

  async classForStaff(actor: Principal, classId: string): Promise<ClassInfo> {
    const cls = await this.classes.classOr404(classId);
    this.#assertStaff(actor, cls);
    return cls;
  }

  /** Every attempt of an assignment with its latest run, overrides, mentor score and final grade. */
  async #attemptsOf(assignment: Assignment, task: TaskInfo): Promise<AttemptData[]> {
    const attemptRows = await this.#db.all<AttemptRow>(
      'SELECT * FROM attempts WHERE assignment_id = ? ORDER BY session_id, started_at, id',
      [assignment.id],
    );
    // Automatic grading's safety net: ended attempts without a run are graded now.
    if (task.rubric.criteria.length > 0) {
      const graded = new Set(
        (
          await this.#db.all<{ attempt_id: string }>(
            `SELECT DISTINCT r.attempt_id FROM grade_runs r JOIN attempts at ON at.id = r.attempt_id
             WHERE at.assignment_id = ?`,
            [assignment.id],
          )
        ).map((row) => row.attempt_id),
      );
      const due = attemptRows.filter((row) => row.ended_at !== null && !graded.has(row.id));
      if (due.length > 0) {
        await this.#gradeBatch(
          due.map((row) => ({ id: row.id, sessionId: row.session_id })),
          'attempt-ended',
          null,
          true,
        );
      }
    }
    const runs = new Map<string, GradeRun>();
    for (const row of await this.#db.all<RunRow>(
      `SELECT r.* FROM grade_runs r JOIN attempts at ON at.id = r.attempt_id
       WHERE at.assignment_id = ?
         AND r.created_at = (SELECT MAX(r2.created_at) FROM grade_runs r2 WHERE r2.attempt_id = r.attempt_id)`,
      [assignment.id],
    )) {
      runs.set(row.attempt_id, toRun(row));
    }
    const overrides = new Map<string, GradeOverride[]>();
    for (const row of await this.#db.all<OverrideRow>(
      `${OVERRIDE_SELECT} JOIN attempts at ON at.id = o.attempt_id WHERE at.assignment_id = ?
       ORDER BY o.created_at DESC, o.id DESC`,
      [assignment.id],
    )) {
      const list = overrides.get(row.attempt_id) ?? [];
      list.push(toOverride(row));
      overrides.set(row.attempt_id, list);
    }
    const mentors = new Map<string, MentorScore>();
    for (const row of await this.#db.all<MentorRow>(
      `${MENTOR_SELECT} JOIN attempts at ON at.id = m.attempt_id WHERE at.assignment_id = ?`,
      [assignment.id],
    )) {
      mentors.set(row.attempt_id, toMentorScore(row));
    }
    return attemptRows.map((row) => {
      const run = runs.get(row.id) ?? null;
      const list = overrides.get(row.id) ?? [];
      const mentor = mentors.get(row.id) ?? null;
      return { attempt: toAttempt(row), run, overrides: list, mentor, ...gradeOf(task, run, list, mentor) };
    });
  }

  /** The students an assignment is for (targets still enrolled) and those with an attempt. */
  async #studentsOf(
    assignment: Assignment,
  ): Promise<{ id: string; displayName: string; studentNumber: string | null; username: string }[]> {
    return this.#db.all<{ id: string; displayName: string; studentNumber: string | null; username: string }>(
      `SELECT u.id, u.display_name AS displayName, u.student_number AS studentNumber, u.username
       FROM users u WHERE u.id IN (
         SELECT at.student_id FROM assignment_targets at
           JOIN class_members cm ON cm.user_id = at.student_id AND cm.class_id = ?
           WHERE at.assignment_id = ? AND at.student_id IS NOT NULL
         UNION
         SELECT tm.user_id FROM assignment_targets at JOIN team_members tm ON tm.team_id = at.team_id
           JOIN class_members cm ON cm.user_id = tm.user_id AND cm.class_id = ?
           WHERE at.assignment_id = ?
         UNION
         SELECT student_id FROM attempts WHERE assignment_id = ?)
       ORDER BY u.student_number, u.username`,
      [assignment.classId, assignment.id, assignment.classId, assignment.id, assignment.id],
    );
  }

  async #assignmentGrades(
    assignment: Assignment,
  ): Promise<{ grades: AssignmentGrades; attempts: AttemptData[]; counted: Map<string, AttemptData> }> {
    const task = await this.#task(assignment.taskId);
    if (!task)
      throw new ApiError(
        404,
        'TASK_NOT_FOUND',
        say(`no lab task ${assignment.taskId}`, `找不到实训任务 ${assignment.taskId}`),
      );
    const attempts = await this.#attemptsOf(assignment, task);
    const students = await this.#studentsOf(assignment);
    const teamRows = await this.#db.all<{ user_id: string; team_id: string; name: string }>(
      `SELECT tm.user_id, t.id AS team_id, t.name FROM teams t JOIN team_members tm ON tm.team_id = t.id
       WHERE t.class_id = ? ORDER BY t.name`,
      [assignment.classId],
    );
    const teamOf = new Map(teamRows.map((row) => [row.user_id, { id: row.team_id, name: row.name }]));
    const byStudent = new Map<string, AttemptData[]>();
    for (const data of attempts) {
      const list = byStudent.get(data.attempt.studentId) ?? [];
      list.push(data);
      byStudent.set(data.attempt.studentId, list);
    }
    const counted = new Map<string, AttemptData>();
    const rows: StudentGrade[] = students.map((student) => {
      const mine = byStudent.get(student.id) ?? [];
      // The best attempt: the highest final grade; the latest on a tie.
      let best: AttemptData | undefined;
      for (const data of mine) {
        if (data.final.score === null) continue;
        if (
          !best ||
          (data.final.score as number) > (best.final.score as number) ||
          (data.final.score === best.final.score && data.attempt.startedAt >= best.attempt.startedAt)
        ) {
          best = data;
        }
      }
      if (best) counted.set(student.id, best);
      const team = teamOf.get(student.id);
      return {
        studentId: student.id,
        studentNumber: student.studentNumber,
        displayName: student.displayName,
        teamId: team?.id ?? null,
        teamName: team?.name ?? null,
        attempts: mine.length,
        attemptId: best?.attempt.id ?? null,
        status: best ? best.final.status : mine.length > 0 ? 'not-graded' : 'no-attempt',
        autoScore: best?.final.autoScore ?? null,
        adjustments: best?.final.adjustments ?? [],
        adjustedScore: best?.final.adjustedScore ?? null,
        mentorScore: best?.final.mentorScore ?? null,
        score: best?.final.score ?? null,
        gradedAt: best?.run?.createdAt ?? null,
        criteria: Object.fromEntries((best?.criteria ?? []).map((c) => [c.id, c.score])),
      };
    });
    const teams = new Map<string, TeamGrade & { sum: number }>();
    for (const row of rows) {
      if (!row.teamId) continue;
      const team = teams.get(row.teamId) ?? {
        teamId: row.teamId,
        name: row.teamName ?? '',
        members: 0,
        graded: 0,
        score: null,
        provisional: false,
        sum: 0,
      };
      team.members++;
      if (row.score !== null) {
        team.graded++;
        team.sum += row.score;
        if (row.status === 'provisional') team.provisional = true;
      }
      teams.set(row.teamId, team);
    }
    const grades: AssignmentGrades = {
      assignment: {
        id: assignment.id,
        taskId: assignment.taskId,
        taskTitle: assignment.taskTitle,
        classId: assignment.classId,
        className: assignment.className,
        opensAt: assignment.opensAt,
        dueAt: assignment.dueAt,
      },
      mentorWeight: task.mentorWeight,
      policy: 'best',
      criteria: task.rubric.criteria.map((c) => ({
        id: c.id,
        title: localizedTitle(c.title, c.id),
        type: c.type,
        weight: c.weight,
      })),
      students: rows,
      teams: [...teams.values()]
        .map(({ sum, ...team }) => ({ ...team, score: team.graded > 0 ? round2(sum / team.graded) : null }))
        .sort((a, b) => naturalOrder(a.name, b.name)),
    };
    return { grades, attempts, counted };
  }

  /** GET /assignments/:id/grades: each student's grade (best attempt) and each team's mean. */
  async assignmentGrades(actor: Principal, assignmentId: string): Promise<AssignmentGrades> {
    const assignment = await this.assignmentForStaff(actor, assignmentId);
    return (await this.#assignmentGrades(assignment)).grades;
  }

  /** The grades of every assignment of a class, by due date (for the class export). */
  async classGrades(
    actor: Principal,
    classId: string,
  ): Promise<{ cls: ClassInfo; assignments: AssignmentGrades[] }> {
    const cls = await this.classForStaff(actor, classId);
    const out: AssignmentGrades[] = [];
    for (let offset = 0; ; offset += 200) {
      const { items, total } = await this.assignments.listAssignments({ classId, limit: 200, offset });
      for (const assignment of items) out.push((await this.#assignmentGrades(assignment)).grades);
      if (offset + items.length >= total || items.length === 0) break;
    }
    return { cls, assignments: out };
  }

  /** GET /assignments/:id/statistics: per criterion, over the graded attempts (overrides applied). */
  async statistics(actor: Principal, assignmentId: string): Promise<AssignmentStatistics> {
    const assignment = await this.assignmentForStaff(actor, assignmentId);
    const { grades, attempts, counted } = await this.#assignmentGrades(assignment);
    const graded = attempts.filter((data) => data.run !== null);
    const stats = new Map<string, CriterionStatistics & { sum: number }>();
    const fresh = (c: {
      id: string;
      title: ReviewedCriterion['title'];
      type: string;
      weight: number;
    }): CriterionStatistics & { sum: number } => ({
      criterionId: c.id,
      title: c.title,
      type: c.type,
      weight: c.weight,
      attemptsGraded: 0,
      attemptsPassed: 0,
      passRate: 0,
      meanScore: 0,
      meanPercent: 0,
      studentsGraded: 0,
      studentsFailed: 0,
      sum: 0,
    });
    const entry = (c: ReviewedCriterion) => {
      let s = stats.get(c.id);
      if (!s) {
        s = fresh(c);
        stats.set(c.id, s);
      }
      return s;
    };
    // The current rubric's criteria first, in its order.
    for (const c of grades.criteria) stats.set(c.id, fresh(c));
    for (const data of graded) {
      for (const c of data.criteria) {
        const s = entry(c);
        s.attemptsGraded++;
        if (c.passed) s.attemptsPassed++;
        s.sum += c.weight > 0 ? c.score / c.weight : 0;
        s.meanScore += c.score;
      }
    }
    for (const data of counted.values()) {
      for (const c of data.criteria) {
        const s = entry(c);
        s.studentsGraded++;
        if (!c.passed) s.studentsFailed++;
      }
    }
    const criteria = [...stats.values()].map(({ sum, ...s }) => ({
      ...s,
      passRate: s.attemptsGraded ? round2((100 * s.attemptsPassed) / s.attemptsGraded) : 0,
      meanScore: s.attemptsGraded ? round2(s.meanScore / s.attemptsGraded) : 0,
      meanPercent: s.attemptsGraded ? round2((100 * sum) / s.attemptsGraded) : 0,
    }));
    let mostFailed: AssignmentStatistics['mostFailed'] = null;
    for (const s of criteria) {
      if (s.studentsFailed === 0) continue;
      if (
        !mostFailed ||
        s.studentsFailed > mostFailed.studentsFailed ||
        (s.studentsFailed === mostFailed.studentsFailed && s.passRate < mostFailed.passRate)
      ) {
        mostFailed = {
          criterionId: s.criterionId,
          title: s.title,
          studentsFailed: s.studentsFailed,
          passRate: s.passRate,
        };
      }
    }
    return {
      assignmentId: assignment.id,
      taskId: assignment.taskId,
      attemptsGraded: graded.length,
      studentsGraded: counted.size,
      criteria,
      mostFailed,
    };
  }
}
