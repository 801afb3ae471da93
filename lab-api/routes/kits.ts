import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  BindingAnswer,
  BindingBody,
  Kit as KitAnswer,
  KitDetail,
  KitParams,
  KitSecret,
  NewKit,
  NewKitBody,
  Telemetry,
  TelemetryQuery,
} from '../../contract/index.ts';
import {
  KIT_KINDS,
  KIT_NAME_MAX_LENGTH,
  type Kit,
  RegistryError,
  SERVICE_DESCRIPTION_MAX_LENGTH,
  USB_SERIAL_MAX_LENGTH,
} from '../../labdb/index.ts';
import { isValidSensorName, sensorSpec } from '../../protocol/index.ts';
import type { TelemetryStore } from '../../telemetry/index.ts';
import type { LabContext } from '../app.ts';
import type { Access } from '../auth.ts';
import { KitBindings } from '../classes/index.ts';
import { ApiError, say } from '../errors.ts';
import { currentPerson, errors, List } from '../http.ts';

function toMs(value: number | string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return typeof value === 'number' ? value : Date.parse(value);
}

/**
 * A kit's readings of one sensor for a query, cut to what the caller may see (`visible`: a
 * student's kit from when it was bound to them; an attempt's window). Without `from`/`to`, the
 * range is `defaults` (the last hour, or the whole attempt). Raw points, or windows of `every` ms.
 */
export async function readTelemetry(
  store: TelemetryStore,
  kitId: string,
  query: TelemetryQuery,
  visible: { from: number; to: number },
  defaults: (now: number) => { from: number; to: number } = (now) => ({ from: now - 3_600_000, to: now }),
): Promise<Telemetry> {
  const fallback = defaults(Date.now());
  const requestedTo = toMs(query.to, fallback.to);
  const requestedFrom = toMs(query.from, query.to === undefined ? fallback.from : requestedTo - 3_600_000);
  if (!(requestedFrom < requestedTo))
    throw new ApiError(
      400,
      'INVALID_RANGE',
      say('`from` must be before `to`', '开始时间（from）必须早于结束时间（to）'),
    );
  const from = Math.max(requestedFrom, visible.from);
  const to = Math.min(requestedTo, visible.to);
  const unit = sensorSpec(query.sensor)?.unit ?? null;
  const empty = from >= to;
  const base = { kitId, sensor: query.sensor, from, to, limit: query.limit ?? 10_000 };
  if (query.every !== undefined) {
    return {
      kitId,
      sensor: query.sensor,
      unit,
      from,
      to,
      every: query.every,
      windows: empty ? [] : await store.aggregate({ ...base, every: query.every }),
    };
  }
  return { kitId, sensor: query.sensor, unit, from, to, points: empty ? [] : await store.readings(base) };
}

/**
 * Kits and their telemetry: staff and platform services see every kit; a student sees the kits
 * bound to them or to a team they are in (their data from when the binding began).
 */
const KIT_READERS: Access = { roles: ['admin', 'instructor', 'student'], services: true };
const KIT_MANAGERS: Access = { roles: ['admin', 'instructor'] };

const REGISTRY_STATUS: Record<RegistryError['code'], number> = {
  KIT_EXISTS: 409,
  KIT_NOT_FOUND: 404,
  INVALID_KIT_ID: 400,
  INVALID_KIND: 400,
  SERVICE_EXISTS: 409,
  SERVICE_NOT_FOUND: 404,
  INVALID_SERVICE_NAME: 400,
  INVALID_SCOPE: 400,
  USB_SERIAL_TAKEN: 409,
  KIT_NAME_TOO_LONG: 400,
  USB_SERIAL_TOO_LONG: 400,
  SERVICE_DESCRIPTION_TOO_LONG: 400,
};

/**
 * The kit registry's errors in both languages, by code (labdb speaks English to the CLI and logs):
 * the English is labdb's own sentence, the Chinese names the kit the route was working on.
 */
