import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';

/** Structured logs (JSON); human-readable when a person watches a terminal and pino-pretty is installed. */
export function createLogger(level: string): Logger {
  const pretty = process.stdout.isTTY && process.env.IOTLAB_LOG_JSON !== 'true' && hasPrettyPrinter();
  return pino({
    level,
    base: undefined,
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname' },
          },
        }
      : {}),
  });
}

function hasPrettyPrinter(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
