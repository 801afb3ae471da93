import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.ts';

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
  message: Type.String(),
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
      'send the ETag you read in an If-Match header, so a change made meanwhile by someone else is not overwritten',
    );
  }
  return Number(match[1]);
}

export function versionConflict(entity: string, current: number): ApiError {
  return new ApiError(
    412,
    'VERSION_CONFLICT',
    `${entity} was changed by someone else meanwhile (now version ${current}): reload it and apply your change again`,
  );
}
