/**
 * The telemetry, status and event payloads and the topic tree of the wire contract
 * (docs/protocol.md), checked the way the broker checks what a kit publishes.
 */
import { describe, expect, it } from 'vitest';
import {
  checkEvent,
  checkStatus,
  checkTelemetry,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_TIMESTAMP_LIMITS,
  type KitChannel,
  kitTopic,
  type Problem,
  parseKitTopic,
  type TimestampLimits,
} from '../../protocol/index.ts';

const NOW = Date.UTC(2025, 2, 10, 9, 0, 0);
const LIMITS: TimestampLimits = { now: NOW, ...DEFAULT_TIMESTAMP_LIMITS };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** What the broker hands to the check: the raw bytes of the MQTT payload. */
const bytes = (body: unknown): Buffer => Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
const check = (body: unknown) => checkTelemetry(bytes(body), LIMITS);
const codes = (problems: Problem[]) => problems.map((problem) => problem.code);

describe('checkTelemetry: accepted payloads', () => {
  it('keeps ts, seq and every reading exactly as sent', () => {
    const verdict = check({ ts: NOW - 1_000, seq: 7, readings: { temperature: 23.5, humidity: 61 } });
    expect(verdict).toEqual({
      ok: true,
      value: { ts: NOW - 1_000, seq: 7, readings: { temperature: 23.5, humidity: 61 } },
      problems: [],
    });
  });

  it('leaves ts out when the kit sent none, so the platform stamps the receive time', () => {
    const verdict = check({ readings: { light: 420 } });
    expect(verdict).toEqual({ ok: true, value: { readings: { light: 420 } }, problems: [] });
  });

  it('accepts seq 0 (the first message after boot)', () => {
    expect(check({ seq: 0, readings: { light: 1 } })).toMatchObject({ ok: true, value: { seq: 0 } });
  });

  it('accepts the same payload given as a string', () => {
    expect(checkTelemetry('{"readings":{"temperature":21}}', LIMITS)).toEqual({
      ok: true,
      value: { readings: { temperature: 21 } },
      problems: [],
    });
  });

  it('accepts any snake_case sensor name without a warning, even unknown ones', () => {
    const verdict = check({ readings: { water_level_2: 12.5, x: -3 } });
    expect(verdict).toEqual({ ok: true, value: { readings: { water_level_2: 12.5, x: -3 } }, problems: [] });
  });

  it('accepts a negative temperature and zero values', () => {
    expect(check({ readings: { temperature: -12.5, light: 0 } })).toEqual({
      ok: true,
      value: { readings: { temperature: -12.5, light: 0 } },
      problems: [],
    });
  });

  it('turns true/false into 1/0 (a PIR, a relay)', () => {
    expect(check({ readings: { motion: true, fan: false } })).toEqual({
      ok: true,
      value: { readings: { motion: 1, fan: 0 } },
      problems: [],
    });
  });

  it('accepts 64 sensors in one message', () => {
    const readings = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`s${i}`, i]));
    const verdict = check({ readings });
    expect(verdict.ok).toBe(true);
    expect(verdict.ok && Object.keys(verdict.value.readings)).toHaveLength(64);
  });
});

