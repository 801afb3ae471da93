/** Grading an attempt: every criterion of the rubric on the data of the attempt's window. */
import { isActuator } from '../protocol/index.ts';
import { sensorFlags } from './authenticity.ts';
import { evaluateWith, rubricReads } from './criteria/index.ts';
import type { EvaluationEnv, GradingContext } from './criteria/plugin.ts';
import type { Detail } from './evidence.ts';
import type { Criterion, Rubric } from './rubric.ts';
import { columnsOf, eventsInWindow, inWindow } from './series.ts';
import type {
  AuthenticityFlag,
  CriterionResult,
  GradeOptions,
  GradeResult,
  GradingData,
  SeriesPoint,
  TimeWindow,
} from './types.ts';

/** The data of the attempt cut to its window, each series read once. */
export function createContext(window: TimeWindow, data: GradingData): GradingContext {
  const cache = new Map<string, readonly SeriesPoint[]>();
  return {
    window,
    points(sensor) {
      let pts = cache.get(sensor);
      if (!pts) {
        pts = Object.hasOwn(data.series, sensor) ? inWindow(data.series[sensor], window) : [];
        cache.set(sensor, pts);
      }
      return pts;
    },
    count(sensor) {
      return this.points(sensor).length;
    },
    spanMs(sensor) {
      const pts = this.points(sensor);
      return pts.length > 1 ? (pts[pts.length - 1] as SeriesPoint).ts - (pts[0] as SeriesPoint).ts : 0;
    },
    columns(sensor) {
      return columnsOf(this.points(sensor));
    },
    events: eventsInWindow(data.events, window),
    commands: eventsInWindow(data.commands, window),
  };
}

/**
 * The sensors authenticity checks by default: the task's required sensors when given, else every
 * series with data that is not an actuator state (a known actuator — protocol/sensors.ts's `kind` —,
 * one the rubric switches, or a series of only 0/1 values).
 */
export function defaultAuthenticitySensors(
  rubric: Rubric,
  ctx: GradingContext,
  seriesNames: readonly string[],
  options: GradeOptions,
): string[] {
  if (options.requiredSensors) return [...options.requiredSensors];
  const actuators = new Set(rubricReads(rubric.criteria).actuators);
  return seriesNames
    .filter((name) => {
      if (actuators.has(name)) return false;
      if (isActuator(name)) return false;
      const { values } = ctx.columns(name);
      return values.length > 0 && !values.every((v) => v === 0 || v === 1);
    })
    .sort();
}

/**
 * One criterion on the context (its plug-in's scan or evaluation); `flagsOf` gives the
 * authenticity flags of a list of sensors. `detail` (default `full`) is how much of the result to
 * build.
 */
export function evaluateCriterion(
  criterion: Criterion,
  ctx: GradingContext,
  flagsOf: (sensors: readonly string[]) => AuthenticityFlag[],
  defaultSensors: readonly string[],
  detail: Detail = 'full',
): CriterionResult {
  const env: EvaluationEnv = { flagsOf, defaultSensors };
  return evaluateWith(criterion, ctx, env, detail);
}

/**
 * Grades an attempt: each criterion of the (validated) rubric on the data in [window.from,
 * window.to). Pure and deterministic: the same rubric, window and data give the same result,
 * whichever store the data came from. `flags` lists every authenticity flag (on the
 * authenticity criteria's sensors and the default ones), whether or not it costs points.
 */
export function gradeAttempt(
  rubric: Rubric,
  window: TimeWindow,
  data: GradingData,
  options: GradeOptions = {},
): GradeResult {
  const ctx = createContext(window, data);
  const flagCache = new Map<string, AuthenticityFlag[]>();
  const flagsOf = (sensors: readonly string[]) =>
    [...new Set(sensors)].flatMap((sensor) => {
      let flags = flagCache.get(sensor);
      if (!flags) {
        flags = sensorFlags(sensor, ctx, options);
        flagCache.set(sensor, flags);
      }
      return flags;
    });
  const defaults = defaultAuthenticitySensors(rubric, ctx, Object.keys(data.series), options);
  const env: EvaluationEnv = { flagsOf, defaultSensors: defaults };
  const criteria = rubric.criteria.map((c) => evaluateWith(c, ctx, env));
  flagsOf(defaults);
  const flags = [...flagCache.values()].flat();
  const total = Math.round(criteria.reduce((sum, c) => sum + c.score, 0) * 100) / 100;
  const maxTotal = Math.round(rubric.criteria.reduce((sum, c) => sum + c.weight, 0) * 100) / 100;
  return { window: { ...window }, total, maxTotal, criteria, flags };
}
