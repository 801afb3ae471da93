/**
 * The pieces every part of the contract is made of: ids, nullable values, sentences in both
 * languages, pages of a list, and the one error body.
 */
import { type SchemaOptions, type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';

export const Id = Type.String({ format: 'uuid' });

/** `/…/:id` */
export const IdParams = Type.Object({ id: Id });
export type IdParams = Static<typeof IdParams>;

/** A string of at most `maxLength` characters (and at least `minLength`). */
export const Text = (maxLength: number, minLength = 0) => Type.String({ minLength, maxLength });

export const Nullable = <T extends TSchema>(schema: T, options?: SchemaOptions) =>
  Type.Union([schema, Type.Null()], options);

/** A sentence in each language the platform speaks. */
export const Localized = Type.Object({ 'zh-CN': Type.String(), en: Type.String() });
export type Localized = Static<typeof Localized>;

/** A time given as ms since the epoch or as an ISO 8601 string. */
export const Instant = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ format: 'date-time' })]);
export type Instant = Static<typeof Instant>;

export const ROLES = ['admin', 'instructor', 'mentor', 'student'] as const;
export const Role = Type.Union(ROLES.map((role) => Type.Literal(role)));
export type Role = Static<typeof Role>;

/** `?limit=&offset=` on every list. */
export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  // Bounded: a database cannot skip 1e23 rows, and would answer such an offset with an error.
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000, default: 0 })),
});
export type PageQuery = Static<typeof PageQuery>;

const pageFields = { total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() };

/** A page of a list: `{items, total, limit, offset}`. */
export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), ...pageFields });
}
export type Page<T> = { items: T[] } & Static<TObject<typeof pageFields>>;

/** A whole list, unpaged: `{items}`. */
export function List<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item) });
}
export type List<T> = { items: T[] };

/** The one error body. */
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
export type ErrorResponse = Static<typeof ErrorResponse>;

/** The error answers a route gives, for its response map: `{ 200: X, ...errors(403, 404) }`. */
export function errors<const Codes extends readonly number[]>(
  ...codes: Codes
): { [Code in Codes[number]]: typeof ErrorResponse } {
  return Object.fromEntries(codes.map((code) => [code, ErrorResponse])) as {
    [Code in Codes[number]]: typeof ErrorResponse;
  };
}

/** 204: no body. */
export const NoContent = Type.Null();

/** A file the API serves (exports). */
export const Download = Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary' });