describe('checkTelemetry: refused messages', () => {
  it('refuses a payload that is not JSON', () => {
    expect(check('temperature=23.5')).toMatchObject({
      ok: false,
      problems: [
        { code: 'NOT_JSON', severity: 'refused', message: expect.stringMatching(/^payload is not JSON/) },
      ],
    });
  });

  it('refuses JSON that is not an object (an array, a number, null)', () => {
    for (const body of ['[23.5, 61]', '23.5', 'null']) {
      expect(check(body)).toMatchObject({
        ok: false,
        problems: [{ code: 'NOT_AN_OBJECT', severity: 'refused' }],
      });
    }
  });

  it('refuses readings sent without the "readings" object, with a hint naming the sensor', () => {
    const verdict = check({ temperature: 23.5, humidity: 61 });
    expect(verdict).toMatchObject({
      ok: false,
      problems: [{ code: 'MISSING_READINGS', severity: 'refused' }],
    });
    expect(verdict.problems[0]?.message).toBe(
      'payload needs a "readings" object, e.g. {"readings": {"temperature": 23.5}}',
    );
  });

  it('refuses "readings" that is an array or a number', () => {
    for (const readings of [[23.5], 23.5]) {
      expect(check({ readings })).toMatchObject({ ok: false, problems: [{ code: 'MISSING_READINGS' }] });
    }
  });

  it('names a sensor, not seq or ts, in the MISSING_READINGS hint', () => {
    expect(check({ seq: 3, humidity: 61 }).problems[0]?.message).toBe(
      'payload needs a "readings" object, e.g. {"readings": {"humidity": 23.5}}',
    );
    expect(check({ ts: NOW, seq: 3, light: 812 }).problems[0]?.message).toContain('{"light": 23.5}');
    expect(check({ seq: 3 }).problems[0]?.message).toContain('{"temperature": 23.5}');
  });

  it('refuses an empty readings object', () => {
    expect(check({ readings: {} })).toEqual({
      ok: false,
      problems: [{ code: 'NO_READINGS', severity: 'refused', message: 'readings is empty' }],
    });
  });

  it('refuses 65 sensors in one message', () => {
    const readings = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`s${i}`, i]));
    expect(check({ readings })).toEqual({
      ok: false,
      problems: [
        { code: 'TOO_MANY_SENSORS', severity: 'refused', message: '65 sensors in one message; at most 64' },
      ],
    });
  });

  it('refuses the message when no value is usable', () => {
    const verdict = check({ readings: { temperature: null, humidity: 'n/a' } });
    expect(verdict.ok).toBe(false);
    expect(codes(verdict.problems)).toEqual(['VALUE_MISSING', 'BAD_VALUE_TYPE', 'NO_READINGS']);
    expect(verdict.problems.at(-1)).toEqual({
      code: 'NO_READINGS',
      severity: 'refused',
      message: 'no usable reading in the message',
    });
  });
});

