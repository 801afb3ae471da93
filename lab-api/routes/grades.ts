/**
 * Grades: grading attempts over the telemetry store, review with evidence, overrides, the
 * enterprise mentor's score, re-grading after a rubric change, grades per assignment and class,
 * exports (CSV, XLSX) and per-criterion statistics. The rules are in lab-api/grades.ts.
 * Attempts are graded automatically when they end (lab-api/auto-grading.ts).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_TIME_ZONE, type LabContext } from '../app.ts';
import { currentUser, type Principal } from '../auth.ts';
import { ApiError, say } from '../errors.ts';
import {
  attachment,
  CONTENT_TYPES,
  type HeaderLanguage,
  SHEETS,
  studentTable,
  teamTable,
  toCsv,
  toXlsx,
} from '../export.ts';
import { type AssignmentGrades, MAX_REASON } from '../grades.ts';
import { ErrorResponse, expectedVersion, sendVersioned } from '../http.ts';
import { CriterionTitle } from '../rubric.ts';
import { Nullable } from './classes.ts';
import { readTelemetry, TelemetryQuery } from './kits.ts';

const Id = Type.String({ format: 'uuid' });
const IdParams = Type.Object({ id: Id });
const Localized = Type.Object({ 'zh-CN': Type.String(), en: Type.String() });
const Window = Type.Object({ from: Type.Number(), to: Type.Number() });
const Evidence = Type.Object({
  measured: Type.Record(Type.String(), Nullable(Type.Number()), { description: 'the numbers, for programs' }),
  summary: Type.Optional({
    ...Localized,
    description: 'the same numbers as sentences with units, for people (grades made before it have none)',
  }),
  spans: Type.Array(
    Type.Object({
      from: Type.Number(),
      to: Type.Number(),
      ok: Type.Boolean(),
      note: Type.Optional(Type.String()),
    }),
  ),
});

const OverrideSchema = Type.Object({
  id: Id,
  attemptId: Id,
  criterionId: Type.String(),
  score: Type.Number(),
  reason: Type.String(),
  createdBy: Type.String(),
  createdByName: Nullable(Type.String()),
  createdAt: Type.Integer(),
});

const MentorScoreSchema = Type.Object({
  attemptId: Id,
  score: Type.Number(),
  comment: Type.String(),
  mentorId: Type.String(),
  mentorName: Nullable(Type.String()),
  updatedAt: Type.Integer(),
  version: Type.Integer(),
});

const Reason = Type.Union([
  Type.Literal('attempt-ended'),
  Type.Literal('manual'),
  Type.Literal('rubric-changed'),
]);

const RunSummarySchema = Type.Object({
  id: Id,
  attemptId: Id,
  taskVersion: Type.Integer(),
  reason: Reason,
  autoScore: Type.Number({ description: 'points out of 100 from telemetry, before overrides' }),
  createdAt: Type.Integer(),
  createdBy: Type.String(),
  window: Window,
  total: Type.Number(),
  maxTotal: Type.Number(),
  criteria: Type.Array(
    Type.Object({ id: Type.String(), weight: Type.Number(), score: Type.Number(), passed: Type.Boolean() }),
  ),
  flagCount: Type.Integer(),
});

const Status = Type.Union([Type.Literal('not-graded'), Type.Literal('provisional'), Type.Literal('final')]);

const AdjustmentSchema = Type.Object({
  criterionId: Type.String(),
  title: Localized,
  weight: Type.Number(),
  autoScore: Type.Number({ description: "the criterion's points from the telemetry" }),
  score: Type.Number({ description: 'the points that count instead' }),
  reason: Type.String(),
  by: Type.String(),
  byName: Nullable(Type.String()),
  at: Type.Integer(),
});

const FinalSchema = Type.Object({
  status: Status,
  autoScore: Nullable(
    Type.Number({ description: 'points out of 100 the telemetry earned, before any adjustment' }),
  ),
  adjustments: Type.Array(AdjustmentSchema, {
    description: "instructors' changes to criteria: what, who, why",
  }),
  adjustedScore: Nullable(
    Type.Number({ description: 'the auto score with the adjustments applied (out of 100)' }),
  ),
  mentorWeight: Type.Number(),
  mentorScore: Nullable(Type.Number()),
  score: Nullable(Type.Number()),
  explanation: Localized,
});

/** A running attempt's live grading state, as its review shows it (the same as the live stream's). */
const LiveSchema = Type.Object({
  evaluatedAt: Type.Integer(),
  lastReadingAt: Nullable(Type.Integer()),
  score: Type.Number(),
  maxScore: Type.Number(),
  passed: Type.Boolean(),
  criteria: Type.Array(
    Type.Object({
      id: Type.String(),
      type: Type.String(),
      title: CriterionTitle,
      weight: Type.Number(),
      score: Type.Number(),
      passed: Type.Boolean(),
      pending: Type.Boolean(),
      explanation: Localized,
      waitingFor: Nullable(Localized),
    }),
  ),
});

