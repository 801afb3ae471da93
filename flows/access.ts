import { isDeepStrictEqual } from 'node:util';
import type { FlowNode, NodeRedUser } from './node-red.ts';

/** A signed-in person as the editor needs them (the lab API's `Person`). */
export interface Person {
  username: string;
  role: 'admin' | 'instructor' | 'mentor' | 'student';
  displayName: string;
}

/**
 * What the lab's password check answers: the person (and the device cookie their browser keeps), a
 * wrong pair, or "too many failures, wait".
 */
export type SignInResult =
  | { ok: true; user: Person; device?: string }
  | { ok: false; reason: 'wrong' }
  | { ok: false; reason: 'locked'; retryAfterSeconds: number };

/** How the editor signs people in; the platform gives it the lab API's sign-in (passwords, login tokens). */
export interface LabSignIn {
  /**
   * The lab's one password check, through the lab's one limiter (failures count per address and
   * per account at that address). `address`: the client's IP address.
   */
  signIn(
    username: string,
    password: string,
    from: { address: string; device?: string | undefined },
  ): Promise<SignInResult>;
  /** The active person with this username. */
  byUsername(username: string): Promise<Person | undefined>;
  /** The person signed in with this lab API token (`POST /api/v1/auth/login`), while it is valid. */
  byToken(token: string): Promise<Person | undefined>;
  /** A lab login token for this person: an editor sign-in is a lab login (sign-out, password change and expiry apply). */
  issueToken(username: string): Promise<{ token: string; expiresAt: number }>;
  /** Ends a lab login. */
  revokeToken(token: string): Promise<void>;
  /** The lab's device cookie: the device id in a Cookie header, and the Set-Cookie that keeps one. */
  deviceFromCookies(header: string | undefined): string | undefined;
  deviceCookie(device: string, secure: boolean): string;
}

/**
 * What students may do in the editor: `none` (no access), `read` (see the flows and the debug
 * sidebar, change nothing).
 */
export type StudentAccess = 'none' | 'read';

/**
 * Instructors and mentors build and deploy flows: everything in the editor but installing,
 * switching off or removing node modules (`nodes.write`) and the diagnostics report.
 */
const AUTHOR_PERMISSIONS = [
  'flows.read',
  'flows.write',
  'nodes.read',
  'plugins.read',
  'settings.read',
  'settings.write',
  'library.read',
  'library.write',
  'context.read',
  'context.write',
  'credentials.read',
  'inject.write',
  'debug.write',
  'status.read',
];

/** Node-RED permissions of a lab role; undefined: no access to the editor at all. */
export function editorPermissions(
  role: Person['role'],
  studentAccess: StudentAccess,
): NodeRedUser['permissions'] | undefined {
  switch (role) {
    case 'admin':
      return '*';
    case 'instructor':
    case 'mentor':
      return AUTHOR_PERMISSIONS;
    case 'student':
      return studentAccess === 'read' ? 'read' : undefined;
  }
}

/** A person as the editor sees them, with their role; null: no access to the editor. */
export interface EditorUser extends NodeRedUser {
  role: Person['role'];
}

export function editorUser(person: Person | undefined, studentAccess: StudentAccess): EditorUser | null {
  if (!person) return null;
  const permissions = editorPermissions(person.role, studentAccess);
  return permissions === undefined ? null : { username: person.username, role: person.role, permissions };
}

/**
 * Core nodes that reach the server itself rather than the lab's kits and services: processes
 * (`exec`), files (`file`, `file in`, `watch`) and listening sockets (`tcp in`, `tcp out`, which
 * can listen too, `udp in`, `websocket-listener`). Only admins deploy them. (The flows' process
 * refuses processes and files outside its directory to everyone: see runtime.ts.)
 */
export const HOST_NODE_TYPES: ReadonlySet<string> = new Set([
  'exec',
  'file',
  'file in',
  'watch',
  'tcp in',
  'tcp out',
  'udp in',
  'websocket-listener',
]);

/**
 * The nodes of a deploy this role may not make: host nodes, unless one is deployed already just
 * so (a deploy carries every node, so an instructor's deploy may keep an admin's exec node, but
 * not change it). Moving a node is no change.
 */
export function refusedNodes(
  role: Person['role'],
  incoming: readonly FlowNode[],
  deployed: readonly FlowNode[],
): FlowNode[] {
  if (role === 'admin') return [];
  const before = new Map(deployed.map((node) => [node.id, node]));
  return incoming.filter((node) => HOST_NODE_TYPES.has(node.type) && !unchanged(node, before.get(node.id)));
}

/** The same node but for where it sits in the editor. */
function unchanged(node: FlowNode, deployed: FlowNode | undefined): boolean {
  const { x: _x, y: _y, ...settings } = node;
  if (!deployed) return false;
  const { x: _dx, y: _dy, ...deployedSettings } = deployed;
  return isDeepStrictEqual(settings, deployedSettings);
}
