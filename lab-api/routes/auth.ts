import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';
import { currentUser, hashToken, issueToken, LoginLimiter, ROLES } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { ErrorResponse } from '../http.ts';
import { passwordProblem, verifyPassword } from '../passwords.ts';
import { UserSchema } from './people.ts';

const EVERYONE = { roles: ROLES };

export const authRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { people, db, loginLimiter } = ctx;

  app.post(
    '/auth/login',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Sign in with username and password; returns a token to send as `Authorization: Bearer`',
        tags: ['auth'],
        security: [],
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.String({ minLength: 1, maxLength: 200 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ token: Type.String(), expiresAt: Type.Integer(), user: UserSchema }),
          401: ErrorResponse,
          429: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const keys = LoginLimiter.keys(username, request.ip);
      const wait = loginLimiter.retryAfter(keys);
      if (wait > 0) {
        void reply.header('retry-after', String(wait));
        throw new ApiError(
          429,
          'TOO_MANY_ATTEMPTS',
          `too many failed sign-ins: try again in ${Math.ceil(wait / 60)} min`,
        );
      }
      const found = await people.userForLogin(username);
      // Unknown users cost a hash too, so timing does not tell which usernames exist.
      const ok = found
        ? await verifyPassword(password, found.passwordHash)
        : await verifyPassword(password, DUMMY_HASH);
      if (!found || !ok || found.user.disabled) {
        loginLimiter.fail(keys);
        throw new ApiError(401, 'BAD_LOGIN', 'wrong username or password');
      }
      loginLimiter.succeed(keys);
      const { token, expiresAt } = await issueToken(db, found.user.id);
      return { token, expiresAt, user: found.user };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { access: EVERYONE },
      schema: { summary: 'Sign out: the token stops working', tags: ['auth'] },
    },
    async (request, reply) => {
      const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (token) await db.run('DELETE FROM auth_tokens WHERE token_hash = ?', [hashToken(token)]);
      return reply.status(204).send();
    },
  );

  app.get(
    '/me',
    {
      config: { access: EVERYONE },
      schema: { summary: 'The signed-in person', tags: ['auth'], response: { 200: UserSchema } },
    },
    async (request) => {
      const user = await people.userById(currentUser(request).id);
      if (!user) throw new ApiError(404, 'USER_NOT_FOUND', 'the signed-in user no longer exists');
      return user;
    },
  );

  app.post(
    '/me/password',
    {
      config: { access: EVERYONE },
      schema: {
        summary: 'Change your password (signs out your other sessions)',
        tags: ['auth'],
        body: Type.Object(
          { currentPassword: Type.String({ maxLength: 200 }), newPassword: Type.String({ maxLength: 200 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const me = currentUser(request);
      const found = await people.userForLogin(me.username);
      if (!found || !(await verifyPassword(request.body.currentPassword, found.passwordHash))) {
        throw new ApiError(403, 'BAD_PASSWORD', 'the current password is wrong');
      }
      const problem = passwordProblem(request.body.newPassword);
      if (problem) throw new ApiError(400, 'WEAK_PASSWORD', problem);
      await people.updateUser(request.principal ?? me, me.id, found.user.version, {
        password: request.body.newPassword,
      });
      const { token } = await issueToken(db, me.id);
      return reply.status(200).send({ token });
    },
  );
};

/** A hash of nothing, checked when the username is unknown (same cost as a real check). */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
