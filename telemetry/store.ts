import type { TelemetryRecord } from '../protocol/index.ts';

/**
 * The one interface grading, dashboards and the HTTP API read and ingest writes through.
 * Times are ms since the Unix epoch; ranges are [from, to).
 *
 * Writing the same record twice (a spool replay after a timeout that did reach the store)
 * must not change any query result: a reading is identified by (kit, sensor, ts).
 */
export interface TelemetryStore {
  readonly kind: 'embedded' | 'influxdb';
  /** Writes a batch. Throws a {@link StoreWriteError}; `transient` ones are spooled and retried. */
  write(records: readonly TelemetryRecord[]): Promise<void>;
  /** Raw readings of one sensor, oldest first. */
  readings(query: SeriesQuery): Promise<SeriesPoint[]>;
  /** One sensor aggregated in windows of `every` ms aligned to the epoch; empty windows are left out. */
  aggregate(query: SeriesQuery & { every: number }): Promise<WindowPoint[]>;
  /** Latest value of each sensor of a kit. */
  latest(kitId: string): Promise<Record<string, SeriesPoint>>;
  /** Number of readings (one sensor value each) of a kit, or of one sensor, in a range. */
  count(query: CountQuery): Promise<number>;
  /** Sequence numbers (`seq`) the kit sent in a range, for loss detection. */
  sequence(query: Omit<CountQuery, 'sensor'>): Promise<SeriesPoint[]>;
  /** Names of every series a kit has: sensors, and the `_seq`, `@event.*`, `@command.*` series. */
  seriesNames(kitId: string): Promise<string[]>;
  /** True when the store answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface SeriesQuery {
  kitId: string;
  sensor: string;
  from: number;
  to: number;
  /** Most points returned (default 10,000). */
  limit?: number;
}

export interface CountQuery {
  kitId: string;
  sensor?: string;
  from: number;
  to: number;
}

export interface SeriesPoint {
  ts: number;
  value: number;
}

export interface WindowPoint {
  /** Start of the window. */
  ts: number;
  mean: number;
  min: number;
  max: number;
  count: number;
}

export const DEFAULT_QUERY_LIMIT = 10_000;

/** The pseudo-sensor that carries a record's `seq`; sensor names cannot start with `_`. */
export const SEQ_FIELD = '_seq';

/**
 * Events a kit raised and commands sent to it are stored beside the readings, as series whose
 * names no sensor can have: `@event.alarm` (value 1, or the event's value), `@command.fan` (1 on,
 * 0 off, or the number sent). Grading reads them (threshold response, actuator effect, events).
 */
export const EVENT_PREFIX = '@event.';
export const COMMAND_PREFIX = '@command.';

/** Whether a series is a sensor's (not `_seq`, an event or a command). */
export function isSensorSeries(name: string): boolean {
  return !name.startsWith('_') && !name.startsWith('@');
}

export class StoreWriteError extends Error {
  /** Transient: the store was unreachable, overloaded or failed (network, 429, 5xx). Retry later. */
  readonly transient: boolean;
  constructor(message: string, transient: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreWriteError';
    this.transient = transient;
  }
}
