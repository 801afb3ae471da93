/**
 * Lines a USB kit prints (Arduino `Serial.println`) and how the platform reads them
 * (docs/protocol.md, "USB serial kits").
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TIMESTAMP_LIMITS,
  MAX_SERIAL_LINE_LENGTH,
  normalizeSensorLabel,
  parseSerialLine,
  type SerialLine,
  type TimestampLimits,
} from '../../protocol/index.ts';

const NOW = Date.UTC(2025, 2, 10, 9, 0, 0);
const LIMITS: TimestampLimits = { now: NOW, ...DEFAULT_TIMESTAMP_LIMITS };
const parse = (line: string): SerialLine => parseSerialLine(line, LIMITS);

/** A line read as telemetry with exactly these readings and no problem. */
const clean = (readings: Record<string, number>, extra: { seq?: number; ts?: number } = {}): SerialLine => ({
  kind: 'telemetry',
  value: { ...extra, readings },
  problems: [],
});

const refusedWith = (line: SerialLine) =>
  line.kind === 'invalid' ? line.problems.map((p) => p.code) : line.kind;

describe('parseSerialLine: JSON lines', () => {
  it('reads a flat JSON object as readings', () => {
    expect(parse('{"temperature":23.5,"humidity":61}')).toEqual(clean({ temperature: 23.5, humidity: 61 }));
  });

  it('normalises labels in a flat JSON object', () => {
    expect(parse('{"Temp(C)":23.5,"Humidity":61,"soilMoisture":40}')).toEqual(
      clean({ temp: 23.5, humidity: 61, soil_moisture: 40 }),
    );
  });

  it('turns true/false into 1/0', () => {
    expect(parse('{"motion":true,"relay":false}')).toEqual(clean({ motion: 1, relay: 0 }));
  });

  it('reads the full MQTT payload with seq and ts', () => {
    expect(parse(`{"ts":${NOW - 1000},"seq":7,"readings":{"temperature":23.5}}`)).toEqual(
      clean({ temperature: 23.5 }, { ts: NOW - 1000, seq: 7 }),
    );
  });

  it('does not normalise names inside "readings" (the MQTT rules apply there)', () => {
    const line = parse('{"seq":1,"readings":{"Temp":23.5,"humidity":61}}');
    expect(line).toMatchObject({ kind: 'telemetry', value: { seq: 1, readings: { humidity: 61 } } });
    expect(line.kind === 'telemetry' && line.problems).toMatchObject([
      { code: 'BAD_SENSOR_NAME', sensor: 'Temp', message: expect.stringContaining('(e.g. "temp")') },
    ]);
  });

  it('refuses a full payload whose ts is in seconds', () => {
    const line = parse(`{"ts":${Math.floor(NOW / 1000)},"readings":{"temperature":23.5}}`);
    expect(line).toMatchObject({
      kind: 'invalid',
      problems: [{ code: 'CLOCK_NOT_SET', message: expect.stringContaining('looks like seconds') }],
    });
  });

  it('refuses broken JSON, e.g. nan printed by Serial.print inside JSON', () => {
    expect(parse('{"temperature":nan,"humidity":61}')).toMatchObject({
      kind: 'invalid',
      problems: [
        { code: 'NOT_JSON', severity: 'refused', message: expect.stringMatching(/^line is not JSON/) },
      ],
    });
  });

  it('drops null (ArduinoJson prints NaN as null) and keeps the rest', () => {
    expect(parse('{"temperature":null,"humidity":61}')).toMatchObject({
      kind: 'telemetry',
      value: { readings: { humidity: 61 } },
      problems: [{ code: 'VALUE_MISSING', severity: 'dropped', sensor: 'temperature' }],
    });
  });

  it('stores an out-of-range value with a warning', () => {
    expect(parse('{"humidity":120}')).toMatchObject({
      kind: 'telemetry',
      value: { readings: { humidity: 120 } },
      problems: [{ code: 'OUT_OF_RANGE', severity: 'warning', sensor: 'humidity' }],
    });
  });
});

