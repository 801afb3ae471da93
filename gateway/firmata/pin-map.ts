/**
 * A Firmata kit's pin map: which pin of the board carries which sensor or actuator.
 *
 * ```json
 * { "A0": { "sensor": "light", "scale": [0, 1023, 0, 1000] }, "D7": { "sensor": "motion" },
 *   "D8": { "actuator": "fan", "kind": "relay" }, "D9": { "actuator": "servo" }, "D13": { "actuator": "led" } }
 * ```
 *
 * One TypeBox schema is the validation, the types (`Static<>`) and the documentation; the
 * platform's settings use it for `gateway.ports[].pinMap`. Each field's `errorMessage` (the name
 * ajv-errors gives it) is the sentence a person reads when that field is wrong. What a schema
 * cannot say follows in `planFirmataPinMap`: D0/D1, a name used twice, an analog sensor on a D
 * pin, defaults that depend on the pin or the name. Every problem is one line starting with its pin.
 * The pins are checked against the board itself once it answers (kit.ts): a Nano's A6/A7 are
 * analog only, a Mega has more pins.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isValidSensorName, RESERVED_SENSOR_NAMES, SENSOR_NAME_PATTERN } from '../../protocol/index.ts';
import { FirmataKitError } from './errors.ts';

const PIN_NAME_PATTERN = /^([AD])(\d{1,2})$/;

export const FirmataPinNameSchema = Type.String({
  pattern: PIN_NAME_PATTERN.source,
  description:
    'A pin of the A header (A0–A5 on an Uno) or of the D header (D2–D13; D0 and D1 carry the USB serial link)',
  examples: ['A0', 'D13'],
  errorMessage: '{value} is not a pin name: use A0–A5 or D2–D13',
});

const RESERVED_NAMES = [...RESERVED_SENSOR_NAMES].map((name) => JSON.stringify(name)).join(' or ');

/** A sensor or actuator name: the protocol's rule for sensor names (`isValidSensorName`). */
const readingName = (description: string) =>
  Type.String({
    pattern: SENSOR_NAME_PATTERN.source,
    description: `${description}; not ${RESERVED_NAMES}`,
    errorMessage: `{value} is not a usable name: snake_case, starting with a letter (e.g. "light", "soil_moisture"), not ${RESERVED_NAMES}`,
  });

export const FirmataSensorSpecSchema = Type.Object(
  {
    sensor: readingName('The reading’s name, e.g. "light", "motion" (snake_case)'),
    input: Type.Optional(
      Type.Union([Type.Literal('analog'), Type.Literal('digital')], {
        description: 'Default: "analog" on A pins, "digital" on D pins. A digital input reports 0/1.',
        errorMessage: '"input" must be "analog" or "digital", not {value}',
      }),
    ),
    scale: Type.Optional(
      Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()], {
        description:
          'Analog only: [rawLow, rawHigh, low, high] maps the raw 0–1023 value linearly to the unit',
        errorMessage: '"scale" must be four numbers [rawLow, rawHigh, low, high], e.g. [0, 1023, 0, 1000]',
      }),
    ),
  },
  { additionalProperties: false, description: 'An input, published as a reading under its name' },
);

export const FIRMATA_ACTUATOR_KINDS = ['led', 'relay', 'buzzer', 'servo'] as const;
export type FirmataActuatorKind = (typeof FIRMATA_ACTUATOR_KINDS)[number];

/** The Arduino Servo library's pulse widths for 0° and 180° (µs). */
const DEFAULT_PULSE_RANGE: [number, number] = [544, 2400];
const PulseWidth = Type.Integer({ minimum: 200, maximum: 3000 });

export const FirmataActuatorSpecSchema = Type.Object(
  {
    actuator: readingName('The command and reading name, e.g. "led", or "fan" with "kind": "relay"'),
    kind: Type.Optional(
      Type.Union(
        FIRMATA_ACTUATOR_KINDS.map((kind) => Type.Literal(kind)),
        {
          description: `Default: the actuator's name when it is one of ${FIRMATA_ACTUATOR_KINDS.join(', ')}`,
          errorMessage: `"kind" must be one of ${FIRMATA_ACTUATOR_KINDS.join(', ')}, not {value}`,
        },
      ),
    ),
    // No `default` here: the settings fill schema defaults in, and a default pulse range on an LED
    // would then be refused as "applies to a servo only".
    pulseRange: Type.Optional(
      Type.Tuple([PulseWidth, PulseWidth], {
        description: `Servo only: pulse widths for 0° and 180° in µs (default [${DEFAULT_PULSE_RANGE.join(', ')}], the Arduino Servo library's)`,
        errorMessage: `"pulseRange" must be [min, max] microseconds, ${PulseWidth.minimum}–${PulseWidth.maximum}, min < max (e.g. [${DEFAULT_PULSE_RANGE.join(', ')}])`,
      }),
    ),
  },
  { additionalProperties: false, description: 'An output, switched (or turned) by the command of its name' },
);

