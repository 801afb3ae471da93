import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import type { TSchema } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import Fastify, {
  type FastifyInstance,
  type FastifySchemaCompiler,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import { createWebSocketStream } from 'ws';
import type { LiveGrader } from '../grading/index.ts';
import type { KitRegistry, LabDb } from '../labdb/index.ts';
import type { TelemetryStore, WriterStats } from '../telemetry/index.ts';
import { PasswordChecks } from './accounts.ts';
import { installAccessControl, publicRoutes } from './auth.ts';
import type { AttemptsEndedListener } from './auto-grading.ts';
import { ApiError, frameworkError, installErrorHandler, say } from './errors.ts';
import { Grades } from './grades/index.ts';
import { People } from './people.ts';
import { assignmentsRoutes } from './routes/assignments.ts';
import { auditRoutes } from './routes/audit.ts';
import { authRoutes } from './routes/auth.ts';
import { classesRoutes } from './routes/classes.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { gradesRoutes } from './routes/grades.ts';
import { healthRoutes } from './routes/health.ts';
import { kitRoutes } from './routes/kits.ts';
import { liveRoutes } from './routes/live.ts';
import { mentorsRoutes } from './routes/mentors.ts';
import { peopleRoutes } from './routes/people.ts';
import { projectsRoutes } from './routes/projects.ts';
import { tasksRoutes } from './routes/tasks.ts';

/** A kit's connection as the broker sees it (structurally the broker's KitLiveStatus). */
export interface KitConnection {
  kitId: string;
  online: boolean;
  since: number;
  lastSeen: number | null;
  messages: number;
  refused: number;
  firmware?: string;
}

export interface AppDeps {
  /** The lab database (people, projects, classes, kits…). */
  db: LabDb;
  store: TelemetryStore;
  registry: KitRegistry;
  /** The broker's live view of kits; absent when no broker runs in this process. */
  liveStatus?: {
    kitStatus(kitId: string): KitConnection | undefined;
    /** Drops a kit's connections, so a rotated or revoked secret takes effect at once. */
    disconnectKit?(kitId: string): void;
    /** Drops a person's connections whose login ended (on every instance), so a logout takes effect at once. */
    disconnectPerson?(username: string): void;
  };
  /** The last error reports sent to each kit (for the dashboards); none when absent. */
  recentKitErrors?: { of(kitId: string): readonly object[] };
  /** Live grading (event streams, leaderboards); those routes answer 503 without it. */
  liveGrading?: LiveGrader;
  /** Serves MQTT over WebSocket at /mqtt when given. */
  mqttOverWebSocket?: (stream: Duplex, request: IncomingMessage) => void;
  /**
   * Largest WebSocket message at /mqtt (bytes): the ws library holds a whole message before the
   * broker's packet limits see it, so this caps what an anonymous client can make the server
   * hold. Default 64 KiB.
   */
  mqttMaxMessageBytes?: number;
  /**
   * Password checks and their limiter; give the same one to every other sign-in of the process
   * (the flow editor), so they share one limit. A new one when absent.
   */
  passwordChecks?: PasswordChecks;
  /** The college's IANA time zone: exported times are in it (default Asia/Shanghai). */
  timeZone?: string;
  /**
   * Grades attempts shortly after the routes end them; created, started and stopped by the
   * composition root (cli/platform.ts). Without it a grade is made when first read.
   */
  automaticGrading?: AttemptsEndedListener;
  /** Counters for /health. */
  stats: () => { ingest: object; writer: WriterStats };
  version: string;
  /** In a cluster: this instance's name there, shown by /health (which instance answered). */
  clusterInstance?: string;
}

/**
 * Bodies are validated strictly (a number is not a string, unknown fields are refused), while
 * query strings and params, which arrive as text, are coerced to the schema's types.
 */
function strictBodies(): FastifySchemaCompiler<TSchema> {
  const make = (coerceTypes: boolean) => {
    const ajv = new Ajv({
      coerceTypes,
      useDefaults: true,
      removeAdditional: false,
      allErrors: false,
      strict: false,
    });
    // ajv-formats is CommonJS: under Node's ESM its plugin is the module's default.
    const addFormats = ((formats as unknown as { default?: unknown }).default ?? formats) as (
      ajv: Ajv,
    ) => Ajv;
    addFormats(ajv);
    return ajv;
  };
  const strict = make(false);
  const coercing = make(true);
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema);
}

