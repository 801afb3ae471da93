/**
 * One attempt graded live: its buffers (the rubric's series, its events and commands), the rubric
 * evaluated incrementally on them, what was rendered of its state, and the bookkeeping the
 * scheduler reads (due, queued, the cost of the last evaluation). LiveGrader (grader.ts) discovers
 * attempts and drives them; this module holds what one attempt is and how it is evaluated.
 */
import type { TelemetryRecord } from '../../protocol/index.ts';
import { COMMAND_PREFIX, EVENT_PREFIX } from '../../telemetry/index.ts';
import { SeriesBuffer } from '../buffer.ts';
import { IncrementalGrading } from '../incremental.ts';
import type {
  CriterionResult,
  GradingCommand,
  GradingData,
  GradingEvent,
  SeriesPoint,
  TimeWindow,
} from '../types.ts';
import { type LiveAttempt, LiveStateView, type PublishedState } from './state.ts';
import type { TaskInfo } from './tasks.ts';

/** Live states show no evidence spans (the scans do not keep them); authenticity on the last minutes. */
export interface LiveGradingTuning {
  /** The span of an attempt kept in memory and graded live. */
  keepMs: number;
  /** Readings kept per series. */
  maxPoints: number;
  /** Events, and commands, kept per attempt. */
  maxEvents: number;
  /** Every criterion's details are rendered again this often. */
  detailsEveryMs: number;
  /** Authenticity flags are recomputed this often on average (and at the end). */
  authenticityEveryMs: number;
  /** Live authenticity looks at this last part of the attempt. */
  authenticityWindowMs: number;
}

/** `LiveGrader.stats`: what evaluations cost and gave. */
export interface LiveStats {
  evaluations: number;
  evaluationMs: number;
  statesPublished: number;
  criteriaRendered: number;
  /** Counts per bucket of `bucketMs` from a record's arrival to the evaluation that graded it. */
  delayHistogram: Uint32Array;
}

