import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import {
  NewTaskBody,
  RubricBody,
  RubricJsonSchema,
  Task,
  TaskChanges,
  TaskQuery,
  TaskSummary,
} from '../../contract/index.ts';
import type { LabContext } from '../app.ts';
import {
  currentPerson,
  EVERYONE,
  errors,
  expectedVersion,
  IdParams,
  Page,
  page,
  sendVersioned,
} from '../http.ts';
import { LabTasks } from '../projects/index.ts';
import { RubricSchema } from '../rubric.ts';
import { EDITORS } from './projects.ts';

const versioned = { 200: Task, ...errors(400, 403, 404, 409, 412, 428) };

/**
 * Lab tasks with their rubrics. Instructors and admin see and edit all; a mentor those of their
 * enterprise's projects; a student may read a published task. Every change needs If-Match, so two
 * people editing one rubric cannot overwrite each other (412 VERSION_CONFLICT).
 */
export const tasksRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const tasks = new LabTasks(ctx.db);

  app.get(
    '/tasks',
    {
      config: { access: { roles: EDITORS } },
      schema: {
        summary: 'Lab tasks you may edit, by project (projectId=none: standalone), status, sensor or keyword',
        tags: ['tasks'],
        querystring: TaskQuery,
        response: { 200: Page(TaskSummary) },
      },
    },
    async (request) => {
      const { limit, offset } = page(request.query);
      const { projectId, status, sensor, q } = request.query;
      const { items, total } = await tasks.listTasks(currentPerson(request), {
        projectId: projectId === 'none' ? null : projectId,
        status,
        sensor,
        q,
        limit,
        offset,
      });
      return { items, total, limit, offset };
    },
  );

  app.get(
    '/tasks/rubric-schema',
    {
      config: { access: EVERYONE },
      schema: {
        summary: 'The JSON Schema of a rubric: criterion types and their params',
        tags: ['tasks'],
        response: { 200: RubricJsonSchema },
      },
    },
    async () => JSON.parse(JSON.stringify(RubricSchema)) as unknown,
  );

  app.post(
    '/tasks',
    {
      config: { access: { roles: EDITORS } },
      schema: {
        summary:
          "Create a lab task (a draft), in a project or standalone; a mentor's belongs to their enterprise's project",
        tags: ['tasks'],
        body: NewTaskBody,
        response: { 201: Task, ...errors(400, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const task = await tasks.createTask(currentPerson(request), request.body);
      return reply.status(201).send(sendVersioned(reply, task));
    },
  );

  app.get(
    '/tasks/:id',
    {
      config: { access: EVERYONE },
      schema: {
        summary: 'One lab task with instructions and rubric (students: published tasks only)',
        tags: ['tasks'],
        params: IdParams,
        response: { 200: Task, ...errors(404) },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await tasks.task(currentPerson(request), request.params.id)),
  );

  app.patch(
    '/tasks/:id',
    {
      config: { access: { roles: EDITORS } },
      schema: {
        summary: 'Change a lab task (If-Match); the rubric is checked again against the required sensors',
        tags: ['tasks'],
        params: IdParams,
        body: TaskChanges,
        response: versioned,
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await tasks.updateTask(
          currentPerson(request),
          request.params.id,
          expectedVersion(request),
          request.body,
        ),
      ),
  );

  app.put(
    '/tasks/:id/rubric',
    {
      config: { access: { roles: EDITORS } },
      schema: {
        summary: "Replace a task's rubric (If-Match: the task's ETag)",
        tags: ['tasks'],
        params: IdParams,
        body: RubricBody,
        response: versioned,
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await tasks.updateTask(
          currentPerson(request),
          request.params.id,
          expectedVersion(request),
          { rubric: request.body },
          'update-rubric',
        ),
      ),
  );

  for (const [verb, to, summary] of [
    [
      'publish',
      'published',
      'Publish a task (If-Match): it needs criteria unless the mentor grades all of it',
    ],
    ['archive', 'archived', 'Archive a task (If-Match)'],
  ] as const) {
    app.post(
      `/tasks/:id/${verb}`,
      {
        config: { access: { roles: EDITORS } },
        schema: { summary, tags: ['tasks'], params: IdParams, response: versioned },
      },
      async (request, reply) =>
        sendVersioned(
          reply,
          await tasks.setTaskStatus(currentPerson(request), request.params.id, expectedVersion(request), to),
        ),
    );
  }
};
