import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { KIT_ID_PATTERN, SENSOR_NAME_PATTERN, sensorSpec } from '../../protocol/index.ts';
import type { LabContext } from '../app.ts';
import type { Access } from '../auth.ts';
import { ApiError } from '../errors.ts';

const KitParams = Type.Object({ kitId: Type.String({ pattern: KIT_ID_PATTERN.source }) });

/** A time given as ms since the epoch or as an ISO 8601 string. */
const Instant = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ format: 'date-time' })]);

const TelemetryQuery = Type.Object(
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

function toMs(value: number | string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return typeof value === 'number' ? value : Date.parse(value);
}

/** Kits and their telemetry: staff and platform services (students get their own kits with the lab API's bindings). */
const STAFF_AND_SERVICES: Access = { roles: ['admin', 'instructor'], services: true };

export const kitRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = ctx;

  async function kitOr404(kitId: string) {
    const kit = await deps.registry.getKit(kitId);
    if (!kit) throw new ApiError(404, 'KIT_NOT_FOUND', `no kit "${kitId}"`);
    return kit;
  }

  const connection = (kitId: string) => deps.liveStatus?.kitStatus(kitId) ?? null;

  app.get(
    '/kits',
    {
      config: { access: STAFF_AND_SERVICES },
      schema: { summary: 'Registered kits with their connection status', tags: ['kits'] },
    },
    async () => {
      const kits = await deps.registry.listKits();
      return { items: kits.map((kit) => ({ ...kit, connection: connection(kit.id) })) };
    },
  );

  app.get(
    '/kits/:kitId',
    {
      config: { access: STAFF_AND_SERVICES },
      schema: { summary: 'One kit, its connection and latest readings', tags: ['kits'], params: KitParams },
    },
    async (request) => {
      const kit = await kitOr404(request.params.kitId);
      const latest = await deps.store.latest(kit.id);
      return {
        ...kit,
        connection: connection(kit.id),
        latest: Object.fromEntries(
          Object.entries(latest).map(([sensor, point]) => [
            sensor,
            { ...point, unit: sensorSpec(sensor)?.unit ?? null },
          ]),
        ),
      };
    },
  );

  app.get(
    '/kits/:kitId/telemetry',
    {
      config: { access: STAFF_AND_SERVICES },
      schema: {
        summary: "A kit's readings of one sensor over a time range, raw or aggregated",
        tags: ['kits'],
        params: KitParams,
        querystring: TelemetryQuery,
      },
    },
    async (request) => {
      const kit = await kitOr404(request.params.kitId);
      const query = request.query;
      const to = toMs(query.to, Date.now());
      const from = toMs(query.from, to - 3_600_000);
      if (!(from < to)) throw new ApiError(400, 'INVALID_RANGE', '`from` must be before `to`');
      const base = { kitId: kit.id, sensor: query.sensor, from, to, limit: query.limit ?? 10_000 };
      const unit = sensorSpec(query.sensor)?.unit ?? null;
      if (query.every !== undefined) {
        return {
          kitId: kit.id,
          sensor: query.sensor,
          unit,
          from,
          to,
          every: query.every,
          windows: await deps.store.aggregate({ ...base, every: query.every }),
        };
      }
      return { kitId: kit.id, sensor: query.sensor, unit, from, to, points: await deps.store.readings(base) };
    },
  );
};
