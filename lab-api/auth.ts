import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { ROLES, type Role } from '../contract/index.ts';
import type { LabDb, ServiceScope } from '../labdb/index.ts';
import { ApiError, roleZh, say } from './errors.ts';

export { ROLES, type Role };

/*
 * The people vocabulary, one name per concept across the platform:
 * - `Principal`: whoever calls the lab API, a person or a platform service account.
 * - `Person`: a signed-in person (a principal of `kind: 'user'`, the discriminant kept as the
 *   MQTT username `user:<name>` spells it). The broker's and the flow editor's ports declare a
 *   `Person` of their own with the fields they need (broker/broker.ts, flows/access.ts);
 *   tests/helpers/lab.ts's `Person` is one with their login token.
 * - `User`: only the API's answer shape of a person's account (contract/people.ts), as the
 *   `People` store reads and writes it.
 * - `LabSignIn`: the sign-in the flow editor uses (lab-api/accounts.ts, flows/access.ts):
 *   passwords, login tokens, device cookies. `PersonAccessPolicy` (broker) / `MqttPersonAccess`
 *   (lab-api/mqtt-access.ts): what a person may read over MQTT.
 */

/** Who is calling: a person (by role) or a platform service account. */
export type Principal =
  | {
      kind: 'user';
      id: string;
      username: string;
      role: Role;
      organisationId: string | null;
      displayName: string;
    }
  /** A platform service account, with what it may do. */
  | { kind: 'service'; name: string; scopes?: readonly ServiceScope[] };

/** A signed-in person: a caller that is not a service. */
export type Person = Extract<Principal, { kind: 'user' }>;

/**
 * Every route declares who may call it in `config.access`: `'public'`, or the roles and whether
 * platform services may — `true`: services that may read; a scope: services given that scope.
 * Routes that forget are closed to everyone.
 */
export type Access = 'public' | { roles: readonly Role[]; services?: boolean | ServiceScope };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

export interface ServiceVerifier {
  /** The service's scopes when the secret is its own; undefined otherwise. */
  serviceScopes(name: string, secret: string): Promise<readonly ServiceScope[] | undefined>;
}

/** Whether a caller may use a route that declares `access` (not 'public'). */
export function mayCall(principal: Principal, access: Exclude<Access, 'public'>): boolean {
  if (principal.kind === 'user') return access.roles.includes(principal.role);
  const needed = access.services === true ? 'read' : access.services;
  return needed !== undefined && needed !== false && (principal.scopes ?? []).includes(needed);
}

export const TOKEN_TTL_MS = 12 * 3_600_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Issues a login token; only its hash is stored. */
export async function issueToken(db: LabDb, userId: string): Promise<{ token: string; expiresAt: number }> {
  const token = randomBytes(32).toString('base64url');
  const now = Date.now();
  const expiresAt = now + TOKEN_TTL_MS;
  await db.run('INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)', [
    hashToken(token),
    userId,
    now,
    expiresAt,
  ]);
  return { token, expiresAt };
}

interface TokenUserRow {
  id: string;
  username: string;
  role: Role;
  organisation_id: string | null;
  display_name: string;
  disabled: number;
  expires_at: number;
}

/** The person signed in with this login token, while it is valid and their account active. */
export async function personForToken(db: LabDb, token: string): Promise<Person | null> {
  const row = await db.get<TokenUserRow>(
    `SELECT u.id, u.username, u.role, u.organisation_id, u.display_name, u.disabled, t.expires_at
     FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`,
    [hashToken(token)],
  );
  if (!row || row.disabled || row.expires_at < Date.now()) return null;
  return {
    kind: 'user',
    id: row.id,
    username: row.username,
    role: row.role,
    organisationId: row.organisation_id,
    displayName: row.display_name,
  };
}

/**
 * Resolves the caller and enforces the matched route's `config.access` on every request: 401 when
 * nobody signed in, 403 when the role may not. The decision is made from the route the router
 * matched (after it decoded the path), never from the URL string: `/%61pi/…`, `//api/…`, dot
 * segments and absolute-form request targets reach the same route and the same check. A route
 * that declares no access is closed to everyone, whoever calls.
 */