/**
 * Headers for every answer: no content-type sniffing, never framed by another page (clickjacking),
 * no paths or tokens leaking to other sites through Referer. The web app adds its own CSP.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
};

/** Guangzhou's: the zone the platform was made for. */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** What every route plugin gets: the dependencies and the domain objects built on them. */
export interface LabContext {
  deps: AppDeps;
  db: LabDb;
  people: People;
  /** Every password check (sign-in, password change) goes through its limiter. */
  passwords: PasswordChecks;
  grades: Grades;
  /** Told of attempts the routes end (automatic grading grades them shortly after). */
  attemptsEnded: AttemptsEndedListener['attemptsEnded'];
}

/**
 * Builds the HTTP application without listening: the server process listens, tests call
 * `app.inject` or listen on port 0.
 */
export async function buildApp(deps: AppDeps, options: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // Kits and dashboards poll; one log line per request would drown the ones that matter.
    logController: new LogController({ disableRequestLogging: true }),
    // A malformed URL is refused before routing: answered by the one error handler's rules too.
    frameworkErrors: frameworkError,
    ...options,
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandler(app);
  app.setValidatorCompiler(strictBodies());
  // On every answer, the embedded Node-RED's included (it writes to the raw response).
  app.addHook('onRequest', async (_request, reply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.raw.setHeader(name, value);
  });
  // First, so that every route (ours, plugins', the web app's) is walked by the access check.
  installAccessControl(app, deps.db, deps.registry);
  // Text never holds a NUL character (PostgreSQL refuses one; nothing a person types has it).
  app.addHook('preValidation', async (request) => {
    // A raw text body (a roster file) is the route's to read: it drops control characters itself.
    const parsed = typeof request.body === 'string' ? undefined : request.body;
    const where = nulAt(parsed, '') ?? nulAt(request.query, '') ?? nulAt(request.params, '');
    if (where !== undefined) {
      throw new ApiError(
        400,
        'INVALID_TEXT',
        say(
          `${where} contains a NUL character (U+0000), which text may not hold`,
          `${where} 含有空字符（U+0000），文本中不允许出现`,
        ),
      );
    }
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'IoT Lab API',
        version: deps.version,
        description:
          'The training lab of the IoT Industry College: kits and their telemetry, people and organisations, ' +
          'enterprise projects and lab tasks with rubrics, classes, sessions and attempts, grades graded from ' +
          'the telemetry (live and final), reviews and exports. Errors come in the Accept-Language (zh or en). ' +
          '物联网产业学院实训平台接口：套件与遥测数据、人员与单位、企业项目与实训任务、班级与实训课、基于遥测的自动评分与评审导出。',
      },
      components: {
        securitySchemes: {
          person: { type: 'http', scheme: 'bearer', description: 'token from POST /api/v1/auth/login' },
          service: { type: 'http', scheme: 'basic', description: 'service account name and secret' },
        },
      },
      security: [{ person: [] }, { service: [] }],
    },
  });
  await app.register(async (docs) => {
    publicRoutes(docs);
    // Swagger UI sends a Content-Security-Policy of its own for its pages.
    await docs.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  });

  if (deps.mqttOverWebSocket) {
    const handle = deps.mqttOverWebSocket;
    await app.register(websocket, { options: { maxPayload: deps.mqttMaxMessageBytes ?? 64 * 1024 } });
    // Public at the HTTP level: MQTT's own CONNECT carries the credentials.
    app.get(
      '/mqtt',
      { websocket: true, config: { access: 'public' }, schema: { hide: true } },
      (socket, request) => {
        handle(createWebSocketStream(socket), request.raw);
      },
    );
  }

  const grades = new Grades({ db: deps.db, store: deps.store });
  const ctx: LabContext = {
    deps,
    db: deps.db,
    people: new People(deps.db),
    passwords: deps.passwordChecks ?? new PasswordChecks(deps.db),
    grades,
    attemptsEnded: (ids) => deps.automaticGrading?.attemptsEnded(ids),
  };
  await app.register(healthRoutes, { ctx });
  for (const routes of [
    authRoutes,
    peopleRoutes,
    auditRoutes,
    kitRoutes,
    mentorsRoutes,
    projectsRoutes,
    tasksRoutes,
    classesRoutes,
    assignmentsRoutes,
    gradesRoutes,
    liveRoutes,
    dashboardRoutes,
  ]) {
    await app.register(routes, { ctx, prefix: '/api/v1' });
  }
  return app;
}

/** The path of the first string or key in a request part that holds a NUL character, if any (JSON bodies, queries, params). */
function nulAt(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > 32 || Buffer.isBuffer(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    // A name (a record's key) is text as well.
    if (key.includes('\u0000')) return at;
    const found = nulAt(item, at, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
