import type { Problem } from './problems.ts';
import {
  isValidSensorName,
  MAX_SENSORS_PER_MESSAGE,
  MAX_VALUE_MAGNITUDE,
  normalizeSensorLabel,
  RESERVED_SENSOR_NAMES,
  sensorSpec,
} from './sensors.ts';

/** Readings as the platform stores them: one kit, one instant, many sensors. */
export interface TelemetryRecord {
  kitId: string;
  /** ms since the Unix epoch: the kit's own clock if it sent one, else the time the platform received it. */
  ts: number;
  /** The kit's message counter, for loss detection. */
  seq?: number;
  readings: Record<string, number>;
}

/** A checked telemetry payload; `ts` is absent when the kit sent none (the receiver stamps it). */
export interface TelemetryPayload {
  ts?: number;
  seq?: number;
  readings: Record<string, number>;
}

export type Verdict<T> = { ok: true; value: T; problems: Problem[] } | { ok: false; problems: Problem[] };

export interface TimestampLimits {
  /** Receiver's clock, ms since the epoch. */
  now: number;
  /** How far ahead of the receiver a kit's clock may be. */
  maxFutureMs: number;
  /** How old a reading may be (kits that buffered while offline send old readings). */
  maxPastMs: number;
}

export const DEFAULT_TIMESTAMP_LIMITS = { maxFutureMs: 5 * 60_000, maxPastMs: 7 * 24 * 3_600_000 };

/** Default largest telemetry payload, in bytes. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024;

const utf8 = new TextDecoder();

/** A payload as text; works on Node's Buffers and the browser's Uint8Arrays alike, without copying. */
export function payloadText(payload: Uint8Array | string): string {
  return typeof payload === 'string' ? payload : utf8.decode(payload);
}

const EARLIEST_PLAUSIBLE_CLOCK = Date.UTC(2020, 0, 1);
const PAYLOAD_FIELDS = new Set(['ts', 'seq', 'readings']);

function refused(problem: Omit<Problem, 'severity'>): { ok: false; problems: Problem[] } {
  return { ok: false, problems: [{ ...problem, severity: 'refused' }] };
}

/**
 * Checks one sensor value. Booleans become 1/0 (a PIR or a relay is on or off); `null` is what
 * ArduinoJson prints for a failed DHT read (NaN), so it is dropped with a hint rather than refused.
 */
function checkValue(name: string, raw: unknown, problems: Problem[]): number | undefined {
  let value: number;
  if (typeof raw === 'number') value = raw;
  else if (typeof raw === 'boolean') value = raw ? 1 : 0;
  else if (raw === null) {
    problems.push({
      code: 'VALUE_MISSING',
      severity: 'dropped',
      sensor: name,
      message: `${name} is null: the sensor gave no reading (a failed read prints NaN, which JSON sends as null); check its wiring`,
    });
    return undefined;
  } else {
    problems.push({
      code: 'BAD_VALUE_TYPE',
      severity: 'dropped',
      sensor: name,
      message: `${name} must be a number or true/false, not ${typeof raw === 'string' ? `the string "${raw.slice(0, 20)}"` : typeof raw}`,
    });
    return undefined;
  }
  if (!Number.isFinite(value)) {
    problems.push({
      code: 'BAD_VALUE_TYPE',
      severity: 'dropped',
      sensor: name,
      message: `${name} is not a finite number`,
    });
    return undefined;
  }
  if (Math.abs(value) > MAX_VALUE_MAGNITUDE) {
    problems.push({
      code: 'VALUE_TOO_LARGE',
      severity: 'dropped',
      sensor: name,
      message: `${name}=${value} is beyond ±${MAX_VALUE_MAGNITUDE}, more than any sensor reports; check the unit and the conversion`,
    });
    return undefined;
  }
  const spec = sensorSpec(name);
  if (spec && (value < spec.min || value > spec.max)) {
    problems.push({
      code: 'OUT_OF_RANGE',
      severity: 'warning',
      sensor: name,
      message: `${name}=${value} is outside what a working ${spec.part} reports (${spec.min}..${spec.max} ${spec.unit}); stored, but check the wiring`,
    });
  }
  return value;
}

/**
 * Checks a readings object (`{"temperature": 23.5, ...}`). With `normalizeNames` (serial lines),
 * labels such as "Temp" become sensor names; otherwise names must already be snake_case.
 */
export function checkReadings(
  raw: Record<string, unknown>,
  problems: Problem[],
  normalizeNames = false,
): Record<string, number> | undefined {
  const names = Object.keys(raw);
  if (names.length > MAX_SENSORS_PER_MESSAGE) {
    problems.push({
      code: 'TOO_MANY_SENSORS',
      severity: 'refused',
      message: `${names.length} sensors in one message; at most ${MAX_SENSORS_PER_MESSAGE}`,
    });
    return undefined;
  }
  const readings: Record<string, number> = {};
  let count = 0;
  for (const label of names) {
    const name = normalizeNames ? normalizeSensorLabel(label) : label;
    if (name !== undefined && RESERVED_SENSOR_NAMES.has(name)) {
      problems.push({
        code: 'BAD_SENSOR_NAME',
        severity: 'dropped',
        sensor: name,
        message: `"${name}" is reserved by the platform; name the sensor after what it measures`,
      });
      continue;
    }
    if (name === undefined || !isValidSensorName(name)) {
      const hint = normalizeSensorLabel(label);
      problems.push({
        code: 'BAD_SENSOR_NAME',
        severity: 'dropped',
        sensor: label.slice(0, 64),
        message: `"${label.slice(0, 64)}" is not a sensor name: use snake_case letters, digits and _, starting with a letter${hint ? ` (e.g. "${hint}")` : ''}`,
      });
      continue;
    }
    const value = checkValue(name, raw[label], problems);
    if (value !== undefined) {
      readings[name] = value;
      count++;
    }
  }
  if (count === 0) {
    problems.push({
      code: 'NO_READINGS',
      severity: 'refused',
      message: names.length === 0 ? 'readings is empty' : 'no usable reading in the message',
    });
    return undefined;
  }
  return readings;
}

