import {
  checkEvent,
  checkTelemetry,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_TIMESTAMP_LIMITS,
  isStorableValue,
  isValidSensorName,
  type KitErrorMessage,
  type Problem,
  type ProblemCode,
  payloadText,
  type TelemetryRecord,
} from '../protocol/index.ts';
import { COMMAND_PREFIX, EVENT_PREFIX, SEQ_FIELD } from '../telemetry/index.ts';

export interface IngestOptions {
  /** Where accepted records go (the telemetry writer). */
  sink: (record: TelemetryRecord) => void;
  /**
   * Calls `done` once every record given to the sink so far is durable (the writer's
   * `whenDurable`): the broker acknowledges a QoS 1 message then. Default: at once.
   */
  whenDurable?: (done: () => void) => void;
  /** Called the first time a (kit, code) pair occurs, and then at most every `logEveryMs`. */
  log: (entry: { kitId: string; problem: Problem; occurrences: number }) => void;
  maxPayloadBytes?: number;
  maxFutureMs?: number;
  maxPastMs?: number;
  /**
   * Most distinct series one kit may have (its sensors, plus one per event and command name;
   * default 64). Readings of a further new name are dropped with SENSOR_LIMIT.
   */
  maxSensorsPerKit?: number;
  /** The series a kit already has in the store; read once per kit, when it connects or first sends. */
  knownSeries?: (kitId: string) => Promise<Iterable<string>>;
  /** At most one error report per (kit, code) in this window; the next says how many it stands for. */
  reportEveryMs?: number;
  logEveryMs?: number;
  now?: () => number;
}

export interface IngestStats {
  messages: number;
  accepted: number;
  readings: number;
  refused: number;
  /** Problems by code, including dropped values and warnings on accepted messages. */
  problems: Partial<Record<ProblemCode, number>>;
}

/**
 * Rate-limit states kept at most; the oldest is forgotten beyond this (kit ids on an external
 * broker are whatever its clients publish on).
 */
const MAX_REPORT_STATES = 10_000;

interface ReportState {
  lastReport: number;
  suppressed: number;
  lastLog: number;
  occurrences: number;
}

/**
 * The ingest step of the publish path: check a kit's telemetry against the contract, stamp the
 * receive time where the kit sent none, attach the kit, and hand the record to the writer.
 * Used inside the broker and by the subscriber of an external broker alike.
 */
export class Ingest {
  readonly #options: Required<Omit<IngestOptions, 'sink' | 'log' | 'now' | 'knownSeries' | 'whenDurable'>> &
    Pick<IngestOptions, 'sink' | 'log' | 'knownSeries' | 'whenDurable'> & { now: () => number };
  /** Those that tell kits about problems: the broker, or the client of an external broker. */
  readonly #notifiers: ((kitId: string, message: KitErrorMessage) => void)[] = [];
  readonly #listeners: ((record: TelemetryRecord) => void)[] = [];
  readonly #lastStamp = new Map<string, number>();
  readonly #reports = new Map<string, ReportState>();
  /** The series names of each kit that sent something, up to `maxSensorsPerKit` each. */
  readonly #series = new Map<string, Set<string>>();
  readonly #stats: IngestStats = { messages: 0, accepted: 0, readings: 0, refused: 0, problems: {} };

