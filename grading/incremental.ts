/**
 * A rubric evaluated again and again on an attempt's data while it grows (live grading), and once
 * on data read back from the store (`gradeLive`). Criterion by criterion exactly as `gradeAttempt`
 * evaluates it, but computing authenticity flags only for the sensors an authenticity criterion
 * checks (live states carry no flags, and the flags are most of the cost on long windows).
 *
 * On live buffers, what costs in proportion to the window is kept between evaluations: each
 * criterion that reads one series in one pass is a scan (its plug-in's, criteria/) that takes only the
 * readings appended since the last evaluation, and authenticity flags are reused until
 * `refreshFlags`. Everything per evaluation is made once per attempt (the context, the flag
 * lookup), since live grading runs a thousand of them a second.
 *
 * While the attempt runs (`{ running: true }`) a criterion without enough data to judge is
 * pending (each plug-in says when, criteria/); authenticity flags computed before a sensor had enough data are computed
 * again as soon as it has (once), so "measured" is never said on flags from too little data.
 */
import { authenticityReady, sensorFlags } from './authenticity.ts';
import type { SeriesBuffer } from './buffer.ts';
import { createScan, evaluateWith } from './criteria/index.ts';
import type { CriterionScan, EvaluationEnv, GradingContext, ScanOptions } from './criteria/plugin.ts';
import { createContext, defaultAuthenticitySensors } from './evaluate.ts';
import type { Detail } from './evidence.ts';
import type { Criterion, Rubric } from './rubric.ts';
import type {
  AuthenticityFlag,
  CriterionResult,
  GradeOptions,
  GradingCommand,
  GradingData,
  GradingEvent,
  SeriesColumns,
  TimeWindow,
} from './types.ts';

const NO_COLUMNS: SeriesColumns = { ts: new Float64Array(0), values: new Float64Array(0) };

/** A rubric evaluation without the authenticity flags nobody asked for. */
export interface LiveGrade {
  total: number;
  maxTotal: number;
  criteria: CriterionResult[];
}

/** An attempt's buffers, cut to the window and in time order (LiveGrader's trim does both). */
export interface LiveBuffers {
  readonly series: ReadonlyMap<string, SeriesBuffer>;
  readonly events: readonly GradingEvent[];
  readonly commands: readonly GradingCommand[];
}

/** How much to build of each criterion's result: one level for all, or one per criterion index. */
export type DetailOf = Detail | ((index: number) => Detail);

export interface EvaluationOptions {
  /**
   * The attempt still runs (live grading): a criterion without enough data to judge is pending
   * (score 0, neither passed nor failed). Default false: every criterion is judged, as final
   * grading does.
   */
  running?: boolean;
}

/**
 * The rubric on the data in the window, once. `detail` `verdict` is enough to know what passes
 * (the prefix scan that finds when stored data first passed).
 */
export function gradeLive(
  rubric: Rubric,
  window: TimeWindow,
  data: GradingData,
  options: GradeOptions = {},
  detail: DetailOf = 'full',
  evaluation: EvaluationOptions = {},
): LiveGrade {
  return new IncrementalGrading(rubric, options, { data }).evaluate(window, detail, evaluation);
}

export interface IncrementalOptions extends ScanOptions {
  /**
   * Authenticity flags from the last this-many ms of the window only (on live buffers): a check
   * reads every reading it covers, so this bounds what a re-check costs on long attempts.
   */
  flagsWindowMs?: number;
}

interface ScanSlot {
  scan: CriterionScan;
  /** How many readings of its series buffer the scan has taken. */
  fed: number;
}

/**
 * An attempt's rubric on its live buffers (or, once, on stored data). The owner tells it when a
 * series buffer changed other than by appending (`forget`: reordered, trimmed, a reading
 * replaced), and when authenticity is due again (`refreshFlags`). With `{ spans: false }` its
 * scans keep no evidence spans (live grading shows none): `full` results then lack theirs.
 */
