import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';
import { currentUser, ROLES, type Role } from '../auth.ts';
import { ErrorResponse, expectedVersion, Page, PageQuery, page, sendVersioned } from '../http.ts';
import { Projects, STATUSES } from '../projects.ts';

export const Id = Type.String({ format: 'uuid' });
export const Text = (maxLength: number, minLength = 0) => Type.String({ minLength, maxLength });
export const Status = Type.Union(
  STATUSES.map((status) => Type.Literal(status)),
  { description: 'draft → published → archived (an admin may re-publish an archived one)' },
);

/** A skill or expertise tag: letters (any script) and digits, with . _ + # / - and spaces inside. */
export const SkillTag = Type.String({
  minLength: 1,
  maxLength: 40,
  pattern: '^[\\p{L}\\p{N}][\\p{L}\\p{N}\\p{M} ._+#/-]*$',
  description: 'e.g. "mqtt", "c++", "传感器"',
});
export const SkillTags = (description: string) => Type.Array(SkillTag, { maxItems: 30, description });

export const EDITORS: readonly Role[] = ['admin', 'instructor', 'mentor'];

export const ProjectSchema = Type.Object({
  id: Id,
  organisationId: Id,
  organisationName: Type.String(),
  title: Type.String(),
  background: Type.String(),
  goals: Type.String(),
  requiredSkills: Type.Array(Type.String()),
  deliverables: Type.String(),
  difficulty: Type.Integer({ minimum: 1, maximum: 5 }),
  status: Status,
  createdBy: Id,
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  version: Type.Integer(),
});

const Difficulty = Type.Integer({ minimum: 1, maximum: 5, description: '1 (introductory) … 5 (hard)' });
const projectFields = {
  title: Text(200, 1),
  background: Type.Optional(Text(20_000)),
  goals: Type.Optional(Text(20_000)),
  requiredSkills: Type.Optional(SkillTags('the skills a team needs; recommendations match them')),
  deliverables: Type.Optional(Text(20_000)),
  difficulty: Difficulty,
};

const IdParams = Type.Object({ id: Id });
const versioned = {
  200: ProjectSchema,
  400: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  412: ErrorResponse,
  428: ErrorResponse,
};

const RecommendationSchema = Type.Object({
  project: ProjectSchema,
  score: Type.Number({ minimum: 0, maximum: 1 }),
  reasons: Type.Object({
    matched: Type.Array(Type.Object({ skill: Type.String(), score: Type.Number() })),
    missing: Type.Array(Type.String()),
    text: Type.String(),
  }),
});

/**
 * Enterprise projects. Mentors create and edit their own enterprise's projects and see only
 * those (any status); instructors and admin edit and see all; students see published ones. A
 * project one may not see answers 404; one one may see but not change answers 403.
 */
export const projectsRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const projects = new Projects(ctx.db);

  app.get(
    '/projects',
    {
      config: { access: { roles: ROLES } },
      schema: {
        summary: 'Enterprise projects you may see, searched by keyword (title, background, goals) and skill',
        tags: ['projects'],
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            q: Type.Optional(Text(100)),
            skill: Type.Optional(Text(40)),
            status: Type.Optional(Status),
            organisationId: Type.Optional(Id),
          }),
        ]),
        response: { 200: Page(ProjectSchema) },
      },
    },
    async (request) => {
      const { limit, offset } = page(request.query);
      const { q, skill, status, organisationId } = request.query;
      const { items, total } = await projects.listProjects(currentUser(request), {
        q,
        skill,
        status,
        organisationId,
        limit,
        offset,
      });
      return { items, total, limit, offset };
    },
  );

  app.get(
    '/projects/recommended',
    {
      config: { access: { roles: ['student'] } },
      schema: {
        summary: 'Published projects ranked for you by the skills your graded work shows, with the reasons',
        description:
          "score = Σ over the project's required skills of your best evidence score (0..1) for that skill ÷ the number of required skills. Projects sharing no skill with your evidence come last; with no evidence at all (basedOnEvidence false) the easiest come first.",
        tags: ['projects'],
        querystring: PageQuery,
        response: {
          200: Type.Object({
            basedOnEvidence: Type.Boolean(),
            message: Type.String(),
            items: Type.Array(RecommendationSchema),
            total: Type.Integer(),
            limit: Type.Integer(),
            offset: Type.Integer(),
          }),
        },
      },
    },
    async (request) => {
      const { limit, offset } = page(request.query);
      return { ...(await projects.recommend(currentUser(request), { limit, offset })), limit, offset };
    },
  );

  app.post(
    '/projects',
    {
      config: { access: { roles: EDITORS } },
      schema: {
        summary:
          "Create a project (a draft). A mentor's is their enterprise's; admin and instructors name the enterprise",
        tags: ['projects'],
        body: Type.Object(
          { organisationId: Type.Optional(Id), ...projectFields },
          { additionalProperties: false },
        ),
        response: { 201: ProjectSchema, 400: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request, reply) => {
      const project = await projects.createProject(currentUser(request), request.body);
      return reply.status(201).send(sendVersioned(reply, project));
    },
  );

  app.get(
    '/projects/:id',
    {
      config: { access: { roles: ROLES } },
      schema: {
        summary: 'One project (404 when there is none you may see)',
        tags: ['projects'],
        params: IdParams,
        response: { 200: ProjectSchema, 404: ErrorResponse },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await projects.project(currentUser(request), request.params.id)),
  );

  app.patch(
    '/projects/:id',
    {
      config: { access: { roles: EDITORS } },
      schema: {
        summary: 'Change a project (If-Match: the ETag you read); an archived one cannot be changed',
        tags: ['projects'],
        params: IdParams,
        body: Type.Object(
          {
            title: Type.Optional(projectFields.title),
            background: projectFields.background,
            goals: projectFields.goals,
            requiredSkills: projectFields.requiredSkills,
            deliverables: projectFields.deliverables,
            difficulty: Type.Optional(Difficulty),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: versioned,
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await projects.updateProject(
          currentUser(request),
          request.params.id,
          expectedVersion(request),
          request.body,
        ),
      ),
  );

  for (const [verb, to, summary] of [
    ['publish', 'published', 'Publish a draft (If-Match); re-publishing an archived project is for an admin'],
    ['archive', 'archived', 'Archive a draft or published project (If-Match): students no longer see it'],
  ] as const) {
    app.post(
      `/projects/:id/${verb}`,
      {
        config: { access: { roles: EDITORS } },
        schema: { summary, tags: ['projects'], params: IdParams, response: versioned },
      },
      async (request, reply) =>
        sendVersioned(
          reply,
          await projects.setProjectStatus(
            currentUser(request),
            request.params.id,
            expectedVersion(request),
            to,
          ),
        ),
    );
  }
};
