/**
 * A StandardFirmata board (Arduino Uno, Nano, Mega …) read and driven with johnny-five over
 * firmata-io: the kit's pin map (pin-map.ts) says which pin carries which sensor or actuator;
 * readings come out once per sample interval, commands go down as pin writes. What johnny-five
 * and firmata-io need that is easy to miss is listed in johnny-five.ts; the kit works around each.
 */
import type { Duplex } from 'node:stream';
import type { KitCommand } from '../../protocol/index.ts';
import { FirmataKitError } from './errors.ts';
import {
  type FirmataIo,
  type J5Board,
  type J5Relay,
  type J5Sensor,
  type J5Servo,
  loadJohnnyFive,
} from './johnny-five.ts';
import { type FirmataPinMap, type FirmataPlannedPin, planFirmataPinMap } from './pin-map.ts';
import { closeTransport, isOpening, isWritable, openSerialPort, transportLabel } from './transport.ts';

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
  #sampleTimer: NodeJS.Timeout | undefined;
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
    const { five, Firmata } = loadJohnnyFive();
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
      label = transportLabel(transport);
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
      if (!isOpening(this.#transport)) {
        io.emit('open');
        io.emit('connect');
      }
    });
  }

  /** On `ready`: checks the pin map against the board's capabilities and sets every pin up. */
  #setUp(): void {
    const { five } = loadJohnnyFive();
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
      // Components get "A<n>" for pins on the A header (see johnny-five.ts).
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
    this.#sampleTimer = setInterval(() => this.#publish(), this.#sampleIntervalMs);
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
    clearInterval(this.#sampleTimer);
    const io = this.#io;
    const transport = this.#transport;
    const writable = isWritable(transport);
    for (const s of this.#sensors) {
      s.sensor?.disable();
      if (s.onDigital) io.removeListener(`digital-read-${s.pin}`, s.onDigital);
    }
    if (switchOff && writable && this.#ready) {
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
    const { five } = loadJohnnyFive();
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

/** An on/off command's value as a level: 1/0, true/false, "on"/"off" (any case), or undefined when it is none. */
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

/** A raw analog value (0–1023) mapped linearly by the pin's `scale`, to 3 decimals. */
function scaled(raw: number, scale: [number, number, number, number] | undefined): number {
  if (!scale) return raw;
  const [rawLow, rawHigh, low, high] = scale;
  const value = low + ((raw - rawLow) * (high - low)) / (rawHigh - rawLow);
  return Math.round(value * 1000) / 1000;
}
