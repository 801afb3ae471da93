/** Filling an attempt's grading data from the telemetry store. */
import {
  COMMAND_PREFIX,
  DEFAULT_QUERY_LIMIT,
  EVENT_PREFIX,
  type SeriesPoint,
  type TelemetryStore,
} from '../telemetry/index.ts';
import { rubricReads } from './criteria/index.ts';
import type { Rubric } from './rubric.ts';
import type { GradingCommand, GradingData, GradingEvent, SeriesSet, TimeWindow } from './types.ts';

/**
 * The readings of `sensors` (actuator states included: they are series too) of a kit in
 * [window.from, window.to), paged through the store's query limit, and the events the kit raised
 * and the commands sent to it (stored as `@event.<name>` / `@command.<name>` series).
 */
export async function loadGradingData(
  store: TelemetryStore,
  kitId: string,
  window: TimeWindow,
  sensors: readonly string[],
): Promise<GradingData> {
  return gradingDataOf(await loadKitSeries(store, kitId, window, sensors), window, sensors);
}

/**
 * What {@link loadGradingData} reads of a kit, as the store holds it: the readings of `sensors`,
 * then every `@event.*` and `@command.*` series (in the store's order), in [window.from, window.to),
 * oldest first. Read once over a span, it gives the grading data of any window inside the span
 * ({@link gradingDataOf}): a batch reads each kit of a session once, for its own attempt and as a
 * peer of the others.
 */
export async function loadKitSeries(
  store: TelemetryStore,
  kitId: string,
  window: TimeWindow,
  sensors: readonly string[],
): Promise<SeriesSet> {
  const all = async (name: string): Promise<SeriesPoint[]> => {
    const points: SeriesPoint[] = [];
    let from = window.from;
    while (from < window.to) {
      const page = await store.readings({
        kitId,
        sensor: name,
        from,
        to: window.to,
        limit: DEFAULT_QUERY_LIMIT,
      });
      points.push(...page);
      const last = page[page.length - 1];
      // A reading is identified by (kit, sensor, ts): the next page starts just after the last one.
      if (page.length < DEFAULT_QUERY_LIMIT || !last) break;
      from = last.ts + 1;
    }
    return points;
  };
  const series: Record<string, SeriesPoint[]> = {};
  for (const sensor of new Set(sensors)) series[sensor] = await all(sensor);
  for (const name of await store.seriesNames(kitId)) {
    if (isEventOrCommand(name) && !(name in series)) series[name] = await all(name);
  }
  return series;
}

function isEventOrCommand(name: string): boolean {
  return name.startsWith(EVENT_PREFIX) || name.startsWith(COMMAND_PREFIX);
}

/** The points of a series (sorted by ts) in [window.from, window.to): the series itself when all are. */
function sliceSeries(points: readonly SeriesPoint[], window: TimeWindow): readonly SeriesPoint[] {
  const first = (ts: number) => {
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as SeriesPoint).ts < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const start = first(window.from);
  const end = Math.max(start, first(window.to));
  return start === 0 && end === points.length ? points : points.slice(start, end);
}

/**
 * The grading data of `window` from a kit's series read by {@link loadKitSeries} over a span that
 * holds the window (with every name of `sensors`): exactly what {@link loadGradingData} over the
 * window gives.
 */
export function gradingDataOf(
  loaded: SeriesSet,
  window: TimeWindow,
  sensors: readonly string[],
): GradingData {
  const series: Record<string, readonly SeriesPoint[]> = {};
  for (const sensor of new Set(sensors)) {
    const points = loaded[sensor];
    if (!points) throw new Error(`grading data: the series of "${sensor}" were not loaded`);
    series[sensor] = sliceSeries(points, window);
  }
  const events: GradingEvent[] = [];
  const commands: GradingCommand[] = [];
  for (const [name, points] of Object.entries(loaded)) {
    if (name.startsWith(EVENT_PREFIX)) {
      const event = name.slice(EVENT_PREFIX.length);
      for (const point of sliceSeries(points, window))
        events.push({ ts: point.ts, event, value: point.value });
    } else if (name.startsWith(COMMAND_PREFIX)) {
      const command = name.slice(COMMAND_PREFIX.length);
      for (const point of sliceSeries(points, window))
        commands.push({ ts: point.ts, command, value: point.value });
    }
  }
  events.sort((a, b) => a.ts - b.ts);
  commands.sort((a, b) => a.ts - b.ts);
  return { series, events, commands };
}

/**
 * The series a rubric reads: its sensors and the actuators it watches, plus `extra` (the task's
 * required sensors, which an authenticity criterion without `sensors` checks).
 */
export function rubricSensors(rubric: Rubric, extra: readonly string[] = []): string[] {
  const reads = rubricReads(rubric.criteria);
  const names = new Set([...reads.sensors, ...reads.actuators]);
  for (const name of extra) names.add(name);
  return [...names].sort();
}
