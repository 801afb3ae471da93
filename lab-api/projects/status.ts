/**
 * Publication status of projects and lab tasks (draft → published → archived): the changes
 * allowed, who may make them, and the refusal to change an archived one.
 */
import type { PublicationStatus } from '../../contract/index.ts';
import type { Person } from '../auth.ts';
import { ApiError, say } from '../errors.ts';

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

/** What has a status, and the statuses, as Chinese readers call them. */
const WHAT_ZH: Record<'project' | 'task', string> = { project: '项目', task: '实训任务' };
const STATUS_ZH: Record<Status, string> = { draft: '草稿', published: '已发布', archived: '已归档' };

/** The audit action of a status change (publish, archive, republish); refused unless allowed to the actor. */
export function transition(actor: Person, what: 'project' | 'task', from: Status, to: Status): string {
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

/** Refuses changes to an archived project or task. */
export function notArchived(what: 'project' | 'task', status: Status): void {
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
