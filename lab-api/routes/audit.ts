import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { SqlValue } from '../../labdb/index.ts';
import type { LabContext } from '../app.ts';
import { type AuditRow, toAuditEntry } from '../audit.ts';
import { Page, PageQuery, page } from '../http.ts';

const AuditEntrySchema = Type.Object({
  id: Type.String(),
  at: Type.Integer(),
  actor: Type.Object({ kind: Type.String(), id: Type.String(), role: Type.String() }),
  entity: Type.String(),
  entityId: Type.String(),
  action: Type.String(),
  before: Type.Unknown(),
  after: Type.Unknown(),
});

export const auditRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/audit',
    {
      config: { access: { roles: ['admin', 'instructor'] } },
      schema: {
        summary: 'Who changed what and when, newest first',
        tags: ['audit'],
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            entity: Type.Optional(Type.String({ maxLength: 32 })),
            entityId: Type.Optional(Type.String({ maxLength: 64 })),
            actorId: Type.Optional(Type.String({ maxLength: 64 })),
          }),
        ]),
        response: { 200: Page(AuditEntrySchema) },
      },
    },
    async (request) => {
      const where: string[] = [];
      const params: SqlValue[] = [];
      for (const [column, value] of [
        ['entity', request.query.entity],
        ['entity_id', request.query.entityId],
        ['actor_id', request.query.actorId],
      ] as const) {
        if (value !== undefined) {
          where.push(`${column} = ?`);
          params.push(value);
        }
      }
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const { limit, offset } = page(request.query);
      const total =
        (await ctx.db.get<{ n: number }>(`SELECT count(*) AS n FROM audit_log ${clause}`, params))?.n ?? 0;
      const rows = await ctx.db.all<AuditRow>(
        `SELECT * FROM audit_log ${clause} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`,
        [...params, limit, offset],
      );
      return { items: rows.map(toAuditEntry), total, limit, offset };
    },
  );
};
