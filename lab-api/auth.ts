import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LabDb } from '../labdb/index.ts';
import { ApiError } from './errors.ts';

export type Role = 'admin' | 'instructor' | 'mentor' | 'student';
export const ROLES: readonly Role[] = ['admin', 'instructor', 'mentor', 'student'];

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
  | { kind: 'service'; name: string };

/**
 * Every route under /api declares who may call it in `config.access`: `'public'`, or the roles
 * (and whether platform services may). Routes that forget are closed to everyone.
 */
export type Access = 'public' | { roles: readonly Role[]; services?: boolean };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

export interface ServiceVerifier {
  verifyService(name: string, secret: string): Promise<boolean>;
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

export async function userForToken(db: LabDb, token: string): Promise<Principal | null> {
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
 * Resolves the caller on every request (Bearer token → person, Basic → service account) and
 * enforces the route's `access`: 401 when nobody signed in, 403 when the role may not.
 */
export function installAccessControl(app: FastifyInstance, db: LabDb, services: ServiceVerifier): void {
  app.decorateRequest('principal', null);
  const table: RouteAccess[] = [];
  routeTables.set(app, table);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') table.push({ method, url: route.url, access: route.config?.access });
    }
  });
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    const basic = /^Basic\s+(\S+)$/i.exec(header);
    // Outside the API (the embedded flow editor has tokens of its own) unknown credentials are not ours to refuse.
    const inApi = request.url.startsWith('/api/');
    if (bearer) {
      request.principal = await userForToken(db, bearer[1] as string);
      if (!request.principal && inApi)
        throw new ApiError(401, 'BAD_TOKEN', 'the login token is unknown or expired: sign in again');
    } else if (basic) {
      const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const name = colon > 0 ? decoded.slice(0, colon) : '';
      if (!name || !(await services.verifyService(name, decoded.slice(colon + 1)))) {
        if (!inApi) return;
        throw new ApiError(401, 'BAD_CREDENTIALS', 'unknown service account or wrong secret');
      }
      request.principal = { kind: 'service', name };
    }
    // Outside the API, and paths that match no route (they answer 404), need no access check.
    if (!request.url.startsWith('/api/') || request.routeOptions.url === undefined) return;
    const access = request.routeOptions.config?.access;
    if (access === 'public') return;
    if (!request.principal) {
      void reply.header('www-authenticate', 'Bearer realm="iotlab"');
      throw new ApiError(
        401,
        'AUTH_REQUIRED',
        'sign in first: POST /api/v1/auth/login, then send the token as Bearer',
      );
    }
    if (!access) {
      request.log.error({ url: request.routeOptions.url }, 'route declares no access: closed to everyone');
      throw new ApiError(403, 'FORBIDDEN', 'this route is not open to anyone');
    }
    const principal = request.principal;
    const allowed =
      principal.kind === 'service' ? access.services === true : access.roles.includes(principal.role);
    if (!allowed) {
      throw new ApiError(
        403,
        'ROLE_NOT_ALLOWED',
        `${principal.kind === 'service' ? 'service accounts' : `the ${principal.role} role`} may not ${request.method} ${request.routeOptions.url}`,
      );
    }
  });
}

export interface RouteAccess {
  method: string;
  url: string;
  access: Access | undefined;
}

const routeTables = new WeakMap<FastifyInstance, RouteAccess[]>();

/** Every /api route with the access it declares (the role × route matrix test walks it). */
export function routeAccessTable(app: FastifyInstance): readonly RouteAccess[] {
  return routeTables.get(app) ?? [];
}

/** The signed-in person (routes whose access lists only roles). */
export function currentUser(request: FastifyRequest): Extract<Principal, { kind: 'user' }> {
  const principal = request.principal;
  if (principal?.kind !== 'user') throw new ApiError(403, 'FORBIDDEN', 'only people may do this');
  return principal;
}

/**
 * Failed sign-ins: after 5 for one username, or 50 from one address (a classroom shares one), in
 * 15 minutes, further attempts get 429 until the window passes: online guessing becomes slow.
 */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();
  readonly #windowMs: number;
  readonly #limits: { user: number; address: number };

  constructor(limits = { user: 5, address: 50 }, windowMs = 15 * 60_000) {
    this.#limits = limits;
    this.#windowMs = windowMs;
  }

  static keys(username: string, address: string): string[] {
    return [`user:${username.toLowerCase()}`, `address:${address}`];
  }

  /** Seconds until these keys may try again, or 0. */
  retryAfter(keys: string[], now = Date.now()): number {
    let wait = 0;
    for (const key of keys) {
      const recent = (this.#failures.get(key) ?? []).filter((at) => now - at < this.#windowMs);
      if (recent.length === 0) this.#failures.delete(key);
      else this.#failures.set(key, recent);
      const limit = key.startsWith('user:') ? this.#limits.user : this.#limits.address;
      if (recent.length >= limit) {
        wait = Math.max(
          wait,
          Math.ceil(((recent[recent.length - limit] as number) + this.#windowMs - now) / 1000),
        );
      }
    }
    return wait;
  }

  fail(keys: string[], now = Date.now()): void {
    for (const key of keys) this.#failures.set(key, [...(this.#failures.get(key) ?? []), now]);
  }

  succeed(keys: string[]): void {
    this.#failures.delete(keys[0] as string);
  }
}
