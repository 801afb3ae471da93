import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import {
  NewProjectBody,
  Project,
  ProjectChanges,
  ProjectQuery,
  Recommendations,
} from '../../contract/index.ts';
import type { LabContext } from '../app.ts';
import type { Role } from '../auth.ts';
import { requestLang } from '../errors.ts';
import {
  currentPerson,
  EVERYONE,
  errors,
  expectedVersion,
  IdParams,
  Page,
  PageQuery,
  page,
  sendVersioned,
} from '../http.ts';
import { Projects } from '../projects/index.ts';

/** Who edits projects and lab tasks. */
export const EDITORS: readonly Role[] = ['admin', 'instructor', 'mentor'];

const versioned = { 200: Project, ...errors(400, 403, 404, 409, 412, 428) };

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
      config: { access: EVERYONE },
      schema: {
        summary: 'Enterprise projects you may see, searched by keyword (title, background, goals) and skill',
        tags: ['projects'],
        querystring: ProjectQuery,
        response: { 200: Page(Project) },
      },
    },
    async (request) => {
      const { limit, offset } = page(request.query);
      const { q, skill, status, organisationId } = request.query;
      const { items, total } = await projects.listProjects(currentPerson(request), {
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
        response: { 200: Recommendations },
      },
    },
    async (request) => {
      const { limit, offset } = page(request.query);
      const found = await projects.recommend(currentPerson(request), { limit, offset });
      return { ...found, message: found.message[requestLang(request)], limit, offset };
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
        body: NewProjectBody,
        response: { 201: Project, ...errors(400, 403) },
      },
    },
    async (request, reply) => {
      const project = await projects.createProject(currentPerson(request), request.body);
      return reply.status(201).send(sendVersioned(reply, project));
    },
  );

  app.get(
    '/projects/:id',
    {
      config: { access: EVERYONE },
      schema: {
        summary: 'One project (404 when there is none you may see)',
        tags: ['projects'],
        params: IdParams,
        response: { 200: Project, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await projects.project(currentPerson(request), request.params.id)),
  );

  app.patch(
    '/projects/:id',
    {
      config: { access: { roles: EDITORS } },
      schema: {
        summary: 'Change a project (If-Match: the ETag you read); an archived one cannot be changed',
        tags: ['projects'],
        params: IdParams,
        body: ProjectChanges,
        response: versioned,
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await projects.updateProject(
          currentPerson(request),
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
            currentPerson(request),
            request.params.id,
            expectedVersion(request),
            to,
          ),
        ),
    );
  }
};
