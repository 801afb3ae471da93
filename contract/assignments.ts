/** Assignments of lab tasks, lab sessions, and attempts. */
import { type Static, Type } from '@sinclair/typebox';
import { KIT_ID_PATTERN } from '../protocol/index.ts';
import { Id, Instant, Nullable, PageQuery } from './primitives.ts';

export const AssignmentStatus = Type.Union([
  Type.Literal('upcoming'),
  Type.Literal('open'),
  Type.Literal('closed'),
]);
export type AssignmentStatus = Static<typeof AssignmentStatus>;

export const Assignment = Type.Object({
  id: Id,
  taskId: Id,
  taskTitle: Type.String(),
  classId: Id,
  className: Type.String(),
  opensAt: Type.Integer(),
  dueAt: Type.Integer(),
  status: AssignmentStatus,
  targets: Type.Object({ teamIds: Type.Array(Id), studentIds: Type.Array(Id) }),
  createdBy: Id,
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  version: Type.Integer(),
});
export type Assignment = Static<typeof Assignment>;

export const AssignmentQuery = Type.Composite([
  PageQuery,
  Type.Object({ status: Type.Optional(AssignmentStatus) }),
]);
export type AssignmentQuery = Static<typeof AssignmentQuery>;

const Targets = {
  teamIds: Type.Optional(Type.Array(Id, { maxItems: 200 })),
  studentIds: Type.Optional(Type.Array(Id, { maxItems: 500 })),
};

export const NewAssignmentBody = Type.Object(
  { taskId: Id, opensAt: Instant, dueAt: Instant, ...Targets },
  { additionalProperties: false },
);
export type NewAssignmentBody = Static<typeof NewAssignmentBody>;

export const AssignmentChanges = Type.Object(
  { opensAt: Type.Optional(Instant), dueAt: Type.Optional(Instant), ...Targets },
  { additionalProperties: false },
);
export type AssignmentChanges = Static<typeof AssignmentChanges>;

export const LabSession = Type.Object({
  id: Id,
  classId: Id,
  assignmentId: Nullable(Id),
  startedBy: Id,
  startedAt: Type.Integer(),
  endedAt: Nullable(Type.Integer()),
});
export type LabSession = Static<typeof LabSession>;

export const NewSessionBody = Type.Object(
  { assignmentId: Type.Optional(Id) },
  { additionalProperties: false },
);
export type NewSessionBody = Static<typeof NewSessionBody>;

/** An ended session, with the attempts that ended with it. */
export const EndedSession = Type.Composite([LabSession, Type.Object({ endedAttempts: Type.Array(Id) })]);
export type EndedSession = Static<typeof EndedSession>;

export const Attempt = Type.Object({
  id: Id,
  assignmentId: Id,
  sessionId: Nullable(Id),
  studentId: Id,
  teamId: Nullable(Id),
  kitId: Type.String(),
  startedAt: Type.Integer(),
  endedAt: Nullable(Type.Integer()),
});
export type Attempt = Static<typeof Attempt>;

export const NewAttemptBody = Type.Object(
  {
    studentId: Type.Optional(Id),
    kitId: Type.Optional(Type.String({ pattern: KIT_ID_PATTERN.source })),
  },
  { additionalProperties: false },
);
export type NewAttemptBody = Static<typeof NewAttemptBody>;

export const AttemptQuery = Type.Composite([PageQuery, Type.Object({ studentId: Type.Optional(Id) })]);
export type AttemptQuery = Static<typeof AttemptQuery>;

export const MyAttemptQuery = Type.Composite([PageQuery, Type.Object({ assignmentId: Type.Optional(Id) })]);
export type MyAttemptQuery = Static<typeof MyAttemptQuery>;
