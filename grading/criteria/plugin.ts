/**
 * What a criterion plug-in works with and gives back (each type's module, <type>.ts, is one
 * plug-in, built with define.ts `defineCriterion`): the attempt's data cut to its window, the scan
 * live grading keeps, what an evaluation of the whole attempt may ask for, the sensors and
 * actuators a criterion reads, and small helpers for their checks.
 */
import type { Detail } from '../evidence.ts';
import type {
  AuthenticityFlag,
  CriterionResult,
  GradingCommand,
  GradingEvent,
  Localized,
  SeriesColumns,
  SeriesPoint,
  TimeWindow,
} from '../types.ts';

/** The attempt's data cut to its window. */
export interface GradingContext {
  window: TimeWindow;
  /**
   * The attempt still runs (live grading): a criterion without enough data to judge is pending
   * (see each plug-in). Absent or false: the window is final, every criterion is judged.
   */
  running?: boolean;
  /** Finite readings of a sensor in the window, oldest first (live buffers build them on each call). */
  points(sensor: string): readonly SeriesPoint[];
  /** How many readings `points` has (without building them, for live buffers). */
  count(sensor: string): number;
  /** Ms from the sensor's first reading to its last (0 with fewer than two), without building them. */
  spanMs(sensor: string): number;
  /** The same readings as columns (views of a live buffer: valid until it changes). */
  columns(sensor: string): SeriesColumns;
  events: readonly GradingEvent[];
  commands: readonly GradingCommand[];
}

/**
 * An evaluator that reads one series in a single pass: `add` takes its readings in time order,
 * `finish` gives the result for the window so far (and can be called again after more readings).
 * Final grading feeds the whole window at once; live grading keeps the scan and feeds each new
 * reading once, so an evaluation costs what arrived since the last one, not the whole window.
 */
export interface CriterionScan {
  /** The series whose readings `add` takes. */
  readonly sensor: string;
  /** The next reading (numbers, not a point object: live grading feeds them from typed arrays). */
  add(ts: number, value: number): void;
  /** The result so far; `detail` says how much of it to build (default `full`). */
  finish(ctx: GradingContext, detail?: Detail): CriterionResult;
}

export interface ScanOptions {
  /**
   * Whether to keep the evidence spans as readings arrive (default true). Live grading does not:
   * it never shows them, and over hours of noisy data they are most of a scan's memory. A scan
   * without them gives `full` results with the spans it has: none.
   */
  spans?: boolean;
}

/** What an evaluation of the whole context may ask for besides the data. */
export interface EvaluationEnv {
  /** The authenticity flags of these sensors (each computed once per evaluation, or kept). */
  flagsOf(sensors: readonly string[]): AuthenticityFlag[];
  /** The sensors authenticity checks when its criterion names none. */
  readonly defaultSensors: readonly string[];
}

/** A name a criterion reads, with the field that names it (problems say "params.actuator …"). */
export interface NameRef {
  name: string;
  /** `sensor` for the criterion's own sensor, else the path in params (`params.respondWith.actuator`). */
  field: string;
}

/** The series a criterion reads: sensors (required by the task) and actuator states. */
export interface CriterionReads {
  sensors: NameRef[];
  actuators: NameRef[];
}

/** Runs a scan over the window's readings of its series. */
export function scanAll(scan: CriterionScan, ctx: GradingContext, detail: Detail = 'full'): CriterionResult {
  for (const point of ctx.points(scan.sensor)) scan.add(point.ts, point.value);
  return scan.finish(ctx, detail);
}

/** A problem's sentence in both languages, as written (rubric problems are read as they are). */
export const problem = (en: string, zh: string): Localized => ({ 'zh-CN': zh, en });

/** Whether exactly one of the keys is given. */
export function exactlyOne(params: object, keys: readonly string[]): boolean {
  const record = params as Record<string, unknown>;
  return keys.filter((key) => record[key] !== undefined).length === 1;
}

/** The criterion's own sensor as a reference. */
export const sensorRef = (name: string): NameRef => ({ name, field: 'sensor' });
