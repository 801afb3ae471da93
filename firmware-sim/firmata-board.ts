import type { Duplex } from 'node:stream';

/**
 * An Arduino Uno running StandardFirmata 2.5, on the wire: it answers what firmata.js (and so
 * johnny-five) asks at startup and afterwards, byte for byte as the firmware does. No npm package
 * emulates a Firmata board, hence this one. It follows StandardFirmata.ino 2.5 (Firmata library
 * 2.5.x, Boards.h for the ATmega328P):
 *
 * - 20 pins: D0/D1 are the USB serial link (only the SERIAL mode is reported for them), D2–D19 are
 *   digital in/out/pullup and servo, D3/5/6/9/10/11 PWM (8 bit), D14–D19 = A0–A5 analog (10 bit),
 *   A4/A5 also I2C.
 * - At boot (and on `reset()`), the board sends REPORT_VERSION then REPORT_FIRMWARE; after a reset
 *   analog pins are in ANALOG mode and the other digital pins OUTPUT (LOW), and nothing reports.
 * - Analog channels whose reporting is on (and whose pin is in ANALOG mode) are sent every sampling
 *   interval (19 ms by default); turning a channel on sends its value at once.
 * - Digital ports whose reporting is on are sent when an input of theirs changes, and at once when
 *   reporting is turned on.
 * - Writes to outputs (DIGITAL_MESSAGE, SET_DIGITAL_PIN_VALUE, ANALOG_MESSAGE, EXTENDED_ANALOG) only
 *   touch pins in the matching mode, like the firmware; servo writes below 544 are degrees, others
 *   microseconds within the servo's pulse range (544–2400 µs unless SERVO_CONFIG set another).

 *
 * One file of ~700 lines on purpose: it is one firmware, its protocol bytes and the Uno's pins are
 * that firmware's vocabulary, and reading it beside StandardFirmata.ino is easier in one piece.
 */

// Firmata protocol bytes.
const DIGITAL_MESSAGE = 0x90;
const ANALOG_MESSAGE = 0xe0;
const REPORT_ANALOG = 0xc0;
const REPORT_DIGITAL = 0xd0;
const SET_PIN_MODE = 0xf4;
const SET_DIGITAL_PIN_VALUE = 0xf5;
const REPORT_VERSION = 0xf9;
const SYSTEM_RESET = 0xff;
const START_SYSEX = 0xf0;
const END_SYSEX = 0xf7;
// Sysex commands.
const SERVO_CONFIG = 0x70;
const STRING_DATA = 0x71;
const REPORT_FIRMWARE = 0x79;
const SAMPLING_INTERVAL = 0x7a;
const EXTENDED_ANALOG = 0x6f;
const CAPABILITY_QUERY = 0x6b;
const CAPABILITY_RESPONSE = 0x6c;
const PIN_STATE_QUERY = 0x6d;
const PIN_STATE_RESPONSE = 0x6e;
const ANALOG_MAPPING_QUERY = 0x69;
const ANALOG_MAPPING_RESPONSE = 0x6a;

/** Pin modes, as numbered by the Firmata protocol. */
export const FIRMATA_PIN_MODES = {
  input: 0x00,
  output: 0x01,
  analog: 0x02,
  pwm: 0x03,
  servo: 0x04,
  i2c: 0x06,
  serial: 0x0a,
  pullup: 0x0b,
} as const;

export type FirmataPinModeName = keyof typeof FIRMATA_PIN_MODES;

const MODE_NAMES = new Map<number, FirmataPinModeName>(
  Object.entries(FIRMATA_PIN_MODES).map(([name, mode]) => [mode, name as FirmataPinModeName]),
);

/** StandardFirmata 2.5: protocol and firmware version. */
const PROTOCOL_VERSION = [2, 5] as const;
const FIRMWARE_VERSION = [2, 5] as const;
const DEFAULT_FIRMWARE_NAME = 'StandardFirmata.ino';
const DEFAULT_SAMPLING_INTERVAL_MS = 19;
const MINIMUM_SAMPLING_INTERVAL_MS = 1;
/** The Arduino Servo library: writes below this are degrees, others microseconds. */
const MIN_PULSE_WIDTH = 544;
const DEFAULT_MIN_PULSE = 544;
const DEFAULT_MAX_PULSE = 2400;
const DEFAULT_PULSE_WIDTH = 1500;
/** Longest sysex message kept (StandardFirmata keeps 64 data bytes; longer ones are cut off). */
const MAX_SYSEX_BYTES = 1024;

