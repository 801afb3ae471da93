/** The mentor pool, enterprise projects and lab tasks: what the rest of the platform uses. */
export { MentorPool } from './mentors.ts';
export { type ProjectChanges, type ProjectInput, Projects } from './projects.ts';
export type { Status } from './status.ts';
export { type LabTask, type LabTaskSummary, LabTasks, type TaskChanges, type TaskInput } from './tasks.ts';
