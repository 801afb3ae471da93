import type { LabDb } from '../labdb/index.ts';
import { type Role, userForToken } from './auth.ts';
import { verifyPassword } from './passwords.ts';
import { People } from './people.ts';

/** A lab account as other parts of the platform see it (the embedded flow editor signs in with it). */
export interface LabAccount {
  username: string;
  role: Role;
  displayName: string;
}

/** Same cost as a real check, so timing does not tell which usernames exist. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * Lab accounts for sign-in outside the lab API (the Node-RED editor): the same passwords and
 * login tokens, disabled accounts refused.
 */
export function labAccounts(db: LabDb): {
  signIn(username: string, password: string): Promise<LabAccount | undefined>;
  byUsername(username: string): Promise<LabAccount | undefined>;
  byToken(token: string): Promise<LabAccount | undefined>;
} {
  const people = new People(db);
  const account = (user: { username: string; role: Role; displayName: string }): LabAccount => ({
    username: user.username,
    role: user.role,
    displayName: user.displayName,
  });
  return {
    async signIn(username, password) {
      const found = await people.userForLogin(username);
      const ok = await verifyPassword(password, found?.passwordHash ?? DUMMY_HASH);
      return found && ok && !found.user.disabled ? account(found.user) : undefined;
    },
    async byUsername(username) {
      const found = await people.userForLogin(username);
      return found && !found.user.disabled ? account(found.user) : undefined;
    },
    async byToken(token) {
      const principal = await userForToken(db, token);
      return principal?.kind === 'user' ? account(principal) : undefined;
    },
  };
}
