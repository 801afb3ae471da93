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
import type { GradingCommand, GradingData, GradingEvent, TimeWindow } from './types.ts';

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
  const events: GradingEvent[] = [];
  const commands: GradingCommand[] = [];
  for (const name of await store.seriesNames(kitId)) {
    if (name.startsWith(EVENT_PREFIX)) {
      const event = name.slice(EVENT_PREFIX.length);
      for (const point of await all(name)) events.push({ ts: point.ts, event, value: point.value });
    } else if (name.startsWith(COMMAND_PREFIX)) {
      const command = name.slice(COMMAND_PREFIX.length);
      for (const point of await all(name)) commands.push({ ts: point.ts, command, value: point.value });
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
