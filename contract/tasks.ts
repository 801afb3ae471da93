/** Lab tasks and their rubrics. */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Nullable, PageQuery, Text } from './primitives.ts';
import { PublicationStatus, SkillTags } from './projects.ts';
import { RubricBody } from './rubric.ts';

const SensorList = (description: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64, uniqueItems: true, description });

const taskCommon = {
  id: Id,
  projectId: Nullable(Id),
  organisationId: Type.Union([Id, Type.Null()], {
    description: "the project's enterprise; null when standalone",
  }),
  title: Type.String(),
  requiredSensors: Type.Array(Type.String()),
  requiredActuators: Type.Array(Type.String()),
  skills: Type.Array(Type.String()),
  durationMinutes: Type.Integer(),
  mentorWeight: Type.Integer({ description: '% of the grade given by the enterprise mentor' }),
  status: PublicationStatus,
  createdBy: Id,
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  version: Type.Integer(),
};

export const Task = Type.Object({ ...taskCommon, instructions: Type.String(), rubric: RubricBody });
export type Task = Static<typeof Task>;

/** A task in a list: without its instructions and rubric. */
export const TaskSummary = Type.Object({ ...taskCommon, criteriaCount: Type.Integer() });
export type TaskSummary = Static<typeof TaskSummary>;

export const TaskQuery = Type.Composite([
  PageQuery,
  Type.Object({
    projectId: Type.Optional(Type.Union([Id, Type.Literal('none')])),
    status: Type.Optional(PublicationStatus),
    sensor: Type.Optional(Text(64, 1)),
    q: Type.Optional(Text(100)),
  }),
]);
export type TaskQuery = Static<typeof TaskQuery>;

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

export const NewTaskBody = Type.Object(
  { projectId: Type.Optional(Nullable(Id)), ...taskFields },
  { additionalProperties: false },
);
export type NewTaskBody = Static<typeof NewTaskBody>;

export const TaskChanges = Type.Object(
  {
    ...taskFields,
    title: Type.Optional(taskFields.title),
    durationMinutes: Type.Optional(taskFields.durationMinutes),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type TaskChanges = Static<typeof TaskChanges>;