describe('parseSerialLine: Serial Plotter label:value lines', () => {
  it('reads comma-separated pairs', () => {
    expect(parse('temperature:23.5,humidity:61')).toEqual(clean({ temperature: 23.5, humidity: 61 }));
  });

  it('reads pairs separated by spaces or tabs', () => {
    expect(parse('temperature:23.5 humidity:61')).toEqual(clean({ temperature: 23.5, humidity: 61 }));
    expect(parse('temperature:23.5\thumidity:61')).toEqual(clean({ temperature: 23.5, humidity: 61 }));
    expect(parse('temperature:23.5, humidity:61')).toEqual(clean({ temperature: 23.5, humidity: 61 }));
  });

  it('normalises labels: units in brackets removed, camelCase split, lower case', () => {
    expect(parse('Temp(C):23.5,Humidity[%]:61,soilMoisture:40,CO2:415')).toEqual(
      clean({ temp: 23.5, humidity: 61, soil_moisture: 40, co2: 415 }),
    );
  });

  it('takes seq:N as the message counter, not as a reading', () => {
    expect(parse('seq:4,temperature:23.5')).toEqual(clean({ temperature: 23.5 }, { seq: 4 }));
  });

  it('reads negative and exponent numbers', () => {
    expect(parse('temperature:-4.5,light:1.2e3')).toEqual(clean({ temperature: -4.5, light: 1200 }));
  });

  it('drops nan (a failed DHT read) and keeps the other values', () => {
    for (const nan of ['nan', 'NaN', 'NAN']) {
      const line = parse(`temperature:${nan},humidity:61`);
      expect(line).toMatchObject({ kind: 'telemetry', value: { readings: { humidity: 61 } } });
      expect(line.kind === 'telemetry' && line.problems).toMatchObject([
        { code: 'VALUE_MISSING', severity: 'dropped', sensor: 'temperature' },
      ]);
    }
  });

  it('refuses the line when every value is nan', () => {
    expect(refusedWith(parse('temperature:nan,humidity:nan'))).toEqual([
      'VALUE_MISSING',
      'VALUE_MISSING',
      'NO_READINGS',
    ]);
  });

  it('drops a value with a unit glued to it, and true/false text', () => {
    const line = parse('temperature:23.5C,led:true,humidity:61');
    expect(line).toMatchObject({ kind: 'telemetry', value: { readings: { humidity: 61 } } });
    expect(line.kind === 'telemetry' && line.problems).toEqual([
      {
        code: 'BAD_VALUE_TYPE',
        severity: 'dropped',
        sensor: 'temperature',
        message: 'temperature must be a number or true/false, not the string "23.5C"',
      },
      {
        code: 'BAD_VALUE_TYPE',
        severity: 'dropped',
        sensor: 'led',
        message: 'led must be a number or true/false, not the string "true"',
      },
    ]);
  });

  it('drops a label that normalises to nothing usable, suggesting nothing', () => {
    const line = parse('1st:3,humidity:61');
    expect(line).toMatchObject({ kind: 'telemetry', value: { readings: { humidity: 61 } } });
    expect(line.kind === 'telemetry' && line.problems).toMatchObject([
      { code: 'BAD_SENSOR_NAME', severity: 'dropped', sensor: '1st' },
    ]);
  });

  it('drops a label that normalises to a reserved name (Time → time)', () => {
    const line = parse('Time:12.5,humidity:61');
    expect(line).toMatchObject({ kind: 'telemetry', value: { readings: { humidity: 61 } } });
    expect(line.kind === 'telemetry' && line.problems).toMatchObject([
      {
        code: 'BAD_SENSOR_NAME',
        severity: 'dropped',
        sensor: 'time',
        message: expect.stringContaining('reserved'),
      },
    ]);
  });

  it('accepts spaces around the colon, as sketches often print them', () => {
    expect(parse('Temperature: 23.5, Humidity : 61')).toEqual(clean({ temperature: 23.5, humidity: 61 }));
  });

  it('refuses a space inside a label (the space separates pairs)', () => {
    expect(refusedWith(parse('soil moisture:40'))).toEqual(['UNRECOGNISED_LINE']);
  });

  it('takes ts as the timestamp and refuses a bad seq, as in the MQTT payload', () => {
    expect(parse(`ts:${NOW - 1000},temperature:23.5`)).toEqual(
      clean({ temperature: 23.5 }, { ts: NOW - 1000 }),
    );
    expect(refusedWith(parse('seq:-1,temperature:23.5'))).toEqual(['BAD_SEQUENCE']);
  });
});

describe('parseSerialLine: key=value lines', () => {
  it('reads space-separated pairs', () => {
    expect(parse('temperature=23.5 humidity=61')).toEqual(clean({ temperature: 23.5, humidity: 61 }));
  });

  it('reads comma-separated pairs and normalises labels', () => {
    expect(parse('Temp(C)=23.5,Light=812')).toEqual(clean({ temp: 23.5, light: 812 }));
  });

  it('takes seq= as the message counter', () => {
    expect(parse('seq=12 temperature=23.5 humidity=61')).toEqual(
      clean({ temperature: 23.5, humidity: 61 }, { seq: 12 }),
    );
  });

  it('drops nan and null', () => {
    const line = parse('temperature=nan humidity=null light=5');
    expect(line).toMatchObject({ kind: 'telemetry', value: { readings: { light: 5 } } });
    expect(line.kind === 'telemetry' && line.problems.map((p) => [p.code, p.sensor])).toEqual([
      ['VALUE_MISSING', 'temperature'],
      ['VALUE_MISSING', 'humidity'],
    ]);
  });

  it('accepts spaces around "="', () => {
    expect(parse('temperature = 23.5  humidity= 61')).toEqual(clean({ temperature: 23.5, humidity: 61 }));
  });

  it('takes seq and ts from a flat JSON line too, not as sensors', () => {
    expect(parse(`{"seq":7,"ts":${NOW - 5},"temperature":23.5}`)).toEqual(
      clean({ temperature: 23.5 }, { seq: 7, ts: NOW - 5 }),
    );
  });
});