  constructor(options: IngestOptions) {
    this.#options = {
      maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
      maxFutureMs: DEFAULT_TIMESTAMP_LIMITS.maxFutureMs,
      maxPastMs: DEFAULT_TIMESTAMP_LIMITS.maxPastMs,
      maxSensorsPerKit: 64,
      reportEveryMs: 1_000,
      logEveryMs: 10 * 60_000,
      now: Date.now,
      ...options,
    };
    // Listeners (live grading) see every record the writer gets, right after it.
    const sink = this.#options.sink;
    this.#options.sink = (record) => {
      sink(record);
      for (const listener of this.#listeners) {
        try {
          listener(record);
        } catch {
          // A listener's failure never costs a reading.
        }
      }
    };
  }

  /** Calls `done` once everything accepted so far is durable (stored, or spooled on disk). */
  whenDurable(done: () => void): void {
    if (this.#options.whenDurable) this.#options.whenDurable(done);
    else done();
  }

  get stats(): IngestStats {
    return { ...this.#stats, problems: { ...this.#stats.problems } };
  }

  /** Handles one telemetry payload of a known kit; returns whether it was stored. */
  telemetry(kitId: string, topic: string, payload: Uint8Array): boolean {
    const now = this.#options.now();
    this.#stats.messages++;
    const verdict = checkTelemetry(
      payload,
      { now, maxFutureMs: this.#options.maxFutureMs, maxPastMs: this.#options.maxPastMs },
      this.#options.maxPayloadBytes,
    );
    for (const problem of verdict.problems) this.report(kitId, topic, problem, now);
    const readings = verdict.ok
      ? this.#withinSeriesLimit(kitId, topic, verdict.value.readings, now)
      : undefined;
    if (!verdict.ok || !readings) {
      this.#stats.refused++;
      return false;
    }
    const { ts, seq } = verdict.value;
    const record: TelemetryRecord = { kitId, ts: ts ?? this.#receiveStamp(kitId, now), readings };
    if (seq !== undefined) record.seq = seq;
    this.#options.sink(record);
    this.#stats.accepted++;
    this.#stats.readings += Object.keys(readings).length;
    return true;
  }

  /**
   * Handles an event a kit raised: stored as the series `@event.<name>` (value 1, or the event's
   * value). Returns the problem when the event is refused.
   */
  event(kitId: string, payload: Uint8Array): Problem | undefined {
    const now = this.#options.now();
    const verdict = checkEvent(payload, {
      now,
      maxFutureMs: this.#options.maxFutureMs,
      maxPastMs: this.#options.maxPastMs,
    });
    if (!verdict.ok) return verdict.problems[0];
    const { event, value, ts } = verdict.value;
    const series = `${EVENT_PREFIX}${event}`;
    if (!this.#admitSeries(kitId, series)) return this.#seriesLimitProblem(series);
    this.#options.sink({
      kitId,
      ts: ts ?? this.#receiveStamp(kitId, now),
      readings: { [series]: value ?? 1 },
    });
    return undefined;
  }

  /**
   * Records a command sent to a kit as the series `@command.<name>`: 1 for on/true, 0 for
   * off/false, or the number sent. Commands of other shapes are passed on but not recorded.
   */
  command(kitId: string, payload: Uint8Array): void {
    let body: unknown;
    try {
      body = JSON.parse(payloadText(payload));
    } catch {
      return;
    }
    const { command, value } = (body ?? {}) as { command?: unknown; value?: unknown };
    if (typeof command !== 'string' || !isValidSensorName(command)) return;
    const numeric = commandNumber(value);
    const series = `${COMMAND_PREFIX}${command}`;
    if (numeric === undefined || !this.#admitSeries(kitId, series)) return;
    const now = this.#options.now();
    this.#options.sink({
      kitId,
      ts: this.#receiveStamp(kitId, now),
      readings: { [series]: numeric },
    });
  }

  /**
   * Counts, logs and reports (both rate-limited) a problem to the kit. The limits are per kit and
   * code, never per sensor name: a kit sending a new bad name in every message must not get a
   * report (and a log line) for each.
   */
  report(kitId: string, topic: string, problem: Problem, now = this.#options.now()): void {
    this.#stats.problems[problem.code] = (this.#stats.problems[problem.code] ?? 0) + 1;
    const key = `${kitId}\u0000${problem.code}`;
    let state = this.#reports.get(key);
    if (!state) {
      state = { lastReport: -Infinity, suppressed: 0, lastLog: -Infinity, occurrences: 0 };
      this.#reports.set(key, state);
      if (this.#reports.size > MAX_REPORT_STATES)
        this.#reports.delete(this.#reports.keys().next().value as string);
    }
    state.occurrences++;
    if (now - state.lastLog >= this.#options.logEveryMs) {
      state.lastLog = now;
      this.#options.log({ kitId, problem, occurrences: state.occurrences });
    }
    if (now - state.lastReport >= this.#options.reportEveryMs) {
      const message: KitErrorMessage = {
        code: problem.code,
        severity: problem.severity,
        message: problem.message,
        topic,
        ts: now,
        repeated: state.suppressed,
      };
      if (problem.sensor !== undefined) message.sensor = problem.sensor;
      state.lastReport = now;
      state.suppressed = 0;
      for (const notify of this.#notifiers) notify(kitId, message);
    } else {
      state.suppressed++;
    }
  }

  /** Adds a way to tell kits why a message was refused or doubted (publishing on their error topic). */
  addNotifier(notify: (kitId: string, message: KitErrorMessage) => void): void {
    this.#notifiers.push(notify);
  }

  /**
   * Adds a listener for every accepted record (readings, and events and commands stored as series),
   * called synchronously after the sink: keep it cheap. Live grading uses it.
   */
  addListener(listener: (record: TelemetryRecord) => void): void {
    this.#listeners.push(listener);
  }

  /** Forgets a kit's rate-limit state (when it disconnects), so memory stays bounded. */
  forget(kitId: string): void {
    const prefix = `${kitId}\u0000`;
    for (const key of this.#reports.keys()) if (key.startsWith(prefix)) this.#reports.delete(key);
  }

  /**
   * The readings whose series the kit has, or may still add under `maxSensorsPerKit` (undefined
   * when none is left); the others are dropped, with one report for the message naming the first.
   */
  #withinSeriesLimit(
    kitId: string,
    topic: string,
    readings: Record<string, number>,
    now: number,
  ): Record<string, number> | undefined {
    const refused = Object.keys(readings).filter((name) => !this.#admitSeries(kitId, name));
    if (refused.length === 0) return readings;
    const kept = { ...readings };
    for (const name of refused) delete kept[name];
    const left = Object.keys(kept).length > 0;
    const problem = this.#seriesLimitProblem(refused[0] as string, refused.length - 1);
    this.report(kitId, topic, { ...problem, severity: left ? 'dropped' : 'refused' }, now);
    return left ? kept : undefined;
  }

  /**
   * Reads the series the store already has for a kit (after a restart), unless done already. The
   * broker calls it when a kit connects, so the names are known before its first message;
   * otherwise names count as they arrive until the store answers.
   */
  prepare(kitId: string): void {
    this.#seriesOf(kitId);
  }

  #seriesOf(kitId: string): Set<string> {
    const known = this.#series.get(kitId);
    if (known) return known;
    const names = new Set<string>();
    this.#series.set(kitId, names);
    this.#options.knownSeries?.(kitId).then(
      (stored) => {
        for (const name of stored) if (name !== SEQ_FIELD) names.add(name);
      },
      () => {}, // the store is unavailable: count from what arrives
    );
    return names;
  }

  /** Whether a kit may store this series: it has it already, or has room for one more. */
  #admitSeries(kitId: string, name: string): boolean {
    const names = this.#seriesOf(kitId);
    if (names.has(name)) return true;
    if (names.size >= this.#options.maxSensorsPerKit) return false;
    names.add(name);
    return true;
  }

  #seriesLimitProblem(name: string, others = 0): Problem {
    const max = this.#options.maxSensorsPerKit;
    return {
      code: 'SENSOR_LIMIT',
      severity: 'refused',
      sensor: name,
      message: `this kit already has ${max} sensors, events and commands (the limit); "${name}"${others > 0 ? ` and ${others} more new names` : ''} not stored: reuse your existing sensor names`,
    };
  }

  /**
   * Receive-time stamps never repeat for one kit: two messages in the same millisecond would
   * otherwise overwrite each other in the store.
   */
  #receiveStamp(kitId: string, now: number): number {
    const last = this.#lastStamp.get(kitId) ?? 0;
    const ts = now > last ? now : last + 1;
    this.#lastStamp.set(kitId, ts);
    return ts;
  }
}

/** A command's value as a number: on/true → 1, off/false → 0 (and no value means on). */
function commandNumber(value: unknown): number | undefined {
  if (value === undefined || value === true || value === 'on' || value === 'ON') return 1;
  if (value === false || value === 'off' || value === 'OFF') return 0;
  if (typeof value === 'number' && isStorableValue(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && isStorableValue(Number(value)))
    return Number(value);
  return undefined;
}
