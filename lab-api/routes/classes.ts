import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  ClassChanges,
  ClassInfo,
  ClassQuery,
  EnrolBody,
  Enrolled,
  MyClass,
  NewClassBody,
  NewTeamBody,
  RosterCsv,
  RosterErrorResponse,
  RosterImport,
  RosterQuery,
  RosterStudent,
  StudentParams,
  Team,
  TeamChanges,
  TeamMemberBody,
  TeamQuery,
} from '../../contract/index.ts';
import type { LabContext } from '../app.ts';
import type { Person } from '../auth.ts';
import { Assignments, Classes, RosterRejected } from '../classes/index.ts';
import {
  currentPerson,
  EVERYONE,
  errors,
  expectedVersion,
  IdParams,
  NoContent,
  Page,
  PageQuery,
  page,
  STAFF,
  STUDENTS,
  sendVersioned,
} from '../http.ts';
import {
  decodeRoster,
  MAX_ROSTER_BYTES,
  MAX_ROSTER_ROWS,
  type RosterEncoding,
  readRoster,
} from '../roster.ts';

/** What a viewer sees of a team: mentors (from outside the college) get no 学号. */
function teamFor(viewer: Person, team: Team): Team {
  if (viewer.role !== 'mentor') return team;
  return { ...team, members: team.members.map((member) => ({ ...member, studentNumber: null })) };
}

/** How each roster upload was decoded (the body parser decodes; the handler reports it). */
const rosterEncodings = new WeakMap<FastifyRequest, RosterEncoding>();

