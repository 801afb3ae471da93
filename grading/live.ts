/**
 * Live grading: while an attempt runs, its rubric is evaluated again as the kit's telemetry
 * arrives, and what a student sees change — a criterion turning green or red, a score moving —
 * is pushed within about a second of the reading that changed it, retained on the MQTT topic
 * `iotlab/v1/attempts/<attemptId>/grading` (for dashboards) and to the HTTP event
 * streams of `GET /api/v1/attempts/:id/live` (lab-api/routes/live.ts). Competition mode (技能竞赛)
 * ranks a lab session's teams on the same states: `GET /api/v1/sessions/:id/leaderboard`, and
 * retained on `iotlab/v1/sessions/<sessionId>/leaderboard` whenever it changes.
 *
 * How it works:
 * - **Discovery by polling.** Every `pollIntervalMs` (1 s) the lab database is asked for the
 *   running attempts (`ended_at IS NULL`). Nothing else has to tell live grading about an attempt
 *   (no hook in the attempt routes, works after a restart, with several API processes, and with
 *   attempts ended by `endSession`); an attempt is picked up at most one poll after it starts, and
 *   finished at most one poll after it ends.
 * - **Buffer.** A new attempt's buffer starts with what the store already holds for its window
 *   (`loadGradingData`, so a restart loses nothing) plus what the writer may not have flushed yet:
 *   the kit's records of the last 5 s, held while no attempt is followed on the kit, or else the
 *   buffers of the attempts followed on it (a teammate's); then every record the ingest accepts for
 *   the kit (`Ingest.addListener`) is appended: the rubric's series, and the `@event.*` /
 *   `@command.*` series as events and commands. Memory is bounded: the last `keepMs` (2 h) of the
 *   attempt and at most `maxPointsPerSensor` readings per series; a longer attempt is graded live
 *   on its last 2 h (the final grade, in grades, covers the whole window).
 * - **Evaluation.** When new data arrived, the rubric is evaluated again, at most once per
 *   `minIntervalMs` (1 s) per attempt: one timer looks for due attempts every 50 ms and queues
 *   them, and the queue yields to I/O every few milliseconds. It
 *   is the engine's own per-criterion evaluation (incremental.ts: scans fed only the new readings,
 *   exactly what `gradeAttempt` gives), minus the authenticity flags of sensors no criterion asks
 *   about; copy and replay detection against other kits and earlier attempts is left to the final
 *   grade. Authenticity flags are recomputed about every minute (`authenticityEveryMs`) on the
 *   last 10 minutes (`authenticityWindowMs`; the final grade checks the whole attempt) and at the
 *   end, and reused in between — except those computed before a sensor had enough data to be
 *   called measured, computed again once it has. An evaluation that takes long
 *   (more than a tenth of the interval) spaces that attempt's evaluations out, so one heavy rubric
 *   cannot take the process.
 * - **Pending.** While the attempt runs, each criterion is judged only on enough data (what is
 *   enough, per type, is in criteria.ts); until then it is pending — score 0, neither passed nor
 *   failed, `waitingFor` saying what it waits for ("等待数据：需要 30 分钟的数据，已有 2 分钟").
 *   The last evaluation, when the attempt ends, judges everything: no ended state is pending.
 * - **Publishing what changed.** Each evaluation first computes verdicts only (score, pass and
 *   pending of every criterion, no sentences). A state is published when a student would see a
 *   difference: a pass or a pending state that flipped, or a score, of a criterion or in all,
 *   that moved as dashboards show it (0.1 point). Every criterion whose pass, pending state or
 *   shown score changed (and, when smaller moves add up to a shown move of the total, every one
 *   whose score moved) is then rendered again — score, sentence and numbers from that same
 *   evaluation, so a score never moves without the sentence that goes with it; a smaller move
 *   keeps the last rendering. Every `detailsEveryMs` (15 s) while data arrives, every criterion
 *   is rendered again. A state is the JSON of {@link LiveState}, assembled from pieces
 *   serialized once (live-state.ts); the same bytes go to MQTT and to every event stream. In the
 *   first minutes of a lab, when scores move every second, that is about a state a second per
 *   attempt (fewer while its criteria are pending); an hour in, a few a minute.
 * - **Time to pass** is the first moment every criterion passed: the arrival time (platform clock,
 *   so a kit's clock cannot shorten it) of the newest record in the first evaluation that passed
 *   everything, from the attempt's start. It stays once reached. For data read back from the
 *   store (after a restart, or for an attempt that ended before this process saw it) it is found
 *   by grading growing prefixes of the window (at most 120 steps).
 * - **End.** When an attempt ends, a last evaluation over [start, end) is pushed with
 *   `ended: true`, event streams get `event: end` and close; the final state is kept for
 *   `endedRetentionMs` (1 h) — after which its retained message is cleared — so the leaderboard
 *   and late viewers still see it.
 */
import { createHash } from 'node:crypto';
import type { Aedes, PublishPacket } from 'aedes';
import { type AttemptRow, toAttempt } from '../lab-api/classes.ts';
import type { Criterion, Rubric } from '../lab-api/rubric.ts';
import type { LabDb } from '../labdb/index.ts';
import { attemptGradingTopic, sessionLeaderboardTopic, type TelemetryRecord } from '../protocol/index.ts';
import { COMMAND_PREFIX, EVENT_PREFIX, type TelemetryStore } from '../telemetry/store.ts';
import { SeriesBuffer } from './buffer.ts';
import { gradeLive, IncrementalGrading } from './incremental.ts';
import { type LiveAttempt, type LiveState, LiveStateView, type PublishedState } from './live-state.ts';
import { loadGradingData, rubricSensors } from './load.ts';
import type {
  CriterionResult,
  GradeOptions,
  GradingCommand,
  GradingData,
  GradingEvent,
  SeriesPoint,
} from './types.ts';

