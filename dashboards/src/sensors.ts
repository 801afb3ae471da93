/**
 * Which sensors to show first: the measurements of protocol/sensors.ts's display order, then
 * unknown ones, actuator states (the protocol's `kind`) last.
 */
import { isActuator, SENSOR_DISPLAY_ORDER } from '../../protocol/index.ts';

function rank(sensor: string): number {
  const known = SENSOR_DISPLAY_ORDER.indexOf(sensor);
  if (known >= 0) return known;
  return isActuator(sensor) ? 1000 : 100;
}

export function bySensorRank(a: string, b: string): number {
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** The four sensors a class-board card shows. */
export function boardSensors(sensors: string[]): string[] {
  return [...sensors].sort(bySensorRank).slice(0, 4);
}
