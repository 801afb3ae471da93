import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';
import { currentUser, ROLES } from '../auth.ts';
import { ErrorResponse, expectedVersion, Page, PageQuery, page, sendVersioned } from '../http.ts';
import { Projects } from '../projects.ts';
import { CRITERION_TYPES, MAX_CRITERIA, RubricSchema } from '../rubric.ts';
import { EDITORS, Id, SkillTags, Status, Text } from './projects.ts';

const SensorList = (description: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64, uniqueItems: true, description });

/**
 * The rubric as it travels: the envelope is checked here, each criterion by lab-api/rubric.ts,
 * whose messages name the criterion (GET /api/v1/tasks/rubric-schema has the full schema).
 */
const RubricBody = Type.Object(
  {
    criteria: Type.Array(Type.Unknown(), {
      maxItems: MAX_CRITERIA,
      description: `criteria {id, title, weight, partialCredit, type, params}; type one of ${CRITERION_TYPES.join(', ')}; weights add up to 100. Full schema: GET /api/v1/tasks/rubric-schema`,
    }),
  },
  { additionalProperties: false },
);

const taskCommon = {
  id: Id,
  projectId: Type.Union([Id, Type.Null()]),
  organisationId: Type.Union([Id, Type.Null()], {
    description: "the project's enterprise; null when standalone",
  }),
  title: Type.String(),
  requiredSensors: Type.Array(Type.String()),
  requiredActuators: Type.Array(Type.String()),
  skills: Type.Array(Type.String()),
  durationMinutes: Type.Integer(),
  mentorWeight: Type.Integer({ description: '% of the grade given by the enterprise mentor' }),
  status: Status,
  createdBy: Id,
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  version: Type.Integer(),
};

export const TaskSchema = Type.Object({ ...taskCommon, instructions: Type.String(), rubric: RubricBody });
export const TaskSummarySchema = Type.Object({ ...taskCommon, criteriaCount: Type.Integer() });

const taskFields = {
  title: Text(200, 1),
  instructions: Type.Optional(Text(50_000)),
  requiredSensors: Type.Optional(SensorList('sensor names (snake_case) the kit must report')),
  requiredActuators: Type.Optional(SensorList('actuator names (snake_case) the kit must drive')),
  skills: Type.Optional(SkillTags('skills the task exercises (evidence for recommendations)')),
  durationMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
  mentorWeight: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 100,
      description: '0–100: % of the final grade given by the enterprise mentor (0 for a standalone task)',
    }),
  ),
  rubric: Type.Optional(RubricBody),
};

const IdParams = Type.Object({ id: Id });
const versioned = {
  200: TaskSchema,
  400: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  412: ErrorResponse,
  428: ErrorResponse,
};

/**
 * Lab tasks with their rubrics. Instructors and admin see and edit all; a mentor those of their
 * enterprise's projects; a student may read a published task. Every change needs If-Match, so two
 * people editing one rubric cannot overwrite each other (412 VERSION_CONFLICT).
 */
export const tasksRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const projects = new Projects(ctx.db);

  app.get(
    '/tasks',
    {
      config: { access: { roles: EDITORS } },
      schema: {
        summary: 'Lab tasks you may edit, by project (projectId=none: standalone), status, sensor or keyword',
        tags: ['tasks'],
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            projectId: Type.Optional(Type.Union([Id, Type.Literal('none')])),
            status: Type.Optional(Status),
            sensor: Type.Optional(Text(64, 1)),
            q: Type.Optional(Text(100)),
          }),
        ]),
        response: { 200: Page(TaskSummarySchema) },
      },
    },
    async (request) => {
      const { limit, offset } = page(request.query);
      const { projectId, status, sensor, q } = request.query;
      const { items, total } = await projects.listTasks(currentUser(request), {
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
      config: { access: { roles: ROLES } },
      schema: {
        summary: 'The JSON Schema of a rubric: criterion types and their params',
        tags: ['tasks'],
        response: { 200: Type.Unknown() },
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
        body: Type.Object(
          { projectId: Type.Optional(Type.Union([Id, Type.Null()])), ...taskFields },
          { additionalProperties: false },
        ),
        response: {
          201: TaskSchema,
          400: ErrorResponse,
          403: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const task = await projects.createTask(currentUser(request), request.body);
      return reply.status(201).send(sendVersioned(reply, task));
    },
  );

  app.get(
    '/tasks/:id',
    {
      config: { access: { roles: ROLES } },
      schema: {
        summary: 'One lab task with instructions and rubric (students: published tasks only)',
        tags: ['tasks'],
        params: IdParams,
        response: { 200: TaskSchema, 404: ErrorResponse },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await projects.task(currentUser(request), request.params.id)),
  );

  app.patch(
    '/tasks/:id',
    {
      config: { access: { roles: EDITORS } },
      schema: {
        summary: 'Change a lab task (If-Match); the rubric is checked again against the required sensors',
        tags: ['tasks'],
        params: IdParams,
        body: Type.Object(
          {
            ...taskFields,
            title: Type.Optional(taskFields.title),
            durationMinutes: Type.Optional(taskFields.durationMinutes),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: versioned,
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await projects.updateTask(
          currentUser(request),
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
        await projects.updateTask(
          currentUser(request),
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
          await projects.setTaskStatus(currentUser(request), request.params.id, expectedVersion(request), to),
        ),
    );
  }
};
