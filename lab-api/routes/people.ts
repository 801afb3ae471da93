import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import {
  NewOrganisationBody,
  NewUserBody,
  Organisation,
  OrganisationChanges,
  OrganisationQuery,
  User,
  UserChanges,
  UserQuery,
} from '../../contract/index.ts';
import type { LabContext } from '../app.ts';
import { ApiError, say } from '../errors.ts';
import {
  currentPerson,
  EVERYONE,
  errors,
  expectedVersion,
  IdParams,
  List,
  Page,
  page,
  sendVersioned,
} from '../http.ts';

export const peopleRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { people } = ctx;

  app.get(
    '/users',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        summary: 'People, filtered by role, organisation or a search (username, name, 学号)',
        tags: ['people'],
        querystring: UserQuery,
        response: { 200: Page(User) },
      },
    },
    async (request) => {
      const { role, organisationId, q } = request.query;
      const { limit, offset } = page(request.query);
      const { items, total } = await people.listUsers({ role, organisationId, q, limit, offset });
      return { items, total, limit, offset };
    },
  );

  app.post(
    '/users',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        summary: 'Create a person (students need a 学号, mentors an organisation)',
        tags: ['people'],
        body: NewUserBody,
        response: { 201: User, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const user = await people.createUser(request.principal ?? currentPerson(request), request.body);
      return reply.status(201).send(sendVersioned(reply, user));
    },
  );

  app.get(
    '/users/:id',
    {
      config: { access: EVERYONE },
      schema: {
        summary: 'One person (yourself, or anyone for an admin)',
        tags: ['people'],
        params: IdParams,
        response: { 200: User },
      },
    },
    async (request, reply) => {
      const me = currentPerson(request);
      if (me.role !== 'admin' && me.id !== request.params.id) {
        throw new ApiError(
          403,
          'FORBIDDEN',
          say('you may see only your own account', '您只能查看自己的账号'),
        );
      }
      const user = await people.userById(request.params.id);
      if (!user)
        throw new ApiError(
          404,
          'USER_NOT_FOUND',
          say(`no user ${request.params.id}`, `找不到用户 ${request.params.id}`),
        );
      return sendVersioned(reply, user);
    },
  );

  app.patch(
    '/users/:id',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        summary: 'Change a person (If-Match: the ETag you read); a new password or disabling signs them out',
        tags: ['people'],
        params: IdParams,
        body: UserChanges,
        response: { 200: User, ...errors(412, 428) },
      },
    },
    async (request, reply) => {
      const user = await people.updateUser(
        request.principal ?? currentPerson(request),
        request.params.id,
        expectedVersion(request),
        request.body,
      );
      // A disabled account or a new password ends the person's dashboard connections at once, on
      // every instance (their login tokens went with it).
      if (request.body.disabled || request.body.password)
        ctx.deps.liveStatus?.disconnectPerson?.(user.username);
      return sendVersioned(reply, user);
    },
  );

  app.get(
    '/organisations',
    {
      config: { access: EVERYONE },
      schema: {
        summary: 'The college and partner enterprises',
        tags: ['people'],
        querystring: OrganisationQuery,
        response: { 200: List(Organisation) },
      },
    },
    async (request) => ({ items: await people.listOrganisations(request.query.kind) }),
  );

  app.post(
    '/organisations',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        summary: 'Add the college or a partner enterprise',
        tags: ['people'],
        body: NewOrganisationBody,
        response: { 201: Organisation, ...errors(409) },
      },
    },
    async (request, reply) => {
      const organisation = await people.createOrganisation(
        request.principal ?? currentPerson(request),
        request.body,
      );
      return reply.status(201).send(sendVersioned(reply, organisation));
    },
  );

  app.get(
    '/organisations/:id',
    {
      config: { access: EVERYONE },
      schema: {
        summary: 'One organisation',
        tags: ['people'],
        params: IdParams,
        response: { 200: Organisation },
      },
    },
    async (request, reply) => {
      const organisation = await people.organisationById(request.params.id);
      if (!organisation)
        throw new ApiError(
          404,
          'ORGANISATION_NOT_FOUND',
          say(`no organisation ${request.params.id}`, `找不到单位 ${request.params.id}`),
        );
      return sendVersioned(reply, organisation);
    },
  );

  app.patch(
    '/organisations/:id',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        summary: 'Change an organisation (If-Match)',
        tags: ['people'],
        params: IdParams,
        body: OrganisationChanges,
        response: { 200: Organisation, ...errors(412, 428) },
      },
    },
    async (request, reply) => {
      const organisation = await people.updateOrganisation(
        request.principal ?? currentPerson(request),
        request.params.id,
        expectedVersion(request),
        request.body,
      );
      return sendVersioned(reply, organisation);
    },
  );
};
