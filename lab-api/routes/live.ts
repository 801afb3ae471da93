/**
 * Live grading over HTTP (grading/live.ts does the work): an attempt's criteria as a Server-Sent
 * Events stream, and a lab session's competition leaderboard (技能竞赛).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { EventStream, Leaderboard } from '../../contract/index.ts';
import type { LiveGrader, LiveUpdate } from '../../grading/index.ts';
import type { LabContext } from '../app.ts';
import type { Person } from '../auth.ts';
import { Assignments, type Attempt, Classes } from '../classes/index.ts';
import { ApiError, say } from '../errors.ts';
import { errors, IdParams } from '../http.ts';

/** Staff and students (each route narrows it to the class or the attempt), and platform services. */
const READERS = { roles: ['admin', 'instructor', 'student'], services: true } as const;

const STREAM_DESCRIPTION =
  'text/event-stream. A state comes as `event: grading` with `id: <seq>` whenever a student would ' +
  'see a change (a criterion passing or failing, a score moving by 0.1 or more: within about a ' +
  'second of the telemetry that changed it, at most one a second), and every 15 s while data ' +
  'arrives with the sentences and numbers refreshed. As JSON data: the attempt and each criterion: ' +
  'id, type, title, weight, score, passed, pending (not enough data to judge yet: no points, neither ' +
  'passed nor failed), explanation and waitingFor (zh-CN, en; what a pending criterion waits for) and ' +
  'the numbers measured — the sentence and numbers always of the same evaluation as the score; plus score, maxScore, ' +
  'passed, passedAt and timeToPassSeconds. The current state comes first. A comment line every 15 s keeps proxies from closing the stream. When the attempt ends: ' +
  'a last `grading` event with `ended: true`, then `event: end`, and the stream closes (an attempt ' +
  'that already ended gets its final state and `end` at once). The same state is published ' +
  'retained on the MQTT topic iotlab/v1/attempts/<attemptId>/grading. For the attempt’s student, ' +
  'the staff of its class, and platform services.';

export const liveRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const classes = new Classes(ctx.db);
  const assignments = new Assignments(ctx.db, classes);
  const { sessions, attempts } = assignments;
  /** Open event streams, ended when the server closes (an open stream would hold it up). */
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
  });

  const person = (principal: unknown): Person | null =>
    (principal as { kind?: string } | null)?.kind === 'user' ? (principal as Person) : null;

  function liveGrading(): LiveGrader {
    const live = ctx.deps.liveGrading;
    if (!live) {
      throw new ApiError(
        503,
        'LIVE_GRADING_OFF',
        say('live grading does not run in this process', '本服务未运行实时评分'),
      );
    }
    return live;
  }

  /** The attempt's student, the staff of its class, or a service. */
  async function assertCanFollow(principal: unknown, attempt: Attempt): Promise<void> {
    const me = person(principal);
    if (!me) return;
    if (me.role === 'student') {
      if (attempt.studentId !== me.id) {
        throw new ApiError(
          403,
          'NOT_YOUR_ATTEMPT',
          say(
            'this attempt is not yours: you may follow your own only',
            '这不是您的作答：您只能查看自己的作答',
          ),
        );
      }
      return;
    }
    const assignment = await assignments.assignmentOr404(attempt.assignmentId);
    classes.assertManages(me, await classes.classOr404(assignment.classId));
  }

  app.get(
    '/attempts/:id/live',
    {
      config: { access: READERS },
      schema: {
        summary: "Follow an attempt's grading live: each criterion's state as telemetry arrives (SSE)",
        description: STREAM_DESCRIPTION,
        tags: ['live'],
        params: IdParams,
        response: { 200: EventStream, ...errors(403, 404, 503) },
      },
    },
    async (request, reply) => {
      const attempt = await attempts.attemptOr404(request.params.id);
      await assertCanFollow(request.principal, attempt);
      const live = liveGrading();

      const stream = reply.raw;
      reply.hijack();
      stream.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      stream.write('retry: 3000\n\n');
      let done = false;
      let heartbeat: NodeJS.Timeout | undefined;
      let unsubscribe = () => {};
      const end = () => {
        if (done) return;
        done = true;
        if (heartbeat) clearInterval(heartbeat);
        unsubscribe();
        streams.delete(end);
        if (!stream.writableEnded) stream.end();
      };
      streams.add(end);
      stream.on('close', end);
      /** One event; `data` is JSON (the state's bytes as published, shared with MQTT). */
      const send = (event: string, data: Buffer | string, id?: number) => {
        if (done) return;
        stream.cork(); // one chunk on the wire
        stream.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: `);
        stream.write(data);
        stream.write('\n\n');
        stream.uncork();
      };
      const onUpdate = (update: LiveUpdate) => {
        if (update.type === 'closed') return end();
        send('grading', update.published.json, update.published.seq);
        if (update.type === 'end') {
          send('end', JSON.stringify({ attemptId: attempt.id, endedAt: update.published.windowTo }));
          end();
        }
      };

      if (attempt.endedAt !== null) {
        onUpdate({ type: 'end', published: await live.finalState(attempt) });
        return;
      }
      unsubscribe = live.subscribe(attempt.id, onUpdate);
      if (done) unsubscribe();
      heartbeat = setInterval(() => {
        if (done) return;
        stream.write(`: heartbeat ${Date.now()}\n\n`);
        // An attempt that ended while live grading did not follow it still ends its stream.
        if (live.isTracking(attempt.id)) return;
        void attempts.attemptById(attempt.id).then(
          async (now) => {
            if (!now || now.endedAt === null || done || live.isTracking(attempt.id)) return;
            onUpdate({ type: 'end', published: await live.finalState(now) });
          },
          () => {},
        );
      }, live.heartbeatMs);
      heartbeat.unref();
    },
  );

  app.get(
    '/sessions/:id/leaderboard',
    {
      config: { access: READERS },
      schema: {
        summary: "A lab session's competition leaderboard (技能竞赛): teams by live score, then time to pass",
        description:
          "Every team of the session's assignment, with its best attempt in the session: score on the " +
          "assignment's rubric, time to pass (from the attempt start to the first moment every criterion " +
          'passed; teams that have not passed rank after those that did) and which criteria pass. For ' +
          'the staff of the class, its students (they see the board, as in a competition) and platform ' +
          'services. Published retained on MQTT iotlab/v1/sessions/<sessionId>/leaderboard when it changes.',
        tags: ['live'],
        params: IdParams,
        response: { 200: Leaderboard, ...errors(403, 409, 503) },
      },
    },
    async (request) => {
      const session = await sessions.sessionOr404(request.params.id);
      const me = person(request.principal);
      if (me) {
        const cls = await classes.classOr404(session.classId);
        if (me.role === 'student') {
          if (!(await classes.isEnrolled(cls.id, me.id))) {
            throw new ApiError(
              403,
              'NOT_YOUR_CLASS',
              say(`you are not enrolled in class "${cls.name}"`, `您不在班级“${cls.name}”中`),
            );
          }
        } else {
          classes.assertManages(me, cls);
        }
      }
      const board = await liveGrading().leaderboard(session.id);
      if (!board) {
        throw new ApiError(
          409,
          'SESSION_WITHOUT_ASSIGNMENT',
          say(
            'this lab session is not for one assignment (none named, and its attempts are for several or none)',
            '这节实训课不属于某一个任务（未指定任务，且其中的作答分属多个任务或没有作答）',
          ),
        );
      }
      return board;
    },
  );
};