// Arduino Uno (ATmega328P) as described by Firmata's Boards.h.
const TOTAL_PINS = 20;
const TOTAL_PORTS = 3;
const ANALOG_PIN_OFFSET = 14;
const TOTAL_ANALOG_PINS = 6;
const PWM_PINS: ReadonlySet<number> = new Set([3, 5, 6, 9, 10, 11]);
const isDigitalPin = (pin: number) => pin >= 2 && pin <= 19;
const isAnalogPin = (pin: number) => pin >= ANALOG_PIN_OFFSET && pin < ANALOG_PIN_OFFSET + TOTAL_ANALOG_PINS;
const isPwmPin = (pin: number) => PWM_PINS.has(pin);
const isI2cPin = (pin: number) => pin === 18 || pin === 19;
const isSerialPin = (pin: number) => pin === 0 || pin === 1;

export type FirmataOutputMode = 'digital' | 'pwm' | 'servo';

export interface FirmataOutputState {
  mode: FirmataOutputMode;
  /** digital: 0/1; pwm: 0–255; servo: degrees 0–180 (as the Servo library's `read()` would say). */
  value: number;
  /** servo: the pulse width being sent, in microseconds. */
  microseconds?: number;
}

export interface FirmataBoardEmulatorOptions {
  /**
   * Value of analog input `channel` (0–5 for A0–A5), 0–1023; read at every sampling tick while the
   * channel reports. Without it, the values given to `setAnalog` (0 at first) are reported.
   */
  analogValue?: (channel: number) => number;
  /**
   * Level of digital input `pin` (2–19), read whenever the board checks its inputs (every
   * `digitalPollMs`). Without it, the levels given to `setDigital` are read (LOW at first, HIGH for
   * an input with its pull-up on).
   */
  digitalValue?: (pin: number) => 0 | 1;
  /** Called when an output changes: a digital pin's level, a PWM duty (0–255), a servo's angle. */
  onWrite?: (pin: number, mode: FirmataOutputMode, value: number) => void;
  /** Send REPORT_VERSION and REPORT_FIRMWARE at once, as a board does when it boots (default true). */
  boot?: boolean;
  /** Firmware name in REPORT_FIRMWARE (default "StandardFirmata.ino"). */
  firmwareName?: string;
  /** How often digital inputs are checked for changes when `digitalValue` is given (default 5 ms). */
  digitalPollMs?: number;
}

interface PinState {
  mode: number;
  /** Firmata's pin "state": the last value written to an output, the pull-up for an input. */
  state: number;
  /** Servo pulse range, set by SERVO_CONFIG. */
  minPulse: number;
  maxPulse: number;
  /** Servo: the pulse width being sent (µs). */
  pulse: number;
}

