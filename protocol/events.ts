import type { Problem } from './problems.ts';
import { MAX_VALUE_MAGNITUDE, SENSOR_NAME_PATTERN } from './sensors.ts';
import { checkTimestamp, payloadText, type TimestampLimits, type Verdict } from './telemetry.ts';

/** Something that happened on the kit: a button press, an alarm raised. */
export interface KitEvent {
  /** snake_case name, e.g. "button", "alarm". */
  event: string;
  value?: number;
  ts?: number;
}

export function checkEvent(payload: Uint8Array | string, limits: TimestampLimits): Verdict<KitEvent> {
  const bad = (message: string): { ok: false; problems: Problem[] } => ({
    ok: false,
    problems: [{ code: 'BAD_EVENT', severity: 'refused', message }],
  });
  let body: unknown;
  try {
    body = JSON.parse(payloadText(payload));
  } catch {
    return bad('event must be JSON like {"event": "button"}');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return bad('event must be a JSON object');
  const { event, value, ts } = body as Record<string, unknown>;
  if (typeof event !== 'string' || !SENSOR_NAME_PATTERN.test(event)) {
    return bad('"event" must be a snake_case name, e.g. "button" or "alarm"');
  }
  const checked: KitEvent = { event };
  if (value !== undefined) {
    if (typeof value === 'boolean') checked.value = value ? 1 : 0;
    else if (typeof value !== 'number' || !Number.isFinite(value))
      return bad('"value" must be a number or true/false');
    else if (Math.abs(value) > MAX_VALUE_MAGNITUDE) {
      const message = `"value" ${value} is beyond ±${MAX_VALUE_MAGNITUDE}; send a plausible number`;
      return { ok: false, problems: [{ code: 'VALUE_TOO_LARGE', severity: 'refused', message }] };
    } else checked.value = value;
  }
  if (ts !== undefined) {
    const stamp = checkTimestamp(ts, limits);
    if ('code' in stamp) return { ok: false, problems: [stamp] };
    checked.ts = stamp.ts;
  }
  return { ok: true, value: checked, problems: [] };
}

/** What the platform (an instructor, a flow, grading) sends down to a kit. */
export interface KitCommand {
  /** The actuator or action, e.g. "fan", "pump", "led". */
  command: string;
  value?: number | string | boolean;
  /** Chosen by the sender; a kit may echo it in an event to acknowledge. */
  id?: string;
}
