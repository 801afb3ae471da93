/**
 * A StandardFirmata board (Arduino Uno, Nano, Mega …) read and driven with johnny-five over
 * firmata-io: a per-kit pin map says which pin carries which sensor or actuator; readings come out
 * once per sample interval, commands go down as pin writes.
 *
 * What johnny-five 2.1 / firmata-io 2.3 need that is easy to miss:
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
import { SerialPort } from 'serialport';
import { isValidSensorName, type KitCommand } from '../protocol/index.ts';

// ---------- the pin map ----------

/** What one pin carries: a sensor or an actuator. */
export type FirmataPinSpec = FirmataSensorSpec | FirmataActuatorSpec;

export interface FirmataSensorSpec {
  /** The reading's name, e.g. "light", "motion" (snake_case, see protocol's `isValidSensorName`). */
  sensor: string;
  /** Default: "analog" on A pins, "digital" on D pins. A digital input reports 0/1. */
  input?: 'analog' | 'digital';
  /** Analog only: `[rawLow, rawHigh, low, high]` maps the raw 0–1023 value linearly to the unit. */
  scale?: [number, number, number, number];
}

export type FirmataActuatorKind = 'led' | 'relay' | 'buzzer' | 'servo';

export interface FirmataActuatorSpec {
  /** The command and reading name, e.g. "led", or "fan" with `kind: "relay"`. */
  actuator: string;
  /** Default: the actuator's name when it is one of led, relay, buzzer, servo. */
  kind?: FirmataActuatorKind;
  /** Servo only: pulse widths for 0° and 180° in µs (default 544–2400, the Arduino Servo library's). */
  pulseRange?: [number, number];
}

/** Pin name ("A0", "D7") → what it carries. JSON-friendly, one per kit. */
export type FirmataPinMap = Record<string, FirmataPinSpec>;

export const FIRMATA_ACTUATOR_KINDS: readonly FirmataActuatorKind[] = ['led', 'relay', 'buzzer', 'servo'];

export type FirmataErrorCode =
  | 'FIRMATA_PIN_MAP'
  | 'FIRMATA_OPTIONS'
  | 'FIRMATA_PORT'
  | 'FIRMATA_TIMEOUT'
  | 'FIRMATA_BOARD'
  | 'FIRMATA_DISCONNECTED'
  | 'FIRMATA_CALLBACK';

export class FirmataKitError extends Error {
  readonly code: FirmataErrorCode;
  /** FIRMATA_PIN_MAP: one line per problem. */
  readonly problems: string[];
  constructor(code: FirmataErrorCode, message: string, problems: string[] = []) {
    super(message);
    this.name = 'FirmataKitError';
    this.code = code;
    this.problems = problems;
  }
}

/** One checked entry of a pin map. `channel` is the analog channel on A pins, the pin number on D pins. */
export type FirmataPlannedPin =
  | {
      pinName: string;
      header: 'A' | 'D';
      number: number;
      role: 'sensor';
      name: string;
      input: 'analog' | 'digital';
      scale?: [number, number, number, number];
    }
  | {
      pinName: string;
      header: 'A' | 'D';
      number: number;
      role: 'actuator';
      name: string;
      kind: FirmataActuatorKind;
      pulseRange: [number, number];
    };

const PIN_NAME = /^([AD])(\d{1,2})$/;
const SENSOR_KEYS = new Set(['sensor', 'input', 'scale']);
const ACTUATOR_KEYS = new Set(['actuator', 'kind', 'pulseRange']);
const DEFAULT_PULSE_RANGE: [number, number] = [544, 2400];

/**
 * Checks a pin map (as read from JSON) and lists every problem at once; throws a
 * `FirmataKitError` with code FIRMATA_PIN_MAP. Pins are checked against the board itself once it
 * answers (a Nano's A6/A7 are analog only, a Mega has more pins).
 */
