import type { NodeRedUser } from './node-red.ts';

/** A lab account as the editor needs it (the lab API's people). */
export interface LabPerson {
  username: string;
  role: 'admin' | 'instructor' | 'mentor' | 'student';
  displayName: string;
}

/** How the editor checks lab accounts; the platform gives it the lab API's people and tokens. */
export interface LabAccounts {
  /** The active person with this username and password; undefined for a wrong pair. */
  signIn(username: string, password: string): Promise<LabPerson | undefined>;
  /** The active person with this username. */
  byUsername(username: string): Promise<LabPerson | undefined>;
  /** The person signed in with this lab API token (`POST /api/v1/auth/login`), while it is valid. */
  byToken(token: string): Promise<LabPerson | undefined>;
}

/**
 * What students may do in the editor: `none` (no access), `read` (see the flows and the debug
 * sidebar, change nothing). Instructors, mentors and admins always edit and deploy.
 */
export type StudentAccess = 'none' | 'read';

/** Node-RED permissions of a lab role; undefined: no access to the editor at all. */
export function editorPermissions(
  role: LabPerson['role'],
  studentAccess: StudentAccess,
): NodeRedUser['permissions'] | undefined {
  if (role === 'student') return studentAccess === 'read' ? 'read' : undefined;
  return '*';
}

function editorUser(person: LabPerson | undefined, studentAccess: StudentAccess): NodeRedUser | null {
  if (!person) return null;
  const permissions = editorPermissions(person.role, studentAccess);
  return permissions === undefined ? null : { username: person.username, permissions };
}

export interface AccessLog {
  warn(object: object, message: string): void;
  info(object: object, message: string): void;
}

/**
 * Node-RED's `adminAuth` over lab accounts: no user list of its own. Sign-in checks the lab
 * password; a lab API token (Bearer, or `?access_token=` when a dashboard opens the editor) is
 * accepted as well. Every request re-reads the person, so a disabled account or a changed
 * student policy takes effect at once. Node-RED itself refuses a username after 5 failed
 * sign-ins in 10 minutes ("Too many login attempts").
 */
export function adminAuth(
  accounts: LabAccounts,
  studentAccess: () => StudentAccess,
  log: AccessLog,
): Record<string, unknown> {
  return {
    type: 'credentials',
    sessionExpiryTime: 12 * 3600,
    users: async (username: string) => editorUser(await accounts.byUsername(username), studentAccess()),
    authenticate: async (username: string, password: string) => {
      const person = await accounts.signIn(username, password);
      const user = editorUser(person, studentAccess());
      if (!person) log.warn({ username }, 'flow editor: wrong username or password');
      else if (!user) log.warn({ username, role: person.role }, 'flow editor: this role has no access');
      else log.info({ username, role: person.role }, 'flow editor: signed in');
      return user;
    },
    tokens: async (token: string) => editorUser(await accounts.byToken(token), studentAccess()),
  };
}
