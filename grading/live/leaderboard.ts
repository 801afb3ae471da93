/**
 * Competition mode (技能竞赛): a lab session's teams ranked on their attempts' live states, served
 * on demand (`GET /api/v1/sessions/:id/leaderboard`) and published retained on
 * `iotlab/v1/sessions/<sessionId>/leaderboard` at most once per `minIntervalMs` whenever a state
 * of the session changes (and only when the board differs). A finished session's board stays for
 * `retentionMs`, then its retained message is cleared.
 */
import { createHash } from 'node:crypto';
import { sessionLeaderboardTopic } from '../../protocol/index.ts';
import type { Criterion } from '../rubric.ts';
import type { LiveLog } from './publisher.ts';
import type { LiveGradingSource, SessionBoardInputs } from './source.ts';
import type { LiveAttempt, PublishedState } from './state.ts';
import type { TaskInfo } from './tasks.ts';

export interface LeaderboardTeam {
  /** 1 for the first; teams with the same score and time to pass share a rank. */
  rank: number;
  teamId: string;
  teamName: string;
  /** The team's best attempt in the session, or null when none started. */
  attemptId: string | null;
  attempts: number;
  score: number;
  maxScore: number;
  passed: boolean;
  timeToPassSeconds: number | null;
  criteria: { id: string; passed: boolean }[];
}

export interface Leaderboard {
  sessionId: string;
  classId: string;
  assignmentId: string;
  taskTitle: string;
  /** The session still runs. */
  running: boolean;
  startedAt: number;
  endedAt: number | null;
  generatedAt: number;
  maxScore: number;
  criteria: { id: string; title: Criterion['title']; weight: number }[];
  /** By score (high first), then time to pass (short first; not passed after those that did). */
  teams: LeaderboardTeam[];
}

/** Names as people count: 第2组 before 第10组. */
const byName = new Intl.Collator('zh-CN', { numeric: true });

/**
 * Orders a leaderboard: teams that started an attempt first — by score (high first), time to
 * pass (short first, null last), then name — and after them, sharing the next rank, the teams
 * that never started (a 0 they did not try for is no tie with a 0 they earned).
 */
export function rankTeams<
  T extends { score: number; timeToPassSeconds: number | null; teamName: string; attempts?: number },
>(teams: readonly T[]): (T & { rank: number })[] {
  const started = (team: T) => (team.attempts ?? 1) > 0;
  const sorted = [...teams].sort(
    (a, b) =>
      Number(started(b)) - Number(started(a)) || better(a, b) || byName.compare(a.teamName, b.teamName),
  );
  let rank = 0;
  let previous: T | undefined;
  return sorted.map((team, index) => {
    const tied =
      previous && started(previous) === started(team) && (!started(team) || better(previous, team) === 0);
    if (!tied) rank = index + 1;
    previous = team;
    return { ...team, rank };
  });
}

/** Negative when `a` ranks before `b` on score, then time to pass. */
function better(
  a: { score: number; timeToPassSeconds: number | null },
  b: { score: number; timeToPassSeconds: number | null },
): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.timeToPassSeconds === b.timeToPassSeconds) return 0;
  if (a.timeToPassSeconds === null) return 1;
  if (b.timeToPassSeconds === null) return -1;
  return a.timeToPassSeconds - b.timeToPassSeconds;
}

/**
 * A published leaderboard reuses its session's teams and attempts read this recently: a new
 * attempt, or a renamed team, shows on the board within this time.
 */
const BOARD_INPUTS_MAX_AGE_MS = 5_000;

interface BoardInputs extends SessionBoardInputs {
  readAt: number;
  task: TaskInfo;
}

interface Board {
  /** Digest of the last board published (not its JSON: kept a second, it would be promoted). */
  lastDigest: string | undefined;
  lastFlush: number;
  timer: NodeJS.Timeout | undefined;
  flushing: boolean;
  again: boolean;
  expiresAt: number | undefined;
}