const REGISTRY_ZH: Record<RegistryError['code'], (kitId: string) => string> = {
  KIT_EXISTS: (kitId) => `套件“${kitId}”已存在（如需新密钥，请重置它的密钥）`,
  KIT_NOT_FOUND: (kitId) => `找不到套件“${kitId}”`,
  INVALID_KIT_ID: (kitId) => `套件编号“${kitId}”无效：应为 2–48 位小写字母、数字、- 或 _，以字母或数字开头`,
  INVALID_KIND: () => `套件类型无效：只能是 ${KIT_KINDS.join('、')}`,
  SERVICE_EXISTS: () => '该服务账号已存在',
  SERVICE_NOT_FOUND: () => '找不到该服务账号',
  INVALID_SERVICE_NAME: () => '服务账号名称无效：应为 2–48 位小写字母、数字或 -，以字母开头',
  INVALID_SCOPE: () => '服务账号的权限范围无效',
  USB_SERIAL_TAKEN: () => '该 USB 序列号已绑定到其他套件',
  KIT_NAME_TOO_LONG: () => `套件名称太长：最多 ${KIT_NAME_MAX_LENGTH} 个字符`,
  USB_SERIAL_TOO_LONG: () => `USB 序列号太长：最多 ${USB_SERIAL_MAX_LENGTH} 个字符`,
  SERVICE_DESCRIPTION_TOO_LONG: () => `服务账号说明太长：最多 ${SERVICE_DESCRIPTION_MAX_LENGTH} 个字符`,
};

export function registryError(error: unknown, kitId: string): unknown {
  return error instanceof RegistryError
    ? new ApiError(
        REGISTRY_STATUS[error.code],
        error.code,
        say(error.message, REGISTRY_ZH[error.code](kitId)),
      )
    : error;
}

