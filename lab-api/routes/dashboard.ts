/**
 * What the dashboards need in one request where the rest of the API would take dozens: an
 * instructor's class board (every kit of a class with its status, latest readings and the last
 * minutes of each sensor, and the running session's attempts), and a mentor's list of attempts on
 * their enterprise's tasks (to review and score). Live updates then come over MQTT.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import {
  Board,
  BoardQuery,
  KitErrors,
  KitParams,
  MentorAttempt,
  MentorAttemptQuery,
} from '../../contract/index.ts';
import type { KitErrorMessage } from '../../protocol/index.ts';
import { sensorSpec } from '../../protocol/index.ts';
import type { LabContext } from '../app.ts';
import { Assignments, Classes } from '../classes/index.ts';
import { ApiError, say } from '../errors.ts';
import { currentPerson, errors, IdParams, List, STAFF } from '../http.ts';
import { naturalOrder } from '../names.ts';

interface KitRow {
  kit_id: string;
  name: string;
  team_id: string | null;
  team_name: string | null;
  student_id: string | null;
}

export const dashboardRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { db, deps } = ctx;
  const classes = new Classes(db);
  const kitBindings = classes.kits;
  const { sessions } = new Assignments(db, classes);

  app.get(
    '/dashboard/classes/:id/board',
    {
      config: { access: STAFF },
      schema: {
        summary:
          "A class board: each kit bound in the class with its connection, latest readings, the last minutes of every sensor (15 s means) and the running session's attempt on it",
        tags: ['dashboard'],
        params: IdParams,
        querystring: BoardQuery,
        response: { 200: Board, ...errors(403, 404) },
      },
    },
    async (request) => {
      const me = currentPerson(request);
      const cls = await classes.classOr404(request.params.id);
      classes.assertManages(me, cls);
      const now = Date.now();
      const from = now - (request.query.minutes ?? 5) * 60_000;

      const rows = await db.all<KitRow>(
        `SELECT b.kit_id, k.name, b.team_id, t.name AS team_name, b.student_id
           FROM kit_bindings b JOIN kits k ON k.id = b.kit_id LEFT JOIN teams t ON t.id = b.team_id
         WHERE b.class_id = ?`,
        [cls.id],
      );
      // 第2组 before 第10组; a student's kits after the teams'.
      rows.sort(
        (a, b) =>
          Number(a.team_name === null) - Number(b.team_name === null) ||
          naturalOrder(a.team_name ?? '', b.team_name ?? '') ||
          naturalOrder(a.kit_id, b.kit_id),
      );
      const members = await db.all<{ team_id: string; id: string; display_name: string }>(
        `SELECT tm.team_id, u.id, u.display_name FROM team_members tm JOIN users u ON u.id = tm.user_id
           JOIN teams t ON t.id = tm.team_id WHERE t.class_id = ? ORDER BY u.student_number NULLS FIRST, u.display_name`,
        [cls.id],
      );
      const names = new Map(
        (
          await db.all<{ id: string; display_name: string }>(
            'SELECT u.id, u.display_name FROM users u JOIN class_members m ON m.user_id = u.id WHERE m.class_id = ?',
            [cls.id],
          )
        ).map((row) => [row.id, row.display_name]),
      );
      const running = (await sessions.runningSessions([cls.id])).get(cls.id) ?? null;
      const attempts = running
        ? await db.all<{ id: string; kit_id: string; student_id: string; started_at: number }>(
            'SELECT id, kit_id, student_id, started_at FROM attempts WHERE session_id = ? AND ended_at IS NULL',
            [running.id],
          )
        : [];
      const assignments = await db.all<{ id: string; title: string; opens_at: number; due_at: number }>(
        `SELECT a.id, t.title, a.opens_at, a.due_at FROM assignments a JOIN lab_tasks t ON t.id = a.task_id
         WHERE a.class_id = ? ORDER BY a.due_at`,
        [cls.id],
      );
      const sensors = await kitBindings.kitSensors();

      const kits = await Promise.all(
        rows.map(async (row) => {
          const connection = deps.liveStatus?.kitStatus(row.kit_id);
          const latest = await deps.store.latest(row.kit_id);
          const names_ = sensors.get(row.kit_id) ?? [];
          const shown = [...new Set([...names_, ...Object.keys(latest)])].filter(
            (sensor) => !sensor.startsWith('_') && !sensor.startsWith('@'),
          );
          const history: Record<string, [number, number][]> = {};
          await Promise.all(
            shown.map(async (sensor) => {
              const windows = await deps.store.aggregate({
                kitId: row.kit_id,
                sensor,
                from,
                to: now,
                every: 15_000,
              });
              history[sensor] = windows.map((w) => [w.ts, Math.round(w.mean * 100) / 100]);
            }),
          );
          const attempt = attempts.find((a) => a.kit_id === row.kit_id);
          return {
            kitId: row.kit_id,
            name: row.name,
            teamId: row.team_id,
            teamName: row.team_name,
            students: row.team_id
              ? members
                  .filter((m) => m.team_id === row.team_id)
                  .map((m) => ({ id: m.id, displayName: m.display_name }))
              : row.student_id
                ? [{ id: row.student_id, displayName: names.get(row.student_id) ?? '' }]
                : [],
            online: connection?.online ?? false,
            lastSeen: connection?.lastSeen ?? null,
            messages: connection?.messages ?? 0,
            refused: connection?.refused ?? 0,
            sensors: shown,
            latest: Object.fromEntries(
              Object.entries(latest).filter(([sensor]) => shown.includes(sensor)),
            ) as Record<string, { ts: number; value: number }>,
            units: Object.fromEntries(shown.map((sensor) => [sensor, sensorSpec(sensor)?.unit ?? null])),
            history,
            attempt: attempt
              ? {
                  id: attempt.id,
                  studentId: attempt.student_id,
                  studentName: names.get(attempt.student_id) ?? '',
                  startedAt: attempt.started_at,
                }
              : null,
          };
        }),
      );
      const sessionTask = running?.assignmentId
        ? (assignments.find((a) => a.id === running.assignmentId)?.title ?? null)
        : null;
      return {
        classId: cls.id,
        className: cls.name,
        generatedAt: now,
        from,
        session: running
          ? {
              id: running.id,
              assignmentId: running.assignmentId,
              startedAt: running.startedAt,
              taskTitle: sessionTask,
            }
          : null,
        assignments: assignments.map((a) => ({
          id: a.id,
          taskTitle: a.title,
          status: now < a.opens_at ? 'upcoming' : now < a.due_at ? 'open' : 'closed',
        })),
        kits,
      };
    },
  );

  app.get(
    '/dashboard/kits/:kitId/errors',
    {
      config: { access: { roles: ['admin', 'instructor', 'student'], services: true } },
      schema: {
        summary:
          "The last error reports the platform sent a kit on its errors topic, newest first (a student: their own kits')",
        tags: ['dashboard'],
        params: KitParams,
        response: { 200: KitErrors, ...errors(403) },
      },
    },
    async (request) => {
      const principal = request.principal;
      if (principal?.kind === 'user' && principal.role === 'student') {
        const mine = (await kitBindings.kitsOfStudent(principal.id)).get(request.params.kitId);
        if (!mine) {
          throw new ApiError(
            403,
            'NOT_YOUR_KIT',
            say(
              `kit "${request.params.kitId}" is not bound to you or your team`,
              `套件“${request.params.kitId}”没有绑定给您或您的小组`,
            ),
          );
        }
        return {
          items: (deps.recentKitErrors?.of(request.params.kitId) ?? []).filter(
            (m) => ((m as { ts?: number }).ts ?? 0) >= mine.boundAt,
          ) as KitErrorMessage[],
        };
      }
      return {
        items: [...(deps.recentKitErrors?.of(request.params.kitId) ?? [])] as KitErrorMessage[],
      };
    },
  );

  app.get(
    '/dashboard/mentor/attempts',
    {
      config: { access: { roles: ['admin', 'mentor'] } },
      schema: {
        summary:
          "Attempts to score: at the lab tasks of your enterprise's projects where the mentor's score counts (an admin: all), newest first, with your score",
        tags: ['dashboard'],
        querystring: MentorAttemptQuery,
        response: { 200: List(MentorAttempt) },
      },
    },
    async (request) => {
      const me = currentPerson(request);
      if (me.role === 'mentor' && !me.organisationId) return { items: [] };
      const rows = await db.all<{
        id: string;
        task_id: string;
        task_title: string;
        project_title: string;
        mentor_weight: number;
        class_name: string;
        team_name: string | null;
        student_name: string;
        student_number: string | null;
        kit_id: string;
        started_at: number;
        ended_at: number | null;
        mentor_score: number | null;
      }>(
        `SELECT a.id, t.id AS task_id, t.title AS task_title, p.title AS project_title, t.mentor_weight,
                c.name AS class_name, tm.name AS team_name, u.display_name AS student_name,
                u.student_number, a.kit_id, a.started_at, a.ended_at, ms.score AS mentor_score
           FROM attempts a
           JOIN assignments s ON s.id = a.assignment_id
           JOIN lab_tasks t ON t.id = s.task_id
           JOIN projects p ON p.id = t.project_id
           JOIN classes c ON c.id = s.class_id
           JOIN users u ON u.id = a.student_id
           LEFT JOIN teams tm ON tm.id = a.team_id
           LEFT JOIN mentor_scores ms ON ms.attempt_id = a.id
         ${me.role === 'mentor' ? 'WHERE p.organisation_id = ? AND t.mentor_weight > 0' : ''}
         ORDER BY a.started_at DESC LIMIT ?`,
        me.role === 'mentor'
          ? [me.organisationId as string, request.query.limit ?? 100]
          : [request.query.limit ?? 100],
      );
      return {
        items: rows.map((row) => ({
          attemptId: row.id,
          taskId: row.task_id,
          taskTitle: row.task_title,
          projectTitle: row.project_title,
          mentorWeight: row.mentor_weight,
          className: row.class_name,
          teamName: row.team_name,
          studentName: row.student_name,
          // 学号 stay inside the college: mentors work for outside enterprises.
          studentNumber: me.role === 'mentor' ? null : row.student_number,
          kitId: row.kit_id,
          startedAt: row.started_at,
          endedAt: row.ended_at,
          mentorScore: row.mentor_score,
        })),
      };
    },
  );
};
