import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { LabContext } from '../app.ts';
import { currentUser, ROLES } from '../auth.ts';
import { Classes, type Person, RosterRejected, type Team } from '../classes.ts';
import { ErrorResponse, expectedVersion, Page, PageQuery, page, sendVersioned } from '../http.ts';
import {
  decodeRoster,
  MAX_ROSTER_BYTES,
  MAX_ROSTER_ROWS,
  type RosterEncoding,
  readRoster,
} from '../roster.ts';

const Id = Type.String({ format: 'uuid' });
const Text = (maxLength: number, minLength = 0) => Type.String({ minLength, maxLength });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ClassSchema = Type.Object({
  id: Id,
  name: Type.String(),
  term: Type.String(),
  instructorId: Nullable(Id),
  instructorName: Nullable(Type.String()),
  studentCount: Type.Integer(),
  teamCount: Type.Integer(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  version: Type.Integer(),
});

export const SessionBriefSchema = Type.Object({
  id: Id,
  assignmentId: Nullable(Id),
  startedAt: Type.Integer(),
});

const MyClassSchema = Type.Composite([
  ClassSchema,
  Type.Object({ activeSession: Nullable(SessionBriefSchema) }),
]);

const RosterStudentSchema = Type.Object({
  id: Id,
  username: Type.String(),
  displayName: Type.String(),
  studentNumber: Nullable(Type.String()),
  disabled: Type.Boolean(),
  teamId: Nullable(Id),
  teamName: Nullable(Type.String()),
});

export const TeamSchema = Type.Object({
  id: Id,
  classId: Id,
  className: Type.String(),
  name: Type.String(),
  projectId: Nullable(Id),
  projectTitle: Nullable(Type.String()),
  members: Type.Array(
    Type.Object({ id: Id, displayName: Type.String(), studentNumber: Nullable(Type.String()) }),
  ),
  createdAt: Type.Integer(),
  version: Type.Integer(),
});

const RowErrorSchema = Type.Object({
  row: Type.Integer({ description: 'the spreadsheet row (the header is row 1)' }),
  field: Nullable(
    Type.Union([Type.Literal('studentNumber'), Type.Literal('name'), Type.Literal('className')], {
      description: 'the column the problem is about; null: the file as a whole',
    }),
  ),
  column: Type.String({ description: "the column's header as written in the file" }),
  problem: Type.String({
    description:
      'UNCLOSED_QUOTE, EMPTY_FILE, DUPLICATE_COLUMN, MISSING_COLUMN, NO_STUDENTS, TOO_MANY_ROWS, ' +
      'STUDENT_NUMBER_MISSING, STUDENT_NUMBER_MANGLED (Excel made it a number), STUDENT_NUMBER_INVALID, ' +
      'STUDENT_NUMBER_REPEATED, NAME_MISSING, NAME_TOO_LONG, CLASS_MISSING, WRONG_CLASS, NOT_A_STUDENT, ' +
      'USERNAME_TAKEN; warnings: NAME_DIFFERS',
  }),
  params: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), {
    description: 'the values the sentence names (studentNumber, firstRow, className…)',
  }),
  message: Type.Object({ 'zh-CN': Type.String(), en: Type.String() }),
});

const RosterErrorResponse = Type.Object({
  ...ErrorResponse.properties,
  details: Type.Optional(
    Type.Object({
      encoding: Nullable(Type.String()),
      rows: Type.Array(RowErrorSchema, { description: "every row's problems; nothing was imported" }),
    }),
  ),
});

const RosterEntry = Type.Object({
  row: Type.Integer(),
  userId: Id,
  studentNumber: Type.String(),
  displayName: Type.String(),
});

const RosterImportSchema = Type.Object({
  classId: Id,
  encoding: Type.String({ description: 'how the file was read: utf-8, gb18030 (GBK), utf-16le/be' }),
  rows: Type.Integer(),
  created: Type.Array(
    Type.Composite([
      RosterEntry,
      Type.Object({
        username: Type.String(),
        initialPassword: Type.String({ description: 'shown in this answer only; stored hashed' }),
      }),
    ]),
  ),
  enrolled: Type.Array(RosterEntry),
  alreadyEnrolled: Type.Array(RosterEntry),
  warnings: Type.Array(RowErrorSchema),
});

