import {
  checkEvent,
  checkTelemetry,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_TIMESTAMP_LIMITS,
  isValidSensorName,
  type KitErrorMessage,
  type Problem,
  type ProblemCode,
  payloadText,
  type TelemetryRecord,
} from '../protocol/index.ts';
import { COMMAND_PREFIX, EVENT_PREFIX } from '../telemetry/index.ts';

export interface IngestOptions {
  /** Where accepted records go (the telemetry writer). */
  sink: (record: TelemetryRecord) => void;
  /** Called the first time a (kit, reason) pair occurs, and then at most every `logEveryMs`. */
  log: (entry: { kitId: string; problem: Problem; occurrences: number }) => void;
  maxPayloadBytes?: number;
  maxFutureMs?: number;
  maxPastMs?: number;
  /** At most one error report per (kit, reason) in this window; the next says how many it stands for. */
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
  readonly #options: Required<Omit<IngestOptions, 'sink' | 'log' | 'now'>> &
    Pick<IngestOptions, 'sink' | 'log'> & { now: () => number };
  /** Those that tell kits about problems: the broker, or the client of an external broker. */
  readonly #notifiers: ((kitId: string, message: KitErrorMessage) => void)[] = [];
  readonly #listeners: ((record: TelemetryRecord) => void)[] = [];
  readonly #lastStamp = new Map<string, number>();
  readonly #reports = new Map<string, ReportState>();
  readonly #stats: IngestStats = { messages: 0, accepted: 0, readings: 0, refused: 0, problems: {} };

  constructor(options: IngestOptions) {
    this.#options = {
      maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
      maxFutureMs: DEFAULT_TIMESTAMP_LIMITS.maxFutureMs,
      maxPastMs: DEFAULT_TIMESTAMP_LIMITS.maxPastMs,
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
    if (!verdict.ok) {
      this.#stats.refused++;
      return false;
    }
    const { ts, seq, readings } = verdict.value;
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
    this.#options.sink({
      kitId,
      ts: ts ?? this.#receiveStamp(kitId, now),
      readings: { [`${EVENT_PREFIX}${event}`]: value ?? 1 },
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
    if (numeric === undefined) return;
    const now = this.#options.now();
    this.#options.sink({
      kitId,
      ts: this.#receiveStamp(kitId, now),
      readings: { [`${COMMAND_PREFIX}${command}`]: numeric },
    });
  }

  /** Counts, logs (once per reason per kit) and reports (rate-limited) a problem to the kit. */
  report(kitId: string, topic: string, problem: Problem, now = this.#options.now()): void {
    this.#stats.problems[problem.code] = (this.#stats.problems[problem.code] ?? 0) + 1;
    const key = `${kitId}\u0000${problem.code}\u0000${problem.sensor ?? ''}`;
    let state = this.#reports.get(key);
    if (!state) {
      state = { lastReport: -Infinity, suppressed: 0, lastLog: -Infinity, occurrences: 0 };
      this.#reports.set(key, state);
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
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}
