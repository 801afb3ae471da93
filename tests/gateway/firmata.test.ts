import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createDuplexPair,
  type FirmataBoardEmulator as Emulator,
  FirmataBoardEmulator,
  type FirmataOutputMode,
  type PtyPair,
  startPtyPair,
} from '../../firmware-sim/index.ts';
import { FirmataKit, type FirmataKitError, type FirmataKitOptions } from '../../gateway/index.ts';
import { describeWithServer } from '../helpers/suites.ts';

const KIT_PINS = {
  A0: { sensor: 'light', scale: [0, 1023, 0, 1000] },
  D7: { sensor: 'motion' },
  D13: { actuator: 'led' },
  D8: { actuator: 'fan', kind: 'relay' },
  D9: { actuator: 'servo' },
  D3: { actuator: 'buzzer' },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** What a kit reported, with the time each set of readings arrived. */
class Recorder {
  readonly readings: { at: number; values: Record<string, number> }[] = [];
  readonly errors: FirmataKitError[] = [];
  closedWith: (FirmataKitError | undefined)[] = [];
  readonly options = {
    onReadings: (values: Record<string, number>) => this.readings.push({ at: Date.now(), values }),
    onError: (error: FirmataKitError) => this.errors.push(error),
    onClose: (error?: FirmataKitError) => this.closedWith.push(error),
  };
  last(): Record<string, number> | undefined {
    return this.readings.at(-1)?.values;
  }
  /** Resolves with the first readings (arriving after now) that pass `test`. */
  async next(
    test: (values: Record<string, number>) => boolean,
    timeoutMs = 3_000,
  ): Promise<Record<string, number>> {
    const from = this.readings.length;
    let found: Record<string, number> | undefined;
    await eventually(
      () => {
        found = this.readings.slice(from).find((r) => test(r.values))?.values;
        return found !== undefined;
      },
      timeoutMs,
      `readings matching ${test.toString()}; last: ${JSON.stringify(this.last())}`,
    );
    return found as Record<string, number>;
  }
}

describe('the Firmata board emulator on the wire', () => {
  let host: Duplex;
  let board: Duplex;
  let emulator: Emulator;
  let received: number[];
  const writes: [number, FirmataOutputMode, number][] = [];

  beforeEach(() => {
    [host, board] = createDuplexPair({ maxChunk: 1 });
    received = [];
    writes.length = 0;
    host.on('data', (chunk: Buffer) => received.push(...chunk));
    emulator = new FirmataBoardEmulator(board, {
      onWrite: (pin, mode, value) => writes.push([pin, mode, value]),
      boot: false,
    });
  });
  afterEach(() => {
    emulator.close();
    host.destroy();
  });

  const send = (...bytes: number[]) => host.write(Buffer.from(bytes));
  const settle = () => sleep(20);

  it('answers version and firmware queries, also sent one byte at a time', async () => {
    send(0xf9, 0xf0, 0x79, 0xf7);
    await settle();
    expect(received.slice(0, 3)).toEqual([0xf9, 2, 5]);
    const name = Buffer.from(received.slice(7, -1).filter((_, i) => i % 2 === 0)).toString();
    expect(received.slice(3, 7)).toEqual([0xf0, 0x79, 2, 5]);
    expect(name).toBe('StandardFirmata.ino');
  });

  it('reports an Uno’s capabilities and analog mapping as StandardFirmata does', async () => {
    send(0xf0, 0x69, 0xf7);
    await settle();
    expect(received).toEqual([0xf0, 0x6a, ...Array(14).fill(127), 0, 1, 2, 3, 4, 5, 0xf7]);
    received.length = 0;
    send(0xf0, 0x6b, 0xf7);
    await settle();
    const pins: number[][] = [[]];
    for (const byte of received.slice(2, -1)) {
      if (byte === 127) pins.push([]);
      else (pins.at(-1) as number[]).push(byte);
    }
    pins.pop();
    expect(pins).toHaveLength(20);
    expect(pins[0]).toEqual([0x0a, 0]); // RX0: the USB serial link
    expect(pins[3]).toEqual([0, 1, 0x0b, 1, 1, 1, 3, 8, 4, 14]); // input, pullup, output, PWM 8 bit, servo
    expect(pins[7]).toEqual([0, 1, 0x0b, 1, 1, 1, 4, 14]);
    expect(pins[14]).toEqual([0, 1, 0x0b, 1, 1, 1, 2, 10, 4, 14]); // A0: analog 10 bit
    expect(pins[18]).toEqual([0, 1, 0x0b, 1, 1, 1, 2, 10, 4, 14, 6, 1]); // A4: also I2C SDA
  });

  it('writes outputs, answers pin state queries, resets, and reports analog inputs at the sampling interval', async () => {
    send(0xf5, 13, 1); // SET_DIGITAL_PIN_VALUE: D13 is an output after a reset
    send(0xf4, 5, 3, 0xe5, 100, 1); // D5 to PWM, duty 228 (100 | 1 << 7)
    send(0xf4, 16, 4, 0xf0, 0x6f, 16, 96, 18, 0xf7); // A2 (pin 16) to servo, EXTENDED_ANALOG 2400 µs
    send(0xf0, 0x6d, 13, 0xf7);
    await settle();
    expect(writes).toEqual([
      [13, 'digital', 1],
      [5, 'pwm', 228],
      [16, 'servo', 180],
    ]);
    expect(emulator.output(16)).toEqual({ mode: 'servo', value: 180, microseconds: 2400 });
    expect(received).toEqual([0xf0, 0x6e, 13, 1, 1, 0xf7]);

    send(0xf4, 7, 0x42); // a mode the firmware does not know
    await settle();
    expect(Buffer.from(received.slice(8, -1).filter((_, i) => i % 2 === 0)).toString()).toBe(
      'Unknown pin mode',
    );

    send(0xff); // SYSTEM_RESET
    await settle();
    expect(emulator.mode(5)).toBe('output');
    expect(emulator.mode(16)).toBe('analog');
    expect(emulator.output(13)).toEqual({ mode: 'digital', value: 0 });

    received.length = 0;
    emulator.setAnalog(1, 700);
    send(0xf0, 0x7a, 50, 0, 0xf7, 0xc1, 1); // sampling every 50 ms, report A1
    await sleep(520);
    send(0xc1, 0);
    await settle();
    expect(emulator.samplingIntervalMs).toBe(50);
    const reports = received.length / 3;
    expect(received.slice(0, 3)).toEqual([0xe1, 700 & 0x7f, 700 >> 7]);
    // one at once, then one per 50 ms
    expect(reports).toBeGreaterThanOrEqual(7);
    expect(reports).toBeLessThanOrEqual(13);
  });
});

describe('FirmataKit over an in-memory stream (one byte per chunk)', () => {
  let kitEnd: Duplex;
  let boardEnd: Duplex;
  let emulator: Emulator;
  let kit: FirmataKit | undefined;

  beforeEach(() => {
    [kitEnd, boardEnd] = createDuplexPair({ maxChunk: 1 });
    emulator = new FirmataBoardEmulator(boardEnd);
  });
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
    emulator.close();
    boardEnd.destroy();
  });

  it('gets ready, reads inputs and drives outputs', async () => {
    emulator.setAnalog(0, 1023);
    const recorder = new Recorder();
    kit = await FirmataKit.open({
      transport: kitEnd,
      pinMap: KIT_PINS,
      sampleIntervalMs: 50,
      ...recorder.options,
    });
    expect(kit.ready).toBe(true);
    expect(kit.firmware).toBe('StandardFirmata.ino 2.5');
    expect(await recorder.next((r) => r.light === 1000)).toEqual({
      light: 1000,
      motion: 0,
      led: 0,
      fan: 0,
      buzzer: 0,
    });
    expect(kit.command({ command: 'fan', value: 'on' })).toEqual({ ok: true, command: 'fan', value: 1 });
    expect(emulator.output(8)).toEqual({ mode: 'digital', value: 1 });
    await recorder.next((r) => r.fan === 1);
  });

  it('uses the A header for digital inputs and outputs too', async () => {
    const recorder = new Recorder();
    kit = await FirmataKit.open({
      transport: kitEnd,
      pinMap: {
        A3: { sensor: 'button', input: 'digital' },
        A2: { actuator: 'led' },
        A1: { actuator: 'servo' },
      },
      sampleIntervalMs: 50,
      ...recorder.options,
    });
    expect(kit.pins).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pinName: 'A3', pin: 17 }),
        expect.objectContaining({ pinName: 'A2', pin: 16 }),
      ]),
    );
    emulator.setDigital(17, 1);
    await recorder.next((r) => r.button === 1);
    kit.command({ command: 'led', value: 1 });
    kit.command({ command: 'servo', value: 180 });
    await eventually(() => emulator.output(16)?.value === 1, 2_000, 'A2 (pin 16) on');
    await eventually(
      () => emulator.output(15)?.value === 180,
      2_000,
      'A1 (pin 15) servo at 180° (EXTENDED_ANALOG)',
    );
    expect(emulator.mode(2)).toBe('output'); // johnny-five's "A2" → 2 rewrite did not reach D2
  });

  it('refuses a pin the board does not have', async () => {
    await expect(
      FirmataKit.open({
        transport: kitEnd,
        pinMap: { A6: { sensor: 'light' }, D20: { actuator: 'led' } },
        onReadings() {},
      }),
    ).rejects.toThrow(/has no pin A6[\s\S]*has no pin D20/);
  });

  it('notices when the stream to the board ends', async () => {
    const recorder = new Recorder();
    kit = await FirmataKit.open({
      transport: kitEnd,
      pinMap: { D13: { actuator: 'led' } },
      sampleIntervalMs: 50,
      ...recorder.options,
    });
    boardEnd.destroy();
    await eventually(() => recorder.closedWith.length === 1, 2_000, 'onClose');
    expect(recorder.closedWith[0]?.code).toBe('FIRMATA_DISCONNECTED');
    expect(kit.closed).toBe(true);
    expect(kit.command({ command: 'led', value: 1 })).toMatchObject({ ok: false, code: 'NOT_CONNECTED' });
  });
});