export const FirmataPinSpecSchema = Type.Union([FirmataSensorSpecSchema, FirmataActuatorSpecSchema], {
  errorMessage: 'must be an object like {"sensor": "light"} or {"actuator": "led"}',
});

export const FirmataPinMapSchema = Type.Record(FirmataPinNameSchema, FirmataPinSpecSchema, {
  additionalProperties: false,
  minProperties: 1,
  title: 'Firmata pin map',
  description: 'Pin name → the sensor or actuator on it; one per kit',
  examples: [{ A0: { sensor: 'light', scale: [0, 1023, 0, 1000] }, D13: { actuator: 'led' } }],
  errorMessage: 'pin map must be an object like {"A0": {"sensor": "light"}, "D13": {"actuator": "led"}}',
});

export type FirmataSensorSpec = Static<typeof FirmataSensorSpecSchema>;
export type FirmataActuatorSpec = Static<typeof FirmataActuatorSpecSchema>;
/** What one pin carries: a sensor or an actuator. */
export type FirmataPinSpec = Static<typeof FirmataPinSpecSchema>;
/** Pin name ("A0", "D7") → what it carries. JSON-friendly, one per kit. */
export type FirmataPinMap = Static<typeof FirmataPinMapSchema>;

/** Where a pin is: its header, and the analog channel (A pins) or the pin number (D pins). */
interface PinPlace {
  pinName: string;
  header: 'A' | 'D';
  number: number;
}

/** One checked entry of a pin map, with every default filled in. */
export type FirmataPlannedPin =
  | (PinPlace & {
      role: 'sensor';
      name: string;
      input: 'analog' | 'digital';
      scale?: [number, number, number, number];
    })
  | (PinPlace & {
      role: 'actuator';
      name: string;
      kind: FirmataActuatorKind;
      pulseRange: [number, number];
    });

