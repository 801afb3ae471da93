import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { StudentAccess } from './access.ts';

export function readStudentAccess(file: string): StudentAccess | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { studentAccess?: unknown };
    return saved.studentAccess === 'none' || saved.studentAccess === 'read' ? saved.studentAccess : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The choice used to be kept in Node-RED's userDir, which the flows' process may write: moved out
 * to `file` once (a flow could otherwise let students in at the next start).
 */
export function moveLegacySettings(userDir: string, file: string): void {
  const legacy = join(userDir, 'iotlab-flows.json');
  if (existsSync(legacy) && !existsSync(file)) renameSync(legacy, file);
}

const Settings = Type.Object({
  studentAccess: Type.Union([Type.Literal('none'), Type.Literal('read')], {
    description: 'none: students cannot open the editor; read: they see the flows and change nothing',
  }),
  editorPath: Type.String({ description: 'where the editor is served on this server' }),
});

export interface SettingsTarget {
  studentAccess: StudentAccess;
  readonly adminRoot: string;
}

/** The lab's audit log, as the settings route records into it. */
export type SettingsAudit = (
  actor: unknown,
  change: { entity: string; entityId: string; action: string; before: unknown; after: unknown },
) => Promise<void>;

/**
 * `GET/PUT /api/v1/flows/settings`: instructors choose whether students may look at the flows.
 * Access is declared the lab API's way (`config.access`), so its sign-in and roles apply.
 */
export function registerSettingsRoutes(
  app: FastifyInstance,
  editor: SettingsTarget,
  /** Where the choice is kept; none: not kept across restarts. */
  file: string | undefined,
  log: { info(object: object, message: string): void },
  audit: SettingsAudit,
): void {
  const current = () => ({ studentAccess: editor.studentAccess, editorPath: `${editor.adminRoot}/` });
  app.get(
    '/api/v1/flows/settings',
    {
      config: { access: { roles: ['admin', 'instructor', 'mentor', 'student'] } },
      schema: {
        summary: "The flow editor's settings: where it is, and what students may do in it",
        tags: ['flows'],
        response: { 200: Settings },
      },
    },
    async () => current(),
  );
  app.put<{ Body: { studentAccess: StudentAccess } }>(
    '/api/v1/flows/settings',
    {
      config: { access: { roles: ['admin', 'instructor'] } },
      schema: {
        summary: 'Let students look at the flows (read) or keep them out of the editor (none)',
        tags: ['flows'],
        body: Type.Object(
          { studentAccess: Settings.properties.studentAccess },
          { additionalProperties: false },
        ),
        response: { 200: Settings },
      },
    },
    async (request) => {
      // Written aside, audited, then put in place and applied: a failure at any step leaves the
      // setting as it was, and a change that took effect is always in the audit log.
      const before = { studentAccess: editor.studentAccess };
      const after = { studentAccess: request.body.studentAccess };
      const pending = file ? `${file}.${process.pid}.new` : undefined;
      if (pending) writeFileSync(pending, `${JSON.stringify(after)}\n`);
      const principal = (request as { principal?: { username?: string } }).principal;
      try {
        await audit(principal, {
          entity: 'flow_settings',
          entityId: 'student-access',
          action: 'update',
          before,
          after,
        });
      } catch (error) {
        if (pending) rmSync(pending, { force: true });
        throw error;
      }
      if (pending && file) renameSync(pending, file);
      editor.studentAccess = after.studentAccess;
      log.info(
        { studentAccess: after.studentAccess, by: principal?.username },
        'flow editor: student access changed',
      );
      return current();
    },
  );
}
