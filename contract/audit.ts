/** The audit log: who changed what and when. */
import { type Static, Type } from '@sinclair/typebox';
import { PageQuery } from './primitives.ts';

export const AuditEntry = Type.Object({
  id: Type.String(),
  at: Type.Integer(),
  actor: Type.Object({ kind: Type.String(), id: Type.String(), role: Type.String() }),
  entity: Type.String(),
  entityId: Type.String(),
  action: Type.String(),
  before: Type.Unknown(),
  after: Type.Unknown(),
});
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditQuery = Type.Composite([
  PageQuery,
  Type.Object({
    entity: Type.Optional(Type.String({ maxLength: 32 })),
    entityId: Type.Optional(Type.String({ maxLength: 64 })),
    actorId: Type.Optional(Type.String({ maxLength: 64 })),
  }),
]);
export type AuditQuery = Static<typeof AuditQuery>;