const AttemptGradeSchema = Type.Object({
  attempt: Type.Object({
    id: Id,
    assignmentId: Id,
    sessionId: Nullable(Id),
    studentId: Id,
    teamId: Nullable(Id),
    kitId: Type.String(),
    startedAt: Type.Integer(),
    endedAt: Nullable(Type.Integer()),
  }),
  task: Type.Object({
    id: Id,
    title: Type.String(),
    version: Type.Integer(),
    mentorWeight: Type.Number(),
    organisationId: Nullable(Type.String()),
  }),
  classId: Id,
  run: Nullable(RunSummarySchema),
  outdated: Type.Boolean({ description: 'graded with an earlier version of the task (re-grade to update)' }),
  criteria: Type.Array(
    Type.Object({
      id: Type.String(),
      title: Localized,
      type: Type.String(),
      weight: Type.Number(),
      score: Type.Number({ description: 'the score that counts (override applied)' }),
      passed: Type.Boolean(),
      autoScore: Type.Number(),
      autoPassed: Type.Boolean(),
      evidence: Evidence,
      explanation: Localized,
      override: Nullable(OverrideSchema),
    }),
  ),
  flags: Type.Array(
    Type.Object({
      kind: Type.String(),
      sensor: Type.String(),
      source: Type.Optional(Type.String()),
      evidence: Evidence,
      explanation: Localized,
    }),
  ),
  overrides: Type.Array(OverrideSchema),
  mentorScore: Nullable(MentorScoreSchema),
  final: FinalSchema,
  live: Type.Optional(
    Nullable({
      ...LiveSchema,
      description: 'while the attempt runs: its live grading so far (null when none runs in this process)',
    }),
  ),
});

const AssignmentGradesSchema = Type.Object({
  assignment: Type.Object({
    id: Id,
    taskId: Id,
    taskTitle: Type.String(),
    classId: Id,
    className: Type.String(),
    opensAt: Type.Integer(),
    dueAt: Type.Integer(),
  }),
  mentorWeight: Type.Number(),
  policy: Type.Literal('best', { description: "a student's grade is their best attempt's" }),
  criteria: Type.Array(
    Type.Object({ id: Type.String(), title: Localized, type: Type.String(), weight: Type.Number() }),
  ),
  students: Type.Array(
    Type.Object({
      studentId: Id,
      studentNumber: Nullable(Type.String()),
      displayName: Type.String(),
      teamId: Nullable(Id),
      teamName: Nullable(Type.String()),
      attempts: Type.Integer(),
      attemptId: Nullable(Id),
      status: Type.Union([Status, Type.Literal('no-attempt')]),
      autoScore: Nullable(Type.Number()),
      adjustments: Type.Array(AdjustmentSchema),
      adjustedScore: Nullable(Type.Number()),
      mentorScore: Nullable(Type.Number()),
      score: Nullable(Type.Number()),
      gradedAt: Nullable(Type.Integer()),
      criteria: Type.Record(Type.String(), Type.Number()),
    }),
  ),
  teams: Type.Array(
    Type.Object({
      teamId: Id,
      name: Type.String(),
      members: Type.Integer(),
      graded: Type.Integer(),
      score: Nullable(Type.Number()),
      provisional: Type.Boolean(),
    }),
  ),
});

