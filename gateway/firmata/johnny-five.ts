/**
 * johnny-five 2.1 and firmata-io 2.3, as much of them as the Firmata kit uses: they are CommonJS
 * without types, so the shapes the kit relies on are written down here, and both are loaded on
 * first use (≈0.1 s).
 *
 * What they need that is easy to miss (kit.ts works around each):
 * - johnny-five only emits `ready` after the IO emits `connect`, which firmata-io emits when the
 *   transport emits `open`. A port that is already open (or an in-memory stream, which never emits
 *   `open`) would wait forever: the kit emits `connect` on the IO itself.
 * - firmata-io waits for the board's REPORT_VERSION, which a real Uno sends when it boots (opening
 *   the port resets it). A board that does not reset is only asked after `reportVersionTimeoutMs`.
 * - johnny-five prints a banner and starts a REPL unless `repl: false, debug: false`, and installs a
 *   SIGINT handler that exits the process unless `sigint: false`. Its connect timeout, firmata-io's
 *   version timeout and its board cache are not cleaned up on close: the kit does it.
 * - johnny-five rewrites numeric pins 14–19 of an Uno to analog channels ("A0"–"A5" → 0–5): pins on
 *   the A header are handed to components as "A<n>", and digital inputs are read with the IO directly.
 * - Its Servo maps degrees over 600–2400 µs while the Arduino Servo library attaches at 544–2400 µs:
 *   90° would land at 92°. The kit sends SERVO_CONFIG with the pulse range it maps over.
 * - Its Sensor emits `data` with a median of 0 before the first sample arrives: values only count once
 *   a raw sample exists.
 * - Errors on the IO or on the board before `ready` are thrown when nobody listens: the kit listens.
 */
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';

/** A pin as firmata-io learnt it from the board's CAPABILITY_RESPONSE. */
export interface FirmataPinCapabilities {
  supportedModes: number[];
  analogChannel?: number;
}

/** firmata-io's `Firmata`: the board on the wire. */
export interface FirmataIo {
  MODES: { INPUT: number; OUTPUT: number; ANALOG: number; PWM: number; SERVO: number };
  name: string;
  isReady: boolean;
  pins: FirmataPinCapabilities[];
  analogPins: number[];
  firmware: { name?: string; version?: { major: number; minor: number } };
  version: { major?: number; minor?: number };
  reportVersionTimeoutId?: NodeJS.Timeout;
  pinMode(pin: number, mode: number): void;
  digitalRead(pin: number, callback: (value: number) => void): void;
  reportDigitalPin(pin: number, value: 0 | 1): void;
  on(event: string, listener: (...args: never[]) => void): this;
  once(event: string, listener: (...args: never[]) => void): this;
  removeListener(event: string, listener: (...args: never[]) => void): this;
  emit(event: string, ...args: unknown[]): boolean;
}

export interface J5Board {
  io: FirmataIo;
  /** johnny-five's connect timeout. */
  timer: NodeJS.Timeout | null;
  on(event: string, listener: (...args: never[]) => void): this;
  once(event: string, listener: (...args: never[]) => void): this;
  removeAllListeners(event?: string): this;
}

export interface J5Sensor {
  readonly raw: number | null;
  on(event: 'data', listener: (value: number) => void): this;
  disable(): this;
}

export interface J5Relay {
  close(): this;
  open(): this;
  readonly isClosed: boolean;
}

export interface J5Servo {
  to(degrees: number): this;
  value: number | null;
}

export interface JohnnyFive {
  Board: (new (
    options: Record<string, unknown>,
  ) => J5Board) & {
    cache: J5Board[];
    Pins: { normalize: { clear(): void } };
  };
  Sensor: new (options: Record<string, unknown>) => J5Sensor;
  Relay: new (options: Record<string, unknown>) => J5Relay;
  Servo: new (options: Record<string, unknown>) => J5Servo;
}

export type FirmataConstructor = new (transport: Duplex, options: Record<string, unknown>) => FirmataIo;

let libraries: { five: JohnnyFive; Firmata: FirmataConstructor } | undefined;

/** johnny-five and firmata-io, loaded on first use. */
export function loadJohnnyFive(): { five: JohnnyFive; Firmata: FirmataConstructor } {
  if (!libraries) {
    const require = createRequire(import.meta.url);
    const five = require('johnny-five') as JohnnyFive;
    const { Firmata } = require('firmata-io') as { Firmata: FirmataConstructor };
    libraries = { five, Firmata };
  }
  return libraries;
}