describe('checkTelemetry: dropped values and warnings', () => {
  it('drops a badly named sensor, suggests the snake_case name, and keeps the others', () => {
    const verdict = check({ readings: { Temperature: 23.5, soilMoisture: 40, humidity: 61 } });
    expect(verdict).toMatchObject({ ok: true, value: { readings: { humidity: 61 } } });
    expect(verdict.problems).toEqual([
      {
        code: 'BAD_SENSOR_NAME',
        severity: 'dropped',
        sensor: 'Temperature',
        message: expect.stringContaining('(e.g. "temperature")'),
      },
      {
        code: 'BAD_SENSOR_NAME',
        severity: 'dropped',
        sensor: 'soilMoisture',
        message: expect.stringContaining('(e.g. "soil_moisture")'),
      },
    ]);
  });

  it('drops the names the platform reserves (time, kit) and keeps the others', () => {
    const verdict = check({ readings: { time: 1_741_597_200, kit: 7, humidity: 61 } });
    expect(verdict).toEqual({
      ok: true,
      value: { readings: { humidity: 61 } },
      problems: [
        {
          code: 'BAD_SENSOR_NAME',
          severity: 'dropped',
          sensor: 'time',
          message: '"time" is reserved by the platform; name the sensor after what it measures',
        },
        {
          code: 'BAD_SENSOR_NAME',
          severity: 'dropped',
          sensor: 'kit',
          message: '"kit" is reserved by the platform; name the sensor after what it measures',
        },
      ],
    });
  });

  it('gives no suggestion when no usable name can be made of the label', () => {
    const verdict = check({ readings: { '1st_floor': 3, humidity: 61 } });
    expect(verdict.problems).toHaveLength(1);
    expect(verdict.problems[0]).toMatchObject({ code: 'BAD_SENSOR_NAME', sensor: '1st_floor' });
    expect(verdict.problems[0]?.message).not.toContain('e.g.');
  });

  it('drops a string value (even a numeric one) and stores the other values', () => {
    const verdict = check({ readings: { temperature: '23.5', humidity: 61 } });
    expect(verdict).toEqual({
      ok: true,
      value: { readings: { humidity: 61 } },
      problems: [
        {
          code: 'BAD_VALUE_TYPE',
          severity: 'dropped',
          sensor: 'temperature',
          message: 'temperature must be a number or true/false, not the string "23.5"',
        },
      ],
    });
  });

  it('drops an object or array value', () => {
    const verdict = check({ readings: { temperature: { value: 23.5 }, humidity: [61], light: 5 } });
    expect(verdict).toMatchObject({ ok: true, value: { readings: { light: 5 } } });
    expect(verdict.problems.map((p) => [p.code, p.sensor])).toEqual([
      ['BAD_VALUE_TYPE', 'temperature'],
      ['BAD_VALUE_TYPE', 'humidity'],
    ]);
  });

  it('drops a number too large to be finite (1e400)', () => {
    const verdict = check('{"readings":{"light":1e400,"humidity":61}}');
    expect(verdict).toMatchObject({ ok: true, value: { readings: { humidity: 61 } } });
    expect(verdict.problems).toEqual([
      {
        code: 'BAD_VALUE_TYPE',
        severity: 'dropped',
        sensor: 'light',
        message: 'light is not a finite number',
      },
    ]);
  });

  it('drops a value beyond ±1e15 (its sums would overflow) with VALUE_TOO_LARGE, and keeps ±1e15', () => {
    const verdict = check({ readings: { level: 1e308, depth: -1e16, counter: 1e15, offset: -1e15 } });
    expect(verdict).toMatchObject({ ok: true, value: { readings: { counter: 1e15, offset: -1e15 } } });
    expect(verdict.problems.map((p) => [p.code, p.severity, p.sensor])).toEqual([
      ['VALUE_TOO_LARGE', 'dropped', 'level'],
      ['VALUE_TOO_LARGE', 'dropped', 'depth'],
    ]);
    expect(verdict.problems[0]?.message).toMatch(/level=1e\+308 is beyond ±1000000000000000/);
  });

  it('drops null (a failed DHT read, NaN printed by ArduinoJson) with VALUE_MISSING and a hint', () => {
    const verdict = check({ readings: { temperature: null, light: 300 } });
    expect(verdict).toMatchObject({ ok: true, value: { readings: { light: 300 } } });
    expect(verdict.problems).toHaveLength(1);
    expect(verdict.problems[0]).toMatchObject({
      code: 'VALUE_MISSING',
      severity: 'dropped',
      sensor: 'temperature',
    });
    expect(verdict.problems[0]?.message).toMatch(/NaN.*wiring/);
  });

  it('stores an out-of-range value and warns with the part and its range', () => {
    const verdict = check({ readings: { temperature: 150, humidity: 61 } });
    expect(verdict).toEqual({
      ok: true,
      value: { readings: { temperature: 150, humidity: 61 } },
      problems: [
        {
          code: 'OUT_OF_RANGE',
          severity: 'warning',
          sensor: 'temperature',
          message:
            'temperature=150 is outside what a working DHT22 / AM2302 reports (-40..80 °C); stored, but check the wiring',
        },
      ],
    });
  });

  it('does not warn at the ends of a range', () => {
    expect(check({ readings: { temperature: 80, humidity: 0, distance: 2, servo: 180 } }).problems).toEqual(
      [],
    );
  });

  it('warns below the range too (HC-SR04 reads 0 cm when the echo is lost)', () => {
    const verdict = check({ readings: { distance: 0 } });
    expect(verdict).toMatchObject({ ok: true, value: { readings: { distance: 0 } } });
    expect(verdict.problems).toMatchObject([
      { code: 'OUT_OF_RANGE', severity: 'warning', sensor: 'distance' },
    ]);
  });

  it('warns about a field outside the contract, ignores it and stores the readings', () => {
    const verdict = check({ device: 'esp32', readings: { temperature: 23.5 } });
    expect(verdict).toEqual({
      ok: true,
      value: { readings: { temperature: 23.5 } },
      problems: [
        {
          code: 'UNKNOWN_FIELD',
          severity: 'warning',
          message: 'field "device" is not part of the contract and was ignored (allowed: ts, seq, readings)',
        },
      ],
    });
  });
});

