import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import {
  Assignment,
  AssignmentChanges,
  AssignmentQuery,
  Attempt,
  AttemptQuery,
  EndedSession,
  LabSession,
  MyAttemptQuery,
  NewAssignmentBody,
  NewAttemptBody,
  NewSessionBody,
} from '../../contract/index.ts';
import type { LabContext } from '../app.ts';
import type { Person } from '../auth.ts';
import { Assignments, Classes } from '../classes/index.ts';
import { ApiError, say } from '../errors.ts';
import {
  bodyMayBeEmpty,
  currentPerson,
  errors,
  expectedVersion,
  IdParams,
  Page,
  PageQuery,
  page,
  personOrService,
  STAFF,
  STUDENTS,
  sendVersioned,
} from '../http.ts';

const toMs = (value: number | string): number => (typeof value === 'number' ? value : Date.parse(value));
const toMsOrUndefined = (value: number | string | undefined) =>
  value === undefined ? undefined : toMs(value);

export const assignmentsRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const classes = new Classes(ctx.db);
  const assignments = new Assignments(ctx.db, classes);
  const { sessions, attempts } = assignments;

  /** Staff of the assignment's class, a student it is for, or a platform service (grading). */
  async function readableAssignment(principal: Person | null, id: string) {
    const assignment = await assignments.assignmentOr404(id);
    if (!principal) return assignment;
    if (principal.role === 'student') {
      if (!(await assignments.targets(assignment, principal.id))) {
        throw new ApiError(
          403,
          'NOT_ASSIGNED',
          say('this assignment is not for you or your team', '这个任务没有布置给您或您的小组'),
        );
      }
      return assignments.forStudent(assignment, principal.id, await classes.teams.teamIdsOf(principal.id));
    }
    classes.assertManages(principal, await classes.classOr404(assignment.classId));
    return assignment;
  }

  app.post(
    '/classes/:id/assignments',
    {
      config: { access: { roles: ['admin', 'instructor', 'mentor'] } },
      schema: {
        summary:
          "Assign a lab task to teams and/or students of a class, with when it opens and when it's due (an enterprise mentor: their task, to the teams on their projects)",
        tags: ['assignments'],
        params: IdParams,
        body: NewAssignmentBody,
        response: { 201: Assignment, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const { taskId, opensAt, dueAt, teamIds, studentIds } = request.body;
      const created = await assignments.createAssignment(currentPerson(request), request.params.id, {
        taskId,
        opensAt: toMs(opensAt),
        dueAt: toMs(dueAt),
        teamIds,
        studentIds,
      });
      return reply.status(201).send(sendVersioned(reply, created));
    },
  );

  app.get(
    '/classes/:id/assignments',
    {
      config: { access: STAFF },
      schema: {
        summary: "A class's assignments, by due date",
        tags: ['assignments'],
        params: IdParams,
        querystring: AssignmentQuery,
        response: { 200: Page(Assignment) },
      },
    },
    async (request) => {
      classes.assertManages(currentPerson(request), await classes.classOr404(request.params.id));
      const { limit, offset } = page(request.query);
      const { items, total } = await assignments.listAssignments({
        classId: request.params.id,
        status: request.query.status,
        limit,
        offset,
      });
      return { items, total, limit, offset };
    },
  );

  app.get(
    '/assignments/:id',
    {
      config: { access: { roles: ['admin', 'instructor', 'student'], services: true } },
      schema: {
        summary: 'One assignment (its class staff, a student it is for, platform services)',
        tags: ['assignments'],
        params: IdParams,
        response: { 200: Assignment },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await readableAssignment(personOrService(request), request.params.id)),
  );

  app.patch(
    '/assignments/:id',
    {
      config: { access: STAFF },
      schema: {
        summary: 'Change when an assignment opens or is due, or whom it is for (If-Match)',
        tags: ['assignments'],
        params: IdParams,
        body: AssignmentChanges,
        response: { 200: Assignment, ...errors(400, 412, 428) },
      },
    },
    async (request, reply) => {
      const updated = await assignments.updateAssignment(
        currentPerson(request),
        request.params.id,
        expectedVersion(request),
        {
          ...request.body,
          opensAt: toMsOrUndefined(request.body.opensAt),
          dueAt: toMsOrUndefined(request.body.dueAt),
        },
      );
      return sendVersioned(reply, updated);
    },
  );

  app.get(
    '/me/assignments',
    {
      config: { access: STUDENTS },
      schema: {
        summary: 'Your assignments (for you or your team), by due date',
        tags: ['assignments'],
        querystring: AssignmentQuery,
        response: { 200: Page(Assignment) },
      },
    },
    async (request) => {
      const me = currentPerson(request);
      const { limit, offset } = page(request.query);
      const { items, total } = await assignments.listAssignments({
        studentId: me.id,
        status: request.query.status,
        limit,
        offset,
      });
      const teamIds = await classes.teams.teamIdsOf(me.id);
      return {
        items: items.map((item) => assignments.forStudent(item, me.id, teamIds)),
        total,
        limit,
        offset,
      };
    },
  );

  app.post(
    '/classes/:id/sessions',
    {
      preValidation: bodyMayBeEmpty,
      config: { access: STAFF },
      schema: {
        summary: 'Start a lab session for a class (optionally for one assignment); one runs at a time',
        tags: ['sessions'],
        params: IdParams,
        body: NewSessionBody,
        response: { 201: LabSession, ...errors(409) },
      },
    },
    async (request, reply) => {
      const session = await sessions.startSession(currentPerson(request), request.params.id, {
        assignmentId: request.body.assignmentId,
      });
      return reply.status(201).send(session);
    },
  );

  app.get(
    '/classes/:id/sessions',
    {
      config: { access: STAFF },
      schema: {
        summary: "A class's lab sessions, newest first",
        tags: ['sessions'],
        params: IdParams,
        querystring: PageQuery,
        response: { 200: Page(LabSession) },
      },
    },
    async (request) => {
      classes.assertManages(currentPerson(request), await classes.classOr404(request.params.id));
      const { limit, offset } = page(request.query);
      const { items, total } = await sessions.listSessions(request.params.id, { limit, offset });
      return { items, total, limit, offset };
    },
  );

  app.get(
    '/sessions/:id',
    {
      config: { access: { roles: ['admin', 'instructor'], services: true } },
      schema: {
        summary: 'One lab session',
        tags: ['sessions'],
        params: IdParams,
        response: { 200: LabSession },
      },
    },
    async (request) => {
      const session = await sessions.sessionOr404(request.params.id);
      const me = personOrService(request);
      if (me) classes.assertManages(me, await classes.classOr404(session.classId));
      return session;
    },
  );

  app.post(
    '/sessions/:id/end',
    {
      config: { access: STAFF },
      schema: {
        summary: 'End a lab session; attempts still running in it end with it',
        tags: ['sessions'],
        params: IdParams,
        response: { 200: EndedSession, ...errors(409) },
      },
    },
    async (request) => {
      const { session, endedAttempts } = await sessions.endSession(currentPerson(request), request.params.id);
      ctx.attemptsEnded(endedAttempts);
      return { ...session, endedAttempts };
    },
  );

  app.post(
    '/assignments/:id/attempts',
    {
      preValidation: bodyMayBeEmpty,
      config: { access: { roles: ['admin', 'instructor', 'student'] } },
      schema: {
        summary: "Start an attempt: a time window on the student's bound kit, during a running lab session",
        description:
          'A student starts their own; staff name the student. Refusals: NOT_ASSIGNED, ' +
          'ASSIGNMENT_NOT_OPEN, NO_SESSION_RUNNING, SESSION_FOR_ANOTHER_ASSIGNMENT, NO_KIT_BOUND, ' +
          'KIT_NOT_BOUND, KIT_CHOICE_REQUIRED (several kits: say which), KIT_REVOKED, ATTEMPT_IN_PROGRESS.',
        tags: ['attempts'],
        params: IdParams,
        body: NewAttemptBody,
        response: { 201: Attempt, ...errors(400, 403, 409) },
      },
    },
    async (request, reply) => {
      const attempt = await attempts.startAttempt(currentPerson(request), request.params.id, {
        studentId: request.body.studentId,
        kitId: request.body.kitId,
      });
      return reply.status(201).send(attempt);
    },
  );

  app.get(
    '/assignments/:id/attempts',
    {
      config: { access: { roles: ['admin', 'instructor'], services: true } },
      schema: {
        summary: "An assignment's attempts, newest first (the windows grading evaluates)",
        tags: ['attempts'],
        params: IdParams,
        querystring: AttemptQuery,
        response: { 200: Page(Attempt) },
      },
    },
    async (request) => {
      await readableAssignment(personOrService(request), request.params.id);
      const { limit, offset } = page(request.query);
      const { items, total } = await attempts.listAttempts({
        assignmentId: request.params.id,
        studentId: request.query.studentId,
        limit,
        offset,
      });
      return { items, total, limit, offset };
    },
  );

  app.get(
    '/attempts/:id',
    {
      config: { access: { roles: ['admin', 'instructor', 'student'], services: true } },
      schema: {
        summary: 'One attempt (its student, its class staff, platform services)',
        tags: ['attempts'],
        params: IdParams,
        response: { 200: Attempt },
      },
    },
    async (request) => {
      const attempt = await attempts.attemptOr404(request.params.id);
      const me = personOrService(request);
      if (me?.role === 'student') {
        if (attempt.studentId !== me.id)
          throw new ApiError(403, 'NOT_YOUR_ATTEMPT', say('this attempt is not yours', '这不是您的作答'));
      } else if (me) {
        await readableAssignment(me, attempt.assignmentId);
      }
      return attempt;
    },
  );

  app.post(
    '/attempts/:id/end',
    {
      config: { access: { roles: ['admin', 'instructor', 'student'] } },
      schema: {
        summary: 'End an attempt (its student, or the staff of its class)',
        tags: ['attempts'],
        params: IdParams,
        response: { 200: Attempt, ...errors(409) },
      },
    },
    async (request) => {
      const attempt = await attempts.endAttempt(currentPerson(request), request.params.id);
      ctx.attemptsEnded([attempt.id]);
      return attempt;
    },
  );

  app.get(
    '/me/attempts',
    {
      config: { access: STUDENTS },
      schema: {
        summary: 'Your attempts, newest first',
        tags: ['attempts'],
        querystring: MyAttemptQuery,
        response: { 200: Page(Attempt) },
      },
    },
    async (request) => {
      const { limit, offset } = page(request.query);
      const { items, total } = await attempts.listAttempts({
        studentId: currentPerson(request).id,
        assignmentId: request.query.assignmentId,
        limit,
        offset,
      });
      return { items, total, limit, offset };
    },
  );
};
