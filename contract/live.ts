/** Live grading: a lab session's competition leaderboard (技能竞赛). */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Localized, Nullable } from './primitives.ts';
import { CriterionTitle } from './rubric.ts';

/**
 * GET /attempts/:id/live: server-sent events, each state as JSON (grading's live state: the
 * attempt, each criterion's score, pass, pending state and sentence).
 */
export const EventStream = {
  description: 'the event stream',
  content: { 'text/event-stream': { schema: Type.String() } },
};

/**
 * One criterion of an attempt's live grading, as published on MQTT
 * (`iotlab/v1/attempts/<id>/grading`) and on the event stream: no time spans, the key numbers.
 */
export const LiveCriterionState = Type.Object({
  id: Type.String(),
  type: Type.String({ description: 'the criterion type (sampling, range, …)' }),
  title: CriterionTitle,
  weight: Type.Number(),
  score: Type.Number({ description: '0 while pending' }),
  passed: Type.Boolean(),
  pending: Type.Optional(
    Type.Boolean({
      description:
        'not enough data to judge it yet: neither passed nor failed (absent from states published before live grading had it)',
    }),
  ),
  explanation: Localized,
  waitingFor: Type.Optional(Nullable(Localized, { description: 'what a pending criterion waits for' })),
  measured: Type.Record(Type.String(), Type.Number()),
});
export type LiveCriterionState = Static<typeof LiveCriterionState>;

/** An attempt's live grading state: what the MQTT topic and each event of the stream carry. */
export const LiveState = Type.Object({
  attemptId: Id,
  assignmentId: Id,
  sessionId: Nullable(Id),
  studentId: Id,
  teamId: Nullable(Id),
  kitId: Type.String(),
  seq: Type.Integer({ description: 'newer states of an attempt have higher numbers' }),
  evaluatedAt: Type.Integer(),
  window: Type.Object({ from: Type.Number(), to: Type.Number() }),
  lastReadingAt: Nullable(Type.Number()),
  score: Type.Number(),
  maxScore: Type.Number(),
  passed: Type.Boolean({ description: 'every criterion passes now' }),
  passedAt: Nullable(Type.Number()),
  timeToPassSeconds: Nullable(Type.Number()),
  ended: Type.Boolean(),
  criteria: Type.Array(LiveCriterionState),
});
export type LiveState = Static<typeof LiveState>;

export const Leaderboard = Type.Object({
  sessionId: Id,
  classId: Id,
  assignmentId: Id,
  taskTitle: Type.String(),
  running: Type.Boolean({ description: 'the session still runs' }),
  startedAt: Type.Integer(),
  endedAt: Nullable(Type.Integer()),
  generatedAt: Type.Integer(),
  maxScore: Type.Number(),
  criteria: Type.Array(Type.Object({ id: Type.String(), title: CriterionTitle, weight: Type.Number() })),
  teams: Type.Array(
    Type.Object({
      rank: Type.Integer({ description: 'teams with the same score and time to pass share a rank' }),
      teamId: Id,
      teamName: Type.String(),
      attemptId: Nullable(Id),
      attempts: Type.Integer(),
      score: Type.Number(),
      maxScore: Type.Number(),
      passed: Type.Boolean({ description: 'every criterion passes now' }),
      timeToPassSeconds: Nullable(
        Type.Number({ description: 'from the attempt start to the first moment every criterion passed' }),
      ),
      criteria: Type.Array(Type.Object({ id: Type.String(), passed: Type.Boolean() })),
    }),
  ),
});
export type Leaderboard = Static<typeof Leaderboard>;
