/**
 * Teams: the groups of a class's students (a student is in at most one team per class), the
 * project a team works on, who may see a team, and the changes to teams and their members.
 */
import { randomUUID } from 'node:crypto';
import type { Team, TeamMember } from '../../contract/index.ts';
import type { LabDb } from '../../labdb/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person } from '../auth.ts';
import { ApiError, say } from '../errors.ts';
import { versionConflict } from '../http.ts';
import { naturalOrder } from '../names.ts';
import { uniqueViolation } from '../people.ts';
import { Where } from '../query.ts';
import type { Classes } from './classes.ts';
import { chunks, marks, type TeamRow, unique } from './rows.ts';

const TEAM_FROM =
  'FROM teams t JOIN classes c ON c.id = t.class_id LEFT JOIN projects p ON p.id = t.project_id';

const TEAM_SELECT = `SELECT t.id, t.class_id, c.name AS class_name, t.name, t.project_id, p.title AS project_title,
    t.created_at, t.version
  ${TEAM_FROM}`;

/** Teams, with their visibility rules; each change audited in the transaction that makes it. */
export class Teams {
  readonly #db: LabDb;
  readonly #classes: Classes;

  constructor(db: LabDb, classes: Classes) {
    this.#db = db;
    this.#classes = classes;
  }

  /** A team: its class's managers, its members, and mentors of the enterprise whose project it works on. */
  async assertCanRead(actor: Person, team: Team): Promise<void> {
    if (actor.role === 'admin') return;
    if (actor.role === 'instructor') {
      const cls = await this.#classes.classOr404(team.classId);
      if (this.#classes.manages(actor, cls)) return;
    }
    if (actor.role === 'student' && team.members.some((member) => member.id === actor.id)) return;
    if (actor.role === 'mentor' && team.projectId && actor.organisationId) {
      const project = await this.#db.get<{ organisation_id: string }>(
        'SELECT organisation_id FROM projects WHERE id = ?',
        [team.projectId],
      );
      if (project?.organisation_id === actor.organisationId) return;
    }
    throw new ApiError(
      403,
      'NOT_YOUR_TEAM',
      say(`you may not see team "${team.name}"`, `您无权查看小组“${team.name}”`),
    );
  }

  async teamIdOf(classId: string, studentId: string, db: LabDb = this.#db): Promise<string | undefined> {
    const row = await db.get<{ id: string }>(
      'SELECT t.id FROM teams t JOIN team_members tm ON tm.team_id = t.id WHERE t.class_id = ? AND tm.user_id = ?',
      [classId, studentId],
    );
    return row?.id;
  }

