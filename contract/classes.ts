/** Classes, their rosters and teams. */
import { type Static, Type } from '@sinclair/typebox';
import { ErrorResponse, Id, Localized, Nullable, PageQuery, Text } from './primitives.ts';

export const ClassInfo = Type.Object({
  id: Id,
  name: Type.String(),
  term: Type.String(),
  instructorId: Nullable(Id),
  instructorName: Nullable(Type.String()),
  studentCount: Type.Integer(),
  teamCount: Type.Integer(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  version: Type.Integer(),
});
export type ClassInfo = Static<typeof ClassInfo>;

/** A running lab session, in brief. */
export const SessionBrief = Type.Object({
  id: Id,
  assignmentId: Nullable(Id),
  startedAt: Type.Integer(),
});
export type SessionBrief = Static<typeof SessionBrief>;

/** A class a student is in, with its running lab session. */
export const MyClass = Type.Composite([ClassInfo, Type.Object({ activeSession: Nullable(SessionBrief) })]);
export type MyClass = Static<typeof MyClass>;

export const ClassQuery = Type.Composite([
  PageQuery,
  Type.Object({
    q: Type.Optional(Text(100)),
    term: Type.Optional(Text(40)),
    instructorId: Type.Optional(Id),
  }),
]);
export type ClassQuery = Static<typeof ClassQuery>;

export const NewClassBody = Type.Object(
  {
    name: Text(100, 1),
    term: Type.Optional(Text(40)),
    instructorId: Type.Optional(Nullable(Id)),
  },
  { additionalProperties: false },
);
export type NewClassBody = Static<typeof NewClassBody>;

export const ClassChanges = Type.Object(
  {
    name: Type.Optional(Text(100, 1)),
    term: Type.Optional(Text(40)),
    instructorId: Type.Optional(Nullable(Id)),
  },
  { additionalProperties: false },
);
export type ClassChanges = Static<typeof ClassChanges>;

/** `/classes/:id/students/:studentId`, `/teams/:id/members/:studentId` */
export const StudentParams = Type.Object({ id: Id, studentId: Id });

export const RosterStudent = Type.Object({
  id: Id,
  username: Type.String(),
  displayName: Type.String(),
  studentNumber: Nullable(Type.String()),
  disabled: Type.Boolean(),
  teamId: Nullable(Id),
  teamName: Nullable(Type.String()),
});
export type RosterStudent = Static<typeof RosterStudent>;

export const RosterQuery = Type.Composite([PageQuery, Type.Object({ q: Type.Optional(Text(100)) })]);

export const EnrolBody = Type.Object(
  { studentIds: Type.Array(Id, { minItems: 1, maxItems: 500 }) },
  { additionalProperties: false },
);
export type EnrolBody = Static<typeof EnrolBody>;

export const Enrolled = Type.Object({ enrolled: Type.Array(Id), alreadyEnrolled: Type.Array(Id) });
export type Enrolled = Static<typeof Enrolled>;

/** A problem on a row of a roster file (`details.rows` of ROSTER_INVALID, an import's `warnings`). */
export const RowError = Type.Object({
  row: Type.Integer({ description: 'the spreadsheet row (the header is row 1)' }),
  field: Nullable(
    Type.Union([Type.Literal('studentNumber'), Type.Literal('name'), Type.Literal('className')], {
      description: 'the column the problem is about; null: the file as a whole',
    }),
  ),
  column: Type.String({ description: "the column's header as written in the file" }),
  problem: Type.String({
    description:
      'UNCLOSED_QUOTE, EMPTY_FILE, DUPLICATE_COLUMN, MISSING_COLUMN, NO_STUDENTS, TOO_MANY_ROWS, ' +
      'STUDENT_NUMBER_MISSING, STUDENT_NUMBER_MANGLED (Excel made it a number), STUDENT_NUMBER_INVALID, ' +
      'STUDENT_NUMBER_REPEATED, NAME_MISSING, NAME_TOO_LONG, CLASS_MISSING, WRONG_CLASS, NOT_A_STUDENT, ' +
      'USERNAME_TAKEN; warnings: NAME_DIFFERS',
  }),
  params: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), {
    description: 'the values the sentence names (studentNumber, firstRow, className…)',
  }),
  message: Localized,
});
export type RowError = Static<typeof RowError>;

/** A roster file: CSV (学号, 姓名, optional 班级) in UTF-8 or GBK/GB18030. */
export const RosterCsv = Type.String({ description: 'the CSV file' });

/** 400 ROSTER_INVALID: every row's problems; nothing was imported. */
export const RosterErrorResponse = Type.Object({
  ...ErrorResponse.properties,
  details: Type.Optional(
    Type.Object({
      encoding: Nullable(Type.String()),
      rows: Type.Array(RowError, { description: "every row's problems; nothing was imported" }),
    }),
  ),
});
export type RosterErrorResponse = Static<typeof RosterErrorResponse>;

const RosterEntry = Type.Object({
  row: Type.Integer(),
  userId: Id,
  studentNumber: Type.String(),
  displayName: Type.String(),
});

export const RosterImport = Type.Object({
  classId: Id,
  encoding: Type.String({ description: 'how the file was read: utf-8, gb18030 (GBK), utf-16le/be' }),
  rows: Type.Integer(),
  created: Type.Array(
    Type.Composite([
      RosterEntry,
      Type.Object({
        username: Type.String(),
        initialPassword: Type.String({ description: 'shown in this answer only; stored hashed' }),
      }),
    ]),
    { description: 'new accounts, each with its initial password' },
  ),
  enrolled: Type.Array(RosterEntry, { description: 'existing students newly enrolled' }),
  alreadyEnrolled: Type.Array(RosterEntry),
  warnings: Type.Array(RowError, {
    description: 'not errors: e.g. an existing student whose name in the file differs',
  }),
});
export type RosterImport = Static<typeof RosterImport>;

export const TeamMember = Type.Object({
  id: Id,
  displayName: Type.String(),
  studentNumber: Nullable(Type.String()),
});
export type TeamMember = Static<typeof TeamMember>;

export const Team = Type.Object({
  id: Id,
  classId: Id,
  className: Type.String(),
  name: Type.String(),
  projectId: Nullable(Id),
  projectTitle: Nullable(Type.String()),
  members: Type.Array(TeamMember),
  createdAt: Type.Integer(),
  version: Type.Integer(),
});
export type Team = Static<typeof Team>;

export const TeamQuery = Type.Composite([
  PageQuery,
  Type.Object({ classId: Type.Optional(Id), projectId: Type.Optional(Id) }),
]);
export type TeamQuery = Static<typeof TeamQuery>;

export const NewTeamBody = Type.Object(
  {
    name: Text(100, 1),
    projectId: Type.Optional(Nullable(Id)),
    memberIds: Type.Optional(Type.Array(Id, { maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type NewTeamBody = Static<typeof NewTeamBody>;

export const TeamChanges = Type.Object(
  { name: Type.Optional(Text(100, 1)), projectId: Type.Optional(Nullable(Id)) },
  { additionalProperties: false },
);
export type TeamChanges = Static<typeof TeamChanges>;

export const TeamMemberBody = Type.Object({ studentId: Id }, { additionalProperties: false });
export type TeamMemberBody = Static<typeof TeamMemberBody>;