describe('checkTelemetry: timestamps', () => {
  const withTs = (ts: unknown) => check({ ts, readings: { temperature: 23.5 } });

  it('accepts an ISO 8601 time with Z or an offset, as ms since the epoch', () => {
    expect(withTs('2025-03-10T08:59:00Z')).toMatchObject({ ok: true, value: { ts: NOW - MINUTE } });
    expect(withTs('2025-03-10T16:59:00+08:00')).toMatchObject({ ok: true, value: { ts: NOW - MINUTE } });
    expect(withTs('2025-03-10T08:59:00.250Z')).toMatchObject({ ok: true, value: { ts: NOW - MINUTE + 250 } });
  });

  it('rounds a fractional ms timestamp', () => {
    expect(withTs(NOW - 1_000.6)).toMatchObject({ ok: true, value: { ts: NOW - 1_001 } });
  });

  it('refuses a timestamp in seconds and says to send milliseconds', () => {
    const seconds = Math.floor(NOW / 1000);
    expect(withTs(seconds)).toEqual({
      ok: false,
      problems: [
        {
          code: 'CLOCK_NOT_SET',
          severity: 'refused',
          message: `ts=${seconds} looks like seconds; send milliseconds (ts*1000)`,
        },
      ],
    });
  });

  it('refuses a 1970 timestamp (millis() since boot, no NTP) as CLOCK_NOT_SET', () => {
    for (const ts of [0, 12_345, Date.UTC(1970, 0, 2)]) {
      const verdict = withTs(ts);
      expect(verdict).toMatchObject({
        ok: false,
        problems: [{ code: 'CLOCK_NOT_SET', severity: 'refused' }],
      });
      expect(verdict.problems[0]?.message).toContain("is before 2020: the kit's clock is not set");
    }
  });

  it('refuses a timestamp one hour ahead', () => {
    expect(withTs(NOW + HOUR)).toEqual({
      ok: false,
      problems: [
        {
          code: 'TIMESTAMP_IN_FUTURE',
          severity: 'refused',
          message:
            "ts is 3600 s ahead of the platform clock (at most 300 s allowed); sync the kit's clock or leave ts out",
        },
      ],
    });
  });

  it('accepts a kit clock up to 5 minutes ahead', () => {
    expect(withTs(NOW + 5 * MINUTE)).toMatchObject({ ok: true, value: { ts: NOW + 5 * MINUTE } });
    expect(withTs(NOW + 5 * MINUTE + 1)).toMatchObject({
      ok: false,
      problems: [{ code: 'TIMESTAMP_IN_FUTURE' }],
    });
  });

  it('refuses readings 8 days old', () => {
    expect(withTs(NOW - 8 * DAY)).toEqual({
      ok: false,
      problems: [
        { code: 'TIMESTAMP_TOO_OLD', severity: 'refused', message: 'ts is more than 168 h in the past' },
      ],
    });
  });

  it('accepts buffered readings up to 7 days old', () => {
    expect(withTs(NOW - 7 * DAY)).toMatchObject({ ok: true, value: { ts: NOW - 7 * DAY } });
  });

  it('refuses ts given as a numeric string, a date without time, or null', () => {
    for (const ts of [String(NOW), '2025-03-10', '10/03/2025 09:00', null, true]) {
      expect(withTs(ts)).toMatchObject({
        ok: false,
        problems: [{ code: 'BAD_TIMESTAMP', severity: 'refused' }],
      });
    }
  });
});