export function planFirmataPinMap(pinMap: unknown): FirmataPlannedPin[] {
  const problems: string[] = [];
  const planned: FirmataPlannedPin[] = [];
  if (typeof pinMap !== 'object' || pinMap === null || Array.isArray(pinMap)) {
    throw new FirmataKitError(
      'FIRMATA_PIN_MAP',
      'pin map must be an object like {"A0": {"sensor": "light"}, "D13": {"actuator": "led"}}',
    );
  }
  const names = new Map<string, string>();
  for (const [pinName, raw] of Object.entries(pinMap as Record<string, unknown>)) {
    const match = PIN_NAME.exec(pinName);
    if (!match) {
      const hint = /^[ad]\d+$/.test(pinName) ? ` (write "${pinName.toUpperCase()}")` : '';
      problems.push(`${JSON.stringify(pinName)} is not a pin name: use A0–A5 or D2–D13${hint}`);
      continue;
    }
    const header = match[1] as 'A' | 'D';
    const number = Number(match[2]);
    if (header === 'D' && (number === 0 || number === 1)) {
      problems.push(
        `${pinName}: D0 and D1 carry the USB serial link that Firmata talks over; wire it to D2–D13`,
      );
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${pinName}: must be an object like {"sensor": "light"} or {"actuator": "led"}`);
      continue;
    }
    const spec = raw as Record<string, unknown>;
    const isSensor = 'sensor' in spec;
    const isActuator = 'actuator' in spec;
    if (isSensor === isActuator) {
      problems.push(
        `${pinName}: give either "sensor" (an input) or "actuator" (an output), not ${isSensor ? 'both' : 'neither'}`,
      );
      continue;
    }
    const allowed = isSensor ? SENSOR_KEYS : ACTUATOR_KEYS;
    const unknown = Object.keys(spec).filter((key) => !allowed.has(key));
    if (unknown.length > 0) {
      problems.push(
        `${pinName}: unknown ${unknown.length === 1 ? 'key' : 'keys'} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (${isSensor ? 'a sensor' : 'an actuator'} takes ${[...allowed].join(', ')})`,
      );
      continue;
    }
    const name = isSensor ? spec.sensor : spec.actuator;
    if (typeof name !== 'string' || !isValidSensorName(name)) {
      problems.push(
        `${pinName}: ${JSON.stringify(name)} is not a usable name: snake_case, starting with a letter (e.g. "light", "soil_moisture"), not "time" or "kit"`,
      );
      continue;
    }
    const taken = names.get(name);
    if (taken) {
      problems.push(
        `${pinName}: "${name}" is already on ${taken}; every sensor and actuator needs its own name`,
      );
      continue;
    }
    names.set(name, pinName);
    if (isSensor) {
      const input = spec.input ?? (header === 'A' ? 'analog' : 'digital');
      if (input !== 'analog' && input !== 'digital') {
        problems.push(`${pinName}: "input" must be "analog" or "digital", not ${JSON.stringify(spec.input)}`);
        continue;
      }
      if (input === 'analog' && header === 'D') {
        problems.push(
          `${pinName}: "${name}" is an analog sensor but ${pinName} is a digital pin; analog inputs are A0–A5`,
        );
        continue;
      }
      let scale: [number, number, number, number] | undefined;
      if (spec.scale !== undefined) {
        if (input === 'digital') {
          problems.push(`${pinName}: "scale" applies to analog inputs; a digital input reports 0/1`);
          continue;
        }
        const s = spec.scale;
        if (
          !Array.isArray(s) ||
          s.length !== 4 ||
          !s.every((v) => typeof v === 'number' && Number.isFinite(v))
        ) {
          problems.push(
            `${pinName}: "scale" must be four numbers [rawLow, rawHigh, low, high], e.g. [0, 1023, 0, 1000]`,
          );
          continue;
        }
        if (s[0] === s[1]) {
          problems.push(`${pinName}: "scale" needs rawLow ≠ rawHigh`);
          continue;
        }
        scale = [s[0], s[1], s[2], s[3]];
      }
      planned.push({ pinName, header, number, role: 'sensor', name, input, ...(scale ? { scale } : {}) });
    } else {
      const kindRaw = spec.kind ?? name;
      if (!FIRMATA_ACTUATOR_KINDS.includes(kindRaw as FirmataActuatorKind)) {
        problems.push(
          spec.kind === undefined
            ? `${pinName}: say what "${name}" is with "kind": one of ${FIRMATA_ACTUATOR_KINDS.join(', ')} (e.g. {"actuator": "${name}", "kind": "relay"})`
            : `${pinName}: "kind" must be one of ${FIRMATA_ACTUATOR_KINDS.join(', ')}, not ${JSON.stringify(spec.kind)}`,
        );
        continue;
      }
      const kind = kindRaw as FirmataActuatorKind;
      let pulseRange = DEFAULT_PULSE_RANGE;
      if (spec.pulseRange !== undefined) {
        const r = spec.pulseRange;
        if (kind !== 'servo') {
          problems.push(`${pinName}: "pulseRange" applies to a servo only`);
          continue;
        }
        if (
          !Array.isArray(r) ||
          r.length !== 2 ||
          !r.every((v) => Number.isInteger(v) && v >= 200 && v <= 3000) ||
          r[0] >= r[1]
        ) {
          problems.push(
            `${pinName}: "pulseRange" must be [min, max] microseconds, 200–3000, min < max (e.g. [544, 2400])`,
          );
          continue;
        }
        pulseRange = [r[0], r[1]];
      }
      planned.push({ pinName, header, number, role: 'actuator', name, kind, pulseRange });
    }
  }
  if (problems.length > 0) {
    throw new FirmataKitError(
      'FIRMATA_PIN_MAP',
      `the pin map has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}:\n- ${problems.join('\n- ')}`,
      problems,
    );
  }
  if (planned.length === 0) {
    throw new FirmataKitError('FIRMATA_PIN_MAP', 'the pin map is empty: map at least one pin', [
      'the pin map is empty',
    ]);
  }
  return planned;
}

// ---------- johnny-five and firmata-io, as much of them as the kit uses ----------

interface FirmataPin {
  supportedModes: number[];
  analogChannel?: number;
}

interface FirmataIo {
  MODES: { INPUT: number; OUTPUT: number; ANALOG: number; PWM: number; SERVO: number };
  name: string;
  isReady: boolean;
  pins: FirmataPin[];
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

interface J5Board {
  io: FirmataIo;
  timer: NodeJS.Timeout | null;
  on(event: string, listener: (...args: never[]) => void): this;
  once(event: string, listener: (...args: never[]) => void): this;
  removeAllListeners(event?: string): this;
}

interface J5Sensor {
  readonly raw: number | null;
  on(event: 'data', listener: (value: number) => void): this;
  disable(): this;
}

interface J5Relay {
  close(): this;
  open(): this;
  readonly isClosed: boolean;
}

interface J5Servo {
  to(degrees: number): this;
  value: number | null;
}

interface JohnnyFive {
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

type FirmataConstructor = new (transport: Duplex, options: Record<string, unknown>) => FirmataIo;

let libraries: { five: JohnnyFive; Firmata: FirmataConstructor } | undefined;
/** johnny-five and firmata-io are CommonJS without types; loaded on first use (≈0.1 s). */
function load(): { five: JohnnyFive; Firmata: FirmataConstructor } {
  if (!libraries) {
    const require = createRequire(import.meta.url);
    const five = require('johnny-five') as JohnnyFive;
    const { Firmata } = require('firmata-io') as { Firmata: FirmataConstructor };
    libraries = { five, Firmata };
  }
  return libraries;
}

// ---------- the kit ----------

export interface FirmataKitOptions {
  /** Serial port of the board, e.g. /dev/ttyACM0; opened with serialport at `baudRate`. */
  path?: string;
  /** StandardFirmata talks at 57600 baud (the default). */
  baudRate?: number;
  /**
   * Or a stream to the board that is open or opening: a serialport `SerialPort`, a TCP socket to a
   * serial bridge, one end of an in-memory pair. The kit owns it from now on and closes it.
   */
  transport?: Duplex;
  /** Which pin carries what, e.g. {"A0": {"sensor": "light", "scale": [0, 1023, 0, 1000]}, "D13": {"actuator": "led"}}. */
  pinMap: FirmataPinMap | Record<string, unknown>;
  /** Time between two `onReadings` calls (default 1000 ms). */
  sampleIntervalMs?: number;
  /**
   * Every sample interval: each mapped sensor's latest value (scaled; a digital input is 1 when it
   * was HIGH at any time since the previous call) and each actuator's state (0/1, servo in degrees).
   */
  onReadings: (readings: Record<string, number>) => void;
  /** Problems after the board is ready: the port going away, errors thrown by `onReadings`, board messages. */
  onError?: (error: FirmataKitError) => void;
  /** The kit stopped: `error` when the board went away, nothing after `close()`. */
  onClose?: (error?: FirmataKitError) => void;
  /** How long to wait for the board to answer (default 10 s, as johnny-five). */
  readyTimeoutMs?: number;
  /**
   * When the board has not sent its version this long after the port opened (a board that does not
   * reset on open), ask for it (default 5000 ms, as firmata.js; a real Uno resets and needs ~2 s).
   */
  reportVersionTimeoutMs?: number;
  /** The board's analog sampling interval (Firmata SAMPLING_INTERVAL); default: the firmware's 19 ms. */
  boardSamplingIntervalMs?: number;
}

export type FirmataCommandResult =
  | { ok: true; command: string; value: number }
  | { ok: false; code: 'UNKNOWN_ACTUATOR' | 'BAD_VALUE' | 'NOT_CONNECTED' | 'WRITE_FAILED'; error: string };

interface SensorState {
  plan: Extract<FirmataPlannedPin, { role: 'sensor' }>;
  pin: number;
  latest: number | undefined;
  /** digital: HIGH seen since the previous readings */
  sawHigh: boolean;
  sensor?: J5Sensor;
  onDigital?: (value: number) => void;
}

interface ActuatorState {
  plan: Extract<FirmataPlannedPin, { role: 'actuator' }>;
  pin: number;
  state: number | undefined;
  relay?: J5Relay;
  servo?: J5Servo;
}

const DEFAULT_SAMPLE_INTERVAL_MS = 1_000;
const DEFAULT_READY_TIMEOUT_MS = 10_000;
const DEFAULT_REPORT_VERSION_TIMEOUT_MS = 5_000;
const DEFAULT_BAUD_RATE = 57_600;

/**
 * One Firmata board. `await FirmataKit.open(options)` resolves once the board answered and every
 * mapped pin is set up; it rejects with a `FirmataKitError` (bad pin map, port that will not open,
 * no answer, a pin the board does not have).
 */
export class FirmataKit {
  readonly #options: FirmataKitOptions;
  readonly #plan: FirmataPlannedPin[];
  readonly #transport: Duplex;
  readonly #label: string;
  readonly #io: FirmataIo;
  readonly #board: J5Board;
  readonly #sensors: SensorState[] = [];
  readonly #actuators = new Map<string, ActuatorState>();
  #timer: NodeJS.Timeout | undefined;
  #ready = false;
  #closed = false;
  #closing = false;
  #firmware = '';

  private constructor(
    options: FirmataKitOptions,
    plan: FirmataPlannedPin[],
    transport: Duplex,
    label: string,
  ) {
    this.#options = options;
    this.#plan = plan;
    this.#transport = transport;
    this.#label = label;
    const { five, Firmata } = load();
    this.#io = new Firmata(transport, {
      reportVersionTimeout: options.reportVersionTimeoutMs ?? DEFAULT_REPORT_VERSION_TIMEOUT_MS,
      ...(options.boardSamplingIntervalMs === undefined
        ? {}
        : { samplingInterval: options.boardSamplingIntervalMs }),
    });
    this.#board = new five.Board({ io: this.#io, repl: false, debug: false, sigint: false });
  }

  /** Opens the board and resolves when it is ready; see the class comment. */
  static async open(options: FirmataKitOptions): Promise<FirmataKit> {
    const plan = planFirmataPinMap(options.pinMap);
    const sampleIntervalMs = options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
    if (!Number.isFinite(sampleIntervalMs) || sampleIntervalMs < 10) {
      throw new FirmataKitError(
        'FIRMATA_OPTIONS',
        `sampleIntervalMs must be at least 10 ms, not ${sampleIntervalMs}`,
      );
    }
    if (typeof options.onReadings !== 'function') {
      throw new FirmataKitError('FIRMATA_OPTIONS', 'onReadings must be a function');
    }
    if ((options.path === undefined) === (options.transport === undefined)) {
      throw new FirmataKitError(
        'FIRMATA_OPTIONS',
        'give either a serial port "path" or a "transport" stream',
      );
    }
    let transport: Duplex;
    let label: string;
    if (options.path !== undefined) {
      label = options.path;
      transport = await openSerialPort(options.path, options.baudRate ?? DEFAULT_BAUD_RATE);
    } else {
      transport = options.transport as Duplex;
      label = (transport as Partial<SerialPort>).path ?? 'stream';
    }
    const kit = new FirmataKit(options, plan, transport, label);
    try {
      await kit.#start();
    } catch (error) {
      await kit.#shutdown(false);
      throw error;
    }
    return kit;
  }

  /** The firmware the board reported, e.g. "StandardFirmata.ino 2.5". */
  get firmware(): string {
    return this.#firmware;
  }

  get ready(): boolean {
    return this.#ready && !this.#closed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The checked pin map, with the board's pin numbers. */
  get pins(): { pinName: string; pin: number; name: string; role: 'sensor' | 'actuator' }[] {
    return [
      ...this.#sensors.map((s) => ({
        pinName: s.plan.pinName,
        pin: s.pin,
        name: s.plan.name,
        role: 'sensor' as const,
      })),
      ...[...this.#actuators.values()].map((a) => ({
        pinName: a.plan.pinName,
        pin: a.pin,
        name: a.plan.name,
        role: 'actuator' as const,
      })),
    ];
  }

  /** The readings `onReadings` would get now. */
  readings(): Record<string, number> {
    const readings: Record<string, number> = {};
    for (const s of this.#sensors) {
      if (s.plan.input === 'digital') {
        if (s.latest === undefined) continue;
        readings[s.plan.name] = s.sawHigh || s.latest ? 1 : 0;
      } else if (s.latest !== undefined) {
        readings[s.plan.name] = scaled(s.latest, s.plan.scale);
      }
    }
    for (const a of this.#actuators.values()) {
      if (a.state !== undefined) readings[a.plan.name] = a.state;
    }
    return readings;
  }

  /**
   * Applies a command: `{command: "led" | "relay" | "buzzer" | <on/off actuator>, value: 1/0, true/false,
   * "on"/"off"}` switches it, `{command: "servo", value: degrees}` turns the servo (0–180). Never
   * throws: a bad command gives `{ok: false, error}`.
   */
  command(cmd: KitCommand): FirmataCommandResult {
    if (typeof cmd !== 'object' || cmd === null || typeof cmd.command !== 'string') {
      return { ok: false, code: 'BAD_VALUE', error: 'a command looks like {"command": "led", "value": 1}' };
    }
    const actuator = this.#actuators.get(cmd.command);
    if (!actuator) {
      const known = this.#plan.filter((p) => p.role === 'actuator').map((p) => `${p.name} (${p.pinName})`);
      return {
        ok: false,
        code: 'UNKNOWN_ACTUATOR',
        error: `this kit has no actuator "${cmd.command}"; ${known.length > 0 ? `it has ${known.join(', ')}` : 'its pin map has no actuators'}`,
      };
    }
    let value: number;
    if (actuator.plan.kind === 'servo') {
      const degrees =
        typeof cmd.value === 'string' && cmd.value.trim() !== '' ? Number(cmd.value) : cmd.value;
      if (typeof degrees !== 'number' || !Number.isFinite(degrees) || degrees < 0 || degrees > 180) {
        return {
          ok: false,
          code: 'BAD_VALUE',
          error: `servo "${cmd.command}" takes an angle from 0 to 180 degrees, not ${JSON.stringify(cmd.value)}`,
        };
      }
      value = degrees;
    } else {
      const level = onOff(cmd.value);
      if (level === undefined) {
        return {
          ok: false,
          code: 'BAD_VALUE',
          error: `"${cmd.command}" is switched with 1/0, true/false or "on"/"off", not ${cmd.value === undefined ? 'nothing' : JSON.stringify(cmd.value)}`,
        };
      }
      value = level;
    }
    if (this.#closed || this.#closing) {
      return {
        ok: false,
        code: 'NOT_CONNECTED',
        error: `the board on ${this.#label} is disconnected; "${cmd.command}" was not changed`,
      };
    }
    try {
      if (actuator.servo) {
        actuator.servo.to(value);
        actuator.state = actuator.servo.value ?? value;
      } else if (actuator.relay) {
        if (value) actuator.relay.close();
        else actuator.relay.open();
        actuator.state = value;
      }
    } catch (error) {
      return {
        ok: false,
        code: 'WRITE_FAILED',
        error: `could not set "${cmd.command}": ${(error as Error).message}`,
      };
    }
    return { ok: true, command: cmd.command, value: actuator.state ?? value };
  }

  /**
   * Switches the on/off actuators off (a pump must not keep running with nobody watching), stops
   * sampling and closes the port. Safe to call more than once.
   */
  async close(): Promise<void> {
    await this.#shutdown(true);
  }

  #start(): Promise<void> {
    const io = this.#io;
    const board = this.#board;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: FirmataKitError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        reject(error);
      };
      const readyTimeoutMs = this.#options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
      const timeout = setTimeout(() => {
        fail(
          new FirmataKitError(
            'FIRMATA_TIMEOUT',
            `no Firmata answer from ${this.#label} within ${readyTimeoutMs} ms: is StandardFirmata uploaded to the board (Arduino IDE: File › Examples › Firmata › StandardFirmata) and nothing else (Serial Monitor, another gateway) using the port?`,
          ),
        );
      }, readyTimeoutMs);

      io.on('error', (error: Error) => {
        const wrapped = new FirmataKitError('FIRMATA_PORT', `${this.#label}: ${error.message}`);
        if (!settled) fail(wrapped);
        else this.#report(wrapped);
      });
      // johnny-five's own connect timeout prints and emits an error; ours has a clearer message.
      io.once('connect', () => {
        if (board.timer) clearTimeout(board.timer);
        board.timer = null;
      });
      board.on('error', () => {});
      io.on('string', (text: string) => {
        if (this.#ready)
          this.#report(new FirmataKitError('FIRMATA_BOARD', `the board on ${this.#label} says: ${text}`));
      });
      this.#transport.once('close', () => {
        if (!settled) {
          fail(
            new FirmataKitError('FIRMATA_DISCONNECTED', `${this.#label} closed before the board answered`),
          );
        } else {
          this.#lost();
        }
      });
      board.once('ready', () => {
        if (settled) return;
        try {
          this.#setUp();
        } catch (error) {
          fail(
            error instanceof FirmataKitError
              ? error
              : new FirmataKitError(
                  'FIRMATA_BOARD',
                  `setting up ${this.#label}: ${(error as Error).message}`,
                ),
          );
          return;
        }
        settled = true;
        clearTimeout(timeout);
        this.#ready = true;
        resolve();
      });

      // johnny-five waits for `connect` (firmata-io emits it on the transport's `open`): a port that is
      // already open, or a stream that has no `open`, gets it from here.
      const port = this.#transport as Partial<SerialPort>;
      const opening = typeof port.isOpen === 'boolean' && !port.isOpen && !this.#transport.destroyed;
      if (!opening) {
        io.emit('open');
        io.emit('connect');
      }
    });
  }

  /** On `ready`: checks the pin map against the board's capabilities and sets every pin up. */
  #setUp(): void {
    const { five } = load();
    const io = this.#io;
    const board = this.#board;
    const { major, minor } = io.firmware.version ?? { major: io.version.major, minor: io.version.minor };
    this.#firmware = `${io.firmware.name ?? 'Firmata'} ${major ?? '?'}.${minor ?? '?'}`;
    const problems: string[] = [];
    const resolved = new Map<FirmataPlannedPin, number>();
    for (const p of this.#plan) {
      const pin = p.header === 'A' ? io.analogPins[p.number] : p.number;
      const caps = pin === undefined ? undefined : io.pins[pin];
      if (pin === undefined || !caps) {
        problems.push(`${p.pinName}: the board (${this.#firmware}) has no pin ${p.pinName}`);
        continue;
      }
      const needs =
        p.role === 'sensor'
          ? p.input === 'analog'
            ? io.MODES.ANALOG
            : io.MODES.INPUT
          : p.kind === 'servo'
            ? io.MODES.SERVO
            : io.MODES.OUTPUT;
      if (!caps.supportedModes.includes(needs)) {
        const what =
          p.role === 'sensor' ? `a ${p.input} input` : p.kind === 'servo' ? 'a servo' : 'a digital output';
        problems.push(`${p.pinName}: the board says ${p.pinName} cannot be ${what} ("${p.name}")`);
        continue;
      }
      resolved.set(p, pin);
    }
    if (problems.length > 0) {
      throw new FirmataKitError(
        'FIRMATA_PIN_MAP',
        `the pin map does not fit the board on ${this.#label}:\n- ${problems.join('\n- ')}`,
        problems,
      );
    }
    const sensorFreq = Math.min(this.#sampleIntervalMs, 100);
    for (const [p, pin] of resolved) {
      // Components get "A<n>" for pins on the A header (see the module comment).
      const j5Pin = p.header === 'A' ? `A${p.number}` : pin;
      if (p.role === 'sensor') {
        const state: SensorState = { plan: p, pin, latest: undefined, sawHigh: false };
        if (p.input === 'analog') {
          const sensor = new five.Sensor({ board, pin: j5Pin, freq: sensorFreq });
          sensor.on('data', (value) => {
            if (sensor.raw !== null) state.latest = value;
          });
          state.sensor = sensor;
        } else {
          io.pinMode(pin, io.MODES.INPUT);
          const onDigital = (value: number) => {
            state.latest = value ? 1 : 0;
            if (value) state.sawHigh = true;
          };
          io.digitalRead(pin, onDigital);
          state.onDigital = onDigital;
        }
        this.#sensors.push(state);
      } else {
        const state: ActuatorState = { plan: p, pin, state: undefined };
        if (p.kind === 'servo') {
          state.servo = new five.Servo({ board, pin: j5Pin, pwmRange: p.pulseRange });
        } else {
          // An LED, a relay module and an active buzzer are all on/off: johnny-five's Relay is a plain
          // digital write (its Led would use PWM on PWM pins, its Piezo plays tones). Start switched off.
          io.pinMode(pin, io.MODES.OUTPUT);
          state.relay = new five.Relay({ board, pin: j5Pin });
          state.relay.open();
          state.state = 0;
        }
        this.#actuators.set(p.name, state);
      }
    }
    this.#timer = setInterval(() => this.#publish(), this.#sampleIntervalMs);
  }

  get #sampleIntervalMs(): number {
    return this.#options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
  }

  #publish(): void {
    if (this.#closed) return;
    const readings = this.readings();
    for (const s of this.#sensors) s.sawHigh = false;
    if (Object.keys(readings).length === 0) return;
    try {
      this.#options.onReadings(readings);
    } catch (error) {
      this.#report(new FirmataKitError('FIRMATA_CALLBACK', `onReadings threw: ${(error as Error).message}`));
    }
  }

  #report(error: FirmataKitError): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // an error handler that throws has nowhere else to go
    }
  }

  /** The port closed without `close()`: the board was unplugged (or the stream ended). */
  #lost(): void {
    if (this.#closed || this.#closing) return;
    const error = new FirmataKitError('FIRMATA_DISCONNECTED', `the board on ${this.#label} was disconnected`);
    const wasReady = this.#ready;
    void this.#shutdown(false).then(() => {
      if (wasReady) {
        this.#report(error);
        this.#options.onClose?.(error);
      }
    });
  }

  async #shutdown(switchOff: boolean): Promise<void> {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    clearInterval(this.#timer);
    const io = this.#io;
    const transport = this.#transport;
    const open = !transport.destroyed && (transport as Partial<SerialPort>).isOpen !== false;
    for (const s of this.#sensors) {
      s.sensor?.disable();
      if (s.onDigital) io.removeListener(`digital-read-${s.pin}`, s.onDigital);
    }
    if (switchOff && open && this.#ready) {
      for (const a of this.#actuators.values()) {
        if (a.relay && a.state) {
          try {
            a.relay.open();
            a.state = 0;
          } catch {
            // the port is going away anyway
          }
        }
      }
    }
    // Timers johnny-five and firmata-io leave behind, and johnny-five's board cache.
    if (this.#board.timer) clearTimeout(this.#board.timer);
    this.#board.timer = null;
    clearTimeout(io.reportVersionTimeoutId);
    const { five } = load();
    const cache = five.Board.cache;
    const at = cache.indexOf(this.#board);
    if (at >= 0) cache.splice(at, 1);
    five.Board.Pins.normalize.clear();
    await closeTransport(transport);
    this.#closed = true;
    this.#closing = false;
    if (switchOff && this.#ready) this.#options.onClose?.();
  }
}

function onOff(value: KitCommand['value']): 0 | 1 | undefined {
  if (value === 1 || value === true) return 1;
  if (value === 0 || value === false) return 0;
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'on' || text === '1' || text === 'true') return 1;
    if (text === 'off' || text === '0' || text === 'false') return 0;
  }
  return undefined;
}

