/**
 * The mentor pool (师资库): enterprise mentors and instructors with their profiles (expertise,
 * availability, 双师型 qualification, bio), searchable; each person edits their own profile, an
 * admin anyone's.
 */
import type { MentorProfile } from '../../contract/index.ts';
import type { LabDb, SqlValue } from '../../labdb/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person } from '../auth.ts';
import { ApiError, say } from '../errors.ts';
import { versionConflict } from '../http.ts';
import { likeIgnoringCase, listPage, Where } from '../query.ts';
import { jsonList, jsonTagLike, tags } from './tags.ts';

interface MentorRow {
  user_id: string;
  display_name: string;
  role: 'mentor' | 'instructor';
  organisation_id: string | null;
  organisation_name: string | null;
  expertise: string;
  availability: string;
  available: number;
  dual_qualified: number;
  bio: string;
  updated_at: number | null;
  version: number;
}

const MENTOR_SELECT = `SELECT u.id AS user_id, u.display_name, u.role, u.organisation_id, o.name AS organisation_name,
  COALESCE(m.expertise, '[]') AS expertise, COALESCE(m.availability, '') AS availability,
  COALESCE(m.available, 1) AS available, COALESCE(m.dual_qualified, 0) AS dual_qualified,
  COALESCE(m.bio, '') AS bio, m.updated_at, COALESCE(m.version, 0) AS version
  FROM users u LEFT JOIN mentor_profiles m ON m.user_id = u.id LEFT JOIN organisations o ON o.id = u.organisation_id`;

function toMentorProfile(row: MentorRow): MentorProfile {
  return {
    userId: row.user_id,
    displayName: row.display_name,
    role: row.role,
    organisationId: row.organisation_id,
    organisationName: row.organisation_name,
    expertise: jsonList(row.expertise),
    availability: row.availability,
    available: row.available === 1,
    dualQualified: row.dual_qualified === 1,
    bio: row.bio,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

/** The mentor pool: queries, and profile changes checked, versioned and audited. */
export class MentorPool {
  readonly #db: LabDb;

  constructor(db: LabDb) {
    this.#db = db;
  }

  async listMentors(filter: {
    tag?: string | undefined;
    q?: string | undefined;
    available?: boolean | undefined;
    role?: 'mentor' | 'instructor' | undefined;
    organisationId?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<{ items: MentorProfile[]; total: number }> {
    return listPage(this.#db, {
      from: 'FROM users u LEFT JOIN mentor_profiles m ON m.user_id = u.id',
      select: MENTOR_SELECT,
      where: new Where()
        .and("u.role IN ('mentor', 'instructor')")
        .and('u.disabled = 0')
        .when(filter.role, 'u.role = ?')
        .when(filter.organisationId, 'u.organisation_id = ?')
        .when(jsonTagLike(filter.tag), likeIgnoringCase("COALESCE(m.expertise, '[]')"))
        .contains(filter.q, ['u.display_name', "COALESCE(m.bio, '')"])
        .when(
          filter.available === undefined ? undefined : filter.available ? 1 : 0,
          'COALESCE(m.available, 1) = ?',
        ),
      orderBy: 'COALESCE(m.available, 1) DESC, u.display_name, u.id',
      limit: filter.limit,
      offset: filter.offset,
      map: toMentorProfile,
    });
  }

  async mentorProfile(userId: string, db: LabDb = this.#db): Promise<MentorProfile> {
    const row = await db.get<MentorRow>(
      `${MENTOR_SELECT} WHERE u.id = ? AND u.role IN ('mentor', 'instructor') AND u.disabled = 0`,
      [userId],
    );
    if (!row) {
      throw new ApiError(
        404,
        'MENTOR_NOT_FOUND',
        say(`no mentor or instructor ${userId} in the mentor pool`, `师资库中没有导师或教师 ${userId}`),
      );
    }
    return toMentorProfile(row);
  }

  /**
   * Replaces a profile (creating it at version 0 → 1). People edit their own, an admin anyone's;
   * 双师型 is a qualification the college recognises, so only an admin changes it.
   */
  async saveMentorProfile(
    actor: Person,
    userId: string,
    expectedVersion: number,
    input: {
      expertise: string[];
      availability: string;
      available: boolean;
      bio: string;
      dualQualified?: boolean | undefined;
    },
  ): Promise<MentorProfile> {
    return this.#db.transaction(async (tx) => {
      const before = await this.mentorProfile(userId, tx);
      if (actor.role !== 'admin' && actor.id !== userId) {
        throw new ApiError(
          403,
          'FORBIDDEN',
          say('you may change only your own profile in the mentor pool', '您只能修改自己在师资库中的资料'),
        );
      }
      if (before.version !== expectedVersion) throw versionConflict('profile', before.version);
      const dualQualified = input.dualQualified ?? before.dualQualified;
      if (dualQualified !== before.dualQualified && actor.role !== 'admin') {
        throw new ApiError(
          403,
          'FORBIDDEN',
          say(
            '双师型 (dual-qualified) status is recognised by the college: only an admin changes it',
            '双师型资格由学院认定：只有管理员可以修改',
          ),
        );
      }
      const now = Date.now();
      const values: SqlValue[] = [
        JSON.stringify(tags(input.expertise)),
        input.availability,
        input.available ? 1 : 0,
        dualQualified ? 1 : 0,
        input.bio,
        now,
      ];
      if (before.version === 0) {
        await tx.run(
          `INSERT INTO mentor_profiles (expertise, availability, available, dual_qualified, bio, updated_at, user_id, version)
           VALUES (?, ?, ?, ?, ?, ?, ?, 1)`,
          [...values, userId],
        );
      } else {
        await tx.run(
          `UPDATE mentor_profiles SET expertise = ?, availability = ?, available = ?, dual_qualified = ?, bio = ?, updated_at = ?,
           version = version + 1 WHERE user_id = ?`,
          [...values, userId],
        );
      }
      const after = await this.mentorProfile(userId, tx);
      await recordAudit(tx, actor, {
        entity: 'mentor_profile',
        entityId: userId,
        action: before.version === 0 ? 'create' : 'update',
        before: before.version === 0 ? undefined : before,
        after,
      });
      return after;
    });
  }
}
