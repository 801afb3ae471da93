/**
 * Grading runs: the grading engine (grading/) run over the telemetry store for an attempt's
 * window, with the authenticity checks' inputs (the student's previous attempt, the session's
 * other kits), kept as runs (every run stays, audited); automatic grading of ended attempts, and
 * re-grading a task's attempts after its rubric changed.
 */
import { randomUUID } from 'node:crypto';
import {
  type GradeOptions,
  gradingDataOf,
  loadGradingData,
  loadKitSeries,
  rubricSensors,
  gradeAttempt as runRubric,
  type SeriesSet,
  type TimeWindow,
} from '../../grading/index.ts';
import type { SqlValue } from '../../labdb/index.ts';
import type { TelemetryStore } from '../../telemetry/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person, Principal } from '../auth.ts';
import type { AttemptRow } from '../classes/index.ts';
import { ApiError, type Lang, type Localized, say } from '../errors.ts';
import { localizedTitle } from '../rubric.ts';
import { round2 } from './final-grade.ts';
import { type GradeRecords, summarizeRun } from './records.ts';
import type { AttemptInfo, GradeReason, GradeRun, RegradeReport, RunResult, SeriesCache } from './types.ts';

/** Who graded when no person or service asked: the platform's automatic grading. */
const AUTOMATIC_GRADING: Principal = { kind: 'service', name: 'automatic-grading' };

/**
 * A session's attempts graded in one batch: each kit is read once, over the session's span (and
 * the attempt's window, should it reach past it), with every series an attempt of the batch reads
 * (`names`: the rubric's and the authenticity-checked sensors), for its own attempt and as a peer.
 */
interface SessionBatch {
  cache: SeriesCache;
  sessionId: string;
  span: TimeWindow;
  names: readonly string[];
}

/** The span each batch load covers, by its cache entry. */
const loadedSpans = new WeakMap<Promise<SeriesSet>, TimeWindow>();

/** `names` of a loaded set, in the order given (as `loadGradingData(…).series` has them). */
function pickSeries(loaded: SeriesSet, names: readonly string[]): SeriesSet {
  const series: Record<string, SeriesSet[string]> = {};
  for (const name of new Set(names)) series[name] = loaded[name] ?? [];
  return series;
}

function actorName(actor: Principal | null): string {
  if (!actor) return 'system';
  return actor.kind === 'user' ? actor.id : `service:${actor.name}`.slice(0, 64);
}

/** Grading attempts and keeping the runs. */
export class GradingRuns {
  readonly #records: GradeRecords;
  readonly #store: TelemetryStore;
  /** Attempts automatic grading failed on, and when (retried after a while). */
  readonly #failed = new Map<string, number>();

  constructor(records: GradeRecords, store: TelemetryStore) {
    this.#records = records;
    this.#store = store;
  }

  /**
   * A kit's series in a batch, read on first use and shared by the session's attempts; undefined
   * when the span read does not hold `window` (then read on its own, as alone).
   */
  #batchSeries(batch: SessionBatch, kitId: string, window: TimeWindow): Promise<SeriesSet> | undefined {
    const key = `${batch.sessionId}|${kitId}|${batch.names.join(',')}`;
    let loaded = batch.cache.get(key);
    if (!loaded) {
      const read = loadKitSeries(this.#store, kitId, batch.span, batch.names);
      loaded = read;
      loadedSpans.set(read, batch.span);
      batch.cache.set(key, read);
      // A failed read is not kept: the next attempt of the batch reads again.
      read.catch(() => {
        if (batch.cache.get(key) === read) batch.cache.delete(key);
      });
    }
    const span = loadedSpans.get(loaded);
    return span && span.from <= window.from && window.to <= span.to ? loaded : undefined;
  }

