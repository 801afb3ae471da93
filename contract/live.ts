/** Live grading: a lab session's competition leaderboard (技能竞赛). */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Nullable } from './primitives.ts';
import { CriterionTitle } from './rubric.ts';

/**
 * GET /attempts/:id/live: server-sent events, each state as JSON (grading's live state: the
 * attempt, each criterion's score, pass, pending state and sentence).
 */
export const EventStream = {
  description: 'the event stream',
  content: { 'text/event-stream': { schema: Type.String() } },
};

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