/** A schema's `errorMessage`, with the value it refused in place of `{value}`. */
function explain(schema: TSchema, value: unknown): string {
  return String(schema.errorMessage).replace('{value}', JSON.stringify(value));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a pin map (as read from JSON) and lists every problem at once, the first one of each pin;
 * throws a `FirmataKitError` with code FIRMATA_PIN_MAP.
 */
export function planFirmataPinMap(pinMap: unknown): FirmataPlannedPin[] {
  if (!isPlainObject(pinMap)) {
    throw new FirmataKitError('FIRMATA_PIN_MAP', explain(FirmataPinMapSchema, pinMap));
  }
  const problems: string[] = [];
  const planned: FirmataPlannedPin[] = [];
  const pinOfName = new Map<string, string>();
  for (const [pinName, spec] of Object.entries(pinMap)) {
    const pin = planPin(pinName, spec, pinOfName);
    if (typeof pin === 'string') problems.push(pin);
    else planned.push(pin);
  }
  if (problems.length > 0) {
    throw new FirmataKitError(
      'FIRMATA_PIN_MAP',
      `the pin map has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}:\n- ${problems.join('\n- ')}`,
      problems,
    );
  }
  if (planned.length === 0) {
    throw new FirmataKitError('FIRMATA_PIN_MAP', 'the pin map is empty: map at least one pin', [
      'the pin map is empty',
    ]);
  }
  return planned;
}

/**
 * One pin's plan, or its first problem. A pin whose name is usable claims it in `pinOfName`,
 * even when something else about it is wrong (so a second pin with that name is told so too).
 */
function planPin(pinName: string, spec: unknown, pinOfName: Map<string, string>): FirmataPlannedPin | string {
  const match = PIN_NAME_PATTERN.exec(pinName);
  if (!match) {
    const hint = /^[ad]\d+$/.test(pinName) ? ` (write "${pinName.toUpperCase()}")` : '';
    return `${explain(FirmataPinNameSchema, pinName)}${hint}`;
  }
  const place: PinPlace = { pinName, header: match[1] as 'A' | 'D', number: Number(match[2]) };
  const problem = (text: string) => `${pinName}: ${text}`;
  if (place.header === 'D' && place.number <= 1) {
    return problem('D0 and D1 carry the USB serial link that Firmata talks over; wire it to D2–D13');
  }
  if (!isPlainObject(spec)) return problem(explain(FirmataPinSpecSchema, spec));
  const isSensor = 'sensor' in spec;
  const isActuator = 'actuator' in spec;
  if (isSensor === isActuator) {
    return problem(
      `give either "sensor" (an input) or "actuator" (an output), not ${isSensor ? 'both' : 'neither'}`,
    );
  }
  const schema = isSensor ? FirmataSensorSpecSchema : FirmataActuatorSpecSchema;
  const known = Object.keys(schema.properties);
  const unknown = Object.keys(spec).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    return problem(
      `unknown ${unknown.length === 1 ? 'key' : 'keys'} ${unknown.map((key) => JSON.stringify(key)).join(', ')} (${isSensor ? 'a sensor' : 'an actuator'} takes ${known.join(', ')})`,
    );
  }
  const name = isSensor ? spec.sensor : spec.actuator;
  if (typeof name !== 'string' || !isValidSensorName(name)) {
    const nameField = isSensor
      ? FirmataSensorSpecSchema.properties.sensor
      : FirmataActuatorSpecSchema.properties.actuator;
    return problem(explain(nameField, name));
  }
  const taken = pinOfName.get(name);
  if (taken) return problem(`"${name}" is already on ${taken}; every sensor and actuator needs its own name`);
  pinOfName.set(name, pinName);
  const planned = isSensor ? planSensor(place, name, spec) : planActuator(place, name, spec);
  return typeof planned === 'string' ? problem(planned) : planned;
}

/** The rest of a pin's plan once its role and name are known, or its first problem (without the pin). */
type PlanRole = (place: PinPlace, name: string, spec: Record<string, unknown>) => FirmataPlannedPin | string;

const planSensor: PlanRole = (place, name, spec) => {
  const fields = FirmataSensorSpecSchema.properties;
  const input = spec.input ?? (place.header === 'A' ? 'analog' : 'digital');
  if (!Value.Check(fields.input, input)) return explain(fields.input, spec.input);
  if (input === 'analog' && place.header === 'D') {
    return `"${name}" is an analog sensor but ${place.pinName} is a digital pin; analog inputs are A0–A5`;
  }
  if (spec.scale === undefined) return { ...place, role: 'sensor', name, input };
  if (input === 'digital') return '"scale" applies to analog inputs; a digital input reports 0/1';
  if (!Value.Check(fields.scale, spec.scale)) return explain(fields.scale, spec.scale);
  const [rawLow, rawHigh, low, high] = spec.scale;
  if (rawLow === rawHigh) return '"scale" needs rawLow ≠ rawHigh';
  return { ...place, role: 'sensor', name, input, scale: [rawLow, rawHigh, low, high] };
};

const planActuator: PlanRole = (place, name, spec) => {
  const fields = FirmataActuatorSpecSchema.properties;
  if (spec.kind !== undefined && !Value.Check(fields.kind, spec.kind)) return explain(fields.kind, spec.kind);
  const kind = spec.kind ?? name;
  if (!Value.Check(fields.kind, kind)) {
    return `say what "${name}" is with "kind": one of ${FIRMATA_ACTUATOR_KINDS.join(', ')} (e.g. {"actuator": "${name}", "kind": "relay"})`;
  }
  if (spec.pulseRange === undefined)
    return { ...place, role: 'actuator', name, kind, pulseRange: DEFAULT_PULSE_RANGE };
  if (kind !== 'servo') return '"pulseRange" applies to a servo only';
  if (!Value.Check(fields.pulseRange, spec.pulseRange) || spec.pulseRange[0] >= spec.pulseRange[1]) {
    return explain(fields.pulseRange, spec.pulseRange);
  }
  return { ...place, role: 'actuator', name, kind, pulseRange: [spec.pulseRange[0], spec.pulseRange[1]] };
};
