/**
 * Classes and the lab work done in them: `Classes` (with its members, roster imports, teams and
 * kit bindings) and `Assignments` (with its lab sessions and attempts).
 */

/** As the API answers them (contract/classes.ts, contract/assignments.ts, contract/kits.ts). */
export type {
  Assignment,
  AssignmentStatus,
  Attempt,
  ClassInfo,
  KitBinding,
  LabSession,
  RosterStudent,
  Team,
  TeamMember,
} from '../../contract/index.ts';
export type { Person } from '../auth.ts';
export { Assignments } from './assignments.ts';
export { Attempts } from './attempts.ts';
export { KitBindings } from './bindings.ts';
export { Classes } from './classes.ts';
export { ClassMembers } from './members.ts';
export { type RosterImport, RosterImports, RosterRejected } from './roster-import.ts';
export { type AttemptRow, toAttempt } from './rows.ts';
export { Sessions } from './sessions.ts';
export { Teams } from './teams.ts';