export const classesRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const classes = new Classes(ctx.db);
  const { members, rosters, teams } = classes;
  const { sessions } = new Assignments(ctx.db, classes);

  // Rosters arrive as CSV bytes in UTF-8 or GBK/GB18030: decoded here, whatever charset is claimed.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    ['text/csv', 'text/plain', 'application/csv', 'application/vnd.ms-excel'],
    { parseAs: 'buffer', bodyLimit: MAX_ROSTER_BYTES },
    (request, body, done) => {
      const { text, encoding } = decodeRoster(body as Buffer);
      rosterEncodings.set(request, encoding);
      done(null, text);
    },
  );

  app.get(
    '/classes',
    {
      config: { access: STAFF },
      schema: {
        summary: 'Classes: all for an admin, the ones they teach for an instructor',
        tags: ['classes'],
        querystring: ClassQuery,
        response: { 200: Page(ClassInfo) },
      },
    },
    async (request) => {
      const me = currentPerson(request);
      const { limit, offset } = page(request.query);
      const { items, total } = await classes.listClasses({
        q: request.query.q,
        term: request.query.term,
        instructorId: me.role === 'instructor' ? me.id : request.query.instructorId,
        limit,
        offset,
      });
      return { items, total, limit, offset };
    },
  );

  app.post(
    '/classes',
    {
      config: { access: STAFF },
      schema: {
        summary: 'Create a class (an instructor creates it for themself; an admin names its instructor)',
        tags: ['classes'],
        body: NewClassBody,
        response: { 201: ClassInfo, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const cls = await classes.createClass(currentPerson(request), request.body);
      return reply.status(201).send(sendVersioned(reply, cls));
    },
  );

  app.get(
    '/classes/:id',
    {
      config: { access: { roles: ['admin', 'instructor', 'student'] } },
      schema: {
        summary: 'One class (its instructor, an admin, or a student enrolled in it)',
        tags: ['classes'],
        params: IdParams,
        response: { 200: ClassInfo },
      },
    },
    async (request, reply) => {
      const cls = await classes.classOr404(request.params.id);
      await classes.assertCanRead(currentPerson(request), cls);
      return sendVersioned(reply, cls);
    },
  );

  app.patch(
    '/classes/:id',
    {
      config: { access: STAFF },
      schema: {
        summary: 'Rename a class or change its term (If-Match); an admin may hand it to another instructor',
        tags: ['classes'],
        params: IdParams,
        body: ClassChanges,
        response: { 200: ClassInfo, ...errors(412, 428) },
      },
    },
    async (request, reply) => {
      const cls = await classes.updateClass(
        currentPerson(request),
        request.params.id,
        expectedVersion(request),
        request.body,
      );
      return sendVersioned(reply, cls);
    },
  );

  app.get(
    '/classes/:id/students',
    {
      config: { access: STAFF },
      schema: {
        summary: "A class's roster, with each student's team",
        tags: ['classes'],
        params: IdParams,
        querystring: RosterQuery,
        response: { 200: Page(RosterStudent) },
      },
    },
    async (request) => {
      classes.assertManages(currentPerson(request), await classes.classOr404(request.params.id));
      const { limit, offset } = page(request.query);
      const { items, total } = await members.listStudents(request.params.id, {
        q: request.query.q,
        limit,
        offset,
      });
      return { items, total, limit, offset };
    },
  );

  app.post(
    '/classes/:id/students',
    {
      config: { access: STAFF },
      schema: {
        summary: 'Enrol existing students in a class',
        tags: ['classes'],
        params: IdParams,
        body: EnrolBody,
        response: { 200: Enrolled, ...errors(400) },
      },
    },
    async (request) => members.enrol(currentPerson(request), request.params.id, request.body.studentIds),
  );

  app.delete(
    '/classes/:id/students/:studentId',
    {
      config: { access: STAFF },
      schema: {
        summary: 'Take a student off a class (and its teams); their attempts stay on record',
        tags: ['classes'],
        params: StudentParams,
        response: { 204: NoContent, ...errors(404) },
      },
    },
    async (request, reply) => {
      await members.unenrol(currentPerson(request), request.params.id, request.params.studentId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/classes/:id/roster',
    {
      bodyLimit: MAX_ROSTER_BYTES,
      config: { access: STAFF },
      schema: {
        summary: 'Import a roster CSV (学号, 姓名, optional 班级) in UTF-8 or GBK/GB18030, all or nothing',
        description:
          'Send the file as the body with `Content-Type: text/csv` (at most 2 MiB, ' +
          `${MAX_ROSTER_ROWS} students). The header row names the columns: 学号 / Student Number, ` +
          '姓名 / Name, and optionally 班级 / Class, which must then be this class on every row; other ' +
          'columns are ignored. Unknown 学号 get a student account (username = 学号) with a random ' +
          'initial password, returned in this answer only; known ones are enrolled. Any broken row ' +
          'rejects the file (400 ROSTER_INVALID) with every row error in `details.rows`, and nothing is imported.',
        tags: ['classes'],
        params: IdParams,
        consumes: ['text/csv'],
        body: RosterCsv,
        response: { 200: RosterImport, 400: RosterErrorResponse, ...errors(413) },
      },
    },
    async (request, reply) => {
      const me = currentPerson(request);
      const cls = await classes.classOr404(request.params.id);
      classes.assertManages(me, cls);
      const encoding = rosterEncodings.get(request) ?? 'utf-8';
      const { rows, errors } = readRoster(request.body, cls.name);
      if (errors.length > 0) throw new RosterRejected(errors, encoding);
      const result = await rosters.importRoster(me, cls.id, rows, encoding);
      void reply.header('cache-control', 'no-store');
      return result;
    },
  );

  app.get(
    '/classes/:id/teams',
    {
      config: { access: STAFF },
      schema: {
        summary: "A class's teams with their members and projects",
        tags: ['teams'],
        params: IdParams,
        querystring: PageQuery,
        response: { 200: Page(Team) },
      },
    },
    async (request) => {
      classes.assertManages(currentPerson(request), await classes.classOr404(request.params.id));
      const { limit, offset } = page(request.query);
      const { items, total } = await teams.listTeams({ classId: request.params.id, limit, offset });
      return { items, total, limit, offset };
    },
  );

  app.post(
    '/classes/:id/teams',
    {
      config: { access: STAFF },
      schema: {
        summary: 'Create a team in a class, optionally with members (enrolled students) and a project',
        tags: ['teams'],
        params: IdParams,
        body: NewTeamBody,
        response: { 201: Team, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const team = await teams.createTeam(currentPerson(request), request.params.id, request.body);
      return reply.status(201).send(sendVersioned(reply, team));
    },
  );

  app.get(
    '/teams',
    {
      config: { access: { roles: ['admin', 'instructor', 'mentor'] } },
      schema: {
        summary:
          "Teams: all for an admin, those of an instructor's classes, those on a mentor's enterprise's projects",
        tags: ['teams'],
        querystring: TeamQuery,
        response: { 200: Page(Team) },
      },
    },
    async (request) => {
      const me = currentPerson(request);
      const { limit, offset } = page(request.query);
      if (me.role === 'mentor' && !me.organisationId) return { items: [], total: 0, limit, offset };
      const { items, total } = await teams.listTeams({
        classId: request.query.classId,
        projectId: request.query.projectId,
        instructorId: me.role === 'instructor' ? me.id : undefined,
        organisationId: me.role === 'mentor' ? (me.organisationId as string) : undefined,
        limit,
        offset,
      });
      return { items: items.map((team) => teamFor(me, team)), total, limit, offset };
    },
  );

  app.get(
    '/teams/:id',
    {
      config: { access: EVERYONE },
      schema: {
        summary: "One team (its class's staff, its members, mentors of its project's enterprise)",
        tags: ['teams'],
        params: IdParams,
        response: { 200: Team },
      },
    },
    async (request, reply) => {
      const me = currentPerson(request);
      const team = await teams.teamOr404(request.params.id);
      await teams.assertCanRead(me, team);
      return sendVersioned(reply, teamFor(me, team));
    },
  );

  app.patch(
    '/teams/:id',
    {
      config: { access: STAFF },
      schema: {
        summary: 'Rename a team or set the enterprise project it works on (If-Match; null clears it)',
        tags: ['teams'],
        params: IdParams,
        body: TeamChanges,
        response: { 200: Team, ...errors(400, 412, 428) },
      },
    },
    async (request, reply) => {
      const team = await teams.updateTeam(
        currentPerson(request),
        request.params.id,
        expectedVersion(request),
        request.body,
      );
      return sendVersioned(reply, team);
    },
  );

  app.post(
    '/teams/:id/members',
    {
      config: { access: STAFF },
      schema: {
        summary: "Add a student of the team's class to the team (one team per class)",
        tags: ['teams'],
        params: IdParams,
        body: TeamMemberBody,
        response: { 200: Team, ...errors(409) },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await teams.addTeamMember(currentPerson(request), request.params.id, request.body.studentId),
      ),
  );

  app.delete(
    '/teams/:id/members/:studentId',
    {
      config: { access: STAFF },
      schema: {
        summary: 'Take a student off a team',
        tags: ['teams'],
        params: StudentParams,
        response: { 200: Team, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await teams.removeTeamMember(currentPerson(request), request.params.id, request.params.studentId),
      ),
  );

  app.get(
    '/me/classes',
    {
      config: { access: STUDENTS },
      schema: {
        summary: "The classes you are enrolled in, with each one's running lab session",
        tags: ['classes'],
        querystring: PageQuery,
        response: { 200: Page(MyClass) },
      },
    },
    async (request) => {
      const me = currentPerson(request);
      const { limit, offset } = page(request.query);
      const { items, total } = await classes.listClasses({ studentId: me.id, limit, offset });
      const running = await sessions.runningSessions(items.map((cls) => cls.id));
      return {
        items: items.map((cls) => {
          const session = running.get(cls.id);
          return {
            ...cls,
            activeSession: session
              ? { id: session.id, assignmentId: session.assignmentId, startedAt: session.startedAt }
              : null,
          };
        }),
        total,
        limit,
        offset,
      };
    },
  );

  app.get(
    '/me/teams',
    {
      config: { access: STUDENTS },
      schema: {
        summary: 'The teams you are in',
        tags: ['teams'],
        querystring: PageQuery,
        response: { 200: Page(Team) },
      },
    },
    async (request) => {
      const { limit, offset } = page(request.query);
      const { items, total } = await teams.listTeams({ memberId: currentPerson(request).id, limit, offset });
      return { items, total, limit, offset };
    },
  );
};