function scaled(raw: number, scale: [number, number, number, number] | undefined): number {
  if (!scale) return raw;
  const [rawLow, rawHigh, low, high] = scale;
  const value = low + ((raw - rawLow) * (high - low)) / (rawHigh - rawLow);
  return Math.round(value * 1000) / 1000;
}

async function openSerialPort(path: string, baudRate: number): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  try {
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  } catch (error) {
    const message = (error as Error).message;
    const hint = /permission denied/i.test(message)
      ? ' (add the user to the "dialout" group, then log in again)'
      : /no such file|ENOENT/i.test(message)
        ? ' (is the board plugged in? `iotlab kits` lists the ports)'
        : /busy|lock/i.test(message)
          ? ' (another program — the Serial Monitor, another gateway — has it open)'
          : '';
    throw new FirmataKitError('FIRMATA_PORT', `cannot open ${path}: ${message}${hint}`);
  }
  return port;
}

async function closeTransport(transport: Duplex): Promise<void> {
  const port = transport as Partial<SerialPort>;
  if (
    typeof port.isOpen === 'boolean' &&
    typeof port.close === 'function' &&
    typeof port.drain === 'function'
  ) {
    if (!port.isOpen) {
      if (!transport.destroyed) transport.destroy();
      return;
    }
    // let pending writes (the switch-offs) reach the board first
    await new Promise<void>((resolve) => (port.drain as (cb: () => void) => void)(() => resolve()));
    await new Promise<void>((resolve) => (port.close as (cb: () => void) => void)(() => resolve()));
    return;
  }
  if (transport.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    transport.once('close', done);
    transport.once('error', done);
    transport.end(() => transport.destroy());
    setTimeout(() => {
      transport.destroy();
      resolve();
    }, 1_000).unref();
  });
}