export interface LeaderboardsOptions {
  source: LiveGradingSource;
  /** The task an assignment sets. */
  assignmentTask: (assignmentId: string) => Promise<TaskInfo | undefined>;
  /** An attempt's state known now (followed, or ended recently), without waiting. */
  knownState: (attemptId: string) => PublishedState | undefined;
  /** An attempt's state for a board, graded from the store when it ended unseen; undefined: none yet. */
  summaryState: (attempt: LiveAttempt, task: TaskInfo) => Promise<PublishedState | undefined>;
  /** Publishes retained (`null` clears). */
  publish: (topic: string, body: Buffer | null) => void;
  now: () => number;
  minIntervalMs: number;
  retentionMs: number;
  log: LiveLog;
  /** Keeps a promise until it settles (closing waits for them). */
  keep: (promise: Promise<unknown>) => void;
}

/** The sessions' leaderboards: built on demand, and published while their states change. */
export class Leaderboards {
  readonly #o: LeaderboardsOptions;
  readonly #boards = new Map<string, Board>();
  /** Sessions, teams and attempts of the published boards, reused for BOARD_INPUTS_MAX_AGE_MS. */
  readonly #inputs = new Map<string, BoardInputs>();
  #closed = false;

  constructor(options: LeaderboardsOptions) {
    this.#o = options;
  }

  /**
   * A lab session's leaderboard on its assignment's rubric; undefined when there is no session or
   * no single assignment. The session, its teams and attempts are read through the source, or
   * with `maxAgeMs` reused when read that recently (the published boards, refreshed every second,
   * reuse them a while).
   */
  async leaderboard(sessionId: string, maxAgeMs = 0): Promise<Leaderboard | undefined> {
    const cached = this.#inputs.get(sessionId);
    let inputs = cached && this.#o.now() - cached.readAt <= maxAgeMs ? cached : undefined;
    if (!inputs) {
      inputs = await this.#readInputs(sessionId);
      if (inputs && maxAgeMs > 0) this.#inputs.set(sessionId, inputs);
    }
    return inputs && this.#board(sessionId, inputs);
  }

