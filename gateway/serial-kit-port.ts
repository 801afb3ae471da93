import { SerialPort } from 'serialport';
import {
  DEFAULT_TIMESTAMP_LIMITS,
  type ProblemCode,
  parseSerialLine,
  type SerialLine,
} from '../protocol/index.ts';
import { LineSplitter } from './lines.ts';

export interface PortStats {
  path: string;
  state: 'opening' | 'open' | 'closed';
  baudRate: number;
  usbSerialNumber?: string;
  linesGood: number;
  linesBad: number;
  /** Why lines were bad, by problem code (LINE_TOO_LONG includes lines dropped whole). */
  problems: Partial<Record<ProblemCode, number>>;
  droppedBytes: number;
  lastLineAt: number | null;
  openedAt: number | null;
}

/** Counters of a port that has not read anything yet. */
export function newPortStats(path: string, baudRate: number, usbSerialNumber?: string): PortStats {
  return {
    path,
    state: 'opening',
    baudRate,
    ...(usbSerialNumber ? { usbSerialNumber } : {}),
    linesGood: 0,
    linesBad: 0,
    problems: {},
    droppedBytes: 0,
    lastLineAt: null,
    openedAt: null,
  };
}

export interface SerialKitPortOptions {
  path: string;
  baudRate: number;
  usbSerialNumber?: string;
  /** Every non-empty line, parsed per the protocol, with the time it arrived. */
  onLine: (line: SerialLine, receivedAt: number) => void;
  /** The port went away (unplugged, or the device closed it). */
  onClose: (error?: Error) => void;
}

/**
 * One USB serial port read line by line. Garbage, non-UTF-8 bytes, partial and over-long lines
 * are counted and dropped here; they never stop the port.
 */
export class SerialKitPort {
  readonly stats: PortStats;
  readonly #options: SerialKitPortOptions;
  readonly #splitter: LineSplitter;
  #port: SerialPort | undefined;
  #closing = false;

  constructor(options: SerialKitPortOptions) {
    this.#options = options;
    this.stats = newPortStats(options.path, options.baudRate, options.usbSerialNumber);
    this.#splitter = new LineSplitter((line) => this.#line(line));
  }

  async open(): Promise<void> {
    const port = new SerialPort({
      path: this.#options.path,
      baudRate: this.#options.baudRate,
      autoOpen: false,
    });
    this.#port = port;
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    this.stats.state = 'open';
    this.stats.openedAt = Date.now();
    port.on('data', (chunk: Buffer) => {
      this.#splitter.push(chunk);
      this.stats.droppedBytes = this.#splitter.counts.droppedBytes;
    });
    let reported = false;
    const gone = (error?: Error) => {
      if (reported) return;
      reported = true;
      this.stats.state = 'closed';
      this.#splitter.reset();
      if (!this.#closing) this.#options.onClose(error);
    };
    port.on('close', (error?: Error | null) => gone(error ?? undefined));
    port.on('error', (error: Error) => {
      gone(error);
      if (port.isOpen) port.close(() => {});
    });
  }

  /** Sends one line down to the kit (a command). */
  write(line: string): Promise<void> {
    const port = this.#port;
    if (!port?.isOpen) return Promise.reject(new Error(`port ${this.#options.path} is not open`));
    return new Promise((resolve, reject) => {
      port.write(`${line}\n`, (error) => (error ? reject(error) : port.drain(() => resolve())));
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    const port = this.#port;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.stats.state = 'closed';
  }

  #line(text: string): void {
    const receivedAt = Date.now();
    const line = parseSerialLine(text, { now: receivedAt, ...DEFAULT_TIMESTAMP_LIMITS });
    if (line.kind === 'empty') return;
    this.stats.lastLineAt = receivedAt;
    if (line.kind === 'invalid') {
      this.stats.linesBad++;
      for (const problem of line.problems) {
        this.stats.problems[problem.code] = (this.stats.problems[problem.code] ?? 0) + 1;
      }
    } else this.stats.linesGood++;
    this.#options.onLine(line, receivedAt);
  }

  /** Lines dropped whole by the splitter count as bad lines too. */
  get overlongLines(): number {
    return this.#splitter.counts.overlong;
  }
}
