/** Kits: their registration, binding, connection, secrets and telemetry. */
import { type Static, Type } from '@sinclair/typebox';
import { KIT_ID_PATTERN, MAX_SENSORS_PER_MESSAGE, SENSOR_NAME_PATTERN } from '../protocol/index.ts';
import { Instant, Nullable } from './primitives.ts';

export const KIT_KINDS = ['esp32', 'arduino', 'firmata', 'other'] as const;
export const KitKind = Type.Union(KIT_KINDS.map((kind) => Type.Literal(kind)));
export type KitKind = Static<typeof KitKind>;

/** `/kits/:kitId` */
export const KitParams = Type.Object({ kitId: Type.String({ pattern: KIT_ID_PATTERN.source }) });
export type KitParams = Static<typeof KitParams>;

export const KitBinding = Type.Object({
  kitId: Type.String(),
  studentId: Nullable(Type.String({ format: 'uuid' })),
  teamId: Nullable(Type.String({ format: 'uuid' })),
  classId: Nullable(Type.String({ format: 'uuid' }), {
    description: "the class the binding belongs to (a team's class, or the class the student was bound in)",
  }),
  boundBy: Type.String(),
  boundAt: Type.Integer(),
});
export type KitBinding = Static<typeof KitBinding>;

/** The broker's live view of a kit (extra fields it adds pass through). */
export const KitConnection = Type.Object(
  {
    kitId: Type.String(),
    online: Type.Boolean(),
    connections: Type.Optional(Type.Integer()),
    since: Type.Number(),
    lastSeen: Nullable(Type.Number()),
    messages: Type.Integer(),
    refused: Type.Integer(),
    firmware: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type KitConnection = Static<typeof KitConnection>;

export const Kit = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: KitKind,
  active: Type.Boolean({ description: 'false once its secret was revoked' }),
  createdAt: Type.Integer(),
  secretIssuedAt: Nullable(Type.Integer()),
  usbSerial: Nullable(Type.String()),
  sensors: Type.Array(Type.String()),
  binding: Nullable(KitBinding),
  connection: Nullable(KitConnection),
});
export type Kit = Static<typeof Kit>;

/** A kit with the latest reading of each sensor. */
export const KitDetail = Type.Composite([
  Kit,
  Type.Object({
    latest: Type.Record(
      Type.String(),
      Type.Object({ ts: Type.Number(), value: Type.Number(), unit: Nullable(Type.String()) }),
    ),
  }),
]);
export type KitDetail = Static<typeof KitDetail>;

export const KitSecret = Type.Object({
  kitId: Type.String(),
  secret: Type.String({ description: 'shown in this answer only: the kit connects with it' }),
  secretIssuedAt: Type.Integer(),
});
export type KitSecret = Static<typeof KitSecret>;

export const NewKitBody = Type.Object(
  {
    id: Type.String({ pattern: KIT_ID_PATTERN.source }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    kind: Type.Optional(KitKind),
    sensors: Type.Optional(
      Type.Array(Type.String({ pattern: SENSOR_NAME_PATTERN.source }), {
        maxItems: MAX_SENSORS_PER_MESSAGE,
        uniqueItems: true,
      }),
    ),
  },
  { additionalProperties: false },
);
export type NewKitBody = Static<typeof NewKitBody>;

/** A registered kit and its secret, the only time it is shown. */
export const NewKit = Type.Object({ kit: Kit, secret: KitSecret.properties.secret });
export type NewKit = Static<typeof NewKit>;

/** Bind to a student (with the class when they are in several) or a team; `null` unbinds. */
export const BindingBody = Type.Union([
  Type.Object(
    {
      studentId: Type.String({ format: 'uuid' }),
      classId: Type.Optional(
        Type.String({ format: 'uuid', description: 'the class, when the student is in several' }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Object({ teamId: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
  Type.Null(),
]);
export type BindingBody = Static<typeof BindingBody>;

export const BindingAnswer = Type.Object({ binding: Nullable(KitBinding) });
export type BindingAnswer = Static<typeof BindingAnswer>;

export const TelemetryQuery = Type.Object(
  {
    sensor: Type.String({
      pattern: SENSOR_NAME_PATTERN.source,
      description: 'Sensor name, e.g. temperature',
    }),
    from: Type.Optional({ ...Instant, description: 'Start (inclusive); default: one hour before `to`' }),
    to: Type.Optional({ ...Instant, description: 'End (exclusive); default: now' }),
    every: Type.Optional(
      Type.Integer({
        minimum: 1000,
        description: 'Aggregate in windows of this many ms (mean, min, max, count)',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: 10000 })),
  },
  { additionalProperties: false },
);
export type TelemetryQuery = Static<typeof TelemetryQuery>;

/** A kit's readings of one sensor over [from, to): raw `points`, or `windows` of `every` ms. */
export const Telemetry = Type.Object({
  kitId: Type.String(),
  sensor: Type.String(),
  unit: Nullable(Type.String()),
  from: Type.Number(),
  to: Type.Number(),
  every: Type.Optional(Type.Integer()),
  windows: Type.Optional(
    Type.Array(
      Type.Object({
        ts: Type.Number({ description: 'start of the window' }),
        mean: Type.Number(),
        min: Type.Number(),
        max: Type.Number(),
        count: Type.Integer(),
      }),
      { description: 'with `every`: one per window that has readings' },
    ),
  ),
  points: Type.Optional(
    Type.Array(Type.Object({ ts: Type.Number(), value: Type.Number() }), {
      description: 'without `every`: the readings, oldest first',
    }),
  ),
});
export type Telemetry = Static<typeof Telemetry>;
