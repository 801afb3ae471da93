/** People, organisations, signing in. */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Nullable, PageQuery, Role, Text } from './primitives.ts';

/**
 * The longest text the users table takes (its VARCHAR(n), labdb/migrations/0003_people.sql):
 * PostgreSQL refuses longer. The schemas here check them, and `People.createUser` for the CLI.
 */
export const USERNAME_MAX_LENGTH = 64;
export const DISPLAY_NAME_MAX_LENGTH = 100;
export const STUDENT_NUMBER_MAX_LENGTH = 32;
export const EMAIL_MAX_LENGTH = 200;

/** A username: 2–64 letters, digits, `.`, `_` and `-`, starting with a letter or digit. */
export const USERNAME_PATTERN = `^[a-zA-Z0-9][a-zA-Z0-9._-]{1,${USERNAME_MAX_LENGTH - 1}}$`;

export const User = Type.Object({
  id: Id,
  username: Type.String(),
  displayName: Type.String(),
  role: Role,
  organisationId: Nullable(Id),
  studentNumber: Nullable(Type.String()),
  email: Type.String(),
  disabled: Type.Boolean(),
  createdAt: Type.Integer(),
  version: Type.Integer(),
});
export type User = Static<typeof User>;

export const UserQuery = Type.Composite([
  PageQuery,
  Type.Object({
    role: Type.Optional(Role),
    organisationId: Type.Optional(Id),
    q: Type.Optional(Text(100)),
  }),
]);
export type UserQuery = Static<typeof UserQuery>;

export const NewUserBody = Type.Object(
  {
    username: Type.String({ pattern: USERNAME_PATTERN }),
    displayName: Text(DISPLAY_NAME_MAX_LENGTH, 1),
    role: Role,
    password: Text(200, 1),
    organisationId: Type.Optional(Nullable(Id)),
    studentNumber: Type.Optional(Type.String({ pattern: `^[0-9A-Za-z-]{4,${STUDENT_NUMBER_MAX_LENGTH}}$` })),
    email: Type.Optional(Text(EMAIL_MAX_LENGTH)),
  },
  { additionalProperties: false },
);
export type NewUserBody = Static<typeof NewUserBody>;

export const UserChanges = Type.Object(
  {
    displayName: Type.Optional(Text(DISPLAY_NAME_MAX_LENGTH, 1)),
    email: Type.Optional(Text(EMAIL_MAX_LENGTH)),
    organisationId: Type.Optional(Nullable(Id)),
    disabled: Type.Optional(Type.Boolean()),
    password: Type.Optional(Text(200, 1)),
  },
  { additionalProperties: false },
);
export type UserChanges = Static<typeof UserChanges>;

export const OrganisationKind = Type.Union([Type.Literal('college'), Type.Literal('enterprise')]);
export type OrganisationKind = Static<typeof OrganisationKind>;

export const Organisation = Type.Object({
  id: Id,
  kind: OrganisationKind,
  name: Type.String(),
  nameEn: Type.String(),
  industry: Type.String(),
  description: Type.String(),
  createdAt: Type.Integer(),
  version: Type.Integer(),
});
export type Organisation = Static<typeof Organisation>;

export const OrganisationQuery = Type.Object({ kind: Type.Optional(OrganisationKind) });

export const NewOrganisationBody = Type.Object(
  {
    kind: OrganisationKind,
    name: Text(200, 1),
    nameEn: Type.Optional(Text(200)),
    industry: Type.Optional(Text(100)),
    description: Type.Optional(Text(5000)),
  },
  { additionalProperties: false },
);
export type NewOrganisationBody = Static<typeof NewOrganisationBody>;

export const OrganisationChanges = Type.Object(
  {
    name: Type.Optional(Text(200, 1)),
    nameEn: Type.Optional(Text(200)),
    industry: Type.Optional(Text(100)),
    description: Type.Optional(Text(5000)),
  },
  { additionalProperties: false },
);
export type OrganisationChanges = Static<typeof OrganisationChanges>;

export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: USERNAME_MAX_LENGTH }),
    password: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

/** A signed-in session: the token to send as `Authorization: Bearer`. */
export const Login = Type.Object({ token: Type.String(), expiresAt: Type.Integer(), user: User });
export type Login = Static<typeof Login>;

export const PasswordChangeBody = Type.Object(
  { currentPassword: Type.String({ maxLength: 200 }), newPassword: Type.String({ maxLength: 200 }) },
  { additionalProperties: false },
);
export type PasswordChangeBody = Static<typeof PasswordChangeBody>;

/** The session's new token (the other sessions are signed out). */
export const PasswordChanged = Type.Object({ token: Type.String() });
export type PasswordChanged = Static<typeof PasswordChanged>;