export const kitRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = ctx;
  const kitBindings = new KitBindings(ctx.db);

  async function kitOr404(kitId: string) {
    const kit = await deps.registry.getKit(kitId);
    if (!kit) throw new ApiError(404, 'KIT_NOT_FOUND', say(`no kit "${kitId}"`, `找不到套件“${kitId}”`));
    return kit;
  }

  /**
   * Whether the caller may see this kit, and from when: staff and services wholly (0), a student
   * from the time the kit was bound to them or their team.
   */
  async function visibleFrom(request: FastifyRequest, kitId: string): Promise<number> {
    const principal = request.principal;
    if (principal?.kind !== 'user' || principal.role !== 'student') return 0;
    const mine = (await kitBindings.kitsOfStudent(principal.id)).get(kitId);
    if (!mine)
      throw new ApiError(
        403,
        'NOT_YOUR_KIT',
        say(`kit "${kitId}" is not bound to you or your team`, `套件“${kitId}”没有绑定给您或您的小组`),
      );
    return mine.boundAt;
  }

  const connection = (kitId: string) => deps.liveStatus?.kitStatus(kitId) ?? null;

  async function describe(kit: Kit) {
    const [sensors, binding] = await Promise.all([
      kitBindings.kitSensors(kit.id),
      kitBindings.binding(kit.id),
    ]);
    return { ...kit, sensors: sensors.get(kit.id) ?? [], binding, connection: connection(kit.id) };
  }

  app.get(
    '/kits',
    {
      config: { access: KIT_READERS },
      schema: {
        summary: 'Registered kits with their sensors, binding and connection (a student: their own)',
        tags: ['kits'],
        response: { 200: List(KitAnswer) },
      },
    },
    async (request) => {
      const principal = request.principal;
      const onlyFor =
        principal?.kind === 'user' && principal.role === 'student'
          ? await kitBindings.kitsOfStudent(principal.id)
          : undefined;
      const [kits, sensors, bindings] = await Promise.all([
        deps.registry.listKits(),
        kitBindings.kitSensors(),
        kitBindings.bindings(),
      ]);
      return {
        items: kits
          .filter((kit) => !onlyFor || onlyFor.has(kit.id))
          .map((kit) => ({
            ...kit,
            sensors: sensors.get(kit.id) ?? [],
            binding: bindings.get(kit.id) ?? null,
            connection: connection(kit.id),
          })),
      };
    },
  );

  app.post(
    '/kits',
    {
      config: { access: KIT_MANAGERS },
      schema: {
        summary: 'Register a kit; the answer carries its secret, the only time it is shown',
        tags: ['kits'],
        body: NewKitBody,
        response: { 201: NewKit, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const actor = currentPerson(request);
      const { id, name, kind, sensors = [] } = request.body;
      const bad = sensors.find((sensor) => !isValidSensorName(sensor));
      if (bad)
        throw new ApiError(
          400,
          'INVALID_SENSOR',
          say(`"${bad}" is a reserved name, not a sensor`, `“${bad}”是保留名称，不能用作传感器名`),
        );
      const { kit, secret } = await kitBindings
        .changeKit(actor, id, 'create', async (tx) => {
          const added = await deps.registry.addKit({ id, name, kind }, tx);
          return { result: added, after: { ...added.kit, sensors }, sensors };
        })
        .catch((error) => {
          throw registryError(error, id);
        });
      return reply.status(201).send({ kit: await describe(kit), secret });
    },
  );

  app.get(
    '/kits/:kitId',
    {
      config: { access: KIT_READERS },
      schema: {
        summary: 'One kit, its binding, connection and latest readings',
        tags: ['kits'],
        params: KitParams,
        response: { 200: KitDetail },
      },
    },
    async (request) => {
      const kit = await kitOr404(request.params.kitId);
      const from = await visibleFrom(request, kit.id);
      const latest = await deps.store.latest(kit.id);
      return {
        ...(await describe(kit)),
        latest: Object.fromEntries(
          Object.entries(latest)
            .filter(([, point]) => point.ts >= from)
            .map(([sensor, point]) => [sensor, { ...point, unit: sensorSpec(sensor)?.unit ?? null }]),
        ),
      };
    },
  );

  app.post(
    '/kits/:kitId/secret',
    {
      config: { access: KIT_MANAGERS },
      schema: {
        summary: 'Issue a new secret (the old one stops working; a revoked kit becomes active again)',
        tags: ['kits'],
        params: KitParams,
        response: { 200: KitSecret, ...errors(404) },
      },
    },
    async (request, reply) => {
      const kitId = request.params.kitId;
      const { secret, kit } = await kitBindings
        .changeKit(currentPerson(request), kitId, 'rotate-secret', async (tx) => {
          const secret = await deps.registry.rotateKitSecret(kitId, tx);
          const kit = (await deps.registry.getKit(kitId, tx)) as Kit;
          return { result: { secret, kit }, after: { secretIssuedAt: kit.secretIssuedAt } };
        })
        .catch((error) => {
          throw registryError(error, kitId);
        });
      deps.liveStatus?.disconnectKit?.(kitId); // the old secret must not keep a session alive
      void reply.header('cache-control', 'no-store');
      return { kitId, secret, secretIssuedAt: kit.secretIssuedAt as number };
    },
  );

  app.delete(
    '/kits/:kitId/secret',
    {
      config: { access: KIT_MANAGERS },
      schema: {
        summary: "Revoke a kit's secret: it can no longer connect; the kit and its data stay",
        tags: ['kits'],
        params: KitParams,
        response: { 200: KitAnswer, ...errors(404) },
      },
    },
    async (request) => {
      const kitId = request.params.kitId;
      await kitBindings
        .changeKit(currentPerson(request), kitId, 'revoke-secret', async (tx) => {
          await deps.registry.revokeKit(kitId, tx);
          return { result: undefined, after: { active: false } };
        })
        .catch((error) => {
          throw registryError(error, kitId);
        });
      deps.liveStatus?.disconnectKit?.(kitId);
      return describe(await kitOr404(kitId));
    },
  );

  app.put(
    '/kits/:kitId/binding',
    {
      config: { access: KIT_MANAGERS },
      // An empty body is not `null`: unbinding is said explicitly.
      preValidation: async (request) => {
        if (request.body === undefined) {
          throw new ApiError(
            400,
            'INVALID_REQUEST',
            say(
              'invalid body: send {"studentId": …}, {"teamId": …}, or null to unbind',
              '请求内容有误：绑定请发送 {"studentId": …} 或 {"teamId": …}，解除绑定请发送 null',
            ),
          );
        }
      },
      schema: {
        summary:
          'Bind a kit to a student ({studentId}, with classId when they are in several classes) or a team ({teamId}), or unbind it (null)',
        tags: ['kits'],
        params: KitParams,
        body: BindingBody,
        response: { 200: BindingAnswer, ...errors(400, 403, 409) },
      },
    },
    async (request) => ({
      binding: await kitBindings.setBinding(currentPerson(request), request.params.kitId, request.body),
    }),
  );

  app.get(
    '/kits/:kitId/telemetry',
    {
      config: { access: KIT_READERS },
      schema: {
        summary: "A kit's readings of one sensor over a time range, raw or aggregated",
        tags: ['kits'],
        params: KitParams,
        querystring: TelemetryQuery,
        response: { 200: Telemetry },
      },
    },
    async (request) => {
      const kit = await kitOr404(request.params.kitId);
      // A student sees their kit's data from when it was bound to them, not an earlier user's.
      const from = await visibleFrom(request, kit.id);
      return readTelemetry(deps.store, kit.id, request.query, { from, to: Number.MAX_SAFE_INTEGER });
    },
  );
};