const StatisticsSchema = Type.Object({
  assignmentId: Id,
  taskId: Id,
  attemptsGraded: Type.Integer(),
  studentsGraded: Type.Integer(),
  criteria: Type.Array(
    Type.Object({
      criterionId: Type.String(),
      title: Localized,
      type: Type.String(),
      weight: Type.Number(),
      attemptsGraded: Type.Integer(),
      attemptsPassed: Type.Integer(),
      passRate: Type.Number({ description: '% of graded attempts that passed' }),
      meanScore: Type.Number(),
      meanPercent: Type.Number({ description: 'mean score / weight, in %' }),
      studentsGraded: Type.Integer(),
      studentsFailed: Type.Integer(),
    }),
  ),
  mostFailed: Nullable(
    Type.Object({
      criterionId: Type.String(),
      title: Localized,
      studentsFailed: Type.Integer(),
      passRate: Type.Number(),
    }),
  ),
});

const RegradeSchema = Type.Object({
  taskId: Id,
  taskVersion: Type.Integer(),
  regraded: Type.Array(
    Type.Object({
      attemptId: Id,
      runId: Id,
      autoScore: Type.Number(),
      previousAutoScore: Nullable(Type.Number()),
    }),
  ),
  skipped: Type.Array(Id),
  failed: Type.Array(Type.Object({ attemptId: Id, message: Type.String() })),
});

const ExportQuery = Type.Object({
  headers: Type.Optional(
    Type.Union([Type.Literal('en'), Type.Literal('zh'), Type.Literal('zh-CN')], {
      description:
        'column headers: en (default) or zh (学号, 姓名, 小组, 任务, 自动评分, 企业导师评分, 最终成绩, …)',
    }),
  ),
});

const READERS = { roles: ['admin', 'instructor', 'mentor', 'student'], services: true } as const;
const STAFF = { roles: ['admin', 'instructor'] } as const;
const errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, ErrorResponse]));

