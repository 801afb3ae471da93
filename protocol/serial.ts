import type { Problem } from './problems.ts';
import {
  checkReadings,
  checkTelemetry,
  checkTimestamp,
  type TelemetryPayload,
  type TimestampLimits,
} from './telemetry.ts';

/**
 * Lines a USB kit prints (Arduino `Serial.println`), one reading set per line, in any of:
 * - JSON: `{"temperature":23.5,"humidity":61}` or the full MQTT payload `{"seq":7,"readings":{...}}`
 * - Serial Plotter: `temperature:23.5,humidity:61` (comma, space or tab between pairs)
 * - key=value: `temperature=23.5 humidity=61`
 * - metadata, starting with `#`: `# kit=greenhouse-07 fw=1.2.0`
 */
export type SerialLine =
  | { kind: 'empty' }
  | { kind: 'meta'; meta: Record<string, string> }
  | { kind: 'telemetry'; value: TelemetryPayload; problems: Problem[] }
  | { kind: 'invalid'; problems: Problem[] };

/** Longest line a gateway accepts, in characters; longer ones are garbage or a missing newline. */
export const MAX_SERIAL_LINE_LENGTH = 1024;

const PAIR_SEPARATOR = /[,\s]+/;

function invalid(code: Problem['code'], message: string): SerialLine {
  return { kind: 'invalid', problems: [{ code, severity: 'refused', message }] };
}

function parsePairs(text: string, separator: ':' | '='): Record<string, string> | undefined {
  const pairs: Record<string, string> = {};
  for (const part of text.split(PAIR_SEPARATOR)) {
    if (part === '') continue;
    const at = part.indexOf(separator);
    if (at <= 0 || at === part.length - 1) return undefined;
    pairs[part.slice(0, at)] = part.slice(at + 1);
  }
  return Object.keys(pairs).length > 0 ? pairs : undefined;
}

function parseNumberText(text: string): number | null | string {
  const lower = text.toLowerCase();
  if (lower === 'nan' || lower === 'null') return null;
  const value = Number(text);
  return text.trim() !== '' && Number.isFinite(value) ? value : text;
}

export function parseSerialLine(raw: string, limits: TimestampLimits): SerialLine {
  const line = raw.replace(/\r$/, '').trim();
  if (line === '') return { kind: 'empty' };
  if (line.length > MAX_SERIAL_LINE_LENGTH) {
    return invalid('LINE_TOO_LONG', `line is ${line.length} characters; at most ${MAX_SERIAL_LINE_LENGTH}`);
  }
  // Replacement characters come from bytes that were not UTF-8: line noise, a wrong baud rate.
  if (line.includes('\uFFFD')) {
    return invalid('NOT_UTF8', 'line has bytes that are not UTF-8 text (wrong baud rate or line noise?)');
  }
  if (line.startsWith('#')) {
    const meta = parsePairs(line.slice(1).trim(), '=');
    return meta ? { kind: 'meta', meta } : { kind: 'empty' };
  }
  if (line.startsWith('{')) {
    let body: unknown;
    try {
      body = JSON.parse(line);
    } catch (error) {
      return invalid('NOT_JSON', `line is not JSON: ${(error as Error).message}`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return invalid('NOT_AN_OBJECT', 'JSON line must be an object');
    }
    if ('readings' in body) {
      const verdict = checkTelemetry(line, limits);
      return verdict.ok
        ? { kind: 'telemetry', value: verdict.value, problems: verdict.problems }
        : { kind: 'invalid', problems: verdict.problems };
    }
    return readingsLine(body as Record<string, unknown>, limits);
  }
  // "temperature: 23.5" and "temperature = 23.5" are as common in sketches as the compact forms.
  const compact = line.replace(/\s*([:=])\s*/g, '$1');
  const separator = compact.includes('=') ? '=' : compact.includes(':') ? ':' : undefined;
  const pairs = separator ? parsePairs(compact, separator) : undefined;
  if (!pairs) {
    return invalid(
      'UNRECOGNISED_LINE',
      'line is not JSON, label:value or key=value pairs (unlabelled numbers need labels, e.g. temperature:23.5)',
    );
  }
  const values: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(pairs)) values[key] = parseNumberText(text);
  return readingsLine(values, limits);
}

/**
 * Readings of a flat line (JSON object or pairs). `seq` and `ts` keys (any case) are the message
 * counter and timestamp, as in the MQTT payload, not sensors.
 */
function readingsLine(values: Record<string, unknown>, limits: TimestampLimits): SerialLine {
  const problems: Problem[] = [];
  const payload: TelemetryPayload = { readings: {} };
  const sensors: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const name = key.trim().toLowerCase();
    if (name === 'seq') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        return invalid('BAD_SEQUENCE', 'seq must be a whole number ≥ 0');
      }
      payload.seq = value;
    } else if (name === 'ts') {
      const checked = checkTimestamp(value, limits);
      if ('code' in checked) return { kind: 'invalid', problems: [checked] };
      payload.ts = checked.ts;
    } else sensors[key] = value;
  }
  const readings = checkReadings(sensors, problems, true);
  if (!readings) return { kind: 'invalid', problems };
  payload.readings = readings;
  return { kind: 'telemetry', value: payload, problems };
}
