import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';
import { currentUser, ROLES } from '../auth.ts';
import { ErrorResponse, expectedVersion, Page, PageQuery, page, sendVersioned } from '../http.ts';
import { Projects } from '../projects.ts';
import { Id, SkillTags, Text } from './projects.ts';

const PoolRole = Type.Union([Type.Literal('mentor'), Type.Literal('instructor')]);

export const MentorProfileSchema = Type.Object({
  userId: Id,
  displayName: Type.String(),
  role: PoolRole,
  organisationId: Type.Union([Id, Type.Null()]),
  organisationName: Type.Union([Type.String(), Type.Null()]),
  expertise: Type.Array(Type.String()),
  availability: Type.String(),
  available: Type.Boolean(),
  dualQualified: Type.Boolean({ description: '双师型: teaching and industry qualification' }),
  bio: Type.String(),
  updatedAt: Type.Union([Type.Integer(), Type.Null()]),
  version: Type.Integer({ description: '0 until the profile is first saved' }),
});

const UserParams = Type.Object({ userId: Id });

/**
 * The mentor pool (师资库): enterprise mentors and instructors with their expertise and
 * availability, visible to everyone signed in; each edits their own profile, an admin anyone's.
 */
export const mentorsRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const projects = new Projects(ctx.db);

  app.get(
    '/mentors',
    {
      config: { access: { roles: ROLES } },
      schema: {
        summary:
          'The mentor pool (师资库): mentors and instructors, by expertise tag, name/bio search, availability',
        tags: ['mentors'],
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            tag: Type.Optional(Text(40, 1)),
            q: Type.Optional(Text(100)),
            available: Type.Optional(Type.Boolean()),
            role: Type.Optional(PoolRole),
            organisationId: Type.Optional(Id),
          }),
        ]),
        response: { 200: Page(MentorProfileSchema) },
      },
    },
    async (request) => {
      const { limit, offset } = page(request.query);
      const { tag, q, available, role, organisationId } = request.query;
      const { items, total } = await projects.listMentors({
        tag,
        q,
        available,
        role,
        organisationId,
        limit,
        offset,
      });
      return { items, total, limit, offset };
    },
  );

  app.get(
    '/mentors/:userId/profile',
    {
      config: { access: { roles: ROLES } },
      schema: {
        summary: 'A mentor\'s or instructor\'s profile (ETag "0" until first saved)',
        tags: ['mentors'],
        params: UserParams,
        response: { 200: MentorProfileSchema, 404: ErrorResponse },
      },
    },
    async (request, reply) => sendVersioned(reply, await projects.mentorProfile(request.params.userId)),
  );

  app.put(
    '/mentors/:userId/profile',
    {
      config: { access: { roles: ['admin', 'instructor', 'mentor'] } },
      schema: {
        summary:
          'Replace a profile (If-Match; "0" creates it): your own, or anyone\'s for an admin; 双师型 is set by an admin',
        tags: ['mentors'],
        params: UserParams,
        body: Type.Object(
          {
            expertise: SkillTags('expertise tags, e.g. "cold chain", "LoRa", "嵌入式"'),
            availability: Text(200),
            available: Type.Boolean(),
            bio: Text(5000),
            dualQualified: Type.Optional(Type.Boolean({ description: 'admin only; omitted: unchanged' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: MentorProfileSchema,
          400: ErrorResponse,
          403: ErrorResponse,
          404: ErrorResponse,
          412: ErrorResponse,
          428: ErrorResponse,
        },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await projects.saveMentorProfile(
          currentUser(request),
          request.params.userId,
          expectedVersion(request),
          request.body,
        ),
      ),
  );
};