/** For POSTs whose body is all optional: no body at all means `{}`. */
async function bodyMayBeEmpty(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

/** Whoever called: access control let only signed-in people and services through. */
function caller(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError(401, 'AUTH_REQUIRED', say('sign in first', '请先登录'));
  return request.principal;
}

export const gradesRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { grades } = ctx;
  const timeZone = ctx.deps.timeZone ?? DEFAULT_TIME_ZONE;

  app.get(
    '/attempts/:id/telemetry',
    {
      config: { access: READERS },
      schema: {
        summary: "An attempt's readings of one sensor, within its window (whoever may read its grade)",
        description:
          'The same answer as GET /kits/:kitId/telemetry, cut to the attempt (from its start to its end, or now ' +
          'while it runs); without from/to, the whole attempt. The enterprise mentors of the task read it here.',
        tags: ['grades'],
        params: IdParams,
        querystring: TelemetryQuery,
      },
    },
    async (request) => {
      const window = await grades.attemptWindow(caller(request), request.params.id);
      return readTelemetry(ctx.deps.store, window.kitId, request.query, window, () => window);
    },
  );

  app.post(
    '/attempts/:id/grade',
    {
      config: { access: { roles: ['admin', 'instructor'], services: 'grade' } },
      schema: {
        summary: "Grade an attempt now from its kit's telemetry (staff of the class, services)",
        description:
          "Evaluates the task's current rubric over the attempt's window (to now while it runs) and " +
          'keeps the run; earlier runs stay in GET /attempts/:id/grades. Attempts are also graded ' +
          'automatically once they end. RUBRIC_EMPTY: the task has no criteria.',
        tags: ['grades'],
        params: IdParams,
        response: { 200: AttemptGradeSchema, ...errors(403, 404, 409) },
      },
    },
    async (request) => grades.gradeAsStaff(caller(request), request.params.id),
  );

  app.get(
    '/attempts/:id/grade',
    {
      config: { access: READERS },
      schema: {
        summary:
          "An attempt's grade: evidence and explanations per criterion, overrides, mentor score, final grade",
        description:
          'Its student, the staff of its class, mentors of the enterprise whose project the task is in, ' +
          'services. Final = auto score (overrides applied) × (100 − mentorWeight) % + mentor score × ' +
          'mentorWeight %; provisional while a weighted mentor score is missing (it counts as 0 until then). ' +
          'Authenticity flags are shown to assessors, not to students.',
        tags: ['grades'],
        params: IdParams,
        response: { 200: AttemptGradeSchema, ...errors(403, 404) },
      },
    },
    async (request) => {
      const review = await grades.review(caller(request), request.params.id);
      if (review.attempt.endedAt !== null) return review;
      // Running: what live grading says so far (the final grade comes when it ends).
      return { ...review, live: ctx.deps.liveGrading?.current(review.attempt.id) ?? null };
    },
  );

  app.get(
    '/attempts/:id/grades',
    {
      config: { access: READERS },
      schema: {
        summary: 'Every grading run of an attempt, newest first (history across rubric changes)',
        tags: ['grades'],
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(RunSummarySchema) }), ...errors(403, 404) },
      },
    },
    async (request) => ({
      items: await grades.history(caller(request), request.params.id),
    }),
  );

  app.post(
    '/attempts/:id/overrides',
    {
      config: { access: STAFF },
      schema: {
        summary:
          "Override one criterion's score, with the reason (instructors of the class, admins; audited)",
        description:
          `score: 0..the criterion's weight; reason: required, ≤ ${MAX_REASON} characters. The latest ` +
          'override of a criterion applies (also after a re-grade, as long as the criterion exists). ' +
          'Refusals: REASON_REQUIRED, REASON_TOO_LONG, CRITERION_REQUIRED, UNKNOWN_CRITERION, ' +
          'SCORE_OUT_OF_RANGE (400), NOT_GRADED (409).',
        tags: ['grades'],
        params: IdParams,
        body: Type.Object(
          {
            criterionId: Type.Optional(Type.String({ maxLength: 64 })),
            score: Type.Number(),
            reason: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
        response: { 201: AttemptGradeSchema, ...errors(400, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const review = await grades.override(currentUser(request), request.params.id, request.body);
      return reply.status(201).send(review);
    },
  );

  app.get(
    '/attempts/:id/mentor-score',
    {
      config: { access: READERS },
      schema: {
        summary: "The enterprise mentor's score of an attempt (ETag: send it in If-Match to change it)",
        tags: ['grades'],
        params: IdParams,
        response: { 200: MentorScoreSchema, ...errors(403, 404) },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await grades.mentorScore(caller(request), request.params.id)),
  );

  app.put(
    '/attempts/:id/mentor-score',
    {
      config: { access: { roles: ['mentor'] } },
      schema: {
        summary:
          "The enterprise mentor scores an attempt 0–100 (the task's mentorWeight share; If-Match to change)",
        description:
          'A mentor of the enterprise whose project the task is in. The first score needs no If-Match (or ' +
          'If-Match "0"); changing it needs the ETag read. NO_MENTOR_COMPONENT: the task has mentorWeight 0. Audited.',
        tags: ['grades'],
        params: IdParams,
        body: Type.Object(
          {
            score: Type.Number({ minimum: 0, maximum: 100 }),
            comment: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: MentorScoreSchema, ...errors(400, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => {
      const version = request.headers['if-match'] === undefined ? null : expectedVersion(request);
      const saved = await grades.setMentorScore(
        currentUser(request),
        request.params.id,
        version,
        request.body,
      );
      return sendVersioned(reply, saved);
    },
  );

  app.post(
    '/tasks/:id/regrade',
    {
      preValidation: bodyMayBeEmpty,
      config: { access: STAFF },
      schema: {
        summary:
          "Re-grade every ended attempt of a task's assignments with its current rubric (history kept)",
        description:
          'In the classes you teach (an admin: all). Attempts already graded with the current version of ' +
          'the task are skipped unless force is true. Each new run has reason rubric-changed.',
        tags: ['grades'],
        params: IdParams,
        body: Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: RegradeSchema, ...errors(404, 409) },
      },
    },
    async (request) =>
      grades.regradeTask(currentUser(request), request.params.id, { force: request.body.force ?? false }),
  );

  app.get(
    '/assignments/:id/grades',
    {
      config: { access: STAFF },
      schema: {
        summary: "Each student's grade (their best attempt) and each team's (mean of its graded members)",
        tags: ['grades'],
        params: IdParams,
        response: { 200: AssignmentGradesSchema, ...errors(403, 404) },
      },
    },
    async (request) => grades.assignmentGrades(currentUser(request), request.params.id),
  );

  app.get(
    '/assignments/:id/statistics',
    {
      config: { access: STAFF },
      schema: {
        summary: 'Per criterion: attempts graded, pass rate, mean score; the criterion most students fail',
        tags: ['grades'],
        params: IdParams,
        response: { 200: StatisticsSchema, ...errors(403, 404) },
      },
    },
    async (request) => grades.statistics(currentUser(request), request.params.id),
  );

  const language = (query: { headers?: string | undefined }): HeaderLanguage =>
    query.headers?.startsWith('zh') ? 'zh' : 'en';

  async function send(
    reply: FastifyReply,
    format: 'csv' | 'xlsx',
    name: string,
    list: AssignmentGrades[],
    lang: HeaderLanguage,
    withClass: boolean,
  ) {
    const body =
      format === 'csv'
        ? toCsv(studentTable(list, { lang, timeZone, withClass }), lang)
        : await toXlsx(
            [
              { name: SHEETS.students, table: studentTable(list, { lang, timeZone, withClass }) },
              { name: SHEETS.teams, table: teamTable(list, lang) },
            ],
            lang,
          );
    return reply
      .header('content-type', CONTENT_TYPES[format])
      .header('content-disposition', attachment(name, format))
      .header('cache-control', 'no-store')
      .send(body);
  }

  const file = {
    200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }),
    ...errors(403, 404),
  } as Record<number, TSchema>;

  for (const format of ['csv', 'xlsx'] as const) {
    app.get(
      `/assignments/:id/grades.${format}`,
      {
        config: { access: STAFF },
        schema: {
          summary: `An assignment's grades as ${format.toUpperCase()} (headers=zh for Chinese column headers)`,
          description:
            format === 'csv'
              ? 'UTF-8 with a byte-order mark (Excel opens it as UTF-8), one row per student, a column per criterion.'
              : 'Two sheets: students (a column per criterion) and teams.',
          tags: ['grades'],
          params: IdParams,
          querystring: ExportQuery,
          produces: [CONTENT_TYPES[format]],
          response: file,
        },
      },
      async (request, reply) => {
        const grade = await grades.assignmentGrades(currentUser(request), request.params.id);
        const name = `grades-${grade.assignment.className}-${grade.assignment.taskTitle}`;
        return send(reply, format, name, [grade], language(request.query), false);
      },
    );

    app.get(
      `/classes/:id/grades.${format}`,
      {
        config: { access: STAFF },
        schema: {
          summary: `A class's grades over all its assignments as ${format.toUpperCase()} (headers=zh for Chinese headers)`,
          description:
            format === 'csv'
              ? 'UTF-8 with a byte-order mark, one row per student and assignment.'
              : 'Two sheets: students (one row per student and assignment) and teams.',
          tags: ['grades'],
          params: IdParams,
          querystring: ExportQuery,
          produces: [CONTENT_TYPES[format]],
          response: file,
        },
      },
      async (request, reply) => {
        const { cls, assignments } = await grades.classGrades(currentUser(request), request.params.id);
        return send(reply, format, `grades-${cls.name}`, assignments, language(request.query), true);
      },
    );
  }
};
