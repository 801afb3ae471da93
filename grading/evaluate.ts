/** Grading an attempt: every criterion of the rubric on the data of the attempt's window. */
import type { Criterion, Rubric } from '../lab-api/rubric.ts';
import { sensorSpec } from '../protocol/sensors.ts';
import { authenticity, sensorFlags } from './authenticity.ts';
import {
  actuatorEffect,
  type CriterionScan,
  createScan,
  events as eventsCriterion,
  type GradingContext,
  scanAll,
} from './criteria.ts';
import type { Detail } from './evidence.ts';
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

/** Actuators the rubric refers to. */
function rubricActuators(rubric: Rubric): Set<string> {
  const names = new Set<string>();
  for (const c of rubric.criteria) {
    if (c.type === 'threshold_response' && c.params.respondWith.actuator)
      names.add(c.params.respondWith.actuator);
    if (c.type === 'actuator_effect' && c.params.actuator) names.add(c.params.actuator);
  }
  return names;
}

/**
 * The sensors authenticity checks by default: the task's required sensors when given, else every
 * series with data that is not an actuator state (a known actuator, one the rubric switches, or a
 * series of only 0/1 values).
 */
export function defaultAuthenticitySensors(
  rubric: Rubric,
  ctx: GradingContext,
  seriesNames: readonly string[],
  options: GradeOptions,
): string[] {
  if (options.requiredSensors) return [...options.requiredSensors];
  const actuators = rubricActuators(rubric);
  return seriesNames
    .filter((name) => {
      if (actuators.has(name)) return false;
      if (sensorSpec(name)?.description.en.includes('(actuator)')) return false;
      const { values } = ctx.columns(name);
      return values.length > 0 && !values.every((v) => v === 0 || v === 1);
    })
    .sort();
}

/**
 * One criterion on the context; `flagsOf` gives the authenticity flags of a list of sensors.
 * `detail` (default `full`) is how much of the result to build.
 */
export function evaluateCriterion(
  criterion: Criterion,
  ctx: GradingContext,
  flagsOf: (sensors: readonly string[]) => AuthenticityFlag[],
  defaultSensors: readonly string[],
  detail: Detail = 'full',
): CriterionResult {
  switch (criterion.type) {
    case 'actuator_effect':
      return actuatorEffect(criterion, ctx, detail);
    case 'events':
      return eventsCriterion(criterion, ctx, detail);
    case 'authenticity': {
      const sensors = criterion.params?.sensors ?? defaultSensors;
      return authenticity(criterion, sensors, flagsOf(sensors), ctx, detail);
    }
    default:
      return scanAll(createScan(criterion) as CriterionScan, ctx, detail);
  }
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
  const criteria = rubric.criteria.map((c) => evaluateCriterion(c, ctx, flagsOf, defaults));
  flagsOf(defaults);
  const flags = [...flagCache.values()].flat();
  const total = Math.round(criteria.reduce((sum, c) => sum + c.score, 0) * 100) / 100;
  const maxTotal = Math.round(rubric.criteria.reduce((sum, c) => sum + c.weight, 0) * 100) / 100;
  return { window: { ...window }, total, maxTotal, criteria, flags };
}