describe('parseSerialLine: metadata, empty lines and line endings', () => {
  it('reads # key=value metadata', () => {
    expect(parse('# kit=x fw=1.0')).toEqual({ kind: 'meta', meta: { kit: 'x', fw: '1.0' } });
    expect(parse('#kit=greenhouse-07')).toEqual({ kind: 'meta', meta: { kit: 'greenhouse-07' } });
  });

  it('ignores # comments that are not key=value', () => {
    expect(parse('# DHT22 test sketch')).toEqual({ kind: 'empty' });
  });

  it('ignores empty and blank lines', () => {
    for (const line of ['', '   ', '\r', '\r\n', '\t']) expect(parse(line)).toEqual({ kind: 'empty' });
  });

  it('handles CRLF (Serial.println) and LF endings alike', () => {
    const expected = clean({ temperature: 23.5, humidity: 61 });
    expect(parse('temperature:23.5,humidity:61\r')).toEqual(expected);
    expect(parse('temperature:23.5,humidity:61\r\n')).toEqual(expected);
    expect(parse('temperature:23.5,humidity:61\n')).toEqual(expected);
    expect(parse('{"temperature":23.5,"humidity":61}\r\n')).toEqual(expected);
  });
});

describe('parseSerialLine: refused lines', () => {
  it('refuses garbage', () => {
    expect(parse('@@##!!')).toEqual({
      kind: 'invalid',
      problems: [
        {
          code: 'UNRECOGNISED_LINE',
          severity: 'refused',
          message:
            'line is not JSON, label:value or key=value pairs (unlabelled numbers need labels, e.g. temperature:23.5)',
        },
      ],
    });
  });

  it('refuses unlabelled numbers', () => {
    for (const line of ['23.5,61', '23.5 61', '23.5', 'Temperature']) {
      expect(refusedWith(parse(line)), line).toEqual(['UNRECOGNISED_LINE']);
    }
  });

  it('refuses a line with bytes that were not UTF-8 (wrong baud rate)', () => {
    expect(parse('temp\uFFFD\uFFFD:23.5')).toEqual({
      kind: 'invalid',
      problems: [
        {
          code: 'NOT_UTF8',
          severity: 'refused',
          message: 'line has bytes that are not UTF-8 text (wrong baud rate or line noise?)',
        },
      ],
    });
  });

  it('refuses a line over 1024 characters', () => {
    expect(MAX_SERIAL_LINE_LENGTH).toBe(1024);
    const line = 'temperature:23.5,'.repeat(61);
    expect(line.length).toBe(1037);
    expect(parse(line)).toEqual({
      kind: 'invalid',
      problems: [
        { code: 'LINE_TOO_LONG', severity: 'refused', message: 'line is 1037 characters; at most 1024' },
      ],
    });
  });

  it('accepts a line of exactly 1024 characters', () => {
    const head = '{"temperature":23.5';
    const line = `${head}${' '.repeat(1024 - head.length - 1)}}`;
    expect(line.length).toBe(1024);
    expect(parse(line)).toEqual(clean({ temperature: 23.5 }));
  });
});

describe('normalizeSensorLabel', () => {
  it.each([
    ['Temp(C)', 'temp'],
    ['light(lx)', 'light'],
    ['Humidity [%]', 'humidity'],
    ['soil moisture', 'soil_moisture'],
    ['Soil Moisture', 'soil_moisture'],
    ['soilMoisture', 'soil_moisture'],
    ['soil-moisture', 'soil_moisture'],
    ['  temperature  ', 'temperature'],
    ['CO2', 'co2'],
    ['PM2.5', 'pm2_5'],
    ['DHT22Temp', 'dht22_temp'],
    ['temperature', 'temperature'],
  ])('%j → %s', (label, name) => {
    expect(normalizeSensorLabel(label)).toBe(name);
  });

  it.each(['', '(C)', '1st', '温度', '%%%'])('%j → nothing usable', (label) => {
    expect(normalizeSensorLabel(label)).toBeUndefined();
  });
});
