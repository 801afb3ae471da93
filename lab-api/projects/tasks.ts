/**
 * Lab tasks: what each person may see of them (a student also the tasks assigned in their
 * classes), their changes and publication, and the checks every saved task passes (sensor names,
 * the mentor weight, the rubric: a published task must be gradable).
 */
import { randomUUID } from 'node:crypto';
import type { LabDb } from '../../labdb/index.ts';
import { isValidSensorName, normalizeSensorLabel } from '../../protocol/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person } from '../auth.ts';
import { ApiError, say } from '../errors.ts';
import { versionConflict } from '../http.ts';
import { likeIgnoringCase, listPage, Where } from '../query.ts';
import { checkRubric, emptyRubric, normalizeTitles, type Rubric } from '../rubric.ts';
import { Projects } from './projects.ts';
import { notArchived, type Status, transition } from './status.ts';
import { jsonList, jsonTagLike, tags } from './tags.ts';

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

function taskNotFound(id: string): ApiError {
  return new ApiError(
    404,
    'TASK_NOT_FOUND',
    say(`no lab task ${id} (or none you may see)`, `找不到实训任务 ${id}（或您无权查看）`),
  );
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

/** Lab tasks: queries filtered by who asks, and changes checked, versioned and audited. */
export class LabTasks {
  readonly #db: LabDb;
  readonly #projects: Projects;

  constructor(db: LabDb) {
    this.#db = db;
    this.#projects = new Projects(db);
  }

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
    const where = new Where();
    if (viewer.role === 'mentor') where.and('p.organisation_id = ?', viewer.organisationId ?? '');
    else if (viewer.role === 'student') where.and("t.status = 'published'");
    if (filter.projectId === null) where.and('t.project_id IS NULL');
    return listPage(this.#db, {
      from: 'FROM lab_tasks t LEFT JOIN projects p ON p.id = t.project_id',
      select: TASK_SELECT,
      where: where
        .when(filter.projectId, 't.project_id = ?')
        .when(filter.status, 't.status = ?')
        .when(jsonTagLike(filter.sensor), likeIgnoringCase('t.required_sensors'))
        .contains(filter.q, ['t.title', 't.instructions']),
      orderBy: 't.updated_at DESC, t.id',
      limit: filter.limit,
      offset: filter.offset,
      map: (row: TaskRow) => toTaskSummary(toTask(row)),
    });
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
        const project = await this.#projects.project(actor, projectId, tx);
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
