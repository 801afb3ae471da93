import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { MentorProfile, MentorProfileBody, MentorQuery, UserParams } from '../../contract/index.ts';
import type { LabContext } from '../app.ts';
import { currentPerson, EVERYONE, errors, expectedVersion, Page, page, sendVersioned } from '../http.ts';
import { MentorPool } from '../projects/index.ts';

/**
 * The mentor pool (师资库): enterprise mentors and instructors with their expertise and
 * availability, visible to everyone signed in; each edits their own profile, an admin anyone's.
 */
export const mentorsRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const mentors = new MentorPool(ctx.db);

  app.get(
    '/mentors',
    {
      config: { access: EVERYONE },
      schema: {
        summary:
          'The mentor pool (师资库): mentors and instructors, by expertise tag, name/bio search, availability',
        tags: ['mentors'],
        querystring: MentorQuery,
        response: { 200: Page(MentorProfile) },
      },
    },
    async (request) => {
      const { limit, offset } = page(request.query);
      const { tag, q, available, role, organisationId } = request.query;
      const { items, total } = await mentors.listMentors({
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
      config: { access: EVERYONE },
      schema: {
        summary: 'A mentor\'s or instructor\'s profile (ETag "0" until first saved)',
        tags: ['mentors'],
        params: UserParams,
        response: { 200: MentorProfile, ...errors(404) },
      },
    },
    async (request, reply) => sendVersioned(reply, await mentors.mentorProfile(request.params.userId)),
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
        body: MentorProfileBody,
        response: { 200: MentorProfile, ...errors(400, 403, 404, 412, 428) },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await mentors.saveMentorProfile(
          currentPerson(request),
          request.params.userId,
          expectedVersion(request),
          request.body,
        ),
      ),
  );
};
