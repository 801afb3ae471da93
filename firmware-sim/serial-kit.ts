import { SerialPort } from 'serialport';
import type { KitCommand } from '../protocol/index.ts';
import type { KitModel } from './model.ts';

export type SerialLineFormat = 'json' | 'plotter' | 'keyvalue';

export interface SimulatedSerialKitOptions {
  kitId: string;
  /** The kit's end of a pty pair (the gateway opens the other end, as it would a USB port). */
  path: string;
  format?: SerialLineFormat;
  intervalMs?: number;
  firmware?: string;
  /** Whether the sketch announces itself with `# kit=<id>` at boot (default true). */
  announce?: boolean;
  /** What the kit measures; or give `model`. */
  readings?: (now: number, seq: number) => Record<string, number | null>;
  /** A simulated kit: readings, actuators, timing, garbage on the line. */
  model?: KitModel;
  onCommand?: (command: KitCommand) => void;
}

/** One line as the reference Uno sketches print it (without the `\r\n` that `println` adds). */
export function formatSerialLine(
  format: SerialLineFormat,
  readings: Record<string, number | null>,
  seq?: number,
): string {
  const text = (value: number | null) => (value === null ? 'nan' : String(value));
  const entries = Object.entries(readings);
  switch (format) {
    case 'json':
      return JSON.stringify(seq === undefined ? readings : { seq, ...readings });
    case 'plotter':
      return entries.map(([name, value]) => `${name}:${text(value)}`).join(',');
    case 'keyvalue':
      return [
        ...(seq === undefined ? [] : [`seq=${seq}`]),
        ...entries.map(([name, value]) => `${name}=${text(value)}`),
      ].join(' ');
  }
}

/** Bytes a loose cable or a wrong baud rate puts on the line. */
function garbage(): Buffer {
  const bytes = Buffer.alloc(8 + Math.floor(Math.random() * 40));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return bytes;
}

/**
 * An Arduino on USB: prints `# kit=… fw=…` at boot, then one line of readings per interval, and
 * reads JSON command lines from the gateway. It writes to a real pty, so the gateway sees
 * exactly the bytes a board would send.
 */
export class SimulatedSerialKit {
  readonly kitId: string;
  readonly #options: SimulatedSerialKitOptions;
  #port: SerialPort | undefined;
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  #received = '';
  #stopped = false;
  readonly commands: KitCommand[] = [];

  constructor(options: SimulatedSerialKitOptions) {
    this.kitId = options.kitId;
    this.#options = options;
  }

  /** Readings lines written so far. */
  get sent(): number {
    return this.#seq;
  }

  async start(): Promise<void> {
    const port = new SerialPort({ path: this.#options.path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    this.#port = port;
    port.on('data', (chunk: Buffer) => this.#receive(chunk));
    port.on('error', () => {});
    if (this.#options.announce !== false) {
      this.writeRaw(`# kit=${this.kitId} fw=${this.#options.firmware ?? 'iotlab-sim-uno/0.1'}\r\n`);
    }
    this.#schedule(this.#options.intervalMs ?? 1_000);
  }

  /** Prints one readings line now. */
  printOnce(): void {
    const now = Date.now();
    const model = this.#options.model;
    const readings = model
      ? { ...model.sample(now), ...model.actuators() }
      : (this.#options.readings?.(now, this.#seq) ?? {});
    if (model?.transport(now).garbage) this.writeRaw(Buffer.concat([garbage(), Buffer.from('\r\n')]));
    this.writeRaw(`${formatSerialLine(this.#options.format ?? 'json', readings, this.#seq++)}\r\n`);
  }

  /** Writes raw bytes (garbage injection uses this). */
  writeRaw(data: string | Buffer): void {
    this.#port?.write(data);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    const port = this.#port;
    if (port?.isOpen) await new Promise<void>((resolve) => port.drain(() => port.close(() => resolve())));
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.printOnce();
      const model = this.#options.model;
      this.#schedule(model ? model.transport(Date.now()).intervalMs : (this.#options.intervalMs ?? 1_000));
    }, delayMs);
  }

  #receive(chunk: Buffer): void {
    this.#received += chunk.toString('utf8');
    let newline = this.#received.indexOf('\n');
    while (newline !== -1) {
      const line = this.#received.slice(0, newline).trim();
      this.#received = this.#received.slice(newline + 1);
      if (line.startsWith('{')) {
        try {
          const command = JSON.parse(line) as KitCommand;
          this.commands.push(command);
          this.#options.model?.command(command);
          this.#options.onCommand?.(command);
        } catch {
          // a real sketch ignores what it cannot parse
        }
      }
      newline = this.#received.indexOf('\n');
    }
  }
}
