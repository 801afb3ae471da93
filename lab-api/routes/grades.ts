/**
 * Grades: grading attempts over the telemetry store, review with evidence, overrides, the
 * enterprise mentor's score, re-grading after a rubric change, grades per assignment and class,
 * exports (CSV, XLSX) and per-criterion statistics. The rules are in lab-api/grades/.
 * Attempts are graded automatically when they end (lab-api/auto-grading.ts).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import {
  AssignmentGrades,
  AssignmentStatistics,
  AttemptGrade,
  ExportQuery,
  MentorScore,
  MentorScoreBody,
  OverrideBody,
  RegradeBody,
  RegradeReport,
  RunHistory,
  Telemetry,
  TelemetryQuery,
} from '../../contract/index.ts';
import { DEFAULT_TIME_ZONE, type LabContext } from '../app.ts';
import { requestLang } from '../errors.ts';
import {
  attachment,
  CONTENT_TYPES,
  type HeaderLanguage,
  MAX_REASON,
  SHEETS,
  studentTable,
  teamTable,
  toCsv,
  toXlsx,
} from '../grades/index.ts';
import {
  bodyMayBeEmpty,
  caller,
  currentPerson,
  Download,
  errors,
  expectedVersion,
  IdParams,
  STAFF,
  sendVersioned,
} from '../http.ts';
import { readTelemetry } from './kits.ts';

const READERS = { roles: ['admin', 'instructor', 'mentor', 'student'], services: true } as const;

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
        response: { 200: Telemetry, ...errors(403, 404) },
      },
    },
    async (request) => {
      const window = await grades.reviews.attemptWindow(caller(request), request.params.id);
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
        response: { 200: AttemptGrade, ...errors(403, 404, 409) },
      },
    },
    async (request) => grades.reviews.gradeAsStaff(caller(request), request.params.id),
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
        response: { 200: AttemptGrade, ...errors(403, 404) },
      },
    },
    async (request) => {
      const review = await grades.reviews.review(caller(request), request.params.id);
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
        response: { 200: RunHistory, ...errors(403, 404) },
      },
    },
    async (request) => ({
      items: await grades.reviews.history(caller(request), request.params.id),
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
        body: OverrideBody,
        response: { 201: AttemptGrade, ...errors(400, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const review = await grades.reviews.override(currentPerson(request), request.params.id, request.body);
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
        response: { 200: MentorScore, ...errors(403, 404) },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await grades.reviews.mentorScore(caller(request), request.params.id)),
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
        body: MentorScoreBody,
        response: { 200: MentorScore, ...errors(400, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => {
      const version = request.headers['if-match'] === undefined ? null : expectedVersion(request);
      const saved = await grades.reviews.setMentorScore(
        currentPerson(request),
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
        body: RegradeBody,
        response: { 200: RegradeReport, ...errors(404, 409) },
      },
    },
    async (request) =>
      grades.runs.regradeTask(currentPerson(request), request.params.id, {
        force: request.body.force ?? false,
        lang: requestLang(request),
      }),
  );

  app.get(
    '/assignments/:id/grades',
    {
      config: { access: STAFF },
      schema: {
        summary: "Each student's grade (their best attempt) and each team's (mean of its graded members)",
        tags: ['grades'],
        params: IdParams,
        response: { 200: AssignmentGrades, ...errors(403, 404) },
      },
    },
    async (request) => grades.reports.assignmentGrades(currentPerson(request), request.params.id),
  );

  app.get(
    '/assignments/:id/statistics',
    {
      config: { access: STAFF },
      schema: {
        summary: 'Per criterion: attempts graded, pass rate, mean score; the criterion most students fail',
        tags: ['grades'],
        params: IdParams,
        response: { 200: AssignmentStatistics, ...errors(403, 404) },
      },
    },
    async (request) => grades.reports.statistics(currentPerson(request), request.params.id),
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

  const file = { 200: Download, ...errors(403, 404) };

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
        const grade = await grades.reports.assignmentGrades(currentPerson(request), request.params.id);
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
        const { cls, assignments } = await grades.reports.classGrades(
          currentPerson(request),
          request.params.id,
        );
        return send(reply, format, `grades-${cls.name}`, assignments, language(request.query), true);
      },
    );
  }
};
