import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Login, LoginBody, PasswordChangeBody, PasswordChanged, User } from '../../contract/index.ts';
import { deviceCookie, deviceFromCookies, type SignInFrom, type SignInResult } from '../accounts.ts';
import type { LabContext } from '../app.ts';
import { hashToken, issueToken } from '../auth.ts';
import { ApiError, say } from '../errors.ts';
import { currentPerson, EVERYONE, errors } from '../http.ts';
import { passwordProblem } from '../passwords.ts';

export const authRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { people, db, passwords, deps } = ctx;

  app.post(
    '/auth/login',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Sign in with username and password; returns a token to send as `Authorization: Bearer`',
        tags: ['auth'],
        security: [],
        body: LoginBody,
        response: { 200: Login, ...errors(401, 429) },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const result = await passwords.signIn(username, password, signInFrom(request));
      if (!result.ok) throw signInRefused(result, reply);
      void reply.header('set-cookie', deviceCookie(result.device, request.protocol === 'https'));
      const { token, expiresAt } = await issueToken(db, result.user.id);
      return { token, expiresAt, user: result.user };
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
      // The dashboards' MQTT connections of this login end now, on every instance.
      if (request.principal?.kind === 'user') deps.liveStatus?.disconnectPerson?.(request.principal.username);
      return reply.status(204).send();
    },
  );

  app.get(
    '/me',
    {
      config: { access: EVERYONE },
      schema: { summary: 'The signed-in person', tags: ['auth'], response: { 200: User } },
    },
    async (request) => {
      const user = await people.userById(currentPerson(request).id);
      if (!user)
        throw new ApiError(
          404,
          'USER_NOT_FOUND',
          say('the signed-in user no longer exists', '当前登录的用户已不存在'),
        );
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
        body: PasswordChangeBody,
        response: { 200: PasswordChanged, ...errors(400, 403, 429) },
      },
    },
    async (request, reply) => {
      const me = currentPerson(request);
      const result = await passwords.signIn(me.username, request.body.currentPassword, signInFrom(request));
      if (!result.ok) {
        if (result.reason === 'locked') throw signInRefused(result, reply);
        throw new ApiError(403, 'BAD_PASSWORD', say('the current password is wrong', '当前密码不正确'));
      }
      const problem = passwordProblem(request.body.newPassword);
      if (problem) throw new ApiError(400, 'WEAK_PASSWORD', problem);
      // The new password, the end of the other sessions and this session's new token: all or nothing.
      let token = '';
      await people.updateUser(
        me,
        me.id,
        result.user.version,
        { password: request.body.newPassword },
        async (tx) => {
          token = (await issueToken(tx, me.id)).token;
        },
      );
      // The other sessions ended: so do their MQTT connections, on every instance.
      deps.liveStatus?.disconnectPerson?.(me.username);
      return reply.status(200).send({ token });
    },
  );
};

function signInFrom(request: FastifyRequest): SignInFrom {
  return { address: request.ip, device: deviceFromCookies(request.headers.cookie) };
}

/** 401 for a wrong pair, 429 with Retry-After after too many failures. */
function signInRefused(result: Exclude<SignInResult<unknown>, { ok: true }>, reply: FastifyReply): ApiError {
  if (result.reason === 'wrong')
    return new ApiError(401, 'BAD_LOGIN', say('wrong username or password', '用户名或密码错误'));
  void reply.header('retry-after', String(result.retryAfterSeconds));
  return new ApiError(
    429,
    'TOO_MANY_ATTEMPTS',
    say(
      `too many failed sign-ins: try again in ${Math.ceil(result.retryAfterSeconds / 60)} min`,
      `登录失败次数过多，请 ${Math.ceil(result.retryAfterSeconds / 60)} 分钟后再试`,
    ),
  );
}