describeWithServer('socat', 'FirmataKit with johnny-five over a pty pair (a USB board)', () => {
  let pair: PtyPair;
  let boardPort: SerialPort | undefined;
  let emulator: Emulator | undefined;
  let kit: FirmataKit | undefined;
  let writes: [number, FirmataOutputMode, number][];
  let light: number;
  let pir: 0 | 1;

  beforeEach(async () => {
    pair = await startPtyPair();
    writes = [];
    light = 512;
    pir = 0;
  });
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
    emulator?.close();
    emulator = undefined;
    if (boardPort?.isOpen) await new Promise((resolve) => boardPort?.close(resolve));
    boardPort = undefined;
    await pair.stop();
  });

  /** The board: the other end of the "USB cable", opened with serialport like the gateway's end. */
  async function plugInBoard(options: { boot?: boolean } = {}): Promise<Emulator> {
    const port = new SerialPort({ path: pair.b, baudRate: 57_600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    boardPort = port;
    emulator = new FirmataBoardEmulator(port, {
      analogValue: (channel) => (channel === 0 ? light : 0),
      digitalValue: (pin) => (pin === 7 ? pir : 0),
      onWrite: (pin, mode, value) => writes.push([pin, mode, value]),
      ...options,
    });
    return emulator;
  }

  const openKit = (recorder: Recorder, options: Partial<FirmataKitOptions> = {}) =>
    FirmataKit.open({
      path: pair.a,
      pinMap: KIT_PINS,
      sampleIntervalMs: 100,
      ...recorder.options,
      ...options,
    });

  it('gets ready when the board boots after the port opened, as an Uno does when it resets', async () => {
    const recorder = new Recorder();
    const started = Date.now();
    const opening = openKit(recorder);
    await sleep(300);
    const board = await plugInBoard();
    kit = await opening;
    // the boot banner made it ready, long before firmata.js would have asked (after 5 s)
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(kit.firmware).toBe('StandardFirmata.ino 2.5');
    await eventually(() => board.mode(7) === 'input', 2_000, 'D7 set to input');
    await eventually(() => board.mode(9) === 'servo', 2_000, 'D9 set to servo');
    expect(board.reportingAnalogChannels).toEqual([0]);
  });

  it('asks a board that is already running for its version', async () => {
    // it booted long ago (a board that does not reset when the port opens): no banner now
    const board = await plugInBoard({ boot: false });
    const recorder = new Recorder();
    kit = await openKit(recorder, { reportVersionTimeoutMs: 200 });
    expect(board.received).toContain(0xf9);
    expect(kit.ready).toBe(true);
  });

  it('delivers a scaled analog value at about the configured rate', async () => {
    await plugInBoard();
    const recorder = new Recorder();
    kit = await openKit(recorder, { reportVersionTimeoutMs: 200, boardSamplingIntervalMs: 25 });
    expect(emulator?.samplingIntervalMs).toBe(25);
    expect((await recorder.next((r) => r.light !== undefined)).light).toBeCloseTo((512 * 1000) / 1023, 2);
    const from = recorder.readings.length;
    await sleep(1_000);
    const count = recorder.readings.length - from;
    expect(count).toBeGreaterThanOrEqual(7);
    expect(count).toBeLessThanOrEqual(12);
    light = 1023;
    await recorder.next((r) => r.light === 1000);
    light = 0;
    await recorder.next((r) => r.light === 0);
  });

  it('reports a PIR as motion 0/1, short pulses included', async () => {
    await plugInBoard();
    const recorder = new Recorder();
    kit = await openKit(recorder, { reportVersionTimeoutMs: 200, sampleIntervalMs: 300 });
    expect((await recorder.next((r) => r.motion !== undefined)).motion).toBe(0);
    pir = 1;
    await recorder.next((r) => r.motion === 1);
    pir = 0;
    await recorder.next((r) => r.motion === 0);
    // HIGH for 40 ms, well inside one 300 ms interval: not lost
    const from = recorder.readings.length;
    pir = 1;
    await sleep(40);
    pir = 0;
    await eventually(() => recorder.readings.length >= from + 2, 2_000, 'two more readings');
    expect(recorder.readings.slice(from).map((r) => r.values.motion)).toEqual([1, 0]);
  });

  it('switches the LED and turns the servo on command, and the readings show it', async () => {
    const board = await plugInBoard();
    const recorder = new Recorder();
    kit = await openKit(recorder, { reportVersionTimeoutMs: 200 });
    expect(await recorder.next(() => true)).toMatchObject({ led: 0, fan: 0, buzzer: 0 });

    expect(kit.command({ command: 'led', value: 1 })).toEqual({ ok: true, command: 'led', value: 1 });
    await eventually(() => board.output(13)?.value === 1, 2_000, 'D13 on');
    expect(await recorder.next(() => true)).toMatchObject({ led: 1 });
    expect(kit.command({ command: 'buzzer', value: true })).toMatchObject({ ok: true });
    await eventually(() => board.output(3)?.value === 1, 2_000, 'D3 on');
    expect(board.output(3)).toEqual({ mode: 'digital', value: 1 });
    expect(kit.command({ command: 'led', value: 'off' })).toMatchObject({ ok: true, value: 0 });
    await eventually(() => board.output(13)?.value === 0, 2_000, 'D13 off');

    expect(kit.command({ command: 'servo', value: 90 })).toEqual({ ok: true, command: 'servo', value: 90 });
    await eventually(() => board.output(9)?.value === 90, 2_000, 'servo at 90°');
    kit.command({ command: 'servo', value: '45' });
    await eventually(() => board.output(9)?.value === 45, 2_000, 'servo at 45°');
    expect(await recorder.next(() => true)).toMatchObject({ servo: 45, led: 0, buzzer: 1 });
    expect(writes).toEqual(
      expect.arrayContaining([
        [13, 'digital', 1],
        [13, 'digital', 0],
        [9, 'servo', 90],
        [9, 'servo', 45],
      ]),
    );
  });

  it('answers bad commands with a clear error', async () => {
    await plugInBoard();
    kit = await openKit(new Recorder(), { reportVersionTimeoutMs: 200 });
    expect(kit.command({ command: 'pump', value: 1 })).toMatchObject({
      ok: false,
      code: 'UNKNOWN_ACTUATOR',
      error: expect.stringMatching(/no actuator "pump".*led \(D13\)/),
    });
    expect(kit.command({ command: 'led', value: 'bright' })).toMatchObject({
      ok: false,
      code: 'BAD_VALUE',
      error: expect.stringMatching(/1\/0, true\/false or "on"\/"off"/),
    });
    expect(kit.command({ command: 'led' })).toMatchObject({ ok: false, code: 'BAD_VALUE' });
    expect(kit.command({ command: 'servo', value: 270 })).toMatchObject({
      ok: false,
      code: 'BAD_VALUE',
      error: expect.stringMatching(/0 to 180 degrees/),
    });
    expect(kit.command(null as never)).toMatchObject({ ok: false });
    expect(emulator?.output(13)).toEqual({ mode: 'digital', value: 0 });
  });

  it('closes the port and leaves the outputs switched off', async () => {
    const board = await plugInBoard();
    const recorder = new Recorder();
    kit = await openKit(recorder, { reportVersionTimeoutMs: 200 });
    kit.command({ command: 'fan', value: 1 });
    await eventually(() => board.output(8)?.value === 1, 2_000, 'fan on');
    await kit.close();
    expect(kit.closed).toBe(true);
    await eventually(() => board.output(8)?.value === 0, 2_000, 'fan off after close');
    const count = recorder.readings.length;
    await sleep(300);
    expect(recorder.readings.length).toBe(count);
    expect(recorder.closedWith).toEqual([undefined]);
    expect(recorder.errors).toEqual([]);
    // the port is free again: a new kit opens it
    kit = await openKit(new Recorder(), { reportVersionTimeoutMs: 200 });
    expect(kit.ready).toBe(true);
  });

  it('notices when the board is unplugged', async () => {
    await plugInBoard();
    const recorder = new Recorder();
    kit = await openKit(recorder, { reportVersionTimeoutMs: 200 });
    await recorder.next(() => true);
    await pair.stop(); // the cable is gone
    await eventually(() => recorder.closedWith.length === 1, 10_000, 'onClose after unplug');
    expect(recorder.closedWith[0]).toMatchObject({ code: 'FIRMATA_DISCONNECTED' });
    expect(recorder.errors.map((e) => e.code)).toContain('FIRMATA_DISCONNECTED');
    expect(kit.command({ command: 'led', value: 1 })).toMatchObject({
      ok: false,
      code: 'NOT_CONNECTED',
      error: expect.stringMatching(/disconnected/),
    });
  });

  it('says so when the port cannot be opened or nothing answers Firmata on it', async () => {
    await expect(openKit(new Recorder(), { path: `${pair.a}-missing` })).rejects.toMatchObject({
      code: 'FIRMATA_PORT',
      message: expect.stringMatching(/cannot open .*-missing/),
    });
    // the other end is open but silent: a board without StandardFirmata
    const port = new SerialPort({ path: pair.b, baudRate: 57_600 });
    boardPort = port;
    const started = Date.now();
    await expect(
      openKit(new Recorder(), { reportVersionTimeoutMs: 200, readyTimeoutMs: 800 }),
    ).rejects.toMatchObject({
      code: 'FIRMATA_TIMEOUT',
      message: expect.stringMatching(/no Firmata answer .* within 800 ms: is StandardFirmata uploaded/),
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

// firmata-io's own client against the emulator: the queries johnny-five does not make.
describe('firmata-io against the emulator', () => {
  it('reads pin states the way firmata.js parses them', async () => {
    const require = createRequire(import.meta.url);
    const { Firmata } = require('firmata-io') as {
      Firmata: new (
        transport: Duplex,
        options: object,
      ) => {
        on(event: string, cb: () => void): void;
        emit(event: string): void;
        queryPinState(pin: number, cb: () => void): void;
        pins: { mode: number; state: number }[];
        digitalWrite(pin: number, value: number): void;
      };
    };
    const [hostEnd, boardEnd] = createDuplexPair({ maxChunk: 2 });
    const emulator = new FirmataBoardEmulator(boardEnd);
    const io = new Firmata(hostEnd, {});
    await new Promise<void>((resolve) => io.on('ready', resolve));
    io.digitalWrite(12, 1);
    await new Promise<void>((resolve) => io.queryPinState(12, resolve));
    expect(io.pins[12]).toMatchObject({ mode: 1, state: 1 });
    await new Promise<void>((resolve) => io.queryPinState(14, resolve));
    expect(io.pins[14]).toMatchObject({ mode: 2, state: 0 });
    emulator.close();
    hostEnd.destroy();
  });
});