/** A StandardFirmata 2.5 Arduino Uno on the other end of `stream` (see the module comment). */
export class FirmataBoardEmulator {
  readonly #stream: Duplex;
  readonly #options: FirmataBoardEmulatorOptions;
  readonly #pins: PinState[] = [];
  readonly #analog = new Array<number>(TOTAL_ANALOG_PINS).fill(0);
  readonly #digital = new Array<0 | 1 | undefined>(TOTAL_PINS).fill(undefined);
  #analogInputsToReport = 0;
  readonly #reportPins = new Array<boolean>(TOTAL_PORTS).fill(false);
  readonly #previousPins = new Array<number>(TOTAL_PORTS).fill(0);
  #samplingIntervalMs = DEFAULT_SAMPLING_INTERVAL_MS;
  #samplingTimer: NodeJS.Timeout | undefined;
  #digitalTimer: NodeJS.Timeout | undefined;
  #resetting = false;
  #closed = false;
  // Parser state (tolerates messages split across chunks, as Firmata's parser does byte by byte).
  #command = 0;
  #channel = 0;
  #waitForData = 0;
  #data: number[] = [];
  #sysex: number[] | undefined;
  readonly #received: number[] = [];
  readonly #onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    for (const byte of bytes) this.#parse(byte);
  };
  readonly #onEnd = () => this.close();

  constructor(stream: Duplex, options: FirmataBoardEmulatorOptions = {}) {
    this.#stream = stream;
    this.#options = options;
    for (let pin = 0; pin < TOTAL_PINS; pin++) {
      this.#pins.push({ mode: FIRMATA_PIN_MODES.output, state: 0, minPulse: 0, maxPulse: 0, pulse: 0 });
    }
    this.#systemReset();
    stream.on('data', this.#onData);
    stream.once('close', this.#onEnd);
    stream.once('end', this.#onEnd);
    // A write on a stream whose other end has gone must not crash the simulator.
    stream.on('error', this.#ignoreError);
    this.#startSampling();
    if (options.digitalValue) {
      this.#digitalTimer = setInterval(() => this.#checkDigitalInputs(), options.digitalPollMs ?? 5);
      this.#digitalTimer.unref();
    }
    if (options.boot ?? true) this.#sendBootBanner();
  }

  readonly #ignoreError = () => {};

  /** Presses the reset button: pins go back to their boot modes and the version is sent again. */
  reset(): void {
    if (this.#closed) return;
    this.#systemReset();
    this.#sendBootBanner();
  }

  /** Sets analog input `channel` (0–5 for A0–A5) to `value` (0–1023). */
  setAnalog(channel: number, value: number): void {
    if (!Number.isInteger(channel) || channel < 0 || channel >= TOTAL_ANALOG_PINS) {
      throw new RangeError(`analog channel must be 0–5 (A0–A5), not ${channel}`);
    }
    this.#analog[channel] = clampAdc(value);
  }

  /** Drives digital input `pin` (2–19) HIGH (1) or LOW (0); a reporting port sends the change at once. */
  setDigital(pin: number, value: 0 | 1 | boolean): void {
    if (!Number.isInteger(pin) || !isDigitalPin(pin)) {
      throw new RangeError(`digital pin must be 2–19, not ${pin}`);
    }
    this.#digital[pin] = value ? 1 : 0;
    this.#checkDigitalInputs();
  }

  /** The state of an output pin, or undefined when the pin is not an output. */
  output(pin: number): FirmataOutputState | undefined {
    const p = this.#pins[pin];
    if (!p) return undefined;
    switch (p.mode) {
      case FIRMATA_PIN_MODES.output:
        return { mode: 'digital', value: p.state ? 1 : 0 };
      case FIRMATA_PIN_MODES.pwm:
        return { mode: 'pwm', value: p.state };
      case FIRMATA_PIN_MODES.servo:
        return { mode: 'servo', value: servoDegrees(p, p.pulse), microseconds: p.pulse };
      default:
        return undefined;
    }
  }

  /** Every output pin's state, by pin number. */
  outputs(): Record<number, FirmataOutputState> {
    const result: Record<number, FirmataOutputState> = {};
    for (let pin = 0; pin < TOTAL_PINS; pin++) {
      const state = this.output(pin);
      if (state) result[pin] = state;
    }
    return result;
  }

  /** A pin's current mode, e.g. "input", "output", "analog", "servo". */
  mode(pin: number): FirmataPinModeName | undefined {
    const p = this.#pins[pin];
    return p ? MODE_NAMES.get(p.mode) : undefined;
  }

  /** The analog sampling interval the host asked for (19 ms after a reset). */
  get samplingIntervalMs(): number {
    return this.#samplingIntervalMs;
  }

  /** Analog channels (0–5) that are reporting. */
  get reportingAnalogChannels(): number[] {
    const channels: number[] = [];
    for (let channel = 0; channel < TOTAL_ANALOG_PINS; channel++) {
      if (this.#analogInputsToReport & (1 << channel)) channels.push(channel);
    }
    return channels;
  }

  /** Every byte the host has sent so far (for tests that look at the wire). */
  get received(): readonly number[] {
    return this.#received;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops the board's timers and stops listening; the stream itself is left to its owner. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#samplingTimer);
    clearInterval(this.#digitalTimer);
    this.#stream.off('data', this.#onData);
    this.#stream.off('close', this.#onEnd);
    this.#stream.off('end', this.#onEnd);
    this.#stream.off('error', this.#ignoreError);
  }

  // ---- the firmware ----

  #sendBootBanner(): void {
    this.#write([REPORT_VERSION, PROTOCOL_VERSION[0], PROTOCOL_VERSION[1]]);
    this.#sendFirmware();
  }

  #sendFirmware(): void {
    const name = Buffer.from(this.#options.firmwareName ?? DEFAULT_FIRMWARE_NAME, 'utf8');
    this.#write([
      START_SYSEX,
      REPORT_FIRMWARE,
      FIRMWARE_VERSION[0],
      FIRMWARE_VERSION[1],
      ...sevenBitPairs(name),
      END_SYSEX,
    ]);
  }

  #sendString(text: string): void {
    this.#write([START_SYSEX, STRING_DATA, ...sevenBitPairs(Buffer.from(text, 'utf8')), END_SYSEX]);
  }

  #systemReset(): void {
    this.#resetting = true;
    this.#reportPins.fill(false);
    this.#previousPins.fill(0);
    for (let pin = 0; pin < TOTAL_PINS; pin++) {
      const p = this.#pins[pin] as PinState;
      p.minPulse = DEFAULT_MIN_PULSE;
      p.maxPulse = DEFAULT_MAX_PULSE;
      if (isAnalogPin(pin)) this.#setPinMode(pin, FIRMATA_PIN_MODES.analog);
      else if (isDigitalPin(pin)) this.#setPinMode(pin, FIRMATA_PIN_MODES.output);
      else {
        p.mode = FIRMATA_PIN_MODES.serial;
        p.state = 0;
      }
    }
    this.#analogInputsToReport = 0;
    this.#digital.fill(undefined);
    if (this.#samplingIntervalMs !== DEFAULT_SAMPLING_INTERVAL_MS) {
      this.#samplingIntervalMs = DEFAULT_SAMPLING_INTERVAL_MS;
      this.#startSampling();
    }
    this.#resetting = false;
  }

  #parse(byte: number): void {
    this.#received.push(byte);
    if (this.#received.length > 65_536) this.#received.splice(0, 32_768);
    if (this.#sysex) {
      if (byte === END_SYSEX) {
        const message = this.#sysex;
        this.#sysex = undefined;
        if (message.length > 0) this.#sysexCommand(message[0] as number, message.slice(1));
      } else if (this.#sysex.length < MAX_SYSEX_BYTES) {
        this.#sysex.push(byte);
      }
      return;
    }
    if (this.#waitForData > 0 && byte < 0x80) {
      this.#data.push(byte);
      this.#waitForData--;
      if (this.#waitForData === 0) this.#midiCommand(this.#command, this.#channel, this.#data);
      return;
    }
    if (byte < 0x80) return; // a data byte with no command: line noise, dropped as the firmware does
    // A command byte (a new one abandons any message left incomplete).
    this.#waitForData = 0;
    this.#data = [];
    const command = byte < 0xf0 ? byte & 0xf0 : byte;
    this.#channel = byte & 0x0f;
    this.#command = command;
    switch (command) {
      case ANALOG_MESSAGE:
      case DIGITAL_MESSAGE:
      case SET_PIN_MODE:
      case SET_DIGITAL_PIN_VALUE:
        this.#waitForData = 2;
        break;
      case REPORT_ANALOG:
      case REPORT_DIGITAL:
        this.#waitForData = 1;
        break;
      case START_SYSEX:
        this.#sysex = [];
        break;
      case SYSTEM_RESET:
        this.#systemReset();
        break;
      case REPORT_VERSION:
        this.#write([REPORT_VERSION, PROTOCOL_VERSION[0], PROTOCOL_VERSION[1]]);
        break;
      default:
        break;
    }
  }

  #midiCommand(command: number, channel: number, data: number[]): void {
    const [first = 0, second = 0] = data;
    switch (command) {
      case ANALOG_MESSAGE:
        this.#analogWrite(channel, first | (second << 7));
        break;
      case DIGITAL_MESSAGE:
        this.#digitalWritePort(channel, first | (second << 7));
        break;
      case SET_PIN_MODE:
        this.#setPinMode(first, second);
        break;
      case SET_DIGITAL_PIN_VALUE:
        this.#setPinValue(first, second);
        break;
      case REPORT_ANALOG:
        this.#reportAnalog(channel, first);
        break;
      case REPORT_DIGITAL:
        this.#reportDigital(channel, first);
        break;
    }
  }

  #sysexCommand(command: number, argv: number[]): void {
    switch (command) {
      case REPORT_FIRMWARE:
        this.#sendFirmware();
        break;
      case CAPABILITY_QUERY:
        this.#write([START_SYSEX, CAPABILITY_RESPONSE, ...capabilities(), END_SYSEX]);
        break;
      case ANALOG_MAPPING_QUERY: {
        const mapping: number[] = [];
        for (let pin = 0; pin < TOTAL_PINS; pin++) {
          mapping.push(isAnalogPin(pin) ? pin - ANALOG_PIN_OFFSET : 127);
        }
        this.#write([START_SYSEX, ANALOG_MAPPING_RESPONSE, ...mapping, END_SYSEX]);
        break;
      }
      case PIN_STATE_QUERY: {
        const pin = argv[0];
        if (pin === undefined) break;
        const reply = [START_SYSEX, PIN_STATE_RESPONSE, pin];
        const p = this.#pins[pin];
        if (p) {
          reply.push(p.mode, p.state & 0x7f);
          if (p.state & 0xff80) reply.push((p.state >> 7) & 0x7f);
          if (p.state & 0xc000) reply.push((p.state >> 14) & 0x7f);
        }
        reply.push(END_SYSEX);
        this.#write(reply);
        break;
      }
      case SAMPLING_INTERVAL:
        if (argv.length > 1) {
          const interval = (argv[0] as number) | ((argv[1] as number) << 7);
          this.#samplingIntervalMs = Math.max(MINIMUM_SAMPLING_INTERVAL_MS, interval);
          this.#startSampling();
        }
        break;
      case EXTENDED_ANALOG:
        if (argv.length > 1) {
          let value = argv[1] as number;
          if (argv.length > 2) value |= (argv[2] as number) << 7;
          if (argv.length > 3) value |= (argv[3] as number) << 14;
          this.#analogWrite(argv[0] as number, value);
        }
        break;
      case SERVO_CONFIG:
        if (argv.length > 4) {
          const pin = argv[0] as number;
          const p = this.#pins[pin];
          if (p && isDigitalPin(pin)) {
            p.minPulse = (argv[1] as number) | ((argv[2] as number) << 7);
            p.maxPulse = (argv[3] as number) | ((argv[4] as number) << 7);
            this.#setPinMode(pin, FIRMATA_PIN_MODES.servo);
          }
        }
        break;
      default:
        // I2C, OneWire, serial, stepper, strings from the host: StandardFirmata on a plain Uno kit
        // has nothing wired for them here; ignored.
        break;
    }
  }

  #setPinMode(pin: number, mode: number): void {
    const p = this.#pins[pin];
    if (!p) return;
    if (!MODE_NAMES.has(mode)) {
      this.#sendString('Unknown pin mode');
      return;
    }
    if (isAnalogPin(pin))
      this.#reportAnalog(pin - ANALOG_PIN_OFFSET, mode === FIRMATA_PIN_MODES.analog ? 1 : 0);
    const wasServo = p.mode === FIRMATA_PIN_MODES.servo;
    if (isDigitalPin(pin) && mode !== FIRMATA_PIN_MODES.servo && wasServo) {
      // the servo is detached: its pulse range goes back to the library's default
      p.minPulse = DEFAULT_MIN_PULSE;
      p.maxPulse = DEFAULT_MAX_PULSE;
    }
    p.state = 0;
    switch (mode) {
      case FIRMATA_PIN_MODES.analog:
        if (isAnalogPin(pin)) p.mode = mode;
        break;
      case FIRMATA_PIN_MODES.input:
      case FIRMATA_PIN_MODES.pullup:
      case FIRMATA_PIN_MODES.output:
      case FIRMATA_PIN_MODES.servo:
        if (isDigitalPin(pin)) p.mode = mode;
        break;
      case FIRMATA_PIN_MODES.pwm:
        if (isPwmPin(pin)) p.mode = mode;
        break;
      case FIRMATA_PIN_MODES.i2c:
        if (isI2cPin(pin)) p.mode = mode;
        break;
      case FIRMATA_PIN_MODES.serial:
        if (isSerialPin(pin)) p.mode = mode;
        break;
    }
    if (p.mode === FIRMATA_PIN_MODES.pullup) p.state = 1;
    // A servo that is attached holds the library's default pulse (1500 µs) until it is written.
    if (p.mode === FIRMATA_PIN_MODES.servo && !wasServo) p.pulse = DEFAULT_PULSE_WIDTH;
  }

  #digitalWritePort(port: number, value: number): void {
    if (port >= TOTAL_PORTS) return;
    for (let bit = 0; bit < 8; bit++) {
      const pin = port * 8 + bit;
      if (pin >= TOTAL_PINS || !isDigitalPin(pin)) continue;
      const p = this.#pins[pin] as PinState;
      const level = (value >> bit) & 1;
      if (p.mode === FIRMATA_PIN_MODES.output) {
        const changed = p.state !== level;
        p.state = level;
        if (changed) this.#options.onWrite?.(pin, 'digital', level);
      } else if (p.mode === FIRMATA_PIN_MODES.input) {
        // Firmata < 2.6 compatibility: writing HIGH to an input turns its pull-up on.
        p.state = level;
      }
    }
  }

  #setPinValue(pin: number, value: number): void {
    const p = this.#pins[pin];
    if (!p || !isDigitalPin(pin) || p.mode !== FIRMATA_PIN_MODES.output) return;
    const level = value ? 1 : 0;
    const changed = p.state !== level;
    p.state = level;
    if (changed) this.#options.onWrite?.(pin, 'digital', level);
  }

  #analogWrite(pin: number, value: number): void {
    const p = this.#pins[pin];
    if (!p) return;
    if (p.mode === FIRMATA_PIN_MODES.pwm) {
      const duty = Math.min(255, Math.max(0, value));
      const changed = p.state !== duty;
      p.state = duty;
      if (changed) this.#options.onWrite?.(pin, 'pwm', duty);
    } else if (p.mode === FIRMATA_PIN_MODES.servo) {
      const before = p.pulse;
      p.state = value;
      p.pulse = servoMicroseconds(p, value);
      if (p.pulse !== before) this.#options.onWrite?.(pin, 'servo', servoDegrees(p, p.pulse));
    }
  }

  #reportAnalog(channel: number, enable: number): void {
    if (channel >= TOTAL_ANALOG_PINS) return;
    if (enable === 0) {
      this.#analogInputsToReport &= ~(1 << channel);
      return;
    }
    this.#analogInputsToReport |= 1 << channel;
    // sent at once (not during a reset, which would report every unconnected input)
    if (!this.#resetting) this.#sendAnalog(channel);
  }

  #reportDigital(port: number, enable: number): void {
    if (port >= TOTAL_PORTS) return;
    this.#reportPins[port] = enable !== 0;
    if (enable) this.#outputPort(port, true);
  }

  #startSampling(): void {
    clearInterval(this.#samplingTimer);
    if (this.#closed) return;
    this.#samplingTimer = setInterval(() => this.#sample(), this.#samplingIntervalMs);
    this.#samplingTimer.unref();
  }

  #sample(): void {
    if (this.#analogInputsToReport === 0) return;
    for (let channel = 0; channel < TOTAL_ANALOG_PINS; channel++) {
      const pin = this.#pins[channel + ANALOG_PIN_OFFSET] as PinState;
      if (pin.mode === FIRMATA_PIN_MODES.analog && this.#analogInputsToReport & (1 << channel)) {
        this.#sendAnalog(channel);
      }
    }
  }

  #sendAnalog(channel: number): void {
    const value = this.#readAnalog(channel);
    this.#write([ANALOG_MESSAGE | channel, value & 0x7f, (value >> 7) & 0x7f]);
  }

  #readAnalog(channel: number): number {
    if (this.#options.analogValue) {
      let value: number;
      try {
        value = this.#options.analogValue(channel);
      } catch {
        value = 0;
      }
      this.#analog[channel] = clampAdc(value);
    }
    return this.#analog[channel] ?? 0;
  }

  #readPin(pin: number): 0 | 1 {
    const p = this.#pins[pin] as PinState;
    if (this.#options.digitalValue) {
      try {
        return this.#options.digitalValue(pin) ? 1 : 0;
      } catch {
        return 0;
      }
    }
    const driven = this.#digital[pin];
    if (driven !== undefined) return driven;
    // nothing drives it: a pulled-up input reads HIGH, a floating one LOW
    return p.mode === FIRMATA_PIN_MODES.pullup || (p.mode === FIRMATA_PIN_MODES.input && p.state === 1)
      ? 1
      : 0;
  }

  #readPort(port: number): number {
    let value = 0;
    for (let bit = 0; bit < 8; bit++) {
      const pin = port * 8 + bit;
      if (pin >= TOTAL_PINS) break;
      const p = this.#pins[pin] as PinState;
      if (p.mode !== FIRMATA_PIN_MODES.input && p.mode !== FIRMATA_PIN_MODES.pullup) continue;
      if (this.#readPin(pin)) value |= 1 << bit;
    }
    return value;
  }

  #outputPort(port: number, force: boolean): void {
    const value = this.#readPort(port);
    if (!force && this.#previousPins[port] === value) return;
    this.#previousPins[port] = value;
    this.#write([DIGITAL_MESSAGE | port, value & 0x7f, (value >> 7) & 0x7f]);
  }

  #checkDigitalInputs(): void {
    if (this.#closed) return;
    for (let port = 0; port < TOTAL_PORTS; port++) {
      if (this.#reportPins[port]) this.#outputPort(port, false);
    }
  }

  #write(bytes: number[]): void {
    if (this.#closed || this.#stream.destroyed || this.#stream.writableEnded) return;
    this.#stream.write(Buffer.from(bytes));
  }
}

