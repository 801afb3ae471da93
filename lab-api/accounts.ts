import { randomBytes } from 'node:crypto';
import type { LabDb } from '../labdb/index.ts';
import { hashToken, issueToken, type Person, personForToken } from './auth.ts';
import { CheckGate } from './check-gate.ts';
import { verifyPassword } from './passwords.ts';
import { People, type User } from './people.ts';
import { SignInLimiter, type SignInLimitStore } from './sign-in-limiter.ts';

/**
 * What a password check answers: the person (and the device cookie to keep), a wrong pair, or
 * "too many failures, wait".
 */
export type SignInResult<T> =
  | { ok: true; user: T; device: string }
  | { ok: false; reason: 'wrong' }
  | { ok: false; reason: 'locked'; retryAfterSeconds: number };

/** Where a sign-in comes from: the IP address and the device cookie the browser sent, if any. */
export interface SignInFrom {
  address: string;
  device?: string | undefined;
}

/** The cookie that marks a browser a person signed in from before (HttpOnly; its hash is stored). */
export const DEVICE_COOKIE = 'iotlab_device';
export const DEVICE_COOKIE_MAX_AGE_S = 365 * 86_400;

/** Same cost as a real check, so timing does not tell which usernames exist. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * Every check of a person's password goes through here, and so through one limiter: the API's
 * sign-in, a password change, the flow editor's sign-in.
 *
 * A successful sign-in gives the browser a device cookie (OWASP's "device cookies"): later
 * attempts for that account from that browser are limited on their own, not with the address, so
 * a student spraying guesses from a classroom's shared address slows themselves, not the teacher
 * at the next desk who signed in there before.
 */
export class PasswordChecks {
  readonly #db: LabDb;
  readonly #people: People;
  /** Where failures are counted: this process's memory by default, Redis in cluster mode. */
  readonly limiter: SignInLimitStore;
  /** Parallel tries wait here, so each is counted before the next is checked (check-gate.ts). */
  readonly #gate = new CheckGate();

  constructor(db: LabDb, limiter: SignInLimitStore = new SignInLimiter()) {
    this.#db = db;
    this.#people = new People(db);
    this.limiter = limiter;
  }

  /** Username and password of an active account. */
  async signIn(username: string, password: string, from: SignInFrom): Promise<SignInResult<User>> {
    const device = await this.#knownDevice(username, from.device);
    const client = { address: from.address, device: device ? hashToken(device) : undefined };
    const checked = await this.#gate.run(username, client, async (): Promise<SignInResult<User>> => {
      const wait = await this.limiter.retryAfter(username, client);
      if (wait > 0) return { ok: false, reason: 'locked', retryAfterSeconds: wait };
      const found = await this.#people.userForLogin(username);
      // Unknown users cost a hash too.
      const ok = await verifyPassword(password, found?.passwordHash ?? DUMMY_HASH);
      if (!found || !ok || found.user.disabled) {
        await this.limiter.fail(username, client);
        return { ok: false, reason: 'wrong' };
      }
      await this.limiter.succeed(username, client);
      return { ok: true, user: found.user, device: device ?? (await this.#newDevice(found.user.id)) };
    });
    // Too many tries at once for one account or address: turned away before any check.
    return checked ?? { ok: false, reason: 'locked', retryAfterSeconds: 1 };
  }

  /** Deletes expired login tokens and devices not used for a year; returns how many went. */
  async purge(now = Date.now()): Promise<number> {
    const tokens = await this.#db.run('DELETE FROM auth_tokens WHERE expires_at < ?', [now]);
    const devices = await this.#db.run('DELETE FROM sign_in_devices WHERE last_used_at < ?', [
      now - DEVICE_COOKIE_MAX_AGE_S * 1000,
    ]);
    return tokens.changes + devices.changes;
  }

  /** The device cookie, when it is one this account signed in with before. */
  async #knownDevice(username: string, device: string | undefined): Promise<string | undefined> {
    if (!device || device.length > 100) return undefined;
    const row = await this.#db.get<{ token_hash: string }>(
      `SELECT d.token_hash FROM sign_in_devices d JOIN users u ON u.id = d.user_id
       WHERE d.token_hash = ? AND u.username = ?`,
      [hashToken(device), username],
    );
    if (!row) return undefined;
    await this.#db.run('UPDATE sign_in_devices SET last_used_at = ? WHERE token_hash = ?', [
      Date.now(),
      row.token_hash,
    ]);
    return device;
  }

  async #newDevice(userId: string): Promise<string> {
    const device = randomBytes(24).toString('base64url');
    const now = Date.now();
    await this.#db.run(
      'INSERT INTO sign_in_devices (token_hash, user_id, created_at, last_used_at) VALUES (?, ?, ?, ?)',
      [hashToken(device), userId, now, now],
    );
    return device;
  }
}

/** The device cookie in a Cookie header, if any. */
export function deviceFromCookies(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === DEVICE_COOKIE) return value.join('=');
  }
  return undefined;
}

/** The Set-Cookie value that keeps a device cookie in the browser (Secure over HTTPS). */
export function deviceCookie(device: string, secure: boolean): string {
  return `${DEVICE_COOKIE}=${device}; Max-Age=${DEVICE_COOKIE_MAX_AGE_S}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** A person as the flow editor needs them. */
type EditorPerson = Pick<Person, 'username' | 'role' | 'displayName'>;

/**
 * The lab's sign-in as the flow editor uses it (flows/access.ts): the same passwords, limiter and
 * login tokens as the API's.
 */
export interface LabSignIn {
  /** `from`: the caller's IP address, or the address and the device cookie its browser sent. */
  signIn(username: string, password: string, from: string | SignInFrom): Promise<SignInResult<EditorPerson>>;
  /** The active person with this username. */
  byUsername(username: string): Promise<EditorPerson | undefined>;
  /** The person signed in with this lab login token, while it is valid. */
  byToken(token: string): Promise<EditorPerson | undefined>;
  /** A login token for an active person, as the API's sign-in issues one. */
  issueToken(username: string): Promise<{ token: string; expiresAt: number }>;
  /** Ends a login. */
  revokeToken(token: string): Promise<void>;
  deviceFromCookies(header: string | undefined): string | undefined;
  deviceCookie(device: string, secure: boolean): string;
}

export function labSignIn(db: LabDb, checks = new PasswordChecks(db)): LabSignIn {
  const people = new People(db);
  const account = (user: EditorPerson): EditorPerson => ({
    username: user.username,
    role: user.role,
    displayName: user.displayName,
  });
  return {
    async signIn(username, password, from) {
      const result = await checks.signIn(
        username,
        password,
        typeof from === 'string' ? { address: from } : from,
      );
      return result.ok ? { ok: true, user: account(result.user), device: result.device } : result;
    },
    async byUsername(username) {
      const found = await people.userForLogin(username);
      return found && !found.user.disabled ? account(found.user) : undefined;
    },
    async byToken(token) {
      const person = await personForToken(db, token);
      return person ? account(person) : undefined;
    },
    async issueToken(username) {
      const found = await people.userForLogin(username);
      if (!found || found.user.disabled) throw new Error(`no active account "${username}"`);
      return issueToken(db, found.user.id);
    },
    async revokeToken(token) {
      await db.run('DELETE FROM auth_tokens WHERE token_hash = ?', [hashToken(token)]);
    },
    deviceFromCookies,
    deviceCookie,
  };
}
