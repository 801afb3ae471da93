import { randomUUID } from 'node:crypto';
import type { MentorProfile, Project, PublicationStatus, Recommendation } from '../contract/index.ts';
import type { LabDb, SqlValue } from '../labdb/index.ts';
import { isValidSensorName, normalizeSensorLabel } from '../protocol/index.ts';
import { recordAudit } from './audit.ts';
import type { Person } from './auth.ts';
import { ApiError, say } from './errors.ts';
import { versionConflict } from './http.ts';
import { escapeLike } from './query.ts';
import { checkRubric, emptyRubric, normalizeTitles, type Rubric } from './rubric.ts';

export type { Person };

export type Status = PublicationStatus;

/**
 * Status changes of projects and tasks, and who may make them. `editor`: whoever may edit the
 * entity (admin, instructors, the enterprise's mentors); `admin`: only an admin. Anything else
 * (e.g. published → draft) is refused with 409 INVALID_TRANSITION.
 */
const TRANSITIONS: Record<Status, Partial<Record<Status, 'editor' | 'admin'>>> = {
  draft: { published: 'editor', archived: 'editor' },
  published: { archived: 'editor' },
  archived: { published: 'admin' },
};

// ---------------------------------------------------------------- mentor pool (师资库)

/** As the API answers them (contract/projects.ts). */
export type { MentorProfile, Project, Recommendation } from '../contract/index.ts';

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

// ---------------------------------------------------------------- projects

interface ProjectRow {
  id: string;
  organisation_id: string;
  organisation_name: string;
  title: string;
  background: string;
  goals: string;
  required_skills: string;
  deliverables: string;
  difficulty: number;
  status: Status;
  created_by: string;
  created_at: number;
  updated_at: number;
  version: number;
}

const PROJECT_SELECT =
  'SELECT p.*, o.name AS organisation_name FROM projects p JOIN organisations o ON o.id = p.organisation_id';