  async #readInputs(sessionId: string): Promise<BoardInputs | undefined> {
    const readAt = this.#o.now();
    const inputs = await this.#o.source.sessionBoardInputs(sessionId);
    if (!inputs) return undefined;
    const task = await this.#o.assignmentTask(inputs.assignmentId);
    return task && { ...inputs, readAt, task };
  }

  async #board(sessionId: string, inputs: BoardInputs): Promise<Leaderboard> {
    const { task, teams } = inputs;
    type Summary = {
      attemptId: string;
      startedAt: number;
      score: number;
      passed: boolean;
      timeToPassSeconds: number | null;
      passedIds: Set<string>;
    };
    const best = new Map<string, { summary: Summary; attempts: number }>();
    for (const attempt of inputs.attempts) {
      // Followed or recently ended (no await: a board is built every second); else from the store.
      const state = this.#o.knownState(attempt.id) ?? (await this.#o.summaryState(attempt, task));
      const summary: Summary = {
        attemptId: attempt.id,
        startedAt: attempt.startedAt,
        score: state?.score ?? 0,
        passed: state?.passed ?? false,
        timeToPassSeconds: state?.timeToPassSeconds ?? null,
        passedIds: new Set(state?.passedIds),
      };
      const teamId = attempt.teamId as string;
      const entry = best.get(teamId);
      if (!entry) best.set(teamId, { summary, attempts: 1 });
      else {
        entry.attempts++;
        if (better(summary, entry.summary) < 0) entry.summary = summary;
      }
    }
    const maxScore = Math.round(task.rubric.criteria.reduce((sum, c) => sum + c.weight, 0) * 100) / 100;
    const ranked = rankTeams(
      teams.map((team) => {
        const entry = best.get(team.id);
        return {
          teamId: team.id,
          teamName: team.name,
          attemptId: entry?.summary.attemptId ?? null,
          attempts: entry?.attempts ?? 0,
          score: entry?.summary.score ?? 0,
          maxScore,
          passed: entry?.summary.passed ?? false,
          timeToPassSeconds: entry?.summary.timeToPassSeconds ?? null,
          criteria: task.rubric.criteria.map((c) => ({
            id: c.id,
            passed: entry?.summary.passedIds.has(c.id) ?? false,
          })),
        };
      }),
    );
    return {
      sessionId,
      classId: inputs.classId,
      assignmentId: inputs.assignmentId,
      taskTitle: task.title,
      running: inputs.endedAt === null,
      startedAt: inputs.startedAt,
      endedAt: inputs.endedAt,
      generatedAt: this.#o.now(),
      maxScore,
      criteria: task.rubric.criteria.map((c) => ({ id: c.id, title: c.title, weight: c.weight })),
      teams: ranked.map(({ rank, ...team }) => ({ rank, ...team })),
    };
  }

  /** A state of the session changed: its board is published again (at most once per minIntervalMs). */
  mark(sessionId: string): void {
    if (this.#closed) return;
    let board = this.#boards.get(sessionId);
    if (!board) {
      board = {
        lastDigest: undefined,
        lastFlush: 0,
        timer: undefined,
        flushing: false,
        again: false,
        expiresAt: undefined,
      };
      this.#boards.set(sessionId, board);
    }
    if (board.flushing) {
      board.again = true;
      return;
    }
    if (board.timer) return;
    const delay = Math.max(0, board.lastFlush + this.#o.minIntervalMs - this.#o.now());
    const target = board;
    board.timer = setTimeout(() => {
      target.timer = undefined;
      this.#o.keep(this.#flush(sessionId, target));
    }, delay);
    board.timer.unref();
  }

  /** Publishes the session's leaderboard (retained) when it differs from the last one. */
  async #flush(sessionId: string, board: Board): Promise<void> {
    board.flushing = true;
    board.lastFlush = this.#o.now();
    try {
      const leaderboard = await this.leaderboard(sessionId, BOARD_INPUTS_MAX_AGE_MS);
      if (!leaderboard || this.#closed) return;
      const { generatedAt, ...content } = leaderboard;
      const json = JSON.stringify(content);
      const digest = createHash('sha1').update(json).digest('base64');
      if (digest !== board.lastDigest) {
        board.lastDigest = digest;
        const stamped = `${json.slice(0, -1)},"generatedAt":${generatedAt}}`;
        this.#o.publish(sessionLeaderboardTopic(sessionId), Buffer.from(stamped));
      }
      if (!leaderboard.running) board.expiresAt ??= this.#o.now() + this.#o.retentionMs;
    } catch (error) {
      this.#o.log.warn({ sessionId, err: (error as Error).message }, 'live grading: leaderboard failed');
    } finally {
      board.flushing = false;
      if (board.again) {
        board.again = false;
        this.mark(sessionId);
      }
    }
  }

  /**
   * Boards of sessions that ended are published once more (their final ranking, then kept for the
   * retention time); expired ones are cleared from the broker and forgotten.
   */
  async sweep(now: number): Promise<void> {
    const open = [...this.#boards].filter(([, board]) => board.expiresAt === undefined).map(([id]) => id);
    if (open.length > 0) {
      for (const id of await this.#o.source.endedSessions(open)) this.mark(id);
    }
    for (const [id, board] of this.#boards) {
      if (board.expiresAt === undefined || board.expiresAt > now || board.timer || board.flushing) continue;
      this.#o.publish(sessionLeaderboardTopic(id), null);
      this.#boards.delete(id);
      this.#inputs.delete(id);
    }
  }

  /** Stops: no more boards published. */
  close(): void {
    this.#closed = true;
    for (const board of this.#boards.values()) if (board.timer) clearTimeout(board.timer);
  }
}