export function installAccessControl(app: FastifyInstance, db: LabDb, services: ServiceVerifier): void {
  app.decorateRequest('principal', null);
  const table: RouteOptions[] = [];
  routeTables.set(app, table);
  app.addHook('onRoute', (route) => {
    table.push(route);
  });
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    // No route matched: the not-found handler answers (or embedded middleware, e.g. Node-RED,
    // which checks its own sign-in); no handler of ours runs.
    if (request.routeOptions.url === undefined) return;
    const access = request.routeOptions.config?.access;
    if (access === undefined) {
      request.log.error({ route: request.routeOptions.url }, 'route declares no access: closed to everyone');
      throw new ApiError(403, 'FORBIDDEN', say('this route is not open to anyone', '这个接口不对任何人开放'));
    }
    // Public routes (sign-in, the web app's files) ignore credentials they cannot use.
    const principal = await resolvePrincipal(request, db, services, access !== 'public');
    request.principal = principal;
    if (access === 'public') return;
    if (!principal) {
      void reply.header('www-authenticate', 'Bearer realm="iotlab"');
      throw new ApiError(
        401,
        'AUTH_REQUIRED',
        say('sign in first: POST /api/v1/auth/login, then send the token as Bearer', '请先登录'),
      );
    }
    if (!mayCall(principal, access)) {
      throw new ApiError(
        403,
        'ROLE_NOT_ALLOWED',
        say(
          `${principal.kind === 'service' ? `service account ${principal.name} (scopes: ${(principal.scopes ?? []).join(', ') || 'none'})` : `the ${principal.role} role`} may not ${request.method} ${request.routeOptions.url}`,
          principal.kind === 'service'
            ? `服务账号 ${principal.name} 无权进行此操作`
            : `您的角色（${roleZh(principal.role)}）无权进行此操作`,
        ),
      );
    }
  });
}

/**
 * The caller from the Authorization header: Bearer → person, Basic → service account. Wrong
 * credentials are refused (401) where `strict`, and count as nobody elsewhere.
 */
async function resolvePrincipal(
  request: FastifyRequest,
  db: LabDb,
  services: ServiceVerifier,
  strict: boolean,
): Promise<Principal | null> {
  const header = request.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) {
    const person = await personForToken(db, bearer[1] as string);
    if (!person && strict)
      throw new ApiError(
        401,
        'BAD_TOKEN',
        say('the login token is unknown or expired: sign in again', '登录已失效，请重新登录'),
      );
    return person;
  }
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const name = colon > 0 ? decoded.slice(0, colon) : '';
    const scopes = name ? await services.serviceScopes(name, decoded.slice(colon + 1)) : undefined;
    if (scopes) return { kind: 'service', name, scopes };
    if (strict)
      throw new ApiError(
        401,
        'BAD_CREDENTIALS',
        say('unknown service account or wrong secret', '服务账号不存在或密钥错误'),
      );
  }
  return null;
}

/**
 * Declares every route registered inside `scope` public (third-party plugins that serve pages:
 * Swagger UI). Routes there that declare an access of their own keep it.
 */
export function publicRoutes(scope: FastifyInstance): void {
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, access: route.config?.access ?? 'public' };
  });
}

export interface RouteAccess {
  method: string;
  url: string;
  access: Access | undefined;
}

const routeTables = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Every route of the app with the access it declares (the role × route matrix test walks it). */
export function routeAccessTable(app: FastifyInstance): readonly RouteAccess[] {
  return (routeTables.get(app) ?? []).flatMap((route) =>
    [route.method]
      .flat()
      .filter((method) => method !== 'HEAD')
      .map((method) => ({ method, url: route.url, access: route.config?.access })),
  );
}

/** The signed-in person (routes whose access lists only roles). */
export function currentPerson(request: FastifyRequest): Person {
  const principal = request.principal;
  if (principal?.kind !== 'user')
    throw new ApiError(403, 'FORBIDDEN', say('only people may do this', '只有个人账号可以进行此操作'));
  return principal;
}
