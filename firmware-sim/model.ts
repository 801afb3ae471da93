import type { KitCommand } from '../protocol/index.ts';

/**
 * Shared shapes of the firmware simulator: a kit's specification (from a scenario file), the
 * faults that can be injected into it, and the model that decides what the kit reports.
 * Transports (MQTT, serial pty, Firmata emulator) put the model's readings on the real wire.
 */

/** How the kit reaches the platform: ESP32 over Wi-Fi/MQTT, Arduino over USB serial, a StandardFirmata board. */
export type SimKitKind = 'esp32' | 'arduino' | 'firmata';

export type FaultType =
  /** A sensor's wire is out: it reports NaN (null in JSON / `nan` on serial), −127 (DS18B20-style) or a stuck last value. */
  | 'unplugged'
  /** Two sensors' wires are swapped: each reports the other's value. */
  | 'swapped'
  /** Bursts of electrical noise on a sensor. */
  | 'noise'
  /** The sensor keeps returning the same value. */
  | 'frozen'
  /** The kit's clock is off by `skewSeconds` (ESP32 kits send `ts`). */
  | 'clock-skew'
  /** Wi-Fi drops: the kit is disconnected for the fault's duration, then reconnects. */
  | 'wifi-drop'
  /** The serial line carries garbage bytes (wrong baud, loose USB cable) between good lines. */
  | 'serial-garbage'
  /** Fabricated data: every sensor reports a perfectly constant value. */
  | 'constant'
  /** Fabricated data: a perfect repeating pattern (sine or sawtooth with no noise). */
  | 'pattern'
  /** The kit resends readings it sent earlier (from `replayFromSeconds` after its start) instead of measuring. */
  | 'replay'
  /** The kit sends exactly the stream of kit `of` (copied data). */
  | 'clone'
  /** The kit samples slower than asked: one message every `intervalMs`. */
  | 'slow-sampling'
  /** The kit never raises its alarm event / actuator, whatever the readings. */
  | 'no-alarm';

export interface FaultSpec {
  type: FaultType;
  /** Seconds after the kit starts. */
  at: number;
  /** Seconds; absent means until the end. */
  duration?: number;
  /** unplugged, noise, frozen: the sensor concerned. */
  sensor?: string;
  /** swapped: the two sensors. */
  sensors?: [string, string];
  /** unplugged: what the missing sensor reports (default 'nan'). */
  reports?: 'nan' | 'minus127' | 'stuck';
  /** clock-skew */
  skewSeconds?: number;
  /** noise: amplitude in the sensor's unit. */
  amplitude?: number;
  /** replay */
  replayFromSeconds?: number;
  /** clone: id of the kit whose stream is copied. */
  of?: string;
  /** slow-sampling */
  intervalMs?: number;
}

export interface SimKitSpec {
  id: string;
  kind: SimKitKind;
  /** Which sensors and actuators, and their environment: e.g. "greenhouse", "cold-chain", "security". */
  profile: string;
  /** Time between messages (ms). */
  intervalMs: number;
  faults: FaultSpec[];
  /** Makes the kit's randomness repeatable. */
  seed: number;
}

/** What the transport should do right now, decided by transport-level faults. */
export interface TransportState {
  /** false during a Wi-Fi drop. */
  connected: boolean;
  /** true while serial garbage is injected. */
  garbage: boolean;
  /** Added to the kit's clock (ms). */
  clockSkewMs: number;
  /** Current time between messages (slow sampling changes it). */
  intervalMs: number;
}

/** The behaviour of one simulated kit: its environment, sensors, actuators and faults. */
export interface KitModel {
  readonly spec: SimKitSpec;
  /** Sensor names the kit reports, in order. */
  readonly sensors: readonly string[];
  /** Advances the physics to `now` (ms since epoch) and returns what the kit reports; `null` is a failed read. */
  sample(now: number): Record<string, number | null>;
  /** Events the kit raised since the last call (e.g. an alarm when gas crosses its threshold). */
  events(now: number): { event: string; value?: number }[];
  transport(now: number): TransportState;
  /** Applies a command from the platform (fan on → temperature falls; pump on → moisture rises). */
  command(command: KitCommand): void;
  /** Actuator states, reported with the readings (fan, pump, led, …: 0/1). */
  actuators(): Record<string, number>;
}