export const LIVE_DEFAULTS = {
  /** How often the lab database is asked for running attempts. */
  pollIntervalMs: 1_000,
  /** At most one evaluation per attempt in this time. */
  minIntervalMs: 1_000,
  /**
   * A criterion's score, sentence and numbers are rendered again together whenever its pass,
   * pending state or shown score changes, and every criterion's this often (a state is published
   * then, and whenever a pass, a pending state or a shown score changes).
   */
  detailsEveryMs: 15_000,
  /** The span of an attempt kept in memory and graded live. */
  keepMs: 2 * 3_600_000,
  /**
   * Authenticity flags are recomputed this often on average (and at the end); in between,
   * evaluations reuse them: they are for the instructor more than the student, and fabricated
   * data takes minutes to show.
   */
  authenticityEveryMs: 60_000,
  /**
   * Live authenticity looks at the attempt's last 10 minutes (the final grade at all of it): a
   * check reads every reading it covers, and runs every minute for every attempt.
   */
  authenticityWindowMs: 10 * 60_000,
  /** Readings kept per series (2 h at 5 Hz). */
  maxPointsPerSensor: 36_000,
  /** Events, and commands, kept per attempt. */
  maxEventsPerAttempt: 10_000,
  /**
   * The latest records of each kit no attempt is followed on are held this long, for attempts
   * discovered after they arrived (a poll later, before the writer has stored them). A followed
   * kit's records are in its attempts' buffers, which a new attempt on the kit starts from.
   */
  recentMs: 5_000,
  recentMaxRecords: 600,
  /** An ended attempt's final state (and a finished session's leaderboard) stays this long. */
  endedRetentionMs: 3_600_000,
  maxEndedKept: 10_000,
  /** Comment lines on the event stream, so proxies keep it open. */
  heartbeatMs: 15_000,
} as const;

/** Live states show no evidence spans (the scans do not keep them); authenticity on the last minutes. */
const LIVE_GRADING = { spans: false, flagsWindowMs: LIVE_DEFAULTS.authenticityWindowMs } as const;
/** Steps of the prefix scan that finds when data read back from the store first passed. */
const SCAN_STEPS = 120;
/**
 * A published leaderboard reuses its session's teams and attempts read this recently: a new
 * attempt, or a renamed team, shows on the board within this time.
 */
const BOARD_INPUTS_MAX_AGE_MS = 5_000;
/** How often due evaluations are looked for (the delay it adds is at most this). */
const TICK_MS = 50;
/** Evaluations run this long (ms) before the queue yields to I/O. */
const DRAIN_SLICE_MS = 5;
/** `stats.delayHistogram`: buckets of this many ms; the last one counts every longer delay. */
export const DELAY_BUCKET_MS = 100;
const DELAY_BUCKETS = 100;

export interface LiveGraderOptions {
  db: LabDb;
  store: TelemetryStore;
  /** The broker's aedes, for the retained topics; without it only event streams are served. */
  aedes?: Pick<Aedes, 'publish'>;
  log?: { warn(object: object, message: string): void };
  now?: () => number;
  pollIntervalMs?: number;
  minIntervalMs?: number;
  detailsEveryMs?: number;
  keepMs?: number;
  maxPointsPerSensor?: number;
  recentMs?: number;
  endedRetentionMs?: number;
  heartbeatMs?: number;
}

export type LiveUpdate =
  | { type: 'grading'; published: PublishedState }
  /** The attempt ended: its final state; nothing follows. */
  | { type: 'end'; published: PublishedState }
  /** Live grading stops (the platform shuts down). */
  | { type: 'closed' };

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

// ---------------------------------------------------------------- internals

interface TaskInfo {
  key: string;
  title: string;
  rubric: Rubric;
  /** Series to buffer: the rubric's sensors and actuators, and the task's required sensors. */
  sensors: Set<string>;
  options: GradeOptions;
}

interface Tracked {
  info: LiveAttempt;
  task: TaskInfo;
  series: Map<string, SeriesBuffer>;
  events: GradingEvent[];
  commands: GradingCommand[];
  eventsUnsorted: boolean;
  loading: boolean;
  load?: Promise<void>;
  newestTs: number | null;
  /** Platform time the newest buffered record arrived. */
  lastArrival: number | null;
  passedAt: number | null;
  seq: number;
  lastEvalAt: number;
  lastCostMs: number;
  /**
   * The rubric on the buffers: scans and authenticity flags kept between evaluations (the flags
   * until `flagsAt + authenticityEveryMs`).
   */
  grading: IncrementalGrading;
  /** Criterion `index` with its sentence and numbers, on the window of the last evaluation. */
  explain: (index: number) => CriterionResult;
  flagsAt: number;
  /** Data arrived (or the details are due) since the last evaluation. */
  dirty: boolean;
  queued: boolean;
  /** What was rendered of the state, and the last state published. */
  view: LiveStateView;
  published: PublishedState | undefined;
  /** When every criterion's details were last re-rendered. */
  detailsAt: number;
  /** Data was evaluated but not published (no verdict changed): the details are due later. */
  detailsPending: boolean;
  /** Arrival of the oldest record not evaluated yet, or null. */
  pendingSince: number | null;
}

interface RunningRow extends AttemptRow {
  task_id: string;
  task_version: number;
}

