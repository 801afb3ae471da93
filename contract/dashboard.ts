/**
 * What the dashboards need in one request where the rest of the API would take dozens: a class
 * board, a mentor's attempts to score, a kit's recent error reports.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { KitErrorMessage } from '../protocol/index.ts';
import { Id, Nullable } from './primitives.ts';

export const BoardKit = Type.Object({
  kitId: Type.String(),
  name: Type.String(),
  teamId: Nullable(Id),
  teamName: Nullable(Type.String()),
  students: Type.Array(Type.Object({ id: Id, displayName: Type.String() })),
  online: Type.Boolean(),
  lastSeen: Nullable(Type.Number()),
  messages: Type.Integer(),
  refused: Type.Integer(),
  sensors: Type.Array(Type.String()),
  latest: Type.Record(Type.String(), Type.Object({ ts: Type.Number(), value: Type.Number() })),
  units: Type.Record(Type.String(), Nullable(Type.String())),
  history: Type.Record(Type.String(), Type.Array(Type.Tuple([Type.Number(), Type.Number()]))),
  attempt: Nullable(
    Type.Object({ id: Id, studentId: Id, studentName: Type.String(), startedAt: Type.Integer() }),
  ),
});
export type BoardKit = Static<typeof BoardKit>;

export const Board = Type.Object({
  classId: Id,
  className: Type.String(),
  generatedAt: Type.Integer(),
  from: Type.Integer(),
  session: Nullable(
    Type.Object({
      id: Id,
      assignmentId: Nullable(Id),
      startedAt: Type.Integer(),
      taskTitle: Nullable(Type.String()),
    }),
  ),
  assignments: Type.Array(Type.Object({ id: Id, taskTitle: Type.String(), status: Type.String() })),
  kits: Type.Array(BoardKit),
});
export type Board = Static<typeof Board>;

export const BoardQuery = Type.Object({
  minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, default: 5 })),
});

export const MentorAttempt = Type.Object({
  attemptId: Id,
  taskId: Id,
  taskTitle: Type.String(),
  projectTitle: Type.String(),
  mentorWeight: Type.Number(),
  className: Type.String(),
  teamName: Nullable(Type.String()),
  studentName: Type.String(),
  studentNumber: Nullable(Type.String()),
  kitId: Type.String(),
  startedAt: Type.Integer(),
  endedAt: Nullable(Type.Integer()),
  mentorScore: Nullable(Type.Number()),
});
export type MentorAttempt = Static<typeof MentorAttempt>;

export const MentorAttemptQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});

/** The reports the platform sent a kit on its `errors` topic (protocol/problems.ts), newest first. */
export const KitErrors = Type.Object({
  items: Type.Array(Type.Unsafe<KitErrorMessage>(Type.Record(Type.String(), Type.Unknown()))),
});
export type KitErrors = Static<typeof KitErrors>;
