import { randomUUID } from 'node:crypto';
import {
  DISPLAY_NAME_MAX_LENGTH,
  EMAIL_MAX_LENGTH,
  type Organisation,
  STUDENT_NUMBER_MAX_LENGTH,
  USERNAME_MAX_LENGTH,
  type User,
} from '../contract/index.ts';
import type { LabDb } from '../labdb/index.ts';
import { recordAudit } from './audit.ts';
import type { Principal, Role } from './auth.ts';
import { ApiError, type Localized, say } from './errors.ts';
import { versionConflict } from './http.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import { listPage, Where } from './query.ts';

/** As the API answers them (contract/people.ts). */
export type { Organisation, User } from '../contract/index.ts';

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  role: Role;
  organisation_id: string | null;
  student_number: string | null;
  email: string;
  disabled: number;
  created_at: number;
  version: number;
  password_hash: string;
}

interface OrganisationRow {
  id: string;
  kind: 'college' | 'enterprise';
  name: string;
  name_en: string;
  industry: string;
  description: string;
  created_at: number;
  version: number;
}

export { USERNAME_PATTERN } from '../contract/index.ts';

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    role: row.role,
    organisationId: row.organisation_id,
    studentNumber: row.student_number,
    email: row.email,
    disabled: row.disabled === 1,
    createdAt: row.created_at,
    version: row.version,
  };
}

function toOrganisation(row: OrganisationRow): Organisation {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    nameEn: row.name_en,
    industry: row.industry,
    description: row.description,
    createdAt: row.created_at,
    version: row.version,
  };
}

export interface NewUser {
  username: string;
  displayName: string;
  role: Role;
  password: string;
  organisationId?: string | null | undefined;
  studentNumber?: string | null | undefined;
  email?: string | undefined;
}

/** A 400 TOO_LONG when `value` has more characters than its column takes (PostgreSQL refuses them). */
function checkLength(value: string | null | undefined, max: number, en: string, zh: string): void {
  // In characters, as PostgreSQL and the API's schemas count them ("🌡" is 1), not UTF-16 units.
  const length = [...(value ?? '')].length;
  if (length > max) {
    throw new ApiError(
      400,
      'TOO_LONG',
      say(`${en} is ${length} characters; at most ${max}`, `${zh}有 ${length} 个字符，最多 ${max} 个`),
    );
  }
}

/** People and organisations: queries and the changes, each audited in the same transaction. */
export class People {
  readonly #db: LabDb;

  constructor(db: LabDb) {
    this.#db = db;
  }

  async userById(id: string): Promise<User | undefined> {
    const row = await this.#db.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
    return row ? toUser(row) : undefined;
  }

  /** The user and the password hash, for login. */
  async userForLogin(username: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const row = await this.#db.get<UserRow>('SELECT * FROM users WHERE username = ?', [username]);
    return row ? { user: toUser(row), passwordHash: row.password_hash } : undefined;
  }

