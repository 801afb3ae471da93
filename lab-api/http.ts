/**
 * What every route file uses: the contract's primitives (ids, pages, error answers), who is
 * calling, paging, and optimistic concurrency (ETag / If-Match).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { currentPerson, type Person, type Principal, ROLES } from './auth.ts';
import { ApiError, say } from './errors.ts';

export { Download, errors, IdParams, List, NoContent, Page, PageQuery } from '../contract/index.ts';
export { currentPerson };

/** Who may call a route (`config.access`): everyone signed in, staff, students. */
export const EVERYONE = { roles: ROLES } as const;
export const STAFF = { roles: ['admin', 'instructor'] } as const;
export const STUDENTS = { roles: ['student'] } as const;

/** The page a list asks for, with the defaults filled in. */
export function page(query: { limit?: number | undefined; offset?: number | undefined }): {
  limit: number;
  offset: number;
} {
  return { limit: query.limit ?? 50, offset: query.offset ?? 0 };
}

/** Whoever called: access control let only signed-in people and services through. */
export function caller(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError(401, 'AUTH_REQUIRED', say('sign in first', '请先登录'));
  return request.principal;
}

/** The signed-in person who called, or null for a platform service. */
export function personOrService(request: FastifyRequest): Person | null {
  const principal = request.principal;
  return principal?.kind === 'user' ? principal : null;
}

/** For POSTs whose body is all optional: no body at all means `{}`. */
export async function bodyMayBeEmpty(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

/**
 * Optimistic concurrency: an editable entity carries a `version`; GET sends it as the ETag, and a
 * change must send it back in If-Match. Two people editing the same rubric cannot silently
 * overwrite each other: the second gets 412 and reloads.
 */
export function etag(version: number): string {
  return `"${version}"`;
}

export function sendVersioned<T extends { version: number }>(reply: FastifyReply, entity: T): T {
  void reply.header('etag', etag(entity.version));
  return entity;
}

/** The version the client edited (from If-Match); 428 when it did not say. */
export function expectedVersion(request: FastifyRequest): number {
  const header = request.headers['if-match'];
  const match = typeof header === 'string' ? /^(?:W\/)?"(\d+)"$/.exec(header.trim()) : null;
  if (!match) {
    throw new ApiError(
      428,
      'IF_MATCH_REQUIRED',
      say(
        'send the ETag you read in an If-Match header, so a change made meanwhile by someone else is not overwritten',
        '请在 If-Match 请求头中带上读取时得到的 ETag，以免覆盖别人在此期间所做的修改',
      ),
    );
  }
  return Number(match[1]);
}

/** What was edited meanwhile, for the 412's sentence. */
export type Versioned =
  | 'user'
  | 'organisation'
  | 'mentor score'
  | 'profile'
  | 'project'
  | 'task'
  | 'class'
  | 'team'
  | 'assignment';

const VERSIONED_ZH: Record<Versioned, string> = {
  user: '该用户',
  organisation: '该单位',
  'mentor score': '企业评分',
  profile: '该师资库资料',
  project: '该项目',
  task: '该实训任务',
  class: '该班级',
  team: '该小组',
  assignment: '该任务',
};

/** 412: someone else changed it since the client read it; `details.currentVersion` says to what. */
export function versionConflict(entity: Versioned, current: number): ApiError {
  return new ApiError(
    412,
    'VERSION_CONFLICT',
    say(
      `the ${entity} was changed by someone else meanwhile (now version ${current}): reload it and apply your change again`,
      current === 0
        ? `${VERSIONED_ZH[entity]}还不存在，请刷新后重新提交`
        : `${VERSIONED_ZH[entity]}已被他人修改（当前为第 ${current} 版），请刷新后重新修改`,
    ),
    { entity, currentVersion: current },
  );
}
