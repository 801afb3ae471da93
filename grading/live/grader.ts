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
 * - **Discovery by polling.** Every `pollIntervalMs` (1 s) the lab is asked for the running
 *   attempts, through the {@link LiveGradingSource} port (source.ts; the lab answers it from its
 *   database, lab-api/live-source.ts). Nothing else has to tell live grading about an attempt
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
 *   them, and the queue yields to I/O every few milliseconds (scheduler.ts). It
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
 *   enough, per type, is in its plug-in, criteria/<type>.ts); until then it is pending — score 0, neither passed nor
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
 *   serialized once (state.ts); the same bytes go to MQTT and to every event stream. In the
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
 *
 * - **In a cluster** (`partitions`, partitions.ts): each instance grades only the running attempts
 *   of the partitions (lab sessions) whose lease it holds, asked at each poll; the records of kits
 *   in running attempts reach it from whichever instance accepted them, and the states it
 *   publishes reach the other instances' event streams and leaderboards through `relay`
 *   (cluster/live-grading.ts does both). An instance that takes a partition over fills its
 *   attempts from the store, as after a restart, and numbers their states on from the last one
 *   relayed.
 *
 * The parts: grader.ts (this module: discovery, filling from the store, ending), attempt.ts (one
 * attempt's buffers, evaluation and rendered state), scheduler.ts (when attempts are evaluated),
 * publisher.ts (MQTT, event streams, ended states kept), leaderboard.ts (competition mode),
 * tasks.ts (the tasks graded on), state.ts (a state's JSON), source.ts and partitions.ts (the ports).
 */
import type { Aedes } from 'aedes';
import type { TelemetryRecord } from '../../protocol/index.ts';
import type { TelemetryStore } from '../../telemetry/index.ts';
import { gradeLive } from '../incremental.ts';
import { loadGradingData } from '../load.ts';
import type { GradingData } from '../types.ts';
import { type LiveGradingTuning, type LiveStats, TrackedAttempt } from './attempt.ts';
import { type Leaderboard, Leaderboards } from './leaderboard.ts';
import { type LivePartitions, partitionOf } from './partitions.ts';
import { type LiveListener, type LiveLog, LivePublisher } from './publisher.ts';
import { EvaluationScheduler, TICK_MS, yieldToLoop } from './scheduler.ts';
import type { LiveGradingSource, RunningAttempt } from './source.ts';
import { type LiveAttempt, type LiveState, LiveStateView, PublishedState } from './state.ts';
import { emptyTask, LiveTasks, type TaskInfo } from './tasks.ts';

export const LIVE_DEFAULTS = {
  /** How often the lab is asked for running attempts. */
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
  /**
   * In a cluster, how long after an attempt is picked up its first moments are read from the
   * store once more (longer than any instance's flush interval).
   */
  settleMs: 2_000,
} as const;

/** Steps of the prefix scan that finds when data read back from the store first passed. */
const SCAN_STEPS = 120;
/** `stats.delayHistogram`: buckets of this many ms; the last one counts every longer delay. */
export const DELAY_BUCKET_MS = 100;
const DELAY_BUCKETS = 100;

export interface LiveGraderOptions {
  /** What live grading learns about running attempts, tasks and teams (the lab implements it). */
  source: LiveGradingSource;
  store: TelemetryStore;
  /** The broker's aedes, for the retained topics; without it only event streams are served. */
  aedes?: Pick<Aedes, 'publish'>;
  /**
   * In a cluster: which running attempts this instance grades (the others' states arrive through
   * {@link LiveGrader.relay}). Without it, this instance grades every running attempt.
   */
  partitions?: LivePartitions;
  /** In a cluster: see {@link LIVE_DEFAULTS.settleMs}. */
  settleMs?: number;
  log?: LiveLog;
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

/**
 * Live grading of running attempts and the competition leaderboards; see the module comment.
 * `start()` begins polling; feed it records with `record()` (an `Ingest` listener).
 */
export class LiveGrader {
  readonly #source: LiveGradingSource;
  readonly #partitions: LivePartitions | undefined;
  /** The partitions this instance held at the last poll (cluster mode). */
  #held: ReadonlySet<string> = new Set();
  /** The kits of every running attempt, graded here or not (cluster mode forwards their records). */
  #runningKits: ReadonlySet<string> = new Set();
  /** The latest states other instances published, of attempts not graded here (cluster mode). */
  readonly #remote = new Map<string, PublishedState>();
  readonly #store: TelemetryStore;
  readonly #log: LiveLog;
  readonly #now: () => number;
  readonly #pollIntervalMs: number;
  readonly #keepMs: number;
  readonly #recentMs: number;
  readonly #retentionMs: number;
  readonly #settleMs: number;
  readonly #tuning: LiveGradingTuning;
  readonly heartbeatMs: number;
  /**
   * Evaluations so far, the time they took (the rubric and rendering the states published, not
   * sending them), the states published, and how long records waited to be evaluated: counts per
   * {@link DELAY_BUCKET_MS} from arrival to the evaluation that graded them (and published
   * whatever they changed).
   */
  readonly stats: LiveStats = {
    evaluations: 0,
    evaluationMs: 0,
    statesPublished: 0,
    criteriaRendered: 0,
    delayHistogram: new Uint32Array(DELAY_BUCKETS),
  };

  readonly #tracked = new Map<string, TrackedAttempt>();
  readonly #byKit = new Map<string, Set<string>>();
  readonly #recent = new Map<string, { record: TelemetryRecord; arrivedAt: number }[]>();
  readonly #tasks: LiveTasks;
  readonly #publisher: LivePublisher;
  readonly #boards: Leaderboards;
  readonly #scheduler: EvaluationScheduler;
  readonly #pending = new Set<Promise<unknown>>();
  #polling: Promise<void> | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #tickTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: LiveGraderOptions) {
    this.#source = options.source;
    this.#partitions = options.partitions;
    this.#store = options.store;
    this.#log = options.log ?? { warn() {} };
    this.#now = options.now ?? Date.now;
    this.#pollIntervalMs = options.pollIntervalMs ?? LIVE_DEFAULTS.pollIntervalMs;
    const minIntervalMs = options.minIntervalMs ?? LIVE_DEFAULTS.minIntervalMs;
    const detailsEveryMs = options.detailsEveryMs ?? LIVE_DEFAULTS.detailsEveryMs;
    this.#keepMs = options.keepMs ?? LIVE_DEFAULTS.keepMs;
    this.#recentMs = options.recentMs ?? LIVE_DEFAULTS.recentMs;
    const retentionMs = options.endedRetentionMs ?? LIVE_DEFAULTS.endedRetentionMs;
    this.#retentionMs = retentionMs;
    this.#settleMs = options.settleMs ?? LIVE_DEFAULTS.settleMs;
    this.heartbeatMs = options.heartbeatMs ?? LIVE_DEFAULTS.heartbeatMs;
    this.#tuning = {
      keepMs: this.#keepMs,
      maxPoints: options.maxPointsPerSensor ?? LIVE_DEFAULTS.maxPointsPerSensor,
      maxEvents: LIVE_DEFAULTS.maxEventsPerAttempt,
      detailsEveryMs,
      authenticityEveryMs: LIVE_DEFAULTS.authenticityEveryMs,
      authenticityWindowMs: LIVE_DEFAULTS.authenticityWindowMs,
    };
    const keep = (promise: Promise<unknown>) => this.#keep(promise);
    this.#tasks = new LiveTasks(this.#source);
    this.#publisher = new LivePublisher({
      aedes: options.aedes,
      log: this.#log,
      now: this.#now,
      retentionMs,
      maxEndedKept: LIVE_DEFAULTS.maxEndedKept,
    });
    this.#boards = new Leaderboards({
      source: this.#source,
      assignmentTask: (assignmentId) => this.#tasks.assignmentTask(assignmentId),
      knownState: (attemptId) => this.#knownState(attemptId),
      summaryState: (attempt, task) => this.#summaryState(attempt, task),
      publish: (topic, body) => this.#publisher.publish(topic, body),
      now: this.#now,
      minIntervalMs,
      retentionMs,
      log: this.#log,
      keep,
    });
    this.#scheduler = new EvaluationScheduler({
      minIntervalMs,
      detailsEveryMs,
      now: this.#now,
      closed: () => this.#closed,
      current: (t) => this.#tracked.get(t.info.id) === t,
      run: (t) => this.#run(t),
      keep,
    });
  }

  /** Starts polling the lab for running attempts (the first poll at once). */
  start(): void {
    if (this.#closed || this.#pollTimer) return;
    void this.pollNow();
    this.#pollTimer = setInterval(() => void this.pollNow(), this.#pollIntervalMs);
    this.#pollTimer.unref();
    this.#tickTimer = setInterval(() => this.#scheduler.tick(this.#tracked.values()), TICK_MS);
    this.#tickTimer.unref();
  }

  /** Stops: no more polls or evaluations; subscribers get `closed`. Retained messages stay. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    if (this.#tickTimer) clearInterval(this.#tickTimer);
    this.#boards.close();
    this.#publisher.close();
    await this.#polling;
    await Promise.allSettled([...this.#pending]);
    // Another instance takes over at its next poll instead of waiting for the leases to expire,
    // and none is handed over to this one any more.
    await this.#partitions?.release([...this.#held]).catch((error: Error) => {
      this.#log.warn({ err: error.message }, 'live grading: releasing its partitions failed');
    });
    this.#tracked.clear();
    this.#remote.clear();
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
      if (t?.append(record, arrivedAt)) t.dirty = true;
    }
  }

  /** Whether the attempt is being graded live now, by this instance. */
  isTracking(attemptId: string): boolean {
    return this.#tracked.has(attemptId);
  }

  /**
   * Whether the kit is in a running attempt, graded here or by another instance (cluster mode:
   * the instance a kit publishes through forwards only these kits' records).
   */
  followsKit(kitId: string): boolean {
    return this.#runningKits.has(kitId);
  }

  /**
   * A state another instance of a cluster published on an attempt's grading topic (an empty
   * payload: its retained message was cleared): kept for this instance's readers — the event
   * streams, the leaderboards — and passed to its subscribers. States of attempts graded here, or
   * older than the one kept, are ignored.
   */
  relay(attemptId: string, json: Buffer): void {
    if (this.#closed || this.#tracked.has(attemptId) || this.#publisher.ended(attemptId)) return;
    if (json.length === 0) {
      this.#remote.delete(attemptId);
      return;
    }
    let published: PublishedState;
    try {
      published = PublishedState.fromJson(json);
    } catch (error) {
      this.#log.warn({ attemptId, err: (error as Error).message }, 'live grading: unreadable relayed state');
      return;
    }
    const kept = this.#remote.get(attemptId);
    if (kept && (kept.ended || (published.seq < kept.seq && !published.ended))) return;
    // Re-inserted, so the map's order is by last update and the oldest go first.
    this.#remote.delete(attemptId);
    this.#remote.set(attemptId, published);
    while (this.#remote.size > LIVE_DEFAULTS.maxEndedKept) {
      this.#remote.delete(this.#remote.keys().next().value as string);
    }
    this.#publisher.relayed(attemptId, published);
  }

  /** The attempt's latest state: live, or final when it ended recently. */
  current(attemptId: string): LiveState | undefined {
    return this.#knownState(attemptId)?.state;
  }

  /**
   * Follows an attempt: the listener gets its current state at once (when there is one), then
   * every new one, then `end` (or `closed`). Returns the function that stops following.
   */
  subscribe(attemptId: string, listener: LiveListener): () => void {
    const tracked = this.#tracked.get(attemptId);
    const remote = tracked ? undefined : this.#remote.get(attemptId);
    if (remote?.ended) {
      listener({ type: 'end', published: remote });
      return () => {};
    }
    return this.#publisher.subscribe(attemptId, listener, {
      tracked: tracked !== undefined,
      published: tracked?.published ?? remote,
    });
  }

  /**
   * The final state of an ended attempt: kept from live grading, or graded now from the store
   * (and kept) when this process did not follow it.
   */
  async finalState(attempt: LiveAttempt): Promise<PublishedState> {
    const kept = this.#publisher.ended(attempt.id) ?? this.#remote.get(attempt.id);
    if (kept?.ended) return kept;
    const task = await this.#tasks.assignmentTask(attempt.assignmentId);
    return this.#finalFromStore(attempt, task ?? emptyTask());
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
   * session, its teams and attempts are read from the lab, or with `maxAgeMs` reused when read
   * that recently (the published boards, refreshed every second, reuse them a while).
   */
  leaderboard(sessionId: string, maxAgeMs = 0): Promise<Leaderboard | undefined> {
    return this.#boards.leaderboard(sessionId, maxAgeMs);
  }

  // ------------------------------------------------------------ discovery

  async #poll(): Promise<void> {
    try {
      const rows = await this.#source.runningAttempts();
      if (this.#closed) return;
      this.#runningKits = new Set(rows.map((row) => row.kitId));
      const mine = await this.#mine(rows);
      if (this.#closed) return;
      const running = new Set(rows.map((row) => row.id));
      const graded = new Set(mine.map((row) => row.id));
      const changed = mine.filter(
        (row) => this.#tracked.get(row.id)?.task.key !== `${row.taskId}:${row.taskVersion}`,
      );
      const attempts = new Map<string, LiveAttempt>();
      if (changed.length > 0) {
        for (const attempt of await this.#source.attempts(changed.map((row) => row.id)))
          attempts.set(attempt.id, attempt);
      }
      for (const row of changed) {
        const attempt = attempts.get(row.id);
        const task = attempt && (await this.#tasks.task(row.taskId, row.taskVersion));
        if (this.#closed) return;
        if (!attempt || !task || attempt.endedAt !== null) continue;
        const t = this.#tracked.get(row.id);
        if (t) this.#untrack(t); // the rubric changed: grade again with the new one
        // Taken over from another instance: its states' numbering goes on.
        this.#track(attempt, task, t?.seq ?? this.#remote.get(row.id)?.seq ?? 0);
        this.#remote.delete(row.id);
      }
      for (const t of [...this.#tracked.values()]) {
        if (!running.has(t.info.id)) await this.#finish(t);
        // Its partition went to another instance (this one lost the lease): that one grades it now.
        else if (!graded.has(t.info.id)) this.#untrack(t);
      }
      await this.#sweep();
    } catch (error) {
      this.#log.warn({ err: (error as Error).message }, 'live grading: polling the lab database failed');
    }
  }

  /** The running attempts this instance grades: all of them, or in a cluster those of its partitions. */
  async #mine(rows: readonly RunningAttempt[]): Promise<readonly RunningAttempt[]> {
    if (!this.#partitions) return rows;
    const held = await this.#partitions.hold([...new Set(rows.map(partitionOf))]);
    this.#held = held;
    return rows.filter((row) => held.has(partitionOf(row)));
  }

  #track(info: LiveAttempt, task: TaskInfo, seq: number): void {
    const t = new TrackedAttempt(info, task, seq, this.#tuning);
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
      if (sibling) t.copyBuffered(sibling);
    }
    ids.add(info.id);
    for (const { record, arrivedAt } of this.#recent.get(info.kitId) ?? []) t.append(record, arrivedAt);
    this.#recent.delete(info.kitId);
    t.load = this.#fill(t);
    this.#keep(t.load);
    if (this.#partitions) {
      // Readings other instances accepted before they knew of the attempt reach it only through
      // the store, some after the fill (a flush later): read those moments once more.
      const pickedUpAt = this.#now();
      setTimeout(() => this.#keep(this.#refill(t, pickedUpAt)), this.#settleMs).unref();
    }
  }

  /** Merges what the store holds from just before the attempt was picked up until now (cluster mode). */
  async #refill(t: TrackedAttempt, pickedUpAt: number): Promise<void> {
    await t.load;
    if (this.#closed || this.#tracked.get(t.info.id) !== t) return;
    // Up to now: an instance that saw the attempt start after this one did forwards only from then.
    const window = { from: Math.max(t.info.startedAt, pickedUpAt - this.#recentMs), to: this.#now() + 1 };
    try {
      const stored = await loadGradingData(this.#store, t.info.kitId, window, [...t.task.sensors]);
      if (this.#closed || this.#tracked.get(t.info.id) !== t) return;
      // The buffers merge by time: what they already hold counts once.
      t.mergeStored(stored, this.#now());
      t.dirty = true;
    } catch (error) {
      this.#log.warn(
        { attemptId: t.info.id, err: (error as Error).message },
        'live grading: reading the start of the attempt again failed',
      );
    }
  }

  /** Fills a new buffer from the store, finds when that data first passed, then grades. */
  async #fill(t: TrackedAttempt): Promise<void> {
    try {
      const now = this.#now();
      const from = Math.max(t.info.startedAt, now - this.#keepMs);
      const window = { from, to: now + 1 };
      const stored = await loadGradingData(this.#store, t.info.kitId, window, [...t.task.sensors]);
      if (this.#closed || this.#tracked.get(t.info.id) !== t) return;
      const newest = t.mergeStored(stored, now);
      if (newest !== null) {
        const passedAt = await this.#firstPass(t.task, t.snapshot(), from, now + 1);
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

  #untrack(t: TrackedAttempt): void {
    this.#tracked.delete(t.info.id);
    const ids = this.#byKit.get(t.info.kitId);
    ids?.delete(t.info.id);
    if (ids?.size === 0) this.#byKit.delete(t.info.kitId);
  }

  /** The attempt ended (or vanished): a last evaluation over its window, pushed as the end. */
  async #finish(t: TrackedAttempt): Promise<void> {
    const [row] = await this.#source.attempts([t.info.id]);
    if (row && row.endedAt === null) return;
    await t.load;
    if (this.#closed || this.#tracked.get(t.info.id) !== t) return;
    this.#untrack(t);
    const endedAt = row?.endedAt ?? this.#now();
    t.info = { ...t.info, endedAt };
    let published: PublishedState | undefined;
    try {
      published = t.evaluate(this.#now(), this.stats, DELAY_BUCKET_MS, endedAt);
    } catch (error) {
      this.#log.warn({ attemptId: t.info.id, err: (error as Error).message }, 'live grading failed');
      published = t.view.republishEnded();
    }
    if (!published) return;
    this.#publisher.end(t.info.id, published);
    if (t.info.sessionId) this.#boards.mark(t.info.sessionId);
  }

  /** Forgets what expired (clearing its retained message) and kits silent for a while. */
  async #sweep(): Promise<void> {
    const now = this.#now();
    this.#publisher.sweep(now);
    // Final states relayed from an instance that stopped before clearing them.
    for (const [id, published] of this.#remote) {
      if (published.ended && published.windowTo < now - this.#retentionMs) this.#remote.delete(id);
    }
    for (const [kitId, recent] of this.#recent) {
      const last = recent[recent.length - 1];
      if (!last || last.arrivedAt < now - this.#recentMs) this.#recent.delete(kitId);
    }
    await this.#boards.sweep(now);
  }

  // ------------------------------------------------------------ evaluation

  /** Evaluates a due attempt and publishes what changed (the scheduler's work). */
  #run(t: TrackedAttempt): void {
    try {
      const published = t.evaluate(this.#now(), this.stats, DELAY_BUCKET_MS);
      if (published) {
        this.#publisher.state(t.info.id, published);
        if (t.info.sessionId) this.#boards.mark(t.info.sessionId);
      }
    } catch (error) {
      this.#log.warn({ attemptId: t.info.id, err: (error as Error).message }, 'live grading failed');
    }
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
    for (const [index, result] of grade.criteria.entries()) view.render(index, result);
    const published = view.publish({
      seq: 0,
      evaluatedAt: this.#now(),
      window,
      lastReadingAt,
      passedAt,
      ended: attempt.endedAt !== null,
    });
    if (attempt.endedAt !== null) this.#publisher.remember(attempt.id, published, false);
    return published;
  }

  #knownState(attemptId: string): PublishedState | undefined {
    return (
      this.#tracked.get(attemptId)?.published ??
      this.#publisher.ended(attemptId) ??
      this.#remote.get(attemptId)
    );
  }

  /** The state a leaderboard shows for an attempt; undefined while it is not graded yet. */
  async #summaryState(attempt: LiveAttempt, task: TaskInfo): Promise<PublishedState | undefined> {
    const tracked = this.#tracked.get(attempt.id);
    if (tracked) return tracked.published;
    const ended = this.#publisher.ended(attempt.id);
    if (ended) return ended;
    const remote = this.#remote.get(attempt.id);
    if (remote && (remote.ended || attempt.endedAt === null)) return remote;
    if (attempt.endedAt === null) return undefined;
    return this.#finalFromStore(attempt, task);
  }

  #keep(promise: Promise<unknown>): void {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise));
  }
}