describe('checkTelemetry: seq and size', () => {
  it('refuses a seq that is negative, fractional, a string or null', () => {
    for (const seq of [-1, 1.5, '7', null]) {
      expect(check({ seq, readings: { temperature: 23.5 } })).toEqual({
        ok: false,
        problems: [{ code: 'BAD_SEQUENCE', severity: 'refused', message: 'seq must be a whole number ≥ 0' }],
      });
    }
  });

  it('refuses a payload over 16 KiB by default, counting bytes', () => {
    const payload = bytes(`{"readings":{"temperature":23.5}}${' '.repeat(DEFAULT_MAX_PAYLOAD_BYTES)}`);
    expect(checkTelemetry(payload, LIMITS)).toEqual({
      ok: false,
      problems: [
        {
          code: 'PAYLOAD_TOO_LARGE',
          severity: 'refused',
          message: `payload is ${payload.length} bytes; at most 16384`,
        },
      ],
    });
  });

  it('accepts a payload of exactly 16 KiB', () => {
    const head = '{"readings":{"temperature":23.5}}';
    const payload = bytes(head + ' '.repeat(DEFAULT_MAX_PAYLOAD_BYTES - head.length));
    expect(payload.length).toBe(16_384);
    expect(checkTelemetry(payload, LIMITS)).toMatchObject({
      ok: true,
      value: { readings: { temperature: 23.5 } },
    });
  });

  it('applies a limit the college configured', () => {
    const payload = bytes({ readings: { temperature: 23.5, humidity: 61 } });
    expect(checkTelemetry(payload, LIMITS, 32)).toMatchObject({
      ok: false,
      problems: [{ code: 'PAYLOAD_TOO_LARGE' }],
    });
    expect(checkTelemetry(payload, LIMITS, payload.length).ok).toBe(true);
  });
});

describe('checkStatus', () => {
  it('accepts online with firmware and ip', () => {
    const body = { state: 'online', firmware: 'greenhouse/1.2.0', ip: '192.168.4.23' };
    expect(checkStatus(bytes(body))).toEqual({ ok: true, value: body, problems: [] });
  });

  it('accepts the last will {"state":"offline"}', () => {
    expect(checkStatus('{"state":"offline"}')).toEqual({
      ok: true,
      value: { state: 'offline' },
      problems: [],
    });
  });

  it('refuses a status that is not JSON', () => {
    expect(checkStatus('online')).toEqual({
      ok: false,
      problems: [
        { code: 'BAD_STATUS', severity: 'refused', message: 'status must be JSON like {"state": "online"}' },
      ],
    });
  });

  it('refuses a state other than "online" or "offline"', () => {
    for (const body of ['{"state":"up"}', '{"state":"Online"}', '{}', 'null', '[]', '"online"']) {
      expect(checkStatus(body)).toEqual({
        ok: false,
        problems: [
          { code: 'BAD_STATUS', severity: 'refused', message: 'status needs "state": "online" or "offline"' },
        ],
      });
    }
  });
});

