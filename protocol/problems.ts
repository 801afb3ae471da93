/**
 * Why the platform refused or doubted something a kit sent. The same codes go to the kit's
 * error topic, the logs, the counters and the gateway's per-port statistics.
 */
export type ProblemCode =
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_UTF8'
  | 'NOT_JSON'
  | 'NOT_AN_OBJECT'
  | 'MISSING_READINGS'
  | 'NO_READINGS'
  | 'TOO_MANY_SENSORS'
  | 'UNKNOWN_FIELD'
  | 'BAD_SENSOR_NAME'
  | 'BAD_VALUE_TYPE'
  | 'VALUE_MISSING'
  | 'OUT_OF_RANGE'
  | 'VALUE_TOO_LARGE'
  | 'SENSOR_LIMIT'
  | 'BAD_TIMESTAMP'
  | 'TIMESTAMP_IN_FUTURE'
  | 'TIMESTAMP_TOO_OLD'
  | 'CLOCK_NOT_SET'
  | 'BAD_SEQUENCE'
  | 'BAD_STATUS'
  | 'BAD_EVENT'
  | 'UNKNOWN_KIT'
  | 'LINE_TOO_LONG'
  | 'UNRECOGNISED_LINE'
  | 'TOPIC_NOT_ALLOWED';

/** Every problem code, once (a type check keeps it complete): UIs give each a sentence. */
export const PROBLEM_CODES = [
  'PAYLOAD_TOO_LARGE',
  'NOT_UTF8',
  'NOT_JSON',
  'NOT_AN_OBJECT',
  'MISSING_READINGS',
  'NO_READINGS',
  'TOO_MANY_SENSORS',
  'UNKNOWN_FIELD',
  'BAD_SENSOR_NAME',
  'BAD_VALUE_TYPE',
  'VALUE_MISSING',
  'OUT_OF_RANGE',
  'VALUE_TOO_LARGE',
  'SENSOR_LIMIT',
  'BAD_TIMESTAMP',
  'TIMESTAMP_IN_FUTURE',
  'TIMESTAMP_TOO_OLD',
  'CLOCK_NOT_SET',
  'BAD_SEQUENCE',
  'BAD_STATUS',
  'BAD_EVENT',
  'UNKNOWN_KIT',
  'LINE_TOO_LONG',
  'UNRECOGNISED_LINE',
  'TOPIC_NOT_ALLOWED',
] as const satisfies readonly ProblemCode[];
// Every code is listed: a code missing from PROBLEM_CODES makes this a type error.
const _allListed: Exclude<ProblemCode, (typeof PROBLEM_CODES)[number]> extends never ? true : never = true;
void _allListed;

/**
 * - `refused`: the whole message was not stored;
 * - `dropped`: one value was left out, the rest was stored;
 * - `warning`: stored as sent, but probably not what the kit meant.
 */
export type ProblemSeverity = 'refused' | 'dropped' | 'warning';

export interface Problem {
  code: ProblemCode;
  severity: ProblemSeverity;
  message: string;
  /** The sensor a `dropped` or `warning` problem is about. */
  sensor?: string;
}

/** The body the platform publishes on a kit's `errors` topic. */
export interface KitErrorMessage {
  code: ProblemCode;
  severity: ProblemSeverity;
  message: string;
  sensor?: string;
  /** The topic of the message that was refused or doubted. */
  topic: string;
  /** Server time, ms since the Unix epoch. */
  ts: number;
  /** How many more times the same problem happened since the last report (reports are rate-limited). */
  repeated: number;
}