  async listUsers(filter: {
    role?: Role | undefined;
    organisationId?: string | undefined;
    q?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<{ items: User[]; total: number }> {
    return listPage(this.#db, {
      from: 'FROM users',
      where: new Where()
        .when(filter.role, 'role = ?')
        .when(filter.organisationId, 'organisation_id = ?')
        .contains(filter.q, ['username', 'display_name', 'student_number']),
      orderBy: 'role, username',
      limit: filter.limit,
      offset: filter.offset,
      map: toUser,
    });
  }

  async createUser(actor: Principal, input: NewUser): Promise<User> {
    // The API's schema checks these already; the CLI's `users add` comes straight here.
    checkLength(input.username, USERNAME_MAX_LENGTH, 'username', '用户名');
    checkLength(input.displayName, DISPLAY_NAME_MAX_LENGTH, 'display name', '姓名');
    checkLength(input.studentNumber, STUDENT_NUMBER_MAX_LENGTH, 'student number (学号)', '学号');
    checkLength(input.email, EMAIL_MAX_LENGTH, 'email', '邮箱');
    const problem = passwordProblem(input.password);
    if (problem) throw new ApiError(400, 'WEAK_PASSWORD', problem);
    if (input.role === 'student' && !input.studentNumber) {
      throw new ApiError(
        400,
        'STUDENT_NUMBER_REQUIRED',
        say('a student needs a student number (学号)', '学生账号必须填写学号'),
      );
    }
    if (input.organisationId && !(await this.organisationById(input.organisationId))) {
      throw new ApiError(
        400,
        'UNKNOWN_ORGANISATION',
        say(`no organisation ${input.organisationId}`, `找不到单位 ${input.organisationId}`),
      );
    }
    if (input.role === 'mentor' && !input.organisationId) {
      throw new ApiError(
        400,
        'ORGANISATION_REQUIRED',
        say(
          'an enterprise mentor belongs to an organisation (their enterprise)',
          '企业导师必须属于一个单位（其所在企业）',
        ),
      );
    }
    const id = randomUUID();
    const now = Date.now();
    const passwordHash = await hashPassword(input.password);
    return this.#db.transaction(async (tx) => {
      try {
        await tx.run(
          `INSERT INTO users (id, username, display_name, role, organisation_id, student_number, email, password_hash, disabled, created_at, updated_at, version)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 1)`,
          [
            id,
            input.username,
            input.displayName,
            input.role,
            input.organisationId ?? null,
            input.studentNumber ?? null,
            input.email ?? '',
            passwordHash,
            now,
            now,
          ],
        );
      } catch (error) {
        throw uniqueViolation(
          error,
          say('a user with this username or student number already exists', '已有相同用户名或学号的用户'),
        );
      }
      const user = toUser((await tx.get<UserRow>('SELECT * FROM users WHERE id = ?', [id])) as UserRow);
      await recordAudit(tx, actor, { entity: 'user', entityId: id, action: 'create', after: user });
      return user;
    });
  }

  async updateUser(
    actor: Principal,
    id: string,
    expectedVersion: number,
    changes: {
      displayName?: string;
      email?: string;
      organisationId?: string | null;
      disabled?: boolean;
      password?: string;
    },
    /** More work that must commit or fail with the change (e.g. the new login token of a password change). */
    alongside?: (tx: LabDb) => Promise<void>,
  ): Promise<User> {
    if (changes.password !== undefined) {
      const problem = passwordProblem(changes.password);
      if (problem) throw new ApiError(400, 'WEAK_PASSWORD', problem);
    }
    const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
    return this.#db.transaction(async (tx) => {
      const before = await tx.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
      if (!before) throw new ApiError(404, 'USER_NOT_FOUND', say(`no user ${id}`, `找不到用户 ${id}`));
      if (before.version !== expectedVersion) throw versionConflict('user', before.version);
      await tx.run(
        `UPDATE users SET display_name = ?, email = ?, organisation_id = ?, disabled = ?, password_hash = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
        [
          changes.displayName ?? before.display_name,
          changes.email ?? before.email,
          changes.organisationId === undefined ? before.organisation_id : changes.organisationId,
          changes.disabled === undefined ? before.disabled : changes.disabled ? 1 : 0,
          passwordHash ?? before.password_hash,
          Date.now(),
          id,
        ],
      );
      if (changes.disabled || passwordHash) await tx.run('DELETE FROM auth_tokens WHERE user_id = ?', [id]);
      const after = toUser((await tx.get<UserRow>('SELECT * FROM users WHERE id = ?', [id])) as UserRow);
      await recordAudit(tx, actor, {
        entity: 'user',
        entityId: id,
        action: passwordHash ? 'update+password' : 'update',
        before: toUser(before),
        after,
      });
      await alongside?.(tx);
      return after;
    });
  }

  async organisationById(id: string): Promise<Organisation | undefined> {
    const row = await this.#db.get<OrganisationRow>('SELECT * FROM organisations WHERE id = ?', [id]);
    return row ? toOrganisation(row) : undefined;
  }

  async listOrganisations(kind?: 'college' | 'enterprise'): Promise<Organisation[]> {
    const rows = kind
      ? await this.#db.all<OrganisationRow>('SELECT * FROM organisations WHERE kind = ? ORDER BY name', [
          kind,
        ])
      : await this.#db.all<OrganisationRow>('SELECT * FROM organisations ORDER BY kind, name');
    return rows.map(toOrganisation);
  }

  async createOrganisation(
    actor: Principal,
    input: {
      kind: 'college' | 'enterprise';
      name: string;
      nameEn?: string;
      industry?: string;
      description?: string;
    },
  ): Promise<Organisation> {
    const id = randomUUID();
    const now = Date.now();
    return this.#db.transaction(async (tx) => {
      try {
        await tx.run(
          `INSERT INTO organisations (id, kind, name, name_en, industry, description, created_at, updated_at, version)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`,
          [
            id,
            input.kind,
            input.name,
            input.nameEn ?? '',
            input.industry ?? '',
            input.description ?? '',
            now,
            now,
          ],
        );
      } catch (error) {
        throw uniqueViolation(
          error,
          say(`an organisation named "${input.name}" already exists`, `已有名为“${input.name}”的单位`),
        );
      }
      const created = toOrganisation(
        (await tx.get<OrganisationRow>('SELECT * FROM organisations WHERE id = ?', [id])) as OrganisationRow,
      );
      await recordAudit(tx, actor, {
        entity: 'organisation',
        entityId: id,
        action: 'create',
        after: created,
      });
      return created;
    });
  }

  async updateOrganisation(
    actor: Principal,
    id: string,
    expectedVersion: number,
    changes: { name?: string; nameEn?: string; industry?: string; description?: string },
  ): Promise<Organisation> {
    return this.#db.transaction(async (tx) => {
      const before = await tx.get<OrganisationRow>('SELECT * FROM organisations WHERE id = ?', [id]);
      if (!before)
        throw new ApiError(404, 'ORGANISATION_NOT_FOUND', say(`no organisation ${id}`, `找不到单位 ${id}`));
      if (before.version !== expectedVersion) throw versionConflict('organisation', before.version);
      await tx.run(
        'UPDATE organisations SET name = ?, name_en = ?, industry = ?, description = ?, updated_at = ?, version = version + 1 WHERE id = ?',
        [
          changes.name ?? before.name,
          changes.nameEn ?? before.name_en,
          changes.industry ?? before.industry,
          changes.description ?? before.description,
          Date.now(),
          id,
        ],
      );
      const after = toOrganisation(
        (await tx.get<OrganisationRow>('SELECT * FROM organisations WHERE id = ?', [id])) as OrganisationRow,
      );
      await recordAudit(tx, actor, {
        entity: 'organisation',
        entityId: id,
        action: 'update',
        before: toOrganisation(before),
        after,
      });
      return after;
    });
  }
}

/** A UNIQUE constraint failure as a 409 with a sentence; anything else unchanged. */
export function uniqueViolation(error: unknown, message: Localized): unknown {
  return /UNIQUE|duplicate key/i.test((error as Error).message)
    ? new ApiError(409, 'ALREADY_EXISTS', message)
    : error;
}
