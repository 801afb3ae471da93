import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

export interface LoggerOptions {
  /**
   * Human-readable lines. Default: when stdout is a terminal and pino-pretty is installed; else
   * JSON, one object a line.
   */
  pretty?: boolean;
  /** Where the lines go (default stdout). */
  destination?: NodeJS.WritableStream;
}

/**
 * Structured logs: JSON for machines; for a person at a terminal, one line per event —
 * `[12:00:05] INFO: [gateway] kit identified  path=/dev/ttyACM0 kitId=uno-03 by=metadata` — with
 * the fields the message does not already say appended as key=value.
 */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const settings = { level, base: undefined };
  const wantPretty = options.pretty ?? process.stdout.isTTY === true;
  const build = wantPretty ? prettyPrinter() : undefined;
  if (build) {
    const toTerminal = options.destination === undefined;
    return pino(
      settings,
      build({
        destination: options.destination ?? 1,
        // Written as it happens: the last line before process.exit ("stopped") must not be lost.
        sync: true,
        colorize: toTerminal && process.stdout.isTTY === true,
        translateTime: 'HH:MM:ss',
        ignore: 'pid,hostname',
        hideObject: true,
        messageFormat: (log, messageKey, _levelLabel, extras) =>
          oneLine(log, messageKey, (text) => (toTerminal ? extras.colors.gray(text) : text)),
      }),
    );
  }
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

type PrettyBuild = (options: PrettyOptions) => NodeJS.WritableStream;

/** pino-pretty (a dependency; should an install lack it, the logs stay JSON). */
function prettyPrinter(): PrettyBuild | undefined {
  try {
    return createRequire(import.meta.url)('pino-pretty') as PrettyBuild;
  } catch {
    return undefined;
  }
}

const NOT_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'module']);

/** `[module] message  key=value …`: the fields whose value the message already shows are left out. */
function oneLine(log: Record<string, unknown>, messageKey: string, dim: (text: string) => string): string {
  const message = typeof log[messageKey] === 'string' ? (log[messageKey] as string) : '';
  const prefix = typeof log.module === 'string' ? `[${log.module}] ` : '';
  const fields: string[] = [];
  for (const [key, value] of Object.entries(log)) {
    if (key === messageKey || NOT_FIELDS.has(key) || value === undefined) continue;
    const text = fieldText(value, Number(log.level) >= 50);
    if (typeof value !== 'object' && mentions(message, text)) continue;
    fields.push(`${key}=${text}`);
  }
  return `${prefix}${message}${fields.length > 0 ? `  ${dim(fields.join(' '))}` : ''}`;
}

function fieldText(value: unknown, withStack: boolean): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value !== null && typeof value === 'object' && typeof (value as Error).message === 'string') {
    // An error (pino's serializer: type, message, stack): its message; the stack only for errors.
    const error = value as Error;
    return withStack && error.stack
      ? `${JSON.stringify(error.message)}\n${error.stack}`
      : JSON.stringify(error.message);
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Whether the message shows this value as a word of its own ("stored 59" shows 59). */
function mentions(message: string, text: string): boolean {
  if (text === '' || message === '') return false;
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w.-])${escaped}($|[^\\w-]|\\.(?!\\w))`).test(message);
}
