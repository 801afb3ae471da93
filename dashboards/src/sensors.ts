/** Which sensors to show first: measurements (in this order), then unknown ones, actuator states last. */
const SENSOR_ORDER = [
  'temperature',
  'humidity',
  'light',
  'soil_moisture',
  'gas',
  'co2',
  'distance',
  'pressure',
  'motion',
];
const ACTUATORS = new Set(['fan', 'pump', 'led', 'buzzer', 'relay']);

function rank(sensor: string): number {
  const known = SENSOR_ORDER.indexOf(sensor);
  if (known >= 0) return known;
  return ACTUATORS.has(sensor) ? 1000 : 100;
}

export function bySensorRank(a: string, b: string): number {
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** The four sensors a class-board card shows. */
export function boardSensors(sensors: string[]): string[] {
  return [...sensors].sort(bySensorRank).slice(0, 4);
}