describe('checkEvent', () => {
  it('accepts an event with only a name', () => {
    expect(checkEvent('{"event":"button"}', LIMITS)).toEqual({
      ok: true,
      value: { event: 'button' },
      problems: [],
    });
  });

  it('accepts a value and a timestamp', () => {
    expect(checkEvent(bytes({ event: 'alarm', value: 2, ts: NOW - 1_000 }), LIMITS)).toEqual({
      ok: true,
      value: { event: 'alarm', value: 2, ts: NOW - 1_000 },
      problems: [],
    });
  });

  it('accepts extra fields such as the id of the command it acknowledges', () => {
    expect(checkEvent('{"event":"fan_done","id":"cmd-42"}', LIMITS)).toMatchObject({ ok: true });
  });

  it('refuses an event value beyond ±1e15 with VALUE_TOO_LARGE', () => {
    expect(checkEvent('{"event":"alarm","value":1e308}', LIMITS)).toMatchObject({
      ok: false,
      problems: [{ code: 'VALUE_TOO_LARGE', severity: 'refused' }],
    });
  });

  it('refuses an event that is not a JSON object', () => {
    for (const body of ['button', '["button"]', 'null']) {
      expect(checkEvent(body, LIMITS)).toMatchObject({
        ok: false,
        problems: [{ code: 'BAD_EVENT', severity: 'refused' }],
      });
    }
  });

  it('refuses a missing or non-snake_case event name', () => {
    for (const body of ['{}', '{"event":"Button"}', '{"event":"door open"}', '{"event":5}']) {
      expect(checkEvent(body, LIMITS)).toEqual({
        ok: false,
        problems: [
          {
            code: 'BAD_EVENT',
            severity: 'refused',
            message: '"event" must be a snake_case name, e.g. "button" or "alarm"',
          },
        ],
      });
    }
  });

  it('refuses a value that is not a number or true/false (strings, null)', () => {
    for (const value of ['on', null]) {
      expect(checkEvent(bytes({ event: 'button', value }), LIMITS)).toEqual({
        ok: false,
        problems: [
          { code: 'BAD_EVENT', severity: 'refused', message: '"value" must be a number or true/false' },
        ],
      });
    }
  });

  it('takes true/false as 1/0, as telemetry does', () => {
    expect(checkEvent(bytes({ event: 'alarm', value: true }), LIMITS)).toMatchObject({
      ok: true,
      value: { value: 1 },
    });
    expect(checkEvent(bytes({ event: 'alarm', value: false }), LIMITS)).toMatchObject({
      ok: true,
      value: { value: 0 },
    });
  });

  it('refuses a bad timestamp with the timestamp code', () => {
    const seconds = Math.floor(NOW / 1000);
    expect(checkEvent(bytes({ event: 'button', ts: seconds }), LIMITS)).toMatchObject({
      ok: false,
      problems: [{ code: 'CLOCK_NOT_SET' }],
    });
    expect(checkEvent(bytes({ event: 'button', ts: NOW + HOUR }), LIMITS)).toMatchObject({
      ok: false,
      problems: [{ code: 'TIMESTAMP_IN_FUTURE' }],
    });
  });
});

describe('kitTopic / parseKitTopic', () => {
  const channels: KitChannel[] = ['telemetry', 'status', 'events', 'commands', 'errors'];

  it('builds iotlab/v1/kits/<kitId>/<channel>', () => {
    expect(kitTopic('greenhouse-07', 'telemetry')).toBe('iotlab/v1/kits/greenhouse-07/telemetry');
    expect(kitTopic('uno_3', 'commands')).toBe('iotlab/v1/kits/uno_3/commands');
  });

  it('parses back every channel', () => {
    for (const channel of channels) {
      expect(parseKitTopic(kitTopic('greenhouse-07', channel))).toEqual({ kitId: 'greenhouse-07', channel });
    }
  });

  it('rejects topics outside the tree, with extra levels, unknown channels or invalid kit ids', () => {
    for (const topic of [
      'iotlab/v2/kits/greenhouse-07/telemetry',
      'iotlab/v1/kits/greenhouse-07/telemetry/temperature',
      'iotlab/v1/kits/greenhouse-07/telemetry/',
      'iotlab/v1/kits/greenhouse-07/data',
      'iotlab/v1/kits/Greenhouse-07/telemetry',
      'iotlab/v1/kits/a/telemetry',
      'iotlab/v1/kits/-greenhouse/telemetry',
      'iotlab/v1/kits/+/telemetry',
      `iotlab/v1/kits/${'a'.repeat(49)}/telemetry`,
      '/iotlab/v1/kits/greenhouse-07/telemetry',
      'sandbox/greenhouse-07/telemetry',
    ]) {
      expect(parseKitTopic(topic), topic).toBeUndefined();
    }
  });

  it('accepts kit ids of 2 to 48 characters', () => {
    expect(parseKitTopic('iotlab/v1/kits/k1/status')).toEqual({ kitId: 'k1', channel: 'status' });
    const long = `k${'a'.repeat(47)}`;
    expect(parseKitTopic(`iotlab/v1/kits/${long}/status`)).toEqual({ kitId: long, channel: 'status' });
  });
});
