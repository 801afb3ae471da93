/**
 * The rubric as it crosses the wire: its envelope and the pieces of a criterion that answers show
 * (titles). Each criterion type's full schema is lab-api/rubric.ts's (GET /api/v1/tasks/rubric-schema),
 * which checks what the envelope lets through and names the criterion in every problem.
 */
import { type Static, Type } from '@sinclair/typebox';

export const CRITERION_TYPES = [
  'sampling',
  'completeness',
  'range',
  'tolerance',
  'stability',
  'threshold_response',
  'actuator_effect',
  'events',
  'authenticity',
] as const;
export type CriterionType = (typeof CRITERION_TYPES)[number];

export const MAX_CRITERIA = 50;

/** A criterion's title as its author wrote it: one string, or one per language. */
export const CriterionTitle = Type.Union(
  [
    Type.String({ minLength: 1, maxLength: 200 }),
    Type.Object(
      {
        'zh-CN': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        en: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
  ],
  { description: 'a string, or {"zh-CN": …, "en": …}' },
);
export type CriterionTitle = Static<typeof CriterionTitle>;

/**
 * The rubric as it travels: the envelope is checked here, each criterion by lab-api/rubric.ts,
 * whose messages name the criterion (GET /api/v1/tasks/rubric-schema has the full schema).
 */
export const RubricBody = Type.Object(
  {
    criteria: Type.Array(Type.Unknown(), {
      maxItems: MAX_CRITERIA,
      description: `criteria {id, title, weight, partialCredit, type, params}; type one of ${CRITERION_TYPES.join(', ')}; weights add up to 100. Full schema: GET /api/v1/tasks/rubric-schema`,
    }),
  },
  { additionalProperties: false },
);
export type RubricBody = Static<typeof RubricBody>;

/** GET /tasks/rubric-schema: the rubric's full JSON Schema (lab-api/rubric.ts's `RubricSchema`). */
export const RubricJsonSchema = Type.Unknown();
