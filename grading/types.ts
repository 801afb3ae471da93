/**
 * The shapes grading reads and writes. Pure data: no store, no HTTP. Times are ms since the Unix
 * epoch and every range is [from, to), as in the telemetry store.
 */
import type { CriterionType } from './criteria/index.ts';

export type { Criterion, CriterionOf, CriterionType, Rubric } from './rubric.ts';

/**
 * One reading: the telemetry store's `SeriesPoint`, which grading is given (the same shape,
 * declared here so that the criterion plug-ins, which the browser's rubric editor loads, reach
 * nothing of the store, Node-only).
 */
export interface SeriesPoint {
  ts: number;
  value: number;
}

/** The attempt's window: [from, to) in ms. */
export interface TimeWindow {
  from: number;
  to: number;
}

/**
 * A series as two columns, oldest first: what the checks that read every reading of a long series
 * (authenticity) take, without an object per reading.
 */
export interface SeriesColumns {
  readonly ts: Float64Array;
  readonly values: Float64Array;
}

/** Readings per sensor, oldest first. Actuator states are sensors too (`fan` 0/1). */
export type SeriesSet = Readonly<Record<string, readonly SeriesPoint[]>>;

/** An event the kit published (`{"event": "alarm", "value": 1}`). */
export interface GradingEvent {
  ts: number;
  event: string;
  value?: number;
}

/** A command sent to the kit (`{"command": "fan", "value": "on"}`). */
export interface GradingCommand {
  ts: number;
  command: string;
  value?: number | string | boolean;
}

/** Everything an attempt produced. Data outside the window is ignored. */
export interface GradingData {
  series: SeriesSet;
  events: readonly GradingEvent[];
  commands: readonly GradingCommand[];
}

export interface GradeOptions {
  /** An earlier attempt of the same kit (or student): a stretch of it sent again is a replay. */
  previous?: Pick<GradingData, 'series'>;
  /** Other kits of the same session, by kit id: a stream identical to one of them is a copy. */
  peers?: Readonly<Record<string, SeriesSet>>;
  /**
   * The sensors authenticity checks when its criterion names none: the task's required sensors.
   * Without it: every series that is not an actuator state (only 0/1 values, or a known actuator).
   */
  requiredSensors?: readonly string[];
}

/** A sentence in each language the platform speaks. */
export interface Localized {
  'zh-CN': string;
  en: string;
}

/** A stretch of time that passed or failed (a gap, an out-of-range run, a threshold crossing…). */
export interface EvidenceSpan {
  from: number;
  to: number;
  ok: boolean;
  note?: string;
}

export interface Evidence {
  /** The numbers measured, named with their unit (`rateHz`, `longestGapSeconds`, `percentInRange`): for machines. */
  measured: Record<string, number>;
  /**
   * The passing (`ok`) and failing spans of the criterion: where what it asks for held and where
   * it did not; a failed criterion has failing spans where it failed, and passing spans never
   * cover a failing stretch. At most {@link MAX_SPANS}, failed ones first when some had to be
   * left out (`measured.spansOmitted`).
   */
  spans: EvidenceSpan[];
  /**
   * The numbers measured as short sentences with units, for people ("共 167 个温度读数，采样频率
   * 0.5 Hz，最长连续达标 5.5 分钟（要求 10 分钟）"). Criterion results graded in full (final grades)
   * have it; live states and flags do not.
   */
  summary?: Localized;
}

export interface CriterionResult {
  id: string;
  type: CriterionTypeName;
  weight: number;
  /** 0..weight: a fraction of the weight with partialCredit, otherwise 0 or weight. */
  score: number;
  passed: boolean;
  /**
   * Live grading only (the attempt runs): there is not enough data to judge the criterion yet —
   * neither passed nor failed, score 0; `waitingFor` says what it waits for (absent from final
   * grades, which judge every criterion).
   */
  pending?: true;
  /** What a pending criterion waits for ("需要 30 分钟的数据，已有 2 分钟"); with detail `verdict`, absent. */
  waitingFor?: Localized;
  evidence: Evidence;
  explanation: Localized;
}

/** The name of a criterion type (the registry's: criteria/index.ts). */
export type CriterionTypeName = CriterionType;

export type FlagKind =
  /** The series does not change (the whole window, or a long run). */
  | 'constant'
  /** A noiseless pattern: exactly periodic, constant steps, or a perfectly smooth curve. */
  | 'pattern'
  /** A stretch repeats, value for value, an earlier stretch of this attempt or of `previous`. */
  | 'replay'
  /** The series is identical to another kit's (`peers`) at most aligned readings. */
  | 'copy';

/** Something that makes the data look fabricated, for the instructor to review. */
export interface AuthenticityFlag {
  kind: FlagKind;
  sensor: string;
  /** copy: the kit copied from (or copying); replay: "previous" when the earlier attempt is the source. */
  source?: string;
  evidence: Evidence;
  explanation: Localized;
}

export interface GradeResult {
  window: TimeWindow;
  /** Sum of the criteria scores. */
  total: number;
  /** Sum of the weights (100 for a valid rubric). */
  maxTotal: number;
  criteria: CriterionResult[];
  /** Every authenticity flag, whether or not the rubric has an authenticity criterion. */
  flags: AuthenticityFlag[];
}

/** Spans kept per criterion or flag. */
export const MAX_SPANS = 100;
