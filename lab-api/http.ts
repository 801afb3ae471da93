import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, say } from './errors.ts';

/** `?limit=&offset=` on every list. */
export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  // Bounded: a database cannot skip 1e23 rows, and would answer such an offset with an error.
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000, default: 0 })),
});
export type PageQuery = Static<typeof PageQuery>;

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    total: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
  });
}

export function page(query: { limit?: number | undefined; offset?: number | undefined }): {
  limit: number;
  offset: number;
} {
  return { limit: query.limit ?? 50, offset: query.offset ?? 0 };
}

/** The one error body, for response schemas. */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String({ description: "for people, in the request's language (Accept-Language: zh… or en)" }),
  details: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), {
      description: 'structured data a client needs to act on the error (row errors, the current version…)',
    }),
  ),
});

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