/** The CAPABILITY_RESPONSE body of StandardFirmata 2.5 on an Uno. */
function capabilities(): number[] {
  const out: number[] = [];
  for (let pin = 0; pin < TOTAL_PINS; pin++) {
    if (isDigitalPin(pin)) {
      out.push(FIRMATA_PIN_MODES.input, 1, FIRMATA_PIN_MODES.pullup, 1, FIRMATA_PIN_MODES.output, 1);
    }
    if (isAnalogPin(pin)) out.push(FIRMATA_PIN_MODES.analog, 10);
    if (isPwmPin(pin)) out.push(FIRMATA_PIN_MODES.pwm, 8);
    if (isDigitalPin(pin)) out.push(FIRMATA_PIN_MODES.servo, 14);
    if (isI2cPin(pin)) out.push(FIRMATA_PIN_MODES.i2c, 1);
    // SerialFirmata: the hardware serial pins, RX0 (0x00) and TX0 (0x01)
    if (isSerialPin(pin)) out.push(FIRMATA_PIN_MODES.serial, pin);
    out.push(127);
  }
  return out;
}

function sevenBitPairs(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (const byte of bytes) out.push(byte & 0x7f, (byte >> 7) & 0x7f);
  return out;
}

function clampAdc(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(1023, Math.max(0, Math.round(value)));
}

/** The Arduino Servo library's `write(value)`: below 544 degrees, else microseconds, within the range. */
function servoMicroseconds(pin: PinState, value: number): number {
  if (value < MIN_PULSE_WIDTH) {
    const degrees = Math.min(180, Math.max(0, value));
    return Math.round(pin.minPulse + (degrees * (pin.maxPulse - pin.minPulse)) / 180);
  }
  return Math.min(pin.maxPulse, Math.max(pin.minPulse, value));
}

function servoDegrees(pin: PinState, microseconds: number): number {
  const span = pin.maxPulse - pin.minPulse;
  if (span <= 0) return 0;
  return Math.round(((microseconds - pin.minPulse) * 180) / span);
}