export class IncrementalGrading {
  readonly #rubric: Rubric;
  readonly #options: GradeOptions;
  readonly #buffers: LiveBuffers | undefined;
  readonly #data: GradingData | undefined;
  readonly #maxTotal: number;
  readonly #spans: boolean;
  readonly #flagsWindowMs: number | undefined;
  /** Per criterion: its scan, null when its type has none, undefined when not made yet. */
  readonly #scans: (ScanSlot | null | undefined)[];
  /** Per sensor: its flags, and whether the sensor had enough data to be judged then. */
  readonly #flags = new Map<string, { flags: AuthenticityFlag[]; ready: boolean }>();
  #defaults: string[] | undefined;
  #ctx: GradingContext;
  /** What evaluations of the whole context get: the flags, and the default sensors (found when asked). */
  readonly #env: EvaluationEnv;

  constructor(
    rubric: Rubric,
    options: GradeOptions,
    source: { buffers: LiveBuffers; data?: never } | { data: GradingData; buffers?: never },
    tuning: IncrementalOptions = {},
  ) {
    this.#spans = tuning.spans !== false;
    this.#flagsWindowMs = tuning.flagsWindowMs;
    this.#rubric = rubric;
    this.#options = options;
    this.#buffers = source.buffers;
    this.#data = source.data;
    this.#maxTotal = Math.round(rubric.criteria.reduce((sum, c) => sum + c.weight, 0) * 100) / 100;
    // Stored data is graded through the evaluators' own passes: no scans kept.
    this.#scans = rubric.criteria.map(() => (source.buffers ? undefined : null));
    const defaults = () => this.#defaultSensors();
    this.#env = {
      flagsOf: this.#flagsOf,
      get defaultSensors() {
        return defaults();
      },
    };
    this.#ctx = source.buffers
      ? this.#bufferContext(source.buffers)
      : createContext(
          { from: 0, to: 0 },
          {
            series: {},
            events: [],
            commands: [],
          },
        );
  }

  /**
   * Every criterion on the window (the buffers must hold exactly the window's data); `running`:
   * the attempt still runs, criteria without enough data are pending.
   */
  evaluate(window: TimeWindow, detail: DetailOf = 'full', evaluation: EvaluationOptions = {}): LiveGrade {
    if (this.#data) this.#ctx = createContext(window, this.#data);
    else {
      // In place: the context lives as long as the attempt, a window object per evaluation would too.
      this.#ctx.window.from = window.from;
      this.#ctx.window.to = window.to;
    }
    this.#ctx.running = evaluation.running === true;
    const n = this.#rubric.criteria.length;
    const criteria: CriterionResult[] = new Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const result = this.result(i, typeof detail === 'function' ? detail(i) : detail);
      criteria[i] = result;
      total += result.score;
    }
    return { total: Math.round(total * 100) / 100, maxTotal: this.#maxTotal, criteria };
  }

  /** Criterion `index` again on the window (and `running`) of the last `evaluate`, e.g. with more detail. */
  result(index: number, detail: Detail): CriterionResult {
    const criterion = this.#rubric.criteria[index] as Criterion;
    const slot = this.#scan(index, criterion);
    if (slot) return slot.scan.finish(this.#ctx, detail);
    return evaluateWith(criterion, this.#ctx, this.#env, detail);
  }

  /** Forgets the scans that read `series` (its buffer changed other than by appending). */
  forget(series: string): void {
    this.#scans.forEach((slot, index) => {
      if (slot?.scan.sensor === series) this.#scans[index] = undefined;
    });
  }

  /** Authenticity flags are computed again at the next evaluation. */
  refreshFlags(): void {
    this.#flags.clear();
    this.#defaults = undefined;
  }

  /** The criterion's scan, fed what its series buffer appended since; null when it has none. */
  #scan(index: number, criterion: Criterion): ScanSlot | null {
    let slot = this.#scans[index];
    if (slot === null) return null;
    if (slot === undefined) {
      const scan = createScan(criterion, { spans: this.#spans });
      slot = scan ? { scan, fed: 0 } : null;
      this.#scans[index] = slot;
      if (!slot) return null;
    }
    const buffer = this.#buffers?.series.get(slot.scan.sensor);
    if (buffer) {
      const { scan } = slot;
      for (let i = slot.fed; i < buffer.length; i++) scan.add(buffer.tsAt(i), buffer.valueAt(i));
      slot.fed = buffer.length;
    }
    return slot;
  }

  /**
   * The authenticity flags of the sensors (each once, in order), computed when not kept — or kept
   * from before the sensor had enough data to be judged, and it has now.
   */
  readonly #flagsOf = (sensors: readonly string[]): AuthenticityFlag[] => {
    const all: AuthenticityFlag[] = [];
    let ctx: GradingContext | undefined;
    sensors.forEach((sensor, i) => {
      if (sensors.indexOf(sensor) !== i) return;
      let kept = this.#flags.get(sensor);
      const running = this.#ctx.running === true;
      if (!kept || (running && !kept.ready && authenticityReady(sensor, this.#ctx))) {
        ctx ??= this.#flagContext();
        kept = {
          flags: sensorFlags(sensor, ctx, this.#options),
          ready: !running || authenticityReady(sensor, this.#ctx),
        };
        this.#flags.set(sensor, kept);
      }
      all.push(...kept.flags);
    });
    return all;
  };

  /** Found when a criterion asks for them (authenticity naming no sensors), kept until `refreshFlags`. */
  #defaultSensors(): readonly string[] {
    const names = this.#buffers ? [...this.#buffers.series.keys()] : Object.keys(this.#data?.series ?? {});
    this.#defaults ??= defaultAuthenticitySensors(this.#rubric, this.#flagContext(), names, this.#options);
    return this.#defaults;
  }

  /** What authenticity reads: the window, or its last `flagsWindowMs` on live buffers. */
  #flagContext(): GradingContext {
    const buffers = this.#buffers;
    const { window } = this.#ctx;
    const from = Math.max(window.from, window.to - (this.#flagsWindowMs ?? Number.POSITIVE_INFINITY));
    if (!buffers || from <= window.from) return this.#ctx;
    const first = (buffer: SeriesBuffer) => buffer.firstAtOrAfter(from);
    return {
      window: { from, to: window.to },
      points: (sensor) => {
        const buffer = buffers.series.get(sensor);
        return buffer ? buffer.points(first(buffer)) : [];
      },
      count: (sensor) => {
        const buffer = buffers.series.get(sensor);
        return buffer ? buffer.length - first(buffer) : 0;
      },
      spanMs: (sensor) => {
        const buffer = buffers.series.get(sensor);
        const at = buffer ? first(buffer) : 0;
        return buffer && buffer.length - at > 1 ? buffer.tsAt(buffer.length - 1) - buffer.tsAt(at) : 0;
      },
      columns: (sensor) => {
        const buffer = buffers.series.get(sensor);
        return buffer ? buffer.columns(first(buffer)) : NO_COLUMNS;
      },
      events: buffers.events.filter((e) => e.ts >= from),
      commands: buffers.commands.filter((c) => c.ts >= from),
    };
  }

  #bufferContext(buffers: LiveBuffers): GradingContext {
    return {
      window: { from: 0, to: 0 },
      // Built on each call: the evaluators read buffers as columns, and scans take the readings.
      points: (sensor) => buffers.series.get(sensor)?.points() ?? [],
      count: (sensor) => buffers.series.get(sensor)?.length ?? 0,
      spanMs: (sensor) => {
        const buffer = buffers.series.get(sensor);
        return buffer && buffer.length > 1 ? buffer.tsAt(buffer.length - 1) - buffer.tsAt(0) : 0;
      },
      columns: (sensor) => buffers.series.get(sensor)?.columns() ?? NO_COLUMNS,
      get events() {
        return buffers.events;
      },
      get commands() {
        return buffers.commands;
      },
    };
  }
}
