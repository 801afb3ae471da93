import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';
import { currentUser, ROLES } from '../auth.ts';
import { ApiError, say } from '../errors.ts';
import { ErrorResponse, expectedVersion, Page, PageQuery, page, sendVersioned } from '../http.ts';
import { USERNAME_PATTERN } from '../people.ts';

const Role = Type.Union(ROLES.map((role) => Type.Literal(role)));
const Id = Type.String({ format: 'uuid' });
const Text = (maxLength: number, minLength = 0) => Type.String({ minLength, maxLength });

export const UserSchema = Type.Object({
  id: Id,
  username: Type.String(),
  displayName: Type.String(),
  role: Role,
  organisationId: Type.Union([Id, Type.Null()]),
  studentNumber: Type.Union([Type.String(), Type.Null()]),
  email: Type.String(),
  disabled: Type.Boolean(),
  createdAt: Type.Integer(),
  version: Type.Integer(),
});

export const OrganisationSchema = Type.Object({
  id: Id,
  kind: Type.Union([Type.Literal('college'), Type.Literal('enterprise')]),
  name: Type.String(),
  nameEn: Type.String(),
  industry: Type.String(),
  description: Type.String(),
  createdAt: Type.Integer(),
  version: Type.Integer(),
});

const IdParams = Type.Object({ id: Id });

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
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            role: Type.Optional(Role),
            organisationId: Type.Optional(Id),
            q: Type.Optional(Text(100)),
          }),
        ]),
        response: { 200: Page(UserSchema) },
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
        body: Type.Object(
          {
            username: Type.String({ pattern: USERNAME_PATTERN }),
            displayName: Text(100, 1),
            role: Role,
            password: Text(200, 1),
            organisationId: Type.Optional(Type.Union([Id, Type.Null()])),
            studentNumber: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z-]{4,32}$' })),
            email: Type.Optional(Text(200)),
          },
          { additionalProperties: false },
        ),
        response: { 201: UserSchema, 400: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const user = await people.createUser(request.principal ?? currentUser(request), request.body);
      return reply.status(201).send(sendVersioned(reply, user));
    },
  );

  app.get(
    '/users/:id',
    {
      config: { access: { roles: ROLES } },
      schema: {
        summary: 'One person (yourself, or anyone for an admin)',
        tags: ['people'],
        params: IdParams,
        response: { 200: UserSchema },
      },
    },
    async (request, reply) => {
      const me = currentUser(request);
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
        body: Type.Object(
          {
            displayName: Type.Optional(Text(100, 1)),
            email: Type.Optional(Text(200)),
            organisationId: Type.Optional(Type.Union([Id, Type.Null()])),
            disabled: Type.Optional(Type.Boolean()),
            password: Type.Optional(Text(200, 1)),
          },
          { additionalProperties: false },
        ),
        response: { 200: UserSchema, 412: ErrorResponse, 428: ErrorResponse },
      },
    },
    async (request, reply) => {
      const user = await people.updateUser(
        request.principal ?? currentUser(request),
        request.params.id,
        expectedVersion(request),
        request.body,
      );
      return sendVersioned(reply, user);
    },
  );

  app.get(
    '/organisations',
    {
      config: { access: { roles: ROLES } },
      schema: {
        summary: 'The college and partner enterprises',
        tags: ['people'],
        querystring: Type.Object({
          kind: Type.Optional(Type.Union([Type.Literal('college'), Type.Literal('enterprise')])),
        }),
        response: { 200: Type.Object({ items: Type.Array(OrganisationSchema) }) },
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
        body: Type.Object(
          {
            kind: Type.Union([Type.Literal('college'), Type.Literal('enterprise')]),
            name: Text(200, 1),
            nameEn: Type.Optional(Text(200)),
            industry: Type.Optional(Text(100)),
            description: Type.Optional(Text(5000)),
          },
          { additionalProperties: false },
        ),
        response: { 201: OrganisationSchema, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const organisation = await people.createOrganisation(
        request.principal ?? currentUser(request),
        request.body,
      );
      return reply.status(201).send(sendVersioned(reply, organisation));
    },
  );

  app.get(
    '/organisations/:id',
    {
      config: { access: { roles: ROLES } },
      schema: {
        summary: 'One organisation',
        tags: ['people'],
        params: IdParams,
        response: { 200: OrganisationSchema },
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
        body: Type.Object(
          {
            name: Type.Optional(Text(200, 1)),
            nameEn: Type.Optional(Text(200)),
            industry: Type.Optional(Text(100)),
            description: Type.Optional(Text(5000)),
          },
          { additionalProperties: false },
        ),
        response: { 200: OrganisationSchema, 412: ErrorResponse, 428: ErrorResponse },
      },
    },
    async (request, reply) => {
      const organisation = await people.updateOrganisation(
        request.principal ?? currentUser(request),
        request.params.id,
        expectedVersion(request),
        request.body,
      );
      return sendVersioned(reply, organisation);
    },
  );
};
