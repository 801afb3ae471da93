/**
 * Enterprise projects: what each person may see of them, their changes (checked, versioned,
 * audited) and publication, and the recommendation of published projects to a student from the
 * skills their graded work shows.
 */
import { randomUUID } from 'node:crypto';
import type { Project, Recommendation } from '../../contract/index.ts';
import type { LabDb, SqlValue } from '../../labdb/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person } from '../auth.ts';
import { ApiError, type Localized, say } from '../errors.ts';
import { versionConflict } from '../http.ts';
import { likeIgnoringCase, listPage, Where } from '../query.ts';
import { notArchived, type Status, transition } from './status.ts';
import { jsonList, jsonTagLike, tags } from './tags.ts';

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

function projectNotFound(id: string): ApiError {
  return new ApiError(
    404,
    'PROJECT_NOT_FOUND',
    say(`no project ${id} (or none you may see)`, `找不到项目 ${id}（或您无权查看）`),
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

const round3 = (value: number) => Math.round(value * 1000) / 1000;

/** Enterprise projects: queries filtered by who asks, and changes checked, versioned and audited. */
export class Projects {
  readonly #db: LabDb;

  constructor(db: LabDb) {
    this.#db = db;
  }

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
    return listPage(this.#db, {
      from: 'FROM projects p',
      select: PROJECT_SELECT,
      where: new Where()
        .and(scope.sql, ...scope.params)
        .when(filter.status, 'p.status = ?')
        .when(filter.organisationId, 'p.organisation_id = ?')
        .when(jsonTagLike(filter.skill), likeIgnoringCase('p.required_skills'))
        .contains(filter.q, ['p.title', 'p.background', 'p.goals']),
      orderBy: 'p.updated_at DESC, p.id',
      limit: filter.limit,
      offset: filter.offset,
      map: toProject,
    });
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
  ): Promise<{ basedOnEvidence: boolean; message: Localized; items: Recommendation[]; total: number }> {
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
      ? say(
          "ranked by how well the skills your graded work shows cover each project's required skills; projects sharing none of them come last",
          '按您已评分作业体现的技能与各项目所需技能的匹配程度排序；没有共同技能的项目排在最后',
        )
      : say(
          'no graded work shows your skills yet, so these are not personal recommendations: the easiest projects come first',
          '您还没有已评分的作业能体现技能，因此这些不是个性化推荐：最简单的项目排在最前',
        );
    return {
      basedOnEvidence,
      message,
      total: scored.length,
      items: scored
        .slice(paging.offset, paging.offset + paging.limit)
        .map(({ project, score, reasons }) => ({ project, score: round3(score), reasons })),
    };
  }
}
