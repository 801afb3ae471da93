/**
 * What live grading needs to know about the lab, and asks through this port: which attempts run,
 * the attempts themselves, the tasks (rubric, required sensors) they are graded on, and a lab
 * session's teams and attempts for its leaderboard. The lab implements it on its database
 * (lab-api/live-source.ts) and the composition root (cli/platform.ts) hands it to the
 * {@link LiveGrader}; grading itself knows no tables. Tests may hand it a fake.
 *
 * Every method is asked often (the running attempts every second, a session's board inputs every
 * few seconds while a lab runs): answers are expected from an index, not a scan.
 */
import type { Rubric } from '../rubric.ts';
import type { LiveAttempt } from './state.ts';

/** A running attempt and the version of its task now (a new version: graded again with it). */
export interface RunningAttempt {
  id: string;
  taskId: string;
  taskVersion: number;
  kitId: string;
  sessionId: string | null;
}

/** A lab task as live grading grades on it. */
export interface LiveTask {
  /** Its current version (a changed rubric is a new version). */
  version: number;
  title: string;
  /** As stored: checked when saved; an unreadable one is read as no criteria. */
  rubric: Rubric;
  /** The sensors the task requires (authenticity checks them when its criterion names none). */
  requiredSensors: readonly string[];
}

/** What a lab session's leaderboard is made of, apart from the attempts' states. */
export interface SessionBoardInputs {
  sessionId: string;
  classId: string;
  /** The assignment the session runs (its own, or the single one its attempts belong to). */
  assignmentId: string;
  startedAt: number;
  endedAt: number | null;
  /** The teams that take part: assigned, with an assigned member, or with an attempt in the session. */
  teams: { id: string; name: string }[];
  /** The session's team attempts on the assignment, oldest first. */
  attempts: LiveAttempt[];
}

/** The port through which live grading learns about attempts, tasks and teams. */
export interface LiveGradingSource {
  /** Every attempt that has not ended, with its task and the task's current version. */
  runningAttempts(): Promise<readonly RunningAttempt[]>;
  /** The attempts with these ids (those that exist, in any order). */
  attempts(ids: readonly string[]): Promise<readonly LiveAttempt[]>;
  /** A task at its current version; undefined when there is none. */
  task(taskId: string): Promise<LiveTask | undefined>;
  /** The task an assignment sets, and the task's current version. */
  assignmentTask(assignmentId: string): Promise<{ taskId: string; version: number } | undefined>;
  /**
   * A session's leaderboard inputs; undefined when there is no such session, or it has no single
   * assignment (none named, and its attempts on none or on several).
   */
  sessionBoardInputs(sessionId: string): Promise<SessionBoardInputs | undefined>;
  /** Which of these sessions have ended. */
  endedSessions(sessionIds: readonly string[]): Promise<readonly string[]>;
}