const IdParams = Type.Object({ id: Id });
const ClassStudentParams = Type.Object({ id: Id, studentId: Id });
const CLASS_STAFF = { roles: ['admin', 'instructor'] } as const;
const STUDENTS = { roles: ['student'] } as const;

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
      config: { access: CLASS_STAFF },
      schema: {
        summary: 'Classes: all for an admin, the ones they teach for an instructor',
        tags: ['classes'],
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            q: Type.Optional(Text(100)),
            term: Type.Optional(Text(40)),
            instructorId: Type.Optional(Id),
          }),
        ]),
        response: { 200: Page(ClassSchema) },
      },
    },
    async (request) => {
      const me = currentUser(request);
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
      config: { access: CLASS_STAFF },
      schema: {
        summary: 'Create a class (an instructor creates it for themself; an admin names its instructor)',
        tags: ['classes'],
        body: Type.Object(
          {
            name: Text(100, 1),
            term: Type.Optional(Text(40)),
            instructorId: Type.Optional(Nullable(Id)),
          },
          { additionalProperties: false },
        ),
        response: { 201: ClassSchema, 400: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const cls = await classes.createClass(currentUser(request), request.body);
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
        response: { 200: ClassSchema },
      },
    },
    async (request, reply) => {
      const cls = await classes.classOr404(request.params.id);
      await classes.assertCanRead(currentUser(request), cls);
      return sendVersioned(reply, cls);
    },
  );

  app.patch(
    '/classes/:id',
    {
      config: { access: CLASS_STAFF },
      schema: {
        summary: 'Rename a class or change its term (If-Match); an admin may hand it to another instructor',
        tags: ['classes'],
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Text(100, 1)),
            term: Type.Optional(Text(40)),
            instructorId: Type.Optional(Nullable(Id)),
          },
          { additionalProperties: false },
        ),
        response: { 200: ClassSchema, 412: ErrorResponse, 428: ErrorResponse },
      },
    },
    async (request, reply) => {
      const cls = await classes.updateClass(
        currentUser(request),
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
      config: { access: CLASS_STAFF },
      schema: {
        summary: "A class's roster, with each student's team",
        tags: ['classes'],
        params: IdParams,
        querystring: Type.Composite([PageQuery, Type.Object({ q: Type.Optional(Text(100)) })]),
        response: { 200: Page(RosterStudentSchema) },
      },
    },
    async (request) => {
      classes.assertManages(currentUser(request), await classes.classOr404(request.params.id));
      const { limit, offset } = page(request.query);
      const { items, total } = await classes.listStudents(request.params.id, {
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
      config: { access: CLASS_STAFF },
      schema: {
        summary: 'Enrol existing students in a class',
        tags: ['classes'],
        params: IdParams,
        body: Type.Object(
          { studentIds: Type.Array(Id, { minItems: 1, maxItems: 500 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ enrolled: Type.Array(Id), alreadyEnrolled: Type.Array(Id) }),
          400: ErrorResponse,
        },
      },
    },
    async (request) => classes.enrol(currentUser(request), request.params.id, request.body.studentIds),
  );

  app.delete(
    '/classes/:id/students/:studentId',
    {
      config: { access: CLASS_STAFF },
      schema: {
        summary: 'Take a student off a class (and its teams); their attempts stay on record',
        tags: ['classes'],
        params: ClassStudentParams,
        response: { 204: Type.Null(), 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      await classes.unenrol(currentUser(request), request.params.id, request.params.studentId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/classes/:id/roster',
    {
      bodyLimit: MAX_ROSTER_BYTES,
      config: { access: CLASS_STAFF },
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
        body: Type.String({ description: 'the CSV file' }),
        response: { 200: RosterImportSchema, 400: RosterErrorResponse, 413: ErrorResponse },
      },
    },
    async (request, reply) => {
      const me = currentUser(request);
      const cls = await classes.classOr404(request.params.id);
      classes.assertManages(me, cls);
      const encoding = rosterEncodings.get(request) ?? 'utf-8';
      const { rows, errors } = readRoster(request.body, cls.name);
      if (errors.length > 0) throw new RosterRejected(errors, encoding);
      const result = await classes.importRoster(me, cls.id, rows, encoding);
      void reply.header('cache-control', 'no-store');
      return result;
    },
  );

  app.get(
    '/classes/:id/teams',
    {
      config: { access: CLASS_STAFF },
      schema: {
        summary: "A class's teams with their members and projects",
        tags: ['teams'],
        params: IdParams,
        querystring: PageQuery,
        response: { 200: Page(TeamSchema) },
      },
    },
    async (request) => {
      classes.assertManages(currentUser(request), await classes.classOr404(request.params.id));
      const { limit, offset } = page(request.query);
      const { items, total } = await classes.listTeams({ classId: request.params.id, limit, offset });
      return { items, total, limit, offset };
    },
  );

  app.post(
    '/classes/:id/teams',
    {
      config: { access: CLASS_STAFF },
      schema: {
        summary: 'Create a team in a class, optionally with members (enrolled students) and a project',
        tags: ['teams'],
        params: IdParams,
        body: Type.Object(
          {
            name: Text(100, 1),
            projectId: Type.Optional(Nullable(Id)),
            memberIds: Type.Optional(Type.Array(Id, { maxItems: 50 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: TeamSchema, 400: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const team = await classes.createTeam(currentUser(request), request.params.id, request.body);
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
        querystring: Type.Composite([
          PageQuery,
          Type.Object({ classId: Type.Optional(Id), projectId: Type.Optional(Id) }),
        ]),
        response: { 200: Page(TeamSchema) },
      },
    },
    async (request) => {
      const me = currentUser(request);
      const { limit, offset } = page(request.query);
      if (me.role === 'mentor' && !me.organisationId) return { items: [], total: 0, limit, offset };
      const { items, total } = await classes.listTeams({
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
      config: { access: { roles: ROLES } },
      schema: {
        summary: "One team (its class's staff, its members, mentors of its project's enterprise)",
        tags: ['teams'],
        params: IdParams,
        response: { 200: TeamSchema },
      },
    },
    async (request, reply) => {
      const me = currentUser(request);
      const team = await classes.teamOr404(request.params.id);
      await classes.assertCanReadTeam(me, team);
      return sendVersioned(reply, teamFor(me, team));
    },
  );

  app.patch(
    '/teams/:id',
    {
      config: { access: CLASS_STAFF },
      schema: {
        summary: 'Rename a team or set the enterprise project it works on (If-Match; null clears it)',
        tags: ['teams'],
        params: IdParams,
        body: Type.Object(
          { name: Type.Optional(Text(100, 1)), projectId: Type.Optional(Nullable(Id)) },
          { additionalProperties: false },
        ),
        response: { 200: TeamSchema, 400: ErrorResponse, 412: ErrorResponse, 428: ErrorResponse },
      },
    },
    async (request, reply) => {
      const team = await classes.updateTeam(
        currentUser(request),
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
      config: { access: CLASS_STAFF },
      schema: {
        summary: "Add a student of the team's class to the team (one team per class)",
        tags: ['teams'],
        params: IdParams,
        body: Type.Object({ studentId: Id }, { additionalProperties: false }),
        response: { 200: TeamSchema, 409: ErrorResponse },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await classes.addTeamMember(currentUser(request), request.params.id, request.body.studentId),
      ),
  );

  app.delete(
    '/teams/:id/members/:studentId',
    {
      config: { access: CLASS_STAFF },
      schema: {
        summary: 'Take a student off a team',
        tags: ['teams'],
        params: ClassStudentParams,
        response: { 200: TeamSchema, 404: ErrorResponse },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await classes.removeTeamMember(currentUser(request), request.params.id, request.params.studentId),
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
        response: { 200: Page(MyClassSchema) },
      },
    },
    async (request) => {
      const me = currentUser(request);
      const { limit, offset } = page(request.query);
      const { items, total } = await classes.listClasses({ studentId: me.id, limit, offset });
      const running = await classes.runningSessions(items.map((cls) => cls.id));
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
        response: { 200: Page(TeamSchema) },
      },
    },
    async (request) => {
      const { limit, offset } = page(request.query);
      const { items, total } = await classes.listTeams({ memberId: currentUser(request).id, limit, offset });
      return { items, total, limit, offset };
    },
  );
};