/** Sorts events or commands by time, one per (instant, name). */
export function normalizeItems<T extends { ts: number }>(items: T[], name: (item: T) => string): void {
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

/** Drops the items before `ts`, and the oldest beyond `max`. */
function dropBefore(items: { ts: number }[], ts: number, max: number): void {
  if (items.length === 0) return;
  const drop = Math.max(firstAtOrAfter(items, ts), items.length - max);
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

/** An attempt followed by live grading. */
export class TrackedAttempt {
  info: LiveAttempt;
  readonly task: TaskInfo;
  readonly #tuning: LiveGradingTuning;
  series: Map<string, SeriesBuffer>;
  events: GradingEvent[] = [];
  commands: GradingCommand[] = [];
  eventsUnsorted = false;
  /** Its buffers are being filled from the store: not evaluated until done. */
  loading = true;
  load: Promise<void> | undefined;
  newestTs: number | null = null;
  /** Platform time the newest buffered record arrived. */
  lastArrival: number | null = null;
  passedAt: number | null = null;
  seq: number;
  lastEvalAt = 0;
  lastCostMs = 0;
  /**
   * The rubric on the buffers: scans and authenticity flags kept between evaluations (the flags
   * until `flagsAt + authenticityEveryMs`).
   */
  grading: IncrementalGrading;
  /** Criterion `index` with its sentence and numbers, on the window of the last evaluation. */
  readonly explain: (index: number) => CriterionResult;
  flagsAt = 0;
  /** Data arrived (or the details are due) since the last evaluation. */
  dirty = true;
  queued = false;
  /** What was rendered of the state, and the last state published. */
  readonly view: LiveStateView;
  published: PublishedState | undefined;
  /** When every criterion's details were last re-rendered. */
  detailsAt = 0;
  /** Data was evaluated but not published (no verdict changed): the details are due later. */
  detailsPending = false;
  /** Arrival of the oldest record not evaluated yet, or null. */
  pendingSince: number | null = null;

  constructor(info: LiveAttempt, task: TaskInfo, seq: number, tuning: LiveGradingTuning) {
    this.info = info;
    this.task = task;
    this.seq = seq;
    this.#tuning = tuning;
    this.series = new Map([...task.sensors].map((name) => [name, new SeriesBuffer()]));
    this.view = new LiveStateView(info, task.rubric.criteria);
    this.grading = this.#newGrading();
    this.explain = (index: number) => this.grading.result(index, 'explained');
  }

  #newGrading(): IncrementalGrading {
    return new IncrementalGrading(
      this.task.rubric,
      this.task.options,
      { buffers: this },
      { spans: false, flagsWindowMs: this.#tuning.authenticityWindowMs },
    );
  }

  /** Adds a record's readings, events and commands to the buffers; whether any counted. */
  append(record: TelemetryRecord, arrivedAt: number): boolean {
    const ts = record.ts;
    if (ts < this.info.startedAt) return false;
    let used = false;
    const readings = record.readings;
    for (const name in readings) {
      const value = readings[name] as number;
      if (name.startsWith(EVENT_PREFIX)) {
        const last = this.events[this.events.length - 1];
        if (last && last.ts > ts) this.eventsUnsorted = true;
        this.events.push({ ts, event: name.slice(EVENT_PREFIX.length), value });
        used = true;
      } else if (name.startsWith(COMMAND_PREFIX)) {
        const last = this.commands[this.commands.length - 1];
        if (last && last.ts > ts) this.eventsUnsorted = true;
        this.commands.push({ ts, command: name.slice(COMMAND_PREFIX.length), value });
        used = true;
      } else {
        const buffer = this.series.get(name);
        if (!buffer) continue;
        // A reading replaced may have been scanned already (a reordered one is handled by trim).
        if (buffer.push(ts, value) === 'replaced') this.grading.forget(name);
        used = true;
      }
    }
    if (used) {
      this.newestTs = Math.max(this.newestTs ?? -Infinity, ts);
      this.lastArrival = arrivedAt;
      this.pendingSince ??= arrivedAt;
    }
    return used;
  }

  /** What `from` buffered of the series this attempt grades (from its start on), and its events and commands. */
  copyBuffered(from: TrackedAttempt): void {
    const start = this.info.startedAt;
    for (const [name, target] of this.series) {
      const source = from.series.get(name);
      if (!source) continue;
      for (let i = source.firstAtOrAfter(start); i < source.length; i++)
        target.push(source.tsAt(i), source.valueAt(i));
    }
    this.events.push(...from.events.filter((e) => e.ts >= start));
    this.commands.push(...from.commands.filter((c) => c.ts >= start));
    this.eventsUnsorted = true;
    if (from.newestTs !== null && from.newestTs >= start) {
      this.newestTs = Math.max(this.newestTs ?? -Infinity, from.newestTs);
      this.lastArrival = from.lastArrival;
      this.pendingSince ??= from.lastArrival;
    }
  }

  /**
   * Puts the store's data before what was buffered since (at the same instant, the buffered
   * reading wins); the scans start over on the new buffers. Returns the newest time stored, or null.
   */
  mergeStored(stored: GradingData, now: number): number | null {
    let newest: number | null = null;
    for (const [name, points] of Object.entries(stored.series)) {
      if (points.length === 0) continue;
      this.series.set(name, SeriesBuffer.of([...points, ...(this.series.get(name)?.points() ?? [])]));
      newest = Math.max(newest ?? -Infinity, (points[points.length - 1] as SeriesPoint).ts);
    }
    // The buffers are new arrays: scans start over on them.
    this.grading = this.#newGrading();
    this.flagsAt = 0;
    this.events = [...stored.events, ...this.events];
    this.commands = [...stored.commands, ...this.commands];
    normalizeItems(this.events, (e) => e.event);
    normalizeItems(this.commands, (c) => c.command);
    for (const item of [...stored.events, ...stored.commands]) {
      newest = Math.max(newest ?? -Infinity, item.ts);
    }
    if (newest !== null) {
      this.newestTs = Math.max(this.newestTs ?? -Infinity, newest);
      this.lastArrival = Math.max(this.lastArrival ?? -Infinity, Math.min(newest, now));
    }
    return newest;
  }

  /** The buffers as grading data (copies). */
  snapshot(): GradingData {
    return {
      series: Object.fromEntries([...this.series].map(([name, buffer]) => [name, buffer.points()])),
      events: this.events.slice(),
      commands: this.commands.slice(),
    };
  }

  /**
   * Cuts the buffers to what is graded: the last keepMs, at most maxPoints per series. Returns the
   * window's start.
   */
  #trim(to: number): number {
    const { keepMs, maxPoints, maxEvents } = this.#tuning;
    let from = Math.max(this.info.startedAt, to - keepMs);
    for (const name of this.series.keys()) {
      const buffer = this.series.get(name) as SeriesBuffer;
      if (buffer.unordered) {
        buffer.normalize();
        this.grading.forget(name);
      }
      // Until the attempt is keepMs long, nothing is before the window: no search.
      let drop = buffer.length > 0 && buffer.tsAt(0) >= from ? 0 : buffer.firstAtOrAfter(from);
      if (buffer.length - drop > maxPoints) {
        drop = buffer.length - maxPoints;
        from = Math.max(from, buffer.tsAt(drop));
      }
      if (drop > 0) {
        buffer.dropFirst(drop);
        this.grading.forget(name);
      }
    }
    if (this.eventsUnsorted) {
      normalizeItems(this.events, (e) => e.event);
      normalizeItems(this.commands, (c) => c.command);
      this.eventsUnsorted = false;
    }
    dropBefore(this.events, from, maxEvents);
    dropBefore(this.commands, from, maxEvents);
    return from;
  }

  /**
   * Evaluates the attempt: verdicts first (score and pass of each criterion); when one changed,
   * or the details are due (every detailsEveryMs, at the end), the criteria to show are rendered
   * with their sentences and numbers and the state is returned to be published; otherwise
   * undefined — nothing a student sees changed.
   */
  evaluate(now: number, stats: LiveStats, bucketMs: number, endedAt?: number): PublishedState | undefined {
    const started = performance.now();
    const ended = endedAt !== undefined;
    const to = endedAt ?? Math.max(now, (this.newestTs ?? -Infinity) + 1);
    const from = this.#trim(to);
    const window: TimeWindow = { from, to };
    const refreshMs = this.#tuning.authenticityEveryMs;
    if (ended || now - this.flagsAt >= refreshMs) {
      this.grading.refreshFlags();
      // The next check comes after 75–125 % of the interval: attempts that started together (a
      // whole lab) drift apart instead of all re-checking in the same second, which would hold up
      // every other state for seconds.
      this.flagsAt = now + (Math.random() - 0.5) * refreshMs * 0.5;
    }
    // Running: criteria without enough data are pending; the end judges everything.
    const verdicts = this.grading.evaluate(window, 'verdict', { running: !ended }).criteria;
    const passed = verdicts.length > 0 && verdicts.every((c) => c.passed);
    if (passed && this.passedAt === null) {
      this.passedAt = Math.max(this.info.startedAt, Math.min(this.lastArrival ?? now, to));
    }
    this.seq++;
    this.lastEvalAt = now;
    if (this.pendingSince !== null) {
      const bucket = Math.floor(Math.max(0, now - this.pendingSince) / bucketMs);
      const histogram = stats.delayHistogram;
      const at = Math.min(bucket, histogram.length - 1);
      histogram[at] = (histogram[at] ?? 0) + 1;
      this.pendingSince = null;
    }

    const detailsDue = ended || !this.published || now - this.detailsAt >= this.#tuning.detailsEveryMs;
    let published: PublishedState | undefined;
    if (detailsDue || this.view.differs(verdicts)) {
      stats.criteriaRendered += this.view.update(verdicts, this.explain, detailsDue);
      if (detailsDue) {
        this.detailsAt = now;
        this.detailsPending = false;
      }
      published = this.view.publish({
        seq: this.seq,
        evaluatedAt: now,
        window,
        lastReadingAt: this.newestTs,
        passedAt: this.passedAt,
        ended,
      });
      this.published = published;
      stats.statesPublished++;
    }
    if (!detailsDue) this.detailsPending = true;
    this.lastCostMs = performance.now() - started;
    stats.evaluations++;
    stats.evaluationMs += this.lastCostMs;
    return published;
  }
}
