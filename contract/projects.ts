/** Enterprise projects, recommendations for students, and the mentor pool (师资库). */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Nullable, PageQuery, Text } from './primitives.ts';

export const PUBLICATION_STATUSES = ['draft', 'published', 'archived'] as const;
/** Of projects and lab tasks. */
export const PublicationStatus = Type.Union(
  PUBLICATION_STATUSES.map((status) => Type.Literal(status)),
  { description: 'draft → published → archived (an admin may re-publish an archived one)' },
);
export type PublicationStatus = Static<typeof PublicationStatus>;

/** A skill or expertise tag: letters (any script) and digits, with . _ + # / - and spaces inside. */
export const SkillTag = Type.String({
  minLength: 1,
  maxLength: 40,
  pattern: '^[\\p{L}\\p{N}][\\p{L}\\p{N}\\p{M} ._+#/-]*$',
  description: 'e.g. "mqtt", "c++", "传感器"',
});
export const SkillTags = (description: string) => Type.Array(SkillTag, { maxItems: 30, description });

export const Project = Type.Object({
  id: Id,
  organisationId: { ...Id, description: 'the enterprise that brings the project' },
  organisationName: Type.String(),
  title: Type.String(),
  background: Type.String(),
  goals: Type.String(),
  requiredSkills: Type.Array(Type.String()),
  deliverables: Type.String(),
  difficulty: Type.Integer({ minimum: 1, maximum: 5 }),
  status: PublicationStatus,
  createdBy: Id,
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  version: Type.Integer(),
});
export type Project = Static<typeof Project>;

export const ProjectQuery = Type.Composite([
  PageQuery,
  Type.Object({
    q: Type.Optional(Text(100)),
    skill: Type.Optional(Text(40)),
    status: Type.Optional(PublicationStatus),
    organisationId: Type.Optional(Id),
  }),
]);
export type ProjectQuery = Static<typeof ProjectQuery>;

const Difficulty = Type.Integer({ minimum: 1, maximum: 5, description: '1 (introductory) … 5 (hard)' });
const projectFields = {
  title: Text(200, 1),
  background: Type.Optional(Text(20_000)),
  goals: Type.Optional(Text(20_000)),
  requiredSkills: Type.Optional(SkillTags('the skills a team needs; recommendations match them')),
  deliverables: Type.Optional(Text(20_000)),
  difficulty: Difficulty,
};

export const NewProjectBody = Type.Object(
  { organisationId: Type.Optional(Id), ...projectFields },
  { additionalProperties: false },
);
export type NewProjectBody = Static<typeof NewProjectBody>;

export const ProjectChanges = Type.Object(
  {
    title: Type.Optional(projectFields.title),
    background: projectFields.background,
    goals: projectFields.goals,
    requiredSkills: projectFields.requiredSkills,
    deliverables: projectFields.deliverables,
    difficulty: Type.Optional(Difficulty),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ProjectChanges = Static<typeof ProjectChanges>;

export const Recommendation = Type.Object({
  project: Project,
  score: Type.Number({
    minimum: 0,
    maximum: 1,
    description: "the mean, over the project's required skills, of the student's best evidence for each",
  }),
  reasons: Type.Object({
    matched: Type.Array(Type.Object({ skill: Type.String(), score: Type.Number() })),
    missing: Type.Array(Type.String()),
    text: Type.String(),
  }),
});
export type Recommendation = Static<typeof Recommendation>;

export const Recommendations = Type.Object({
  basedOnEvidence: Type.Boolean(),
  message: Type.String(),
  items: Type.Array(Recommendation),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
});
export type Recommendations = Static<typeof Recommendations>;

export const PoolRole = Type.Union([Type.Literal('mentor'), Type.Literal('instructor')]);

export const MentorProfile = Type.Object({
  userId: Id,
  displayName: Type.String(),
  role: PoolRole,
  organisationId: Nullable(Id),
  organisationName: Nullable(Type.String()),
  expertise: Type.Array(Type.String()),
  availability: Type.String(),
  available: Type.Boolean(),
  dualQualified: Type.Boolean({ description: '双师型: teaching and industry qualification' }),
  bio: Type.String(),
  updatedAt: Nullable(Type.Integer(), { description: 'null until the profile is first saved' }),
  version: Type.Integer({ description: '0 until the profile is first saved' }),
});
export type MentorProfile = Static<typeof MentorProfile>;

export const MentorQuery = Type.Composite([
  PageQuery,
  Type.Object({
    tag: Type.Optional(Text(40, 1)),
    q: Type.Optional(Text(100)),
    available: Type.Optional(Type.Boolean()),
    role: Type.Optional(PoolRole),
    organisationId: Type.Optional(Id),
  }),
]);
export type MentorQuery = Static<typeof MentorQuery>;

/** `/mentors/:userId/…` */
export const UserParams = Type.Object({ userId: Id });

export const MentorProfileBody = Type.Object(
  {
    expertise: SkillTags('expertise tags, e.g. "cold chain", "LoRa", "嵌入式"'),
    availability: Text(200),
    available: Type.Boolean(),
    bio: Text(5000),
    dualQualified: Type.Optional(Type.Boolean({ description: 'admin only; omitted: unchanged' })),
  },
  { additionalProperties: false },
);
export type MentorProfileBody = Static<typeof MentorProfileBody>;