/**
 * A timestamp is ms since the epoch (a number) or an ISO 8601 string. Readings from a kit whose
 * clock is not set (1970 after boot without NTP) or far in the future are refused: stored at the
 * wrong time they would corrupt every chart and grade.
 */
export function checkTimestamp(raw: unknown, limits: TimestampLimits): { ts: number } | Problem {
  let ts: number;
  if (typeof raw === 'number' && Number.isFinite(raw)) ts = Math.round(raw);
  else if (typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(raw) && !Number.isNaN(Date.parse(raw)))
    ts = Date.parse(raw);
  else
    return {
      code: 'BAD_TIMESTAMP',
      severity: 'refused',
      message:
        'ts must be ms since the Unix epoch (a number) or an ISO 8601 string; leave it out to use the platform clock',
    };
  if (ts < EARLIEST_PLAUSIBLE_CLOCK) {
    const looksLikeSeconds = ts > 1e9 && ts < 1e10;
    return {
      code: 'CLOCK_NOT_SET',
      severity: 'refused',
      message: looksLikeSeconds
        ? `ts=${ts} looks like seconds; send milliseconds (ts*1000)`
        : `ts=${ts} is before 2020: the kit's clock is not set (sync it with NTP, or leave ts out)`,
    };
  }
  if (ts > limits.now + limits.maxFutureMs) {
    return {
      code: 'TIMESTAMP_IN_FUTURE',
      severity: 'refused',
      message: `ts is ${Math.round((ts - limits.now) / 1000)} s ahead of the platform clock (at most ${limits.maxFutureMs / 1000} s allowed); sync the kit's clock or leave ts out`,
    };
  }
  if (ts < limits.now - limits.maxPastMs) {
    return {
      code: 'TIMESTAMP_TOO_OLD',
      severity: 'refused',
      message: `ts is more than ${Math.round(limits.maxPastMs / 3_600_000)} h in the past`,
    };
  }
  return { ts };
}

/** Checks a telemetry payload as a kit publishes it: `{"ts"?, "seq"?, "readings": {...}}`. */
export function checkTelemetry(
  payload: Uint8Array | string,
  limits: TimestampLimits,
  maxBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): Verdict<TelemetryPayload> {
  if (payload.length > maxBytes) {
    return refused({
      code: 'PAYLOAD_TOO_LARGE',
      message: `payload is ${payload.length} bytes; at most ${maxBytes}`,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(payloadText(payload));
  } catch (error) {
    return refused({ code: 'NOT_JSON', message: `payload is not JSON: ${(error as Error).message}` });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return refused({ code: 'NOT_AN_OBJECT', message: 'payload must be a JSON object {"readings": {...}}' });
  }
  const body = parsed as Record<string, unknown>;
  const readingsRaw = body.readings;
  if (typeof readingsRaw !== 'object' || readingsRaw === null || Array.isArray(readingsRaw)) {
    const example = Object.keys(body).find(
      (key) => !PAYLOAD_FIELDS.has(key) && typeof body[key] === 'number',
    );
    return refused({
      code: 'MISSING_READINGS',
      message: `payload needs a "readings" object, e.g. {"readings": {"${example ?? 'temperature'}": 23.5}}`,
    });
  }
  const problems: Problem[] = [];
  for (const key of Object.keys(body)) {
    if (!PAYLOAD_FIELDS.has(key)) {
      problems.push({
        code: 'UNKNOWN_FIELD',
        severity: 'warning',
        message: `field "${key.slice(0, 64)}" is not part of the contract and was ignored (allowed: ts, seq, readings)`,
      });
    }
  }
  const value: TelemetryPayload = { readings: {} };
  if (body.ts !== undefined) {
    const checked = checkTimestamp(body.ts, limits);
    if ('code' in checked) return { ok: false, problems: [checked] };
    value.ts = checked.ts;
  }
  if (body.seq !== undefined) {
    if (typeof body.seq !== 'number' || !Number.isSafeInteger(body.seq) || body.seq < 0) {
      return refused({ code: 'BAD_SEQUENCE', message: 'seq must be a whole number ≥ 0' });
    }
    value.seq = body.seq;
  }
  const readings = checkReadings(readingsRaw as Record<string, unknown>, problems);
  if (!readings) return { ok: false, problems };
  value.readings = readings;
  return { ok: true, value, problems };
}

/** The status a kit publishes (retained) and that its last will sets to offline. */
export interface KitStatus {
  state: 'online' | 'offline';
  firmware?: string;
  ip?: string;
  ts?: number;
}

export function checkStatus(payload: Uint8Array | string): Verdict<KitStatus> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payloadText(payload));
  } catch {
    return refused({ code: 'BAD_STATUS', message: 'status must be JSON like {"state": "online"}' });
  }
  const body = parsed as Partial<KitStatus> | null;
  if (!body || typeof body !== 'object' || (body.state !== 'online' && body.state !== 'offline')) {
    return refused({ code: 'BAD_STATUS', message: 'status needs "state": "online" or "offline"' });
  }
  return { ok: true, value: body as KitStatus, problems: [] };
}
