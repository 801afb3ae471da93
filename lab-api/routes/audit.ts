import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { AuditEntry, AuditQuery } from '../../contract/index.ts';
import type { SqlValue } from '../../labdb/index.ts';
import type { LabContext } from '../app.ts';
import { type AuditRow, toAuditEntry } from '../audit.ts';
import { currentPerson, Page, page, STAFF } from '../http.ts';

/**
 * What an instructor may read of the audit log: what they did themselves; the shared catalogue
 * (organisations, projects, tasks, mentor profiles, the flow editor's settings); and everything
 * about their own classes — the class, its teams, assignments, sessions, attempts and grades, the
 * kits bound in it and its students' accounts. Another class's roster, grades and people are not
 * theirs to read. Every `?` is the instructor's id.
 */
const MY_CLASSES = 'SELECT id FROM classes WHERE instructor_id = ?';
const INSTRUCTOR_SCOPE = `(
  actor_id = ?
  OR entity IN ('organisation', 'project', 'task', 'mentor_profile', 'flow_settings')
  OR (entity = 'class' AND entity_id IN (${MY_CLASSES}))
  OR (entity = 'team' AND entity_id IN (SELECT id FROM teams WHERE class_id IN (${MY_CLASSES})))
  OR (entity = 'assignment' AND entity_id IN (SELECT id FROM assignments WHERE class_id IN (${MY_CLASSES})))
  OR (entity = 'lab-session' AND entity_id IN (SELECT id FROM lab_sessions WHERE class_id IN (${MY_CLASSES})))
  OR (entity IN ('attempt', 'grade') AND entity_id IN (
    SELECT a.id FROM attempts a JOIN assignments s ON s.id = a.assignment_id WHERE s.class_id IN (${MY_CLASSES})))
  OR (entity = 'user' AND entity_id IN (SELECT user_id FROM class_members WHERE class_id IN (${MY_CLASSES})))
  OR (entity IN ('kit', 'kit-binding') AND entity_id IN (
    SELECT kit_id FROM kit_bindings WHERE class_id IN (${MY_CLASSES})))
)`;

export const auditRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/audit',
    {
      config: { access: STAFF },
      schema: {
        summary:
          'Who changed what and when, newest first (an instructor: their own changes, their classes, and the shared catalogue)',
        tags: ['audit'],
        querystring: AuditQuery,
        response: { 200: Page(AuditEntry) },
      },
    },
    async (request) => {
      const where: string[] = [];
      const params: SqlValue[] = [];
      const me = currentPerson(request);
      if (me.role === 'instructor') {
        where.push(INSTRUCTOR_SCOPE);
        params.push(...Array<string>(INSTRUCTOR_SCOPE.split('?').length - 1).fill(me.id));
      }
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