  /** The session's span, stretched to hold the attempt's window. */
  async #sessionSpan(sessionId: string, window: TimeWindow): Promise<TimeWindow> {
    const session = await this.#records.assignments.sessions.sessionById(sessionId);
    if (!session) return window;
    return {
      from: Math.min(session.startedAt, window.from),
      to: Math.max(session.endedAt ?? Date.now(), window.to),
    };
  }

  /**
   * The authenticity checks' other inputs: the student's previous attempt (a replay of it) and
   * the other kits of the same lab session (a copy of their stream), on the sensors checked.
   */
  async #authenticityInputs(
    info: AttemptInfo,
    window: TimeWindow,
    sensors: readonly string[],
    batch: SessionBatch | undefined,
  ): Promise<Pick<GradeOptions, 'previous' | 'peers'>> {
    const { attempt } = info;
    const options: Pick<GradeOptions, 'previous' | 'peers'> = {};
    if (sensors.length === 0) return options;
    const previous = await this.#records.db.get<AttemptRow>(
      `SELECT * FROM attempts WHERE student_id = ? AND id <> ? AND ended_at IS NOT NULL AND started_at < ?
       ORDER BY started_at DESC, id DESC LIMIT 1`,
      [attempt.studentId, attempt.id, attempt.startedAt],
    );
    if (previous?.ended_at != null) {
      const span = { from: previous.started_at, to: previous.ended_at };
      const loaded =
        previous.session_id === batch?.sessionId && this.#batchSeries(batch, previous.kit_id, span);
      const data = loaded
        ? gradingDataOf(await loaded, span, sensors)
        : await loadGradingData(this.#store, previous.kit_id, span, sensors);
      options.previous = { series: data.series };
    }
    if (attempt.sessionId) {
      const others = await this.#records.db.all<{ kit_id: string }>(
        `SELECT DISTINCT kit_id FROM attempts WHERE session_id = ? AND kit_id <> ? AND started_at < ?
           AND (ended_at IS NULL OR ended_at > ?) ORDER BY kit_id`,
        [attempt.sessionId, attempt.kitId, window.to, window.from],
      );
      if (others.length > 0) {
        // In a batch, each kit is read once over the whole session; alone, over this window.
        // Grading cuts a peer's series to the window: the same flags either way.
        const peers: Record<string, SeriesSet> = {};
        for (const { kit_id: kitId } of others) {
          const loaded = batch && this.#batchSeries(batch, kitId, window);
          peers[kitId] = loaded
            ? pickSeries(await loaded, sensors)
            : (await loadGradingData(this.#store, kitId, window, sensors)).series;
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
    const explicit = rubric.criteria.flatMap((c) =>
      c.type === 'authenticity' ? (c.params?.sensors ?? []) : [],
    );
    const checked = [
      ...new Set([...explicit, ...(task.requiredSensors.length ? task.requiredSensors : sensors)]),
    ].sort();
    // In a batch, the kit's series are read once for the session and cut to this window.
    const batch: SessionBatch | undefined =
      cache && attempt.sessionId
        ? {
            cache,
            sessionId: attempt.sessionId,
            span: await this.#sessionSpan(attempt.sessionId, window),
            names: [...new Set([...sensors, ...checked])].sort(),
          }
        : undefined;
    const own = batch && this.#batchSeries(batch, attempt.kitId, window);
    const data = own
      ? gradingDataOf(await own, window, sensors)
      : await loadGradingData(this.#store, attempt.kitId, window, sensors);
    const options: GradeOptions = {
      ...(await this.#authenticityInputs(info, window, checked, batch)),
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
    const info = await this.#records.info(attemptId);
    if (options.ifUngraded) {
      const existing = await this.#records.latestRun(attemptId);
      if (existing) return existing;
    }
    const { result, autoScore } = await this.#evaluate(info, options.cache);
    return this.#records.db.transaction(async (tx) => {
      const last = await this.#records.latestRun(attemptId, tx);
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
    const rows = await this.#records.db.all<{ id: string; session_id: string | null }>(
      `SELECT at.id, at.session_id FROM attempts at
       WHERE at.ended_at IS NOT NULL AND at.ended_at <= ? AND at.ended_at > ?
         AND NOT EXISTS (SELECT 1 FROM grade_runs r WHERE r.attempt_id = at.id)
       ORDER BY at.session_id NULLS FIRST, at.ended_at`,
      [now - settleMs, now - lookbackMs],
    );
    for (const [id, at] of this.#failed) if (now - at > retryAfterMs) this.#failed.delete(id);
    const due = rows.filter((row) => !this.#failed.has(row.id)).slice(0, max);
    return this.gradeBatch(
      due.map((row) => ({ id: row.id, sessionId: row.session_id })),
      'attempt-ended',
      null,
      true,
    ).then((report) => report.graded.length);
  }

  /**
   * Grades attempts one by one; the attempts of a session (in a row) share its kits' series, each
   * kit read once for its own attempt and as the others' peer.
   */
  async gradeBatch(
    attempts: readonly { id: string; sessionId: string | null }[],
    reason: GradeReason,
    actor: Principal | null,
    ifUngraded: boolean,
  ): Promise<{ graded: GradeRun[]; failed: GradingFailure[] }> {
    const graded: GradeRun[] = [];
    const failed: GradingFailure[] = [];
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
        failed.push(gradingFailure(attempt.id, error));
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
    options: { force?: boolean; lang?: Lang } = {},
  ): Promise<RegradeReport> {
    const task = await this.#records.task(taskId);
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
    const rows = await this.#records.db.all<{
      id: string;
      session_id: string | null;
      version: number | null;
    }>(
      `SELECT at.id, at.session_id,
         (SELECT r.task_version FROM grade_runs r WHERE r.attempt_id = at.id ORDER BY r.created_at DESC LIMIT 1) AS version
       FROM attempts at JOIN assignments a ON a.id = at.assignment_id JOIN classes c ON c.id = a.class_id
       WHERE a.task_id = ? AND at.ended_at IS NOT NULL ${scope}
       ORDER BY at.session_id NULLS FIRST, at.started_at, at.id`,
      params,
    );
    const skipped = rows.filter((row) => !options.force && row.version === task.version).map((row) => row.id);
    const due = rows.filter((row) => options.force || row.version !== task.version);
    const previous = new Map<string, number>();
    for (const row of due) {
      const run = await this.#records.db.get<{ auto_score: number }>(
        'SELECT auto_score FROM grade_runs WHERE attempt_id = ? ORDER BY created_at DESC LIMIT 1',
        [row.id],
      );
      if (run) previous.set(row.id, run.auto_score);
    }
    const { graded, failed } = await this.gradeBatch(
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
      failed: failed.map(({ attemptId, code, text }) => ({
        attemptId,
        code,
        message: text[options.lang ?? 'en'],
      })),
    };
    if (rows.length === 0) return report;
    await this.#records.db.transaction((tx) =>
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
          // Why each failed, in the words of the error: for whoever looks into it.
          ...(failed.length > 0
            ? { failures: failed.map(({ attemptId, code, error }) => ({ attemptId, code, error })) }
            : {}),
        },
      }),
    );
    return report;
  }
}

/** An attempt a batch could not grade: a code for programs, a sentence in both languages for people. */
export interface GradingFailure {
  attemptId: string;
  code: string;
  text: Localized;
  /** The error as thrown, for the audit log. */
  error: string;
}

function gradingFailure(attemptId: string, error: unknown): GradingFailure {
  if (error instanceof ApiError)
    return { attemptId, code: error.code, text: error.text, error: error.message };
  // An unexpected failure (the store did not answer, …): its own words are for the log.
  return {
    attemptId,
    code: 'GRADING_FAILED',
    text: say(
      'could not be graded: reading its telemetry or grading it failed (the audit log of this regrade says why); try again later',
      '无法评分：读取或评估遥测数据时出错（原因见本次重新评分的审计日志），请稍后重试',
    ),
    error: (error as Error).message,
  };
}
