import { randomBytes } from 'node:crypto';
import type { AuditEntry } from '../contract/index.ts';
import type { LabDb } from '../labdb/index.ts';
import type { Principal } from './auth.ts';

/** An entry as the API answers it (contract/audit.ts). */
export type { AuditEntry } from '../contract/index.ts';

let lastMs = 0;
let sequence = 0;

/**
 * Audit ids sort in the order the entries were made: the time in ms, a counter within the same
 * ms, and random bits (for entries made by several processes).
 */
function auditId(now: number): string {
  sequence = now === lastMs ? sequence + 1 : 0;
  lastMs = now;
  return `${String(now).padStart(13, '0')}-${String(sequence).padStart(6, '0')}-${randomBytes(6).toString('hex')}`;
}

/**
 * Records who changed what, when, and the entity before and after. Call it inside the
 * transaction that makes the change, so a change is never without its audit entry.
 */
export async function recordAudit(
  db: LabDb,
  actor: Principal,
  change: { entity: string; entityId: string; action: string; before?: unknown; after?: unknown },
): Promise<void> {
  const now = Date.now();
  await db.run(
    `INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_role, entity, entity_id, action, before_json, after_json)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      auditId(now),
      now,
      actor.kind,
      actor.kind === 'user' ? actor.id : actor.name,
      actor.kind === 'user' ? actor.role : 'service',
      change.entity,
      change.entityId,
      change.action,
      change.before === undefined ? null : JSON.stringify(change.before),
      change.after === undefined ? null : JSON.stringify(change.after),
    ],
  );
}

interface AuditRow {
  id: string;
  at: number;
  actor_kind: string;
  actor_id: string;
  actor_role: string;
  entity: string;
  entity_id: string;
  action: string;
  before_json: string | null;
  after_json: string | null;
}

export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: { kind: row.actor_kind, id: row.actor_id, role: row.actor_role },
    entity: row.entity,
    entityId: row.entity_id,
    action: row.action,
    before: row.before_json === null ? null : JSON.parse(row.before_json),
    after: row.after_json === null ? null : JSON.parse(row.after_json),
  };
}

export type { AuditRow };