  async #withMembers(rows: TeamRow[], db: LabDb): Promise<Team[]> {
    const members = new Map<string, TeamMember[]>();
    for (const part of chunks(rows.map((row) => row.id))) {
      const found = await db.all<{
        team_id: string;
        id: string;
        display_name: string;
        student_number: string | null;
      }>(
        `SELECT tm.team_id, u.id, u.display_name, u.student_number
         FROM team_members tm JOIN users u ON u.id = tm.user_id
         WHERE tm.team_id IN (${marks(part.length)}) ORDER BY u.student_number NULLS FIRST, u.username`,
        part,
      );
      for (const member of found) {
        const list = members.get(member.team_id) ?? [];
        list.push({ id: member.id, displayName: member.display_name, studentNumber: member.student_number });
        members.set(member.team_id, list);
      }
    }
    return rows.map((row) => ({
      id: row.id,
      classId: row.class_id,
      className: row.class_name,
      name: row.name,
      projectId: row.project_id,
      projectTitle: row.project_title,
      members: members.get(row.id) ?? [],
      createdAt: row.created_at,
      version: row.version,
    }));
  }

  async teamById(id: string, db: LabDb = this.#db): Promise<Team | undefined> {
    const row = await db.get<TeamRow>(`${TEAM_SELECT} WHERE t.id = ?`, [id]);
    return row ? (await this.#withMembers([row], db))[0] : undefined;
  }

  async teamOr404(id: string, db: LabDb = this.#db): Promise<Team> {
    const team = await this.teamById(id, db);
    if (!team) throw new ApiError(404, 'TEAM_NOT_FOUND', say(`no team ${id}`, `找不到小组 ${id}`));
    return team;
  }

  async listTeams(filter: {
    classId?: string | undefined;
    instructorId?: string | undefined;
    memberId?: string | undefined;
    organisationId?: string | undefined;
    projectId?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<{ items: Team[]; total: number }> {
    const { clause, params } = new Where()
      .when(filter.classId, 't.class_id = ?')
      .when(filter.instructorId, 'c.instructor_id = ?')
      .when(filter.memberId, 't.id IN (SELECT team_id FROM team_members WHERE user_id = ?)')
      .when(filter.organisationId, 'p.organisation_id = ?')
      .when(filter.projectId, 't.project_id = ?');
    const total =
      (await this.#db.get<{ n: number }>(`SELECT count(*) AS n ${TEAM_FROM} ${clause}`, params))?.n ?? 0;
    // Ordered and paged here, not in SQL: 第2组 before 第10组 (a class has tens of teams, not thousands).
    const rows = (await this.#db.all<TeamRow>(`${TEAM_SELECT} ${clause}`, params))
      .sort((a, b) => naturalOrder(a.class_name, b.class_name) || naturalOrder(a.name, b.name))
      .slice(filter.offset, filter.offset + filter.limit);
    return { items: await this.#withMembers(rows, this.#db), total };
  }

  /** The teams a student is in (in any class). */
  async teamIdsOf(studentId: string): Promise<Set<string>> {
    const rows = await this.#db.all<{ team_id: string }>(
      'SELECT team_id FROM team_members WHERE user_id = ?',
      [studentId],
    );
    return new Set(rows.map((row) => row.team_id));
  }

  async #assertProject(projectId: string, db: LabDb): Promise<void> {
    const project = await db.get<{ status: string }>('SELECT status FROM projects WHERE id = ?', [projectId]);
    if (!project)
      throw new ApiError(400, 'UNKNOWN_PROJECT', say(`no project ${projectId}`, `找不到项目 ${projectId}`));
    if (project.status === 'archived') {
      throw new ApiError(
        409,
        'PROJECT_ARCHIVED',
        say(
          `project ${projectId} is archived: teams cannot take it up`,
          `项目 ${projectId} 已归档，小组不能再选择它`,
        ),
      );
    }
  }

  async #assertCanJoin(classId: string, studentId: string, db: LabDb, exceptTeam?: string): Promise<void> {
    if (!(await this.#classes.isEnrolled(classId, studentId, db))) {
      throw new ApiError(
        409,
        'NOT_ENROLLED',
        say(
          `student ${studentId} is not enrolled in this class: enrol them before adding them to a team`,
          `学生 ${studentId} 不在本班：请先将其加入班级，再加入小组`,
        ),
      );
    }
    const current = await this.teamIdOf(classId, studentId, db);
    if (current && current !== exceptTeam) {
      const name = (await db.get<{ name: string }>('SELECT name FROM teams WHERE id = ?', [current]))?.name;
      throw new ApiError(
        409,
        'ALREADY_IN_TEAM',
        say(
          `student ${studentId} is already in team "${name}" of this class: remove them there first`,
          `学生 ${studentId} 已在本班小组“${name}”中：请先从该小组移出`,
        ),
      );
    }
  }

  async createTeam(
    actor: Person,
    classId: string,
    input: { name: string; projectId?: string | null | undefined; memberIds?: string[] | undefined },
  ): Promise<Team> {
    const id = randomUUID();
    return this.#db.transaction(async (tx) => {
      this.#classes.assertManages(actor, await this.#classes.classOr404(classId, tx));
      if (input.projectId) await this.#assertProject(input.projectId, tx);
      try {
        await tx.run(
          'INSERT INTO teams (id, class_id, name, project_id, created_at, version) VALUES (?, ?, ?, ?, ?, 1)',
          [id, classId, input.name, input.projectId ?? null, Date.now()],
        );
      } catch (error) {
        throw uniqueViolation(
          error,
          say(`class already has a team named "${input.name}"`, `本班已有名为“${input.name}”的小组`),
        );
      }
      for (const studentId of unique(input.memberIds)) {
        await this.#assertCanJoin(classId, studentId, tx);
        await tx.run('INSERT INTO team_members (team_id, user_id) VALUES (?, ?)', [id, studentId]);
      }
      const team = (await this.teamById(id, tx)) as Team;
      await recordAudit(tx, actor, { entity: 'team', entityId: id, action: 'create', after: team });
      return team;
    });
  }

  async updateTeam(
    actor: Person,
    id: string,
    expectedVersion: number,
    changes: { name?: string | undefined; projectId?: string | null | undefined },
  ): Promise<Team> {
    return this.#db.transaction(async (tx) => {
      const before = await this.teamOr404(id, tx);
      this.#classes.assertManages(actor, await this.#classes.classOr404(before.classId, tx));
      if (before.version !== expectedVersion) throw versionConflict('team', before.version);
      if (changes.projectId && changes.projectId !== before.projectId) {
        await this.#assertProject(changes.projectId, tx);
      }
      try {
        await tx.run('UPDATE teams SET name = ?, project_id = ?, version = version + 1 WHERE id = ?', [
          changes.name ?? before.name,
          changes.projectId === undefined ? before.projectId : changes.projectId,
          id,
        ]);
      } catch (error) {
        throw uniqueViolation(
          error,
          say(`class already has a team named "${changes.name}"`, `本班已有名为“${changes.name}”的小组`),
        );
      }
      const after = (await this.teamById(id, tx)) as Team;
      await recordAudit(tx, actor, { entity: 'team', entityId: id, action: 'update', before, after });
      return after;
    });
  }

  async addTeamMember(actor: Person, teamId: string, studentId: string): Promise<Team> {
    return this.#db.transaction(async (tx) => {
      const team = await this.teamOr404(teamId, tx);
      this.#classes.assertManages(actor, await this.#classes.classOr404(team.classId, tx));
      if (team.members.some((member) => member.id === studentId)) return team;
      await this.#assertCanJoin(team.classId, studentId, tx, teamId);
      await tx.run('INSERT INTO team_members (team_id, user_id) VALUES (?, ?)', [teamId, studentId]);
      await recordAudit(tx, actor, {
        entity: 'team',
        entityId: teamId,
        action: 'add-member',
        after: { studentId },
      });
      return (await this.teamById(teamId, tx)) as Team;
    });
  }

  async removeTeamMember(actor: Person, teamId: string, studentId: string): Promise<Team> {
    return this.#db.transaction(async (tx) => {
      const team = await this.teamOr404(teamId, tx);
      this.#classes.assertManages(actor, await this.#classes.classOr404(team.classId, tx));
      const { changes } = await tx.run('DELETE FROM team_members WHERE team_id = ? AND user_id = ?', [
        teamId,
        studentId,
      ]);
      if (changes === 0) {
        throw new ApiError(
          404,
          'NOT_A_MEMBER',
          say(
            `student ${studentId} is not in team "${team.name}"`,
            `学生 ${studentId} 不在小组“${team.name}”中`,
          ),
        );
      }
      await recordAudit(tx, actor, {
        entity: 'team',
        entityId: teamId,
        action: 'remove-member',
        before: { studentId },
      });
      return (await this.teamById(teamId, tx)) as Team;
    });
  }
}
