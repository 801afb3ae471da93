/**
 * A kit's profile: which sensors and actuators it has, the alarm a correct sketch raises, and what
 * its fan does (for grading). Each family of kits (greenhouse.ts, cold-chain.ts, security.ts,
 * air-quality.ts) defines its profile next to the physics of the room it measures.
 */

export interface SensorInfo {
  name: string;
  /** The part; sensors of one part fail together when it is unplugged (DHT22: temperature and humidity). */
  part: string;
  resolution: number;
  /** What a sketch that fabricates data hard-codes (the "constant" fault), and the centre of a "pattern". */
  nominal: number;
  /** Half the peak-to-peak of a fabricated "pattern". */
  swing: number;
  /** Default spike size of the "noise" fault, in the sensor's unit. */
  spike: number;
  /** 0/1 sensors (PIR). */
  binary?: boolean;
}

export interface AlarmRule {
  /** The reading watched. */
  sensor: string;
  /** The alarm is raised when the reading goes above this … */
  above: number;
  /** … and cleared when it falls below this (hysteresis). */
  clearBelow: number;
  /** Switched on with the alarm and off when it clears. */
  actuators: readonly string[];
  /** Event name: `{"event": "alarm", "value": 1}` when raised, `value: 0` when cleared. */
  event: string;
}

/** Fan on: the temperature falls by about `coolingC` (°C) with time constant `tauS` (s). */
export interface FanEffect {
  readonly coolingC: number;
  readonly tauS: number;
}

export interface Profile {
  name: string;
  description: string;
  sensors: readonly SensorInfo[];
  actuators: readonly string[];
  /** Actuator states at power-on. */
  initialActuators: Readonly<Record<string, number>>;
  alarm?: AlarmRule;
  /** Events the environment raises besides the alarm (e.g. "door"). */
  events: readonly string[];
  /** What the fan does (for grading): temperature falls by about `coolingC` with time constant `tauS`. */
  fan?: FanEffect;
}

/** A DHT22's two sensors; `nominal*` is what a sketch that fabricates data hard-codes. */
export function dht22Sensors(nominalT: number, nominalH: number): SensorInfo[] {
  return [
    { name: 'temperature', part: 'DHT22', resolution: 0.1, nominal: nominalT, swing: 3, spike: 15 },
    { name: 'humidity', part: 'DHT22', resolution: 0.1, nominal: nominalH, swing: 10, spike: 30 },
  ];
}
