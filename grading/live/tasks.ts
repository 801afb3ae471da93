/** The tasks live grading grades on, as it keeps them: read through the source once per version. */
import { rubricSensors } from '../load.ts';
import type { Rubric } from '../rubric.ts';
import type { GradeOptions } from '../types.ts';
import type { LiveGradingSource } from './source.ts';

export interface TaskInfo {
  /** `<taskId>:<version>`: an attempt whose task's version changed is graded again. */
  key: string;
  title: string;
  rubric: Rubric;
  /** Series to buffer: the rubric's sensors and actuators, and the task's required sensors. */
  sensors: Set<string>;
  options: GradeOptions;
}

/** The task of an attempt whose assignment is not known to the lab any more: no criteria. */
export function emptyTask(): TaskInfo {
  return { key: '', title: '', rubric: { criteria: [] }, sensors: new Set(), options: {} };
}

/** Tasks by id and version, read through the source when not kept (at most 1,000 kept). */
export class LiveTasks {
  readonly #source: LiveGradingSource;
  readonly #tasks = new Map<string, TaskInfo>();

  constructor(source: LiveGradingSource) {
    this.#source = source;
  }

  /** The task at this version (read now when not kept: then at its current version). */
  async task(taskId: string, version: number): Promise<TaskInfo | undefined> {
    const cached = this.#tasks.get(`${taskId}:${version}`);
    if (cached) return cached;
    const record = await this.#source.task(taskId);
    if (!record) return undefined;
    const required = [...record.requiredSensors];
    const task: TaskInfo = {
      key: `${taskId}:${record.version}`,
      title: record.title,
      rubric: record.rubric,
      sensors: new Set(rubricSensors(record.rubric, required)),
      options: required.length > 0 ? { requiredSensors: required } : {},
    };
    if (this.#tasks.size >= 1_000) this.#tasks.clear();
    this.#tasks.set(task.key, task);
    return task;
  }

  /** The task an assignment sets, at its current version. */
  async assignmentTask(assignmentId: string): Promise<TaskInfo | undefined> {
    const ref = await this.#source.assignmentTask(assignmentId);
    return ref ? this.task(ref.taskId, ref.version) : undefined;
  }
}