interface BoardInputs {
  readAt: number;
  session: {
    id: string;
    class_id: string;
    assignment_id: string | null;
    started_at: number;
    ended_at: number | null;
  };
  assignmentId: string;
  task: TaskInfo;
  teams: { id: string; name: string }[];
  attempts: LiveAttempt[];
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

type Listener = (update: LiveUpdate) => void;

/** Each poll: the running attempts and their task's version (the rest only for new ones). */
const RUNNING_SQL = `SELECT at.id, a.task_id, lt.version AS task_version
  FROM attempts at JOIN assignments a ON a.id = at.assignment_id JOIN lab_tasks lt ON lt.id = a.task_id
  WHERE at.ended_at IS NULL`;
const ATTEMPT_SQL = `SELECT id, assignment_id, session_id, student_id, team_id, kit_id, started_at, ended_at
  FROM attempts WHERE id IN`;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Sorts events or commands by time, one per (instant, name). */
function normalizeItems<T extends { ts: number }>(items: T[], name: (item: T) => string): void {
  items.sort((a, b) => a.ts - b.ts);
  const seen = new Set<string>();
  let kept = 0;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i] as T;
    const key = `${item.ts}\u0000${name(item)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    items[items.length - 1 - kept++] = item;
  }
  items.splice(0, items.length - kept);
}

/** Drops the items before `ts`, and the oldest beyond maxEventsPerAttempt. */
function dropBefore(items: { ts: number }[], ts: number): void {
  if (items.length === 0) return;
  const drop = Math.max(firstAtOrAfter(items, ts), items.length - LIVE_DEFAULTS.maxEventsPerAttempt);
  if (drop > 0) items.splice(0, drop);
}

/** Index of the first item at or after `ts`. */
function firstAtOrAfter(items: readonly { ts: number }[], ts: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((items[mid] as { ts: number }).ts < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function parseRubric(text: string): Rubric {
  try {
    const rubric = JSON.parse(text) as Rubric;
    return Array.isArray(rubric?.criteria) ? rubric : { criteria: [] };
  } catch {
    return { criteria: [] };
  }
}

function parseList(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Live grading of running attempts and the competition leaderboards; see the module comment.
 * `start()` begins polling; feed it records with `record()` (an `Ingest` listener).
 */
export class LiveGrader {
  readonly #db: LabDb;
  readonly #store: TelemetryStore;
  readonly #aedes: Pick<Aedes, 'publish'> | undefined;
  readonly #log: { warn(object: object, message: string): void };
  readonly #now: () => number;
  readonly #pollIntervalMs: number;
  readonly #minIntervalMs: number;
  readonly #detailsEveryMs: number;
  readonly #keepMs: number;
  readonly #maxPoints: number;
  readonly #recentMs: number;
  readonly #retentionMs: number;
  readonly heartbeatMs: number;
  /**
   * Evaluations so far, the time they took (the rubric and rendering the states published, not
   * sending them), the states published, and how long records waited to be evaluated: counts per
   * {@link DELAY_BUCKET_MS} from arrival to the evaluation that graded them (and published
   * whatever they changed).
   */
  readonly stats = {
    evaluations: 0,
    evaluationMs: 0,
    statesPublished: 0,
    criteriaRendered: 0,
    delayHistogram: new Uint32Array(DELAY_BUCKETS),
  };

  readonly #tracked = new Map<string, Tracked>();
  readonly #byKit = new Map<string, Set<string>>();
  readonly #recent = new Map<string, { record: TelemetryRecord; arrivedAt: number }[]>();
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #ended = new Map<string, { published: PublishedState; expiresAt: number; retained: boolean }>();
  readonly #tasks = new Map<string, TaskInfo>();
  readonly #boards = new Map<string, Board>();
  /** Sessions, teams and attempts of the published boards, reused for BOARD_INPUTS_MAX_AGE_MS. */
  readonly #boardInputs = new Map<string, BoardInputs>();
  readonly #queue: Tracked[] = [];
  readonly #pending = new Set<Promise<unknown>>();
  #draining = false;
  #polling: Promise<void> | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #tickTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: LiveGraderOptions) {
    this.#db = options.db;
    this.#store = options.store;
    this.#aedes = options.aedes;
    this.#log = options.log ?? { warn() {} };
    this.#now = options.now ?? Date.now;
    this.#pollIntervalMs = options.pollIntervalMs ?? LIVE_DEFAULTS.pollIntervalMs;
    this.#minIntervalMs = options.minIntervalMs ?? LIVE_DEFAULTS.minIntervalMs;
    this.#detailsEveryMs = options.detailsEveryMs ?? LIVE_DEFAULTS.detailsEveryMs;
    this.#keepMs = options.keepMs ?? LIVE_DEFAULTS.keepMs;
    this.#maxPoints = options.maxPointsPerSensor ?? LIVE_DEFAULTS.maxPointsPerSensor;
    this.#recentMs = options.recentMs ?? LIVE_DEFAULTS.recentMs;
    this.#retentionMs = options.endedRetentionMs ?? LIVE_DEFAULTS.endedRetentionMs;
    this.heartbeatMs = options.heartbeatMs ?? LIVE_DEFAULTS.heartbeatMs;
  }

  /** Starts polling the lab database for running attempts (the first poll at once). */
  start(): void {
    if (this.#closed || this.#pollTimer) return;
    void this.pollNow();
    this.#pollTimer = setInterval(() => void this.pollNow(), this.#pollIntervalMs);
    this.#pollTimer.unref();
    this.#tickTimer = setInterval(() => this.#tick(), TICK_MS);
    this.#tickTimer.unref();
  }

  /** Stops: no more polls or evaluations; subscribers get `closed`. Retained messages stay. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    if (this.#tickTimer) clearInterval(this.#tickTimer);
    for (const board of this.#boards.values()) if (board.timer) clearTimeout(board.timer);
    for (const listeners of this.#listeners.values()) {
      for (const listener of listeners) this.#call(listener, { type: 'closed' });
    }
    this.#listeners.clear();
    await this.#polling;
    await Promise.allSettled([...this.#pending]);
    this.#tracked.clear();
    this.#byKit.clear();
    this.#recent.clear();
  }

  /** Ingest listener: a record the platform accepted. Cheap: appends, and marks the attempt due. */
  record(record: TelemetryRecord): void {
    if (this.#closed) return;
    const arrivedAt = this.#now();
    const ids = this.#byKit.get(record.kitId);
    if (!ids) {
      // Held only while no attempt follows the kit: records kept for seconds outlive the young
      // generation, and a thousand kits' worth a second would all be promoted.
      let recent = this.#recent.get(record.kitId);
      if (!recent) {
        recent = [];
        this.#recent.set(record.kitId, recent);
      }
      recent.push({ record, arrivedAt });
      while (
        recent.length > LIVE_DEFAULTS.recentMaxRecords ||
        (recent.length > 0 && (recent[0] as { arrivedAt: number }).arrivedAt < arrivedAt - this.#recentMs)
      ) {
        recent.shift();
      }
      return;
    }
    for (const id of ids) {
      const t = this.#tracked.get(id);
      if (t && this.#append(t, record, arrivedAt)) t.dirty = true;
    }
  }

  /** Whether the attempt is being graded live now. */
  isTracking(attemptId: string): boolean {
    return this.#tracked.has(attemptId);
  }

  /** The attempt's latest state: live, or final when it ended recently. */
  current(attemptId: string): LiveState | undefined {
    return this.#knownState(attemptId)?.state;
  }

  /**
   * Follows an attempt: the listener gets its current state at once (when there is one), then
   * every new one, then `end` (or `closed`). Returns the function that stops following.
   */
  subscribe(attemptId: string, listener: Listener): () => void {
    if (this.#closed) {
      this.#call(listener, { type: 'closed' });
      return () => {};
    }
    const ended = this.#ended.get(attemptId);
    if (ended && !this.#tracked.has(attemptId)) {
      this.#call(listener, { type: 'end', published: ended.published });
      return () => {};
    }
    let listeners = this.#listeners.get(attemptId);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(attemptId, listeners);
    }
    listeners.add(listener);
    const published = this.#tracked.get(attemptId)?.published;
    if (published) this.#call(listener, { type: 'grading', published });
    return () => {
      const set = this.#listeners.get(attemptId);
      set?.delete(listener);
      if (set?.size === 0) this.#listeners.delete(attemptId);
    };
  }

  /**
   * The final state of an ended attempt: kept from live grading, or graded now from the store
   * (and kept) when this process did not follow it.
   */
  async finalState(attempt: LiveAttempt): Promise<PublishedState> {
    const kept = this.#ended.get(attempt.id)?.published;
    if (kept) return kept;
    const task = await this.#assignmentTask(attempt.assignmentId);
    return this.#finalFromStore(attempt, task ?? this.#emptyTask());
  }

  /** Polls once: starts following new running attempts, finishes ended ones. */
  pollNow(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#polling ??= this.#poll().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  /**
   * A lab session's leaderboard on its assignment's rubric (the assignment of its attempts when
   * the session names none); undefined when there is no session or no single assignment. The
   * session, its teams and attempts are read from the lab database, or with `maxAgeMs` reused
   * when read that recently (the published boards, refreshed every second, reuse them a while).
   */
  async leaderboard(sessionId: string, maxAgeMs = 0): Promise<Leaderboard | undefined> {
    const cached = this.#boardInputs.get(sessionId);
    let inputs = cached && this.#now() - cached.readAt <= maxAgeMs ? cached : undefined;
    if (!inputs) {
      inputs = await this.#readBoardInputs(sessionId);
      if (inputs && maxAgeMs > 0) this.#boardInputs.set(sessionId, inputs);
    }
    return inputs && this.#board(sessionId, inputs);
  }

  /** What a leaderboard is made of apart from the attempts' states. */
  async #readBoardInputs(sessionId: string): Promise<BoardInputs | undefined> {
    const readAt = this.#now();
    const session = await this.#db.get<BoardInputs['session']>(
      'SELECT id, class_id, assignment_id, started_at, ended_at FROM lab_sessions WHERE id = ?',
      [sessionId],
    );
    if (!session) return undefined;
    let assignmentId = session.assignment_id;
    if (!assignmentId) {
      const used = await this.#db.all<{ assignment_id: string }>(
        'SELECT DISTINCT assignment_id FROM attempts WHERE session_id = ?',
        [sessionId],
      );
      if (used.length === 1) assignmentId = (used[0] as { assignment_id: string }).assignment_id;
    }
    if (!assignmentId) return undefined;
    const task = await this.#assignmentTask(assignmentId);
    if (!task) return undefined;
    const teams = await this.#db.all<{ id: string; name: string }>(
      `SELECT t.id, t.name FROM teams t WHERE t.class_id = ? AND (
         t.id IN (SELECT team_id FROM assignment_targets WHERE assignment_id = ? AND team_id IS NOT NULL)
         OR t.id IN (SELECT tm.team_id FROM team_members tm
                     JOIN assignment_targets x ON x.student_id = tm.user_id WHERE x.assignment_id = ?)
         OR t.id IN (SELECT team_id FROM attempts WHERE session_id = ? AND team_id IS NOT NULL))`,
      [session.class_id, assignmentId, assignmentId, sessionId],
    );
    const rows = await this.#db.all<Omit<RunningRow, 'task_id' | 'task_version'>>(
      `SELECT id, assignment_id, session_id, student_id, team_id, kit_id, started_at, ended_at
       FROM attempts WHERE session_id = ? AND assignment_id = ? AND team_id IS NOT NULL
       ORDER BY started_at, id`,
      [sessionId, assignmentId],
    );
    return { readAt, session, assignmentId, task, teams, attempts: rows.map(toAttempt) };
  }

  async #board(sessionId: string, inputs: BoardInputs): Promise<Leaderboard> {
    const { session, assignmentId, task, teams } = inputs;
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
      const state = this.#knownState(attempt.id) ?? (await this.#summaryState(attempt, task));
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
      classId: session.class_id,
      assignmentId,
      taskTitle: task.title,
      running: session.ended_at === null,
      startedAt: session.started_at,
      endedAt: session.ended_at,
      generatedAt: this.#now(),
      maxScore,
      criteria: task.rubric.criteria.map((c) => ({ id: c.id, title: c.title, weight: c.weight })),
      teams: ranked.map(({ rank, ...team }) => ({ rank, ...team })),
    };
  }

  // ------------------------------------------------------------ discovery

  async #poll(): Promise<void> {
    try {
      const rows = await this.#db.all<Pick<RunningRow, 'id' | 'task_id' | 'task_version'>>(RUNNING_SQL);
      if (this.#closed) return;
      const running = new Set<string>();
      const changed = rows.filter((row) => {
        running.add(row.id);
        return this.#tracked.get(row.id)?.task.key !== `${row.task_id}:${row.task_version}`;
      });
      const attempts = await this.#attemptsById(changed.map((row) => row.id));
      for (const row of changed) {
        const attempt = attempts.get(row.id);
        const task = attempt && (await this.#task(row.task_id, row.task_version));
        if (this.#closed) return;
        if (!attempt || !task || attempt.endedAt !== null) continue;
        const t = this.#tracked.get(row.id);
        if (t) this.#untrack(t); // the rubric changed: grade again with the new one
        this.#track(attempt, task, t?.seq ?? 0);
      }
      for (const t of [...this.#tracked.values()]) {
        if (!running.has(t.info.id)) await this.#finish(t);
      }
      await this.#sweep();
    } catch (error) {
      this.#log.warn({ err: (error as Error).message }, 'live grading: polling the lab database failed');
    }
  }

  async #attemptsById(ids: readonly string[]): Promise<Map<string, LiveAttempt>> {
    const attempts = new Map<string, LiveAttempt>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = await this.#db.all<AttemptRow>(
        `${ATTEMPT_SQL} (${chunk.map(() => '?').join(', ')})`,
        chunk,
      );
      for (const row of rows) attempts.set(row.id, toAttempt(row));
    }
    return attempts;
  }

  async #task(taskId: string, version: number): Promise<TaskInfo | undefined> {
    const key = `${taskId}:${version}`;
    const cached = this.#tasks.get(key);
    if (cached) return cached;
    const row = await this.#db.get<{
      title: string;
      rubric: string;
      required_sensors: string;
      version: number;
    }>('SELECT title, rubric, required_sensors, version FROM lab_tasks WHERE id = ?', [taskId]);
    if (!row) return undefined;
    const rubric = parseRubric(row.rubric);
    const required = parseList(row.required_sensors);
    const task: TaskInfo = {
      key: `${taskId}:${row.version}`,
      title: row.title,
      rubric,
      sensors: new Set(rubricSensors(rubric, required)),
      options: required.length > 0 ? { requiredSensors: required } : {},
    };
    if (this.#tasks.size >= 1_000) this.#tasks.clear();
    this.#tasks.set(task.key, task);
    return task;
  }

  async #assignmentTask(assignmentId: string): Promise<TaskInfo | undefined> {
    const row = await this.#db.get<{ task_id: string; version: number }>(
      'SELECT a.task_id, lt.version FROM assignments a JOIN lab_tasks lt ON lt.id = a.task_id WHERE a.id = ?',
      [assignmentId],
    );
    return row ? this.#task(row.task_id, row.version) : undefined;
  }

  #emptyTask(): TaskInfo {
    return { key: '', title: '', rubric: { criteria: [] }, sensors: new Set(), options: {} };
  }

  #track(info: LiveAttempt, task: TaskInfo, seq: number): void {
    const fields: Omit<Tracked, 'grading' | 'explain'> = {
      info,
      task,
      series: new Map([...task.sensors].map((name) => [name, new SeriesBuffer()])),
      events: [],
      commands: [],
      eventsUnsorted: false,
      loading: true,
      newestTs: null,
      lastArrival: null,
      passedAt: null,
      seq,
      lastEvalAt: 0,
      lastCostMs: 0,
      flagsAt: 0,
      dirty: true,
      queued: false,
      view: new LiveStateView(info, task.rubric.criteria),
      published: undefined,
      detailsAt: 0,
      detailsPending: false,
      pendingSince: null,
    };
    const t: Tracked = Object.assign(fields, {
      grading: new IncrementalGrading(task.rubric, task.options, { buffers: fields }, LIVE_GRADING),
      explain: (index: number) => t.grading.result(index, 'explained'),
    });
    this.#tracked.set(info.id, t);
    let ids = this.#byKit.get(info.kitId);
    if (!ids) {
      ids = new Set();
      this.#byKit.set(info.kitId, ids);
    }
    // Records that arrived before this poll (the writer may not have stored them yet): held for
    // the kit, or in the buffers of another attempt followed on it.
    for (const id of ids) {
      const sibling = this.#tracked.get(id);
      if (sibling) this.#copyBuffered(sibling, t);
    }
    ids.add(info.id);
    for (const { record, arrivedAt } of this.#recent.get(info.kitId) ?? [])
      this.#append(t, record, arrivedAt);
    this.#recent.delete(info.kitId);
    t.load = this.#fill(t);
    this.#keep(t.load);
  }

  /** What `from` buffered of the series `to` grades (from `to`'s start on), and its events and commands. */
  #copyBuffered(from: Tracked, to: Tracked): void {
    const start = to.info.startedAt;
    for (const [name, target] of to.series) {
      const source = from.series.get(name);
      if (!source) continue;
      for (let i = source.firstAtOrAfter(start); i < source.length; i++)
        target.push(source.tsAt(i), source.valueAt(i));
    }
    to.events.push(...from.events.filter((e) => e.ts >= start));
    to.commands.push(...from.commands.filter((c) => c.ts >= start));
    to.eventsUnsorted = true;
    if (from.newestTs !== null && from.newestTs >= start) {
      to.newestTs = Math.max(to.newestTs ?? -Infinity, from.newestTs);
      to.lastArrival = from.lastArrival;
      to.pendingSince ??= from.lastArrival;
    }
  }

  /** Fills a new buffer from the store, finds when that data first passed, then grades. */
  async #fill(t: Tracked): Promise<void> {
    try {
      const now = this.#now();
      const from = Math.max(t.info.startedAt, now - this.#keepMs);
      const window = { from, to: now + 1 };
      const stored = await loadGradingData(this.#store, t.info.kitId, window, [...t.task.sensors]);
      if (this.#closed || this.#tracked.get(t.info.id) !== t) return;
      let newest: number | null = null;
      for (const [name, points] of Object.entries(stored.series)) {
        if (points.length === 0) continue;
        // The store's readings, then those buffered since (at the same instant, the buffered one wins).
        t.series.set(name, SeriesBuffer.of([...points, ...(t.series.get(name)?.points() ?? [])]));
        newest = Math.max(newest ?? -Infinity, (points[points.length - 1] as SeriesPoint).ts);
      }
      // The buffers are new arrays: scans start over on them.
      t.grading = new IncrementalGrading(t.task.rubric, t.task.options, { buffers: t }, LIVE_GRADING);
      t.flagsAt = 0;
      t.events = [...stored.events, ...t.events];
      t.commands = [...stored.commands, ...t.commands];
      normalizeItems(t.events, (e) => e.event);
      normalizeItems(t.commands, (c) => c.command);
      for (const item of [...stored.events, ...stored.commands]) {
        newest = Math.max(newest ?? -Infinity, item.ts);
      }
      if (newest !== null) {
        t.newestTs = Math.max(t.newestTs ?? -Infinity, newest);
        t.lastArrival = Math.max(t.lastArrival ?? -Infinity, Math.min(newest, now));
        const snapshot: GradingData = {
          series: Object.fromEntries([...t.series].map(([name, buffer]) => [name, buffer.points()])),
          events: t.events.slice(),
          commands: t.commands.slice(),
        };
        const passedAt = await this.#firstPass(t.task, snapshot, from, now + 1);
        if (passedAt !== null && t.passedAt === null) t.passedAt = passedAt;
      }
    } catch (error) {
      this.#log.warn(
        { attemptId: t.info.id, err: (error as Error).message },
        'live grading: reading the attempt from the store failed; grading what arrives',
      );
    } finally {
      t.loading = false;
      t.dirty = true;
    }
  }

  /**
   * The first window end (of SCAN_STEPS) at which every criterion passed as live grading judges a
   * running attempt (pending is not passed), or null.
   */
  async #firstPass(task: TaskInfo, data: GradingData, from: number, to: number): Promise<number | null> {
    if (task.rubric.criteria.length === 0 || to <= from) return null;
    const span = to - from;
    const steps = Math.max(1, Math.min(SCAN_STEPS, Math.ceil(span / 1000)));
    for (let i = 1; i <= steps; i++) {
      const cut = i === steps ? to : Math.round(from + (span * i) / steps);
      const grade = gradeLive(task.rubric, { from, to: cut }, data, task.options, 'verdict', {
        running: true,
      });
      if (grade.criteria.every((c) => c.passed)) return cut;
      if (i % 4 === 0) await yieldToLoop();
      if (this.#closed) return null;
    }
    return null;
  }

  #untrack(t: Tracked): void {
    this.#tracked.delete(t.info.id);
    const ids = this.#byKit.get(t.info.kitId);
    ids?.delete(t.info.id);
    if (ids?.size === 0) this.#byKit.delete(t.info.kitId);
  }

  /** The attempt ended (or vanished): a last evaluation over its window, pushed as the end. */
  async #finish(t: Tracked): Promise<void> {
    const row = await this.#db.get<{ ended_at: number | null }>(
      'SELECT ended_at FROM attempts WHERE id = ?',
      [t.info.id],
    );
    if (row && row.ended_at === null) return;
    await t.load;
    if (this.#closed || this.#tracked.get(t.info.id) !== t) return;
    this.#untrack(t);
    const endedAt = row?.ended_at ?? this.#now();
    t.info = { ...t.info, endedAt };
    let published: PublishedState | undefined;
    try {
      published = this.#evaluate(t, endedAt);
    } catch (error) {
      this.#log.warn({ attemptId: t.info.id, err: (error as Error).message }, 'live grading failed');
      published = t.view.republishEnded();
    }
    if (!published) return;
    this.#remember(t.info.id, published, true);
    this.#publish(attemptGradingTopic(t.info.id), published.json);
    const listeners = this.#listeners.get(t.info.id);
    this.#listeners.delete(t.info.id);
    for (const listener of listeners ?? []) this.#call(listener, { type: 'end', published });
    if (t.info.sessionId) this.#markSession(t.info.sessionId);
  }

  #remember(attemptId: string, published: PublishedState, retained: boolean): void {
    this.#ended.delete(attemptId);
    this.#ended.set(attemptId, { published, expiresAt: this.#now() + this.#retentionMs, retained });
    while (this.#ended.size > LIVE_DEFAULTS.maxEndedKept) {
      const oldest = this.#ended.keys().next().value as string;
      const entry = this.#ended.get(oldest);
      if (entry?.retained) this.#publish(attemptGradingTopic(oldest), null);
      this.#ended.delete(oldest);
    }
  }

  /** Forgets what expired (clearing its retained message) and kits silent for a while. */
  async #sweep(): Promise<void> {
    const now = this.#now();
    for (const [id, entry] of this.#ended) {
      if (entry.expiresAt > now) continue;
      if (entry.retained) this.#publish(attemptGradingTopic(id), null);
      this.#ended.delete(id);
    }
    for (const [kitId, recent] of this.#recent) {
      const last = recent[recent.length - 1];
      if (!last || last.arrivedAt < now - this.#recentMs) this.#recent.delete(kitId);
    }
    const open = [...this.#boards].filter(([, board]) => board.expiresAt === undefined).map(([id]) => id);
    if (open.length > 0) {
      const marks = open.map(() => '?').join(', ');
      const ended = await this.#db.all<{ id: string }>(
        `SELECT id FROM lab_sessions WHERE id IN (${marks}) AND ended_at IS NOT NULL`,
        open,
      );
      for (const { id } of ended) this.#markSession(id);
    }
    for (const [id, board] of this.#boards) {
      if (board.expiresAt === undefined || board.expiresAt > now || board.timer || board.flushing) continue;
      this.#publish(sessionLeaderboardTopic(id), null);
      this.#boards.delete(id);
      this.#boardInputs.delete(id);
    }
  }

  // ------------------------------------------------------------ buffer and evaluation

  /** Adds a record's readings, events and commands to an attempt's buffer; whether any counted. */
  #append(t: Tracked, record: TelemetryRecord, arrivedAt: number): boolean {
    const ts = record.ts;
    if (ts < t.info.startedAt) return false;
    let used = false;
    const readings = record.readings;
    for (const name in readings) {
      const value = readings[name] as number;
      if (name.startsWith(EVENT_PREFIX)) {
        const last = t.events[t.events.length - 1];
        if (last && last.ts > ts) t.eventsUnsorted = true;
        t.events.push({ ts, event: name.slice(EVENT_PREFIX.length), value });
        used = true;
      } else if (name.startsWith(COMMAND_PREFIX)) {
        const last = t.commands[t.commands.length - 1];
        if (last && last.ts > ts) t.eventsUnsorted = true;
        t.commands.push({ ts, command: name.slice(COMMAND_PREFIX.length), value });
        used = true;
      } else {
        const buffer = t.series.get(name);
        if (!buffer) continue;
        // A reading replaced may have been scanned already (a reordered one is handled by #trim).
        if (buffer.push(ts, value) === 'replaced') t.grading.forget(name);
        used = true;
      }
    }
    if (used) {
      t.newestTs = Math.max(t.newestTs ?? -Infinity, ts);
      t.lastArrival = arrivedAt;
      t.pendingSince ??= arrivedAt;
    }
    return used;
  }

  /**
   * Cuts the buffer to what is graded: the last keepMs, at most maxPoints per series. Returns the
   * window's start.
   */
  #trim(t: Tracked, to: number): number {
    let from = Math.max(t.info.startedAt, to - this.#keepMs);
    for (const name of t.series.keys()) {
      const buffer = t.series.get(name) as SeriesBuffer;
      if (buffer.unordered) {
        buffer.normalize();
        t.grading.forget(name);
      }
      // Until the attempt is keepMs long, nothing is before the window: no search.
      let drop = buffer.length > 0 && buffer.tsAt(0) >= from ? 0 : buffer.firstAtOrAfter(from);
      if (buffer.length - drop > this.#maxPoints) {
        drop = buffer.length - this.#maxPoints;
        from = Math.max(from, buffer.tsAt(drop));
      }
      if (drop > 0) {
        buffer.dropFirst(drop);
        t.grading.forget(name);
      }
    }
    if (t.eventsUnsorted) {
      normalizeItems(t.events, (e) => e.event);
      normalizeItems(t.commands, (c) => c.command);
      t.eventsUnsorted = false;
    }
    dropBefore(t.events, from);
    dropBefore(t.commands, from);
    return from;
  }

  /**
   * Evaluates an attempt: verdicts first (score and pass of each criterion); when one changed,
   * or the details are due (every detailsEveryMs, at the end), the criteria to show are rendered
   * with their sentences and numbers and the state is returned to be published; otherwise
   * undefined — nothing a student sees changed.
   */
  #evaluate(t: Tracked, endedAt?: number): PublishedState | undefined {
    const started = performance.now();
    const now = this.#now();
    const ended = endedAt !== undefined;
    const to = endedAt ?? Math.max(now, (t.newestTs ?? -Infinity) + 1);
    const from = this.#trim(t, to);
    const window = { from, to };
    const refreshMs = LIVE_DEFAULTS.authenticityEveryMs;
    if (ended || now - t.flagsAt >= refreshMs) {
      t.grading.refreshFlags();
      // The next check comes after 75–125 % of the interval: attempts that started together (a
      // whole lab) drift apart instead of all re-checking in the same second, which would hold up
      // every other state for seconds.
      t.flagsAt = now + (Math.random() - 0.5) * refreshMs * 0.5;
    }
    // Running: criteria without enough data are pending; the end judges everything.
    const verdicts = t.grading.evaluate(window, 'verdict', { running: !ended }).criteria;
    const passed = verdicts.length > 0 && verdicts.every((c) => c.passed);
    if (passed && t.passedAt === null) {
      t.passedAt = Math.max(t.info.startedAt, Math.min(t.lastArrival ?? now, to));
    }
    t.seq++;
    t.lastEvalAt = now;
    if (t.pendingSince !== null) {
      const bucket = Math.floor(Math.max(0, now - t.pendingSince) / DELAY_BUCKET_MS);
      const histogram = this.stats.delayHistogram;
      const at = Math.min(bucket, histogram.length - 1);
      histogram[at] = (histogram[at] ?? 0) + 1;
      t.pendingSince = null;
    }

    const detailsDue = ended || !t.published || now - t.detailsAt >= this.#detailsEveryMs;
    let published: PublishedState | undefined;
    if (detailsDue || t.view.differs(verdicts)) {
      this.stats.criteriaRendered += t.view.update(verdicts, t.explain, detailsDue);
      if (detailsDue) {
        t.detailsAt = now;
        t.detailsPending = false;
      }
      published = t.view.publish({
        seq: t.seq,
        evaluatedAt: now,
        window,
        lastReadingAt: t.newestTs,
        passedAt: t.passedAt,
        ended,
      });
      t.published = published;
      this.stats.statesPublished++;
    }
    if (!detailsDue) t.detailsPending = true;
    t.lastCostMs = performance.now() - started;
    this.stats.evaluations++;
    this.stats.evaluationMs += t.lastCostMs;
    return published;
  }

  /** An attempt this process did not follow, graded from the store (and kept). */
  async #finalFromStore(attempt: LiveAttempt, task: TaskInfo): Promise<PublishedState> {
    const endedAt = attempt.endedAt ?? this.#now();
    const from = Math.max(attempt.startedAt, endedAt - this.#keepMs);
    const window = { from, to: endedAt };
    const data = await loadGradingData(this.#store, attempt.kitId, window, [...task.sensors]);
    const grade = gradeLive(task.rubric, window, data, task.options, 'explained', {
      running: attempt.endedAt === null,
    });
    const passedAt = await this.#firstPass(task, data, from, endedAt);
    let lastReadingAt: number | null = null;
    for (const points of Object.values(data.series)) {
      const last = points[points.length - 1];
      if (last) lastReadingAt = Math.max(lastReadingAt ?? -Infinity, last.ts);
    }
    const view = new LiveStateView(attempt, task.rubric.criteria);
    grade.criteria.forEach((result, index) => view.render(index, result));
    const published = view.publish({
      seq: 0,
      evaluatedAt: this.#now(),
      window,
      lastReadingAt,
      passedAt,
      ended: attempt.endedAt !== null,
    });
    if (attempt.endedAt !== null) this.#remember(attempt.id, published, false);
    return published;
  }

  #knownState(attemptId: string): PublishedState | undefined {
    return this.#tracked.get(attemptId)?.published ?? this.#ended.get(attemptId)?.published;
  }

  /** The state a leaderboard shows for an attempt; undefined while it is not graded yet. */
  async #summaryState(attempt: LiveAttempt, task: TaskInfo): Promise<PublishedState | undefined> {
    const tracked = this.#tracked.get(attempt.id);
    if (tracked) return tracked.published;
    const ended = this.#ended.get(attempt.id);
    if (ended) return ended.published;
    if (attempt.endedAt === null) return undefined;
    return this.#finalFromStore(attempt, task);
  }

  // ------------------------------------------------------------ scheduling

  /**
   * Every TICK_MS: queues the attempts whose evaluation is due — new data and their interval
   * passed since the last one, or details pending for detailsEveryMs. One timer for every
   * attempt, instead of one per attempt and second.
   */
  #tick(): void {
    if (this.#closed) return;
    const now = this.#now();
    for (const t of this.#tracked.values()) {
      if (t.queued || t.loading) continue;
      if (!t.dirty) {
        if (!t.detailsPending || now < t.detailsAt + this.#detailsEveryMs) continue;
        t.dirty = true;
      }
      if (now >= t.lastEvalAt + Math.max(this.#minIntervalMs, t.lastCostMs * 10)) this.#enqueue(t);
    }
  }

  #enqueue(t: Tracked): void {
    if (t.queued) return;
    t.queued = true;
    this.#queue.push(t);
    if (this.#draining) return;
    this.#draining = true;
    this.#keep(this.#drain());
  }

  /** Evaluates queued attempts one at a time, yielding to I/O every DRAIN_SLICE_MS. */
  async #drain(): Promise<void> {
    await null;
    try {
      let slice = performance.now();
      while (this.#queue.length > 0 && !this.#closed) {
        const t = this.#queue.shift() as Tracked;
        t.queued = false;
        if (this.#tracked.get(t.info.id) !== t || !t.dirty || t.loading) continue;
        t.dirty = false;
        try {
          const published = this.#evaluate(t);
          if (published) {
            this.#publish(attemptGradingTopic(t.info.id), published.json);
            for (const listener of this.#listeners.get(t.info.id) ?? []) {
              this.#call(listener, { type: 'grading', published });
            }
            if (t.info.sessionId) this.#markSession(t.info.sessionId);
          }
        } catch (error) {
          this.#log.warn({ attemptId: t.info.id, err: (error as Error).message }, 'live grading failed');
        }
        if (performance.now() - slice >= DRAIN_SLICE_MS) {
          await yieldToLoop();
          slice = performance.now();
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #markSession(sessionId: string): void {
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
    const delay = Math.max(0, board.lastFlush + this.#minIntervalMs - this.#now());
    const target = board;
    board.timer = setTimeout(() => {
      target.timer = undefined;
      this.#keep(this.#flushBoard(sessionId, target));
    }, delay);
    board.timer.unref();
  }

  /** Publishes the session's leaderboard (retained) when it differs from the last one. */
  async #flushBoard(sessionId: string, board: Board): Promise<void> {
    board.flushing = true;
    board.lastFlush = this.#now();
    try {
      const leaderboard = await this.leaderboard(sessionId, BOARD_INPUTS_MAX_AGE_MS);
      if (!leaderboard || this.#closed) return;
      const { generatedAt, ...content } = leaderboard;
      const json = JSON.stringify(content);
      const digest = createHash('sha1').update(json).digest('base64');
      if (digest !== board.lastDigest) {
        board.lastDigest = digest;
        const stamped = `${json.slice(0, -1)},"generatedAt":${generatedAt}}`;
        this.#publish(sessionLeaderboardTopic(sessionId), Buffer.from(stamped));
      }
      if (!leaderboard.running) board.expiresAt ??= this.#now() + this.#retentionMs;
    } catch (error) {
      this.#log.warn({ sessionId, err: (error as Error).message }, 'live grading: leaderboard failed');
    } finally {
      board.flushing = false;
      if (board.again) {
        board.again = false;
        this.#markSession(sessionId);
      }
    }
  }

  // ------------------------------------------------------------ output

  /** Publishes retained at QoS 0: JSON bytes, or an object as JSON; `null` clears the retained message. */
  #publish(topic: string, body: Buffer | object | null): void {
    if (!this.#aedes || this.#closed) return;
    const packet = {
      cmd: 'publish',
      topic,
      payload:
        body === null ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)),
      qos: 0,
      retain: true,
      dup: false,
    } as PublishPacket;
    this.#aedes.publish(packet, (error) => {
      if (error) this.#log.warn({ topic, err: error.message }, 'live grading: publishing failed');
    });
  }

  #call(listener: Listener, update: LiveUpdate): void {
    try {
      listener(update);
    } catch (error) {
      this.#log.warn({ err: (error as Error).message }, 'live grading: a subscriber failed');
    }
  }

  #keep(promise: Promise<unknown>): void {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise));
  }
}