function toProject(row: ProjectRow): Project {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    organisationName: row.organisation_name,
    title: row.title,
    background: row.background,
    goals: row.goals,
    requiredSkills: jsonList(row.required_skills),
    deliverables: row.deliverables,
    difficulty: row.difficulty,
    status: row.status,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

export interface ProjectInput {
  organisationId?: string | undefined;
  title: string;
  background?: string | undefined;
  goals?: string | undefined;
  requiredSkills?: string[] | undefined;
  deliverables?: string | undefined;
  difficulty: number;
}

export type ProjectChanges = Partial<Omit<ProjectInput, 'organisationId'>>;

// ---------------------------------------------------------------- lab tasks

export interface LabTask {
  id: string;
  projectId: string | null;
  /** The enterprise of the task's project; null for a standalone task. */
  organisationId: string | null;
  title: string;
  instructions: string;
  requiredSensors: string[];
  requiredActuators: string[];
  skills: string[];
  durationMinutes: number;
  mentorWeight: number;
  rubric: Rubric;
  status: Status;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export type LabTaskSummary = Omit<LabTask, 'instructions' | 'rubric'> & { criteriaCount: number };

interface TaskRow {
  id: string;
  project_id: string | null;
  organisation_id: string | null;
  title: string;
  instructions: string;
  required_sensors: string;
  required_actuators: string;
  skills: string;
  duration_minutes: number;
  rubric: string;
  mentor_weight: number;
  status: Status;
  created_by: string;
  created_at: number;
  updated_at: number;
  version: number;
}

const TASK_SELECT =
  'SELECT t.*, p.organisation_id AS organisation_id FROM lab_tasks t LEFT JOIN projects p ON p.id = t.project_id';

function toTask(row: TaskRow): LabTask {
  let rubric: Rubric;
  try {
    // Rubrics saved before titles were normalised may hold plain-string titles.
    rubric = normalizeTitles(JSON.parse(row.rubric) as Rubric);
  } catch {
    rubric = emptyRubric();
  }
  return {
    id: row.id,
    projectId: row.project_id,
    organisationId: row.organisation_id,
    title: row.title,
    instructions: row.instructions,
    requiredSensors: jsonList(row.required_sensors),
    requiredActuators: jsonList(row.required_actuators),
    skills: jsonList(row.skills),
    durationMinutes: row.duration_minutes,
    mentorWeight: row.mentor_weight,
    rubric,
    status: row.status,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

function toTaskSummary(task: LabTask): LabTaskSummary {
  const { instructions: _instructions, rubric, ...rest } = task;
  return { ...rest, criteriaCount: rubric.criteria.length };
}

export interface TaskInput {
  projectId?: string | null | undefined;
  title: string;
  instructions?: string | undefined;
  requiredSensors?: string[] | undefined;
  requiredActuators?: string[] | undefined;
  skills?: string[] | undefined;
  durationMinutes: number;
  mentorWeight?: number | undefined;
  rubric?: unknown;
}

export type TaskChanges = Partial<Omit<TaskInput, 'projectId'>>;

// ---------------------------------------------------------------- helpers

function jsonList(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/** Skill and expertise tags: trimmed, each once (case-insensitively), in the order given. */
export function tags(list: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of list) {
    const tag = raw.trim();
    const key = tag.toLowerCase();
    if (tag && !seen.has(key)) {
      seen.add(key);
      out.push(tag);
    }
  }
  return out;
}

/** A JSON array column containing this tag (as a whole element; ASCII case-insensitive). */
function jsonTagLike(tag: string): string {
  return `%${escapeLike(JSON.stringify(tag.trim()))}%`;
}

function sensorNames(list: readonly string[] | undefined, field: string): string[] {
  const names = [...new Set(list ?? [])];
  for (const name of names) {
    if (!isValidSensorName(name)) {
      const hint = normalizeSensorLabel(name);
      throw new ApiError(
        400,
        'INVALID_SENSOR_NAME',
        say(
          `${field}: "${name.slice(0, 64)}" is not a sensor name: use snake_case letters, digits and _, starting with a letter${hint && hint !== name ? ` (e.g. "${hint}")` : ''}`,
          `${field}：“${name.slice(0, 64)}”不是有效的传感器名：请用小写字母、数字和 _，以字母开头${hint && hint !== name ? `（例如“${hint}”）` : ''}`,
        ),
      );
    }
  }
  return names;
}

function projectNotFound(id: string): ApiError {
  return new ApiError(
    404,
    'PROJECT_NOT_FOUND',
    say(`no project ${id} (or none you may see)`, `找不到项目 ${id}（或您无权查看）`),
  );
}

function taskNotFound(id: string): ApiError {
  return new ApiError(
    404,
    'TASK_NOT_FOUND',
    say(`no lab task ${id} (or none you may see)`, `找不到实训任务 ${id}（或您无权查看）`),
  );
}

/** Which projects a person may see, as SQL on `projects p`. */
function projectScope(viewer: Person): { sql: string; params: SqlValue[] } {
  switch (viewer.role) {
    case 'admin':
      return { sql: '1 = 1', params: [] };
    case 'instructor':
      // Staff: drafts to review, archived ones to look back at.
      return { sql: '1 = 1', params: [] };
    case 'mentor':
      return { sql: 'p.organisation_id = ?', params: [viewer.organisationId ?? ''] };
    case 'student':
      return { sql: "p.status = 'published'", params: [] };
  }
}

function canSeeProject(viewer: Person, project: { status: Status; organisationId: string }): boolean {
  switch (viewer.role) {
    case 'admin':
      return true;
    case 'instructor':
      return true;
    case 'mentor':
      return viewer.organisationId !== null && project.organisationId === viewer.organisationId;
    case 'student':
      return project.status === 'published';
  }
}

/** Tasks: admin and instructors see all; a mentor their enterprise's; a student published ones. */
function canSeeTask(viewer: Person, task: { status: Status; organisationId: string | null }): boolean {
  switch (viewer.role) {
    case 'admin':
    case 'instructor':
      return true;
    case 'mentor':
      return viewer.organisationId !== null && task.organisationId === viewer.organisationId;
    case 'student':
      return task.status === 'published';
  }
}

/** What has a status, and the statuses, as Chinese readers call them. */
const WHAT_ZH: Record<'project' | 'task', string> = { project: '项目', task: '实训任务' };
const STATUS_ZH: Record<Status, string> = { draft: '草稿', published: '已发布', archived: '已归档' };

function transition(actor: Person, what: 'project' | 'task', from: Status, to: Status): string {
  const rule = TRANSITIONS[from][to];
  if (!rule) {
    throw new ApiError(
      409,
      'INVALID_TRANSITION',
      from === to
        ? say(`the ${what} is already ${to}`, `该${WHAT_ZH[what]}已经是“${STATUS_ZH[to]}”状态`)
        : say(
            `a ${from} ${what} cannot become ${to} (draft → published → archived; an admin may re-publish an archived one)`,
            `“${STATUS_ZH[from]}”的${WHAT_ZH[what]}不能改为“${STATUS_ZH[to]}”（草稿 → 已发布 → 已归档；已归档的可由管理员重新发布）`,
          ),
    );
  }
  if (rule === 'admin' && actor.role !== 'admin') {
    throw new ApiError(
      403,
      'FORBIDDEN',
      say(`only an admin re-publishes an archived ${what}`, `只有管理员可以重新发布已归档的${WHAT_ZH[what]}`),
    );
  }
  return from === 'archived' ? 'republish' : to === 'published' ? 'publish' : 'archive';
}

function notArchived(what: 'project' | 'task', status: Status): void {
  if (status === 'archived') {
    throw new ApiError(
      409,
      'ARCHIVED',
      say(
        `the ${what} is archived and cannot be changed: an admin re-publishes it first`,
        `该${WHAT_ZH[what]}已归档，不能修改：需先由管理员重新发布`,
      ),
    );
  }
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

/**
 * The mentor pool, enterprise projects and lab tasks: queries filtered by who asks, and changes,
 * each checked against the caller's rights and the version they edited, and audited in the same
 * transaction.
 */
export class Projects {
  readonly #db: LabDb;

  constructor(db: LabDb) {
    this.#db = db;
  }

  // ------------------------------------------------------------ mentor pool

  async listMentors(filter: {
    tag?: string | undefined;
    q?: string | undefined;
    available?: boolean | undefined;
    role?: 'mentor' | 'instructor' | undefined;
    organisationId?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<{ items: MentorProfile[]; total: number }> {
    const where = ["u.role IN ('mentor', 'instructor')", 'u.disabled = 0'];
    const params: SqlValue[] = [];
    if (filter.role) {
      where.push('u.role = ?');
      params.push(filter.role);
    }
    if (filter.organisationId) {
      where.push('u.organisation_id = ?');
      params.push(filter.organisationId);
    }
    if (filter.tag) {
      where.push("COALESCE(m.expertise, '[]') LIKE ? ESCAPE '\\'");
      params.push(jsonTagLike(filter.tag));
    }
    if (filter.q) {
      where.push("(u.display_name LIKE ? ESCAPE '\\' OR COALESCE(m.bio, '') LIKE ? ESCAPE '\\')");
      const like = `%${escapeLike(filter.q)}%`;
      params.push(like, like);
    }
    if (filter.available !== undefined) {
      where.push('COALESCE(m.available, 1) = ?');
      params.push(filter.available ? 1 : 0);
    }
    const clause = `WHERE ${where.join(' AND ')}`;
    const total =
      (
        await this.#db.get<{ n: number }>(
          `SELECT count(*) AS n FROM users u LEFT JOIN mentor_profiles m ON m.user_id = u.id ${clause}`,
          params,
        )
      )?.n ?? 0;
    const rows = await this.#db.all<MentorRow>(
      `${MENTOR_SELECT} ${clause} ORDER BY COALESCE(m.available, 1) DESC, u.display_name, u.id LIMIT ? OFFSET ?`,
      [...params, filter.limit, filter.offset],
    );
    return { items: rows.map(toMentorProfile), total };
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

  // ------------------------------------------------------------ projects

  async listProjects(
    viewer: Person,
    filter: {
      q?: string | undefined;
      skill?: string | undefined;
      status?: Status | undefined;
      organisationId?: string | undefined;
      limit: number;
      offset: number;
    },
  ): Promise<{ items: Project[]; total: number }> {
    const scope = projectScope(viewer);
    const where = [scope.sql];
    const params: SqlValue[] = [...scope.params];
    if (filter.status) {
      where.push('p.status = ?');
      params.push(filter.status);
    }
    if (filter.organisationId) {
      where.push('p.organisation_id = ?');
      params.push(filter.organisationId);
    }
    if (filter.skill) {
      where.push("p.required_skills LIKE ? ESCAPE '\\'");
      params.push(jsonTagLike(filter.skill));
    }
    if (filter.q) {
      where.push(
        "(p.title LIKE ? ESCAPE '\\' OR p.background LIKE ? ESCAPE '\\' OR p.goals LIKE ? ESCAPE '\\')",
      );
      const like = `%${escapeLike(filter.q)}%`;
      params.push(like, like, like);
    }
    const clause = `WHERE ${where.join(' AND ')}`;
    const total =
      (await this.#db.get<{ n: number }>(`SELECT count(*) AS n FROM projects p ${clause}`, params))?.n ?? 0;
    const rows = await this.#db.all<ProjectRow>(
      `${PROJECT_SELECT} ${clause} ORDER BY p.updated_at DESC, p.id LIMIT ? OFFSET ?`,
      [...params, filter.limit, filter.offset],
    );
    return { items: rows.map(toProject), total };
  }

  async #projectRow(db: LabDb, id: string): Promise<Project | undefined> {
    const row = await db.get<ProjectRow>(`${PROJECT_SELECT} WHERE p.id = ?`, [id]);
    return row ? toProject(row) : undefined;
  }

  /** A project the viewer may see, else 404 (whether it does not exist or is not theirs to see). */
  async project(viewer: Person, id: string, db: LabDb = this.#db): Promise<Project> {
    const project = await this.#projectRow(db, id);
    if (!project || !canSeeProject(viewer, project)) throw projectNotFound(id);
    return project;
  }

  async createProject(actor: Person, input: ProjectInput): Promise<Project> {
    let organisationId = input.organisationId;
    if (actor.role === 'mentor') {
      if (!actor.organisationId) {
        throw new ApiError(
          403,
          'FORBIDDEN',
          say('your account belongs to no enterprise: ask an admin', '您的账号没有所属企业：请联系管理员'),
        );
      }
      if (organisationId && organisationId !== actor.organisationId) {
        throw new ApiError(
          403,
          'FORBIDDEN',
          say('a mentor creates projects of their own enterprise only', '企业导师只能创建本企业的项目'),
        );
      }
      organisationId = actor.organisationId;
    }
    if (!organisationId) {
      throw new ApiError(
        400,
        'ORGANISATION_REQUIRED',
        say(
          'say which enterprise brings the project: organisationId',
          '请用 organisationId 指明项目来自哪家企业',
        ),
      );
    }
    const id = randomUUID();
    const now = Date.now();
    return this.#db.transaction(async (tx) => {
      const organisation = await tx.get<{ kind: string }>('SELECT kind FROM organisations WHERE id = ?', [
        organisationId,
      ]);
      if (!organisation)
        throw new ApiError(
          400,
          'UNKNOWN_ORGANISATION',
          say(`no organisation ${organisationId}`, `找不到单位 ${organisationId}`),
        );
      if (organisation.kind !== 'enterprise') {
        throw new ApiError(
          400,
          'NOT_AN_ENTERPRISE',
          say(
            'projects are brought by partner enterprises, not the college',
            '项目只能来自合作企业，不能属于学院',
          ),
        );
      }
      await tx.run(
        `INSERT INTO projects (id, organisation_id, title, background, goals, required_skills, deliverables, difficulty, status, created_by, created_at, updated_at, version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, 1)`,
        [
          id,
          organisationId,
          input.title,
          input.background ?? '',
          input.goals ?? '',
          JSON.stringify(tags(input.requiredSkills ?? [])),
          input.deliverables ?? '',
          input.difficulty,
          actor.id,
          now,
          now,
        ],
      );
      const created = (await this.#projectRow(tx, id)) as Project;
      await recordAudit(tx, actor, { entity: 'project', entityId: id, action: 'create', after: created });
      return created;
    });
  }

  async updateProject(
    actor: Person,
    id: string,
    expectedVersion: number,
    changes: ProjectChanges,
  ): Promise<Project> {
    return this.#db.transaction(async (tx) => {
      const before = await this.project(actor, id, tx);
      if (before.version !== expectedVersion) throw versionConflict('project', before.version);
      notArchived('project', before.status);
      await tx.run(
        `UPDATE projects SET title = ?, background = ?, goals = ?, required_skills = ?, deliverables = ?, difficulty = ?,
         updated_at = ?, version = version + 1 WHERE id = ?`,
        [
          changes.title ?? before.title,
          changes.background ?? before.background,
          changes.goals ?? before.goals,
          JSON.stringify(changes.requiredSkills ? tags(changes.requiredSkills) : before.requiredSkills),
          changes.deliverables ?? before.deliverables,
          changes.difficulty ?? before.difficulty,
          Date.now(),
          id,
        ],
      );
      const after = (await this.#projectRow(tx, id)) as Project;
      await recordAudit(tx, actor, { entity: 'project', entityId: id, action: 'update', before, after });
      return after;
    });
  }

  async setProjectStatus(actor: Person, id: string, expectedVersion: number, to: Status): Promise<Project> {
    return this.#db.transaction(async (tx) => {
      const before = await this.project(actor, id, tx);
      if (before.version !== expectedVersion) throw versionConflict('project', before.version);
      const action = transition(actor, 'project', before.status, to);
      await tx.run('UPDATE projects SET status = ?, updated_at = ?, version = version + 1 WHERE id = ?', [
        to,
        Date.now(),
        id,
      ]);
      const after = (await this.#projectRow(tx, id)) as Project;
      await recordAudit(tx, actor, { entity: 'project', entityId: id, action, before, after });
      return after;
    });
  }

  /**
   * Published projects for a student, best first. A project's score is the mean over its required
   * skills of the student's best evidence (0..1) for that skill; projects sharing no skill with
   * the evidence come last. Without any evidence: easiest first.
   */
  async recommend(
    student: Person,
    paging: { limit: number; offset: number },
  ): Promise<{ basedOnEvidence: boolean; message: string; items: Recommendation[]; total: number }> {
    const evidenceRows = await this.#db.all<{ skill: string; score: number }>(
      'SELECT skill, MAX(score) AS score FROM skill_evidence WHERE user_id = ? GROUP BY skill',
      [student.id],
    );
    const best = new Map<string, number>();
    for (const row of evidenceRows) {
      const key = row.skill.trim().toLowerCase();
      const score = Math.min(1, Math.max(0, Number(row.score) || 0));
      best.set(key, Math.max(best.get(key) ?? 0, score));
    }
    const projects = (await this.#db.all<ProjectRow>(`${PROJECT_SELECT} WHERE p.status = 'published'`)).map(
      toProject,
    );
    const scored = projects.map((project) => {
      const matched: { skill: string; score: number }[] = [];
      const missing: string[] = [];
      let sum = 0;
      for (const skill of project.requiredSkills) {
        const evidence = best.get(skill.toLowerCase());
        if (evidence === undefined) missing.push(skill);
        else {
          matched.push({ skill, score: round3(evidence) });
          sum += evidence;
        }
      }
      const required = project.requiredSkills.length;
      const score = required > 0 ? sum / required : 0;
      let text: string;
      if (required === 0) text = 'the project lists no required skills';
      else if (best.size === 0)
        text = `difficulty ${project.difficulty}; requires ${project.requiredSkills.join(', ')}`;
      else {
        text = `your work shows ${matched.length} of ${required} required skills`;
        if (matched.length) text += ` (${matched.map((m) => `${m.skill} ${m.score}`).join(', ')})`;
        if (missing.length) text += `; not yet shown: ${missing.join(', ')}`;
      }
      return { project, score, overlap: matched.length > 0, reasons: { matched, missing, text } };
    });
    const byEase = (a: (typeof scored)[number], b: (typeof scored)[number]) =>
      a.project.difficulty - b.project.difficulty || a.project.title.localeCompare(b.project.title);
    scored.sort((a, b) => {
      if (a.overlap !== b.overlap) return a.overlap ? -1 : 1;
      return b.score - a.score || byEase(a, b);
    });
    const basedOnEvidence = best.size > 0;
    const message = basedOnEvidence
      ? "ranked by how well the skills your graded work shows cover each project's required skills; projects sharing none of them come last"
      : 'no graded work shows your skills yet, so these are not personal recommendations: the easiest projects come first';
    return {
      basedOnEvidence,
      message,
      total: scored.length,
      items: scored
        .slice(paging.offset, paging.offset + paging.limit)
        .map(({ project, score, reasons }) => ({ project, score: round3(score), reasons })),
    };
  }

  // ------------------------------------------------------------ lab tasks

  async listTasks(
    viewer: Person,
    filter: {
      projectId?: string | null | undefined;
      status?: Status | undefined;
      q?: string | undefined;
      sensor?: string | undefined;
      limit: number;
      offset: number;
    },
  ): Promise<{ items: LabTaskSummary[]; total: number }> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (viewer.role === 'mentor') {
      where.push('p.organisation_id = ?');
      params.push(viewer.organisationId ?? '');
    } else if (viewer.role === 'student') {
      where.push("t.status = 'published'");
    }
    if (filter.projectId === null) where.push('t.project_id IS NULL');
    else if (filter.projectId) {
      where.push('t.project_id = ?');
      params.push(filter.projectId);
    }
    if (filter.status) {
      where.push('t.status = ?');
      params.push(filter.status);
    }
    if (filter.sensor) {
      where.push("t.required_sensors LIKE ? ESCAPE '\\'");
      params.push(jsonTagLike(filter.sensor));
    }
    if (filter.q) {
      where.push("(t.title LIKE ? ESCAPE '\\' OR t.instructions LIKE ? ESCAPE '\\')");
      const like = `%${escapeLike(filter.q)}%`;
      params.push(like, like);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total =
      (
        await this.#db.get<{ n: number }>(
          `SELECT count(*) AS n FROM lab_tasks t LEFT JOIN projects p ON p.id = t.project_id ${clause}`,
          params,
        )
      )?.n ?? 0;
    const rows = await this.#db.all<TaskRow>(
      `${TASK_SELECT} ${clause} ORDER BY t.updated_at DESC, t.id LIMIT ? OFFSET ?`,
      [...params, filter.limit, filter.offset],
    );
    return { items: rows.map((row) => toTaskSummary(toTask(row))), total };
  }

  async #taskRow(db: LabDb, id: string): Promise<LabTask | undefined> {
    const row = await db.get<TaskRow>(`${TASK_SELECT} WHERE t.id = ?`, [id]);
    return row ? toTask(row) : undefined;
  }

  async task(viewer: Person, id: string, db: LabDb = this.#db): Promise<LabTask> {
    const task = await this.#taskRow(db, id);
    if (!task || !(canSeeTask(viewer, task) || (await this.#assignedToStudent(viewer, id, db)))) {
      throw taskNotFound(id);
    }
    return task;
  }

  /** A student reads any task assigned in their classes, a draft their instructor tries out included. */
  async #assignedToStudent(viewer: Person, taskId: string, db: LabDb): Promise<boolean> {
    if (viewer.role !== 'student') return false;
    const row = await db.get(
      `SELECT 1 AS x FROM assignments a JOIN class_members m ON m.class_id = a.class_id
       WHERE a.task_id = ? AND m.user_id = ?`,
      [taskId, viewer.id],
    );
    return row !== undefined;
  }

  /** The checks every saved task passes: sensor names, mentor weight, rubric. */
  #checkTask(
    task: {
      projectId: string | null;
      requiredSensors: string[];
      requiredActuators: string[];
      mentorWeight: number;
      rubric: unknown;
    },
    status: Status,
  ): Rubric {
    if (task.projectId === null && task.mentorWeight > 0) {
      throw new ApiError(
        400,
        'MENTOR_WEIGHT_WITHOUT_PROJECT',
        say(
          'a standalone task has no enterprise mentor: mentorWeight must be 0 (or put the task in a project)',
          '不属于项目的实训任务没有企业导师：mentorWeight 必须为 0（或把任务放进某个项目）',
        ),
      );
    }
    return checkRubric(task.rubric, task, {
      // A draft may be unfinished; a published task is graded, by criteria or by its mentor alone.
      requireCriteria: status === 'published' && task.mentorWeight < 100,
    });
  }

  async createTask(actor: Person, input: TaskInput): Promise<LabTask> {
    const projectId = input.projectId ?? null;
    if (actor.role === 'mentor' && projectId === null) {
      throw new ApiError(
        403,
        'FORBIDDEN',
        say(
          "a mentor's tasks belong to one of their enterprise's projects: give projectId",
          '企业导师的实训任务必须属于本企业的某个项目：请填写 projectId',
        ),
      );
    }
    const id = randomUUID();
    const now = Date.now();
    return this.#db.transaction(async (tx) => {
      if (projectId !== null) {
        const project = await this.project(actor, projectId, tx);
        notArchived('project', project.status);
      }
      const requiredSensors = sensorNames(input.requiredSensors, 'requiredSensors');
      const requiredActuators = sensorNames(input.requiredActuators, 'requiredActuators');
      const mentorWeight = input.mentorWeight ?? 0;
      const rubric = this.#checkTask(
        {
          projectId,
          requiredSensors,
          requiredActuators,
          mentorWeight,
          rubric: input.rubric ?? emptyRubric(),
        },
        'draft',
      );
      await tx.run(
        `INSERT INTO lab_tasks (id, project_id, title, instructions, required_sensors, required_actuators, skills, duration_minutes,
           rubric, mentor_weight, status, created_by, created_at, updated_at, version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, 1)`,
        [
          id,
          projectId,
          input.title,
          input.instructions ?? '',
          JSON.stringify(requiredSensors),
          JSON.stringify(requiredActuators),
          JSON.stringify(tags(input.skills ?? [])),
          input.durationMinutes,
          JSON.stringify(rubric),
          mentorWeight,
          actor.id,
          now,
          now,
        ],
      );
      const created = (await this.#taskRow(tx, id)) as LabTask;
      await recordAudit(tx, actor, { entity: 'task', entityId: id, action: 'create', after: created });
      return created;
    });
  }

  async updateTask(
    actor: Person,
    id: string,
    expectedVersion: number,
    changes: TaskChanges,
    action = 'update',
  ): Promise<LabTask> {
    return this.#db.transaction(async (tx) => {
      const before = await this.task(actor, id, tx);
      if (before.version !== expectedVersion) throw versionConflict('task', before.version);
      notArchived('task', before.status);
      const requiredSensors = changes.requiredSensors
        ? sensorNames(changes.requiredSensors, 'requiredSensors')
        : before.requiredSensors;
      const requiredActuators = changes.requiredActuators
        ? sensorNames(changes.requiredActuators, 'requiredActuators')
        : before.requiredActuators;
      const mentorWeight = changes.mentorWeight ?? before.mentorWeight;
      // The rubric is checked again even when unchanged: it may refer to a sensor no longer required.
      const rubric = this.#checkTask(
        {
          projectId: before.projectId,
          requiredSensors,
          requiredActuators,
          mentorWeight,
          rubric: changes.rubric ?? before.rubric,
        },
        before.status,
      );
      await tx.run(
        `UPDATE lab_tasks SET title = ?, instructions = ?, required_sensors = ?, required_actuators = ?, skills = ?,
           duration_minutes = ?, rubric = ?, mentor_weight = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
        [
          changes.title ?? before.title,
          changes.instructions ?? before.instructions,
          JSON.stringify(requiredSensors),
          JSON.stringify(requiredActuators),
          JSON.stringify(changes.skills ? tags(changes.skills) : before.skills),
          changes.durationMinutes ?? before.durationMinutes,
          JSON.stringify(rubric),
          mentorWeight,
          Date.now(),
          id,
        ],
      );
      const after = (await this.#taskRow(tx, id)) as LabTask;
      await recordAudit(tx, actor, { entity: 'task', entityId: id, action, before, after });
      return after;
    });
  }

  async setTaskStatus(actor: Person, id: string, expectedVersion: number, to: Status): Promise<LabTask> {
    return this.#db.transaction(async (tx) => {
      const before = await this.task(actor, id, tx);
      if (before.version !== expectedVersion) throw versionConflict('task', before.version);
      const action = transition(actor, 'task', before.status, to);
      if (to === 'published') this.#checkTask(before, 'published');
      await tx.run('UPDATE lab_tasks SET status = ?, updated_at = ?, version = version + 1 WHERE id = ?', [
        to,
        Date.now(),
        id,
      ]);
      const after = (await this.#taskRow(tx, id)) as LabTask;
      await recordAudit(tx, actor, { entity: 'task', entityId: id, action, before, after });
      return after;
    });
  }
}
