import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type LabSignIn, refusedNodes, type StudentAccess } from './access.ts';
import {
  BROKER_NODE_ID,
  brokerNode,
  CURRICULUM_FLOWS,
  type CurriculumFlowName,
  curriculumFlow,
  mergeFlows,
} from './curriculum.ts';
import type { FlowNode } from './node-red.ts';
import { forward, relayWebSocket, withoutHopByHop } from './proxy.ts';
import {
  moveLegacySettings,
  readStudentAccess,
  registerSettingsRoutes,
  type SettingsAudit,
} from './routes.ts';
import { EDITOR_USER_HEADER, NodeRedProcess, type RuntimeLog } from './runtime.ts';
import { type AccessLog, bearerToken, EditorSignIn } from './sign-in.ts';

export interface FlowsLog extends AccessLog, RuntimeLog {}

export interface FlowsOptions {
  /** The platform's fastify app, before it listens: the editor is served from its HTTP server. */
  app: FastifyInstance;
  /**
   * Node-RED's working directory (flows file, credentials, context), under the platform's data
   * dir. The flows' process may write here, so the platform keeps nothing of its own in it.
   */
  userDir: string;
  /** Where the instructors' choice for students is kept (outside userDir); none: not kept. */
  settingsFile?: string;
  /** Serve `GET/PUT /api/v1/flows/settings` (needs the lab API's access control on the app). */
  settingsRoutes?: boolean;
  /** Where the editor and its admin API are served. */
  adminRoot?: string;
  /** Where `http in` nodes of flows are served. */
  nodeRoot?: string;
  /** The lab's sign-in: the editor signs people in with their lab accounts. */
  labSignIn: LabSignIn;
  /** What students may do, until an instructor chooses otherwise (their choice is kept in settingsFile). */
  studentAccess: StudentAccess;
  /** Another directory of Node-RED nodes to load (besides node_modules and userDir). */
  nodesDir?: string;
  /** Encrypts the flows' credentials file; empty: Node-RED generates one and keeps it in userDir. */
  credentialSecret?: string;
  /** Records a settings change in the lab's audit log (who, before, after). */
  audit?: SettingsAudit;
  log: FlowsLog;
}

/** The platform broker as the flows reach it: a service account on loopback. */
export interface BrokerConnection {
  host: string;
  port: number;
  username: string;
  password: string;
}

/** The folder of the editor's local library holding the curriculum flows. */
export const LIBRARY_FOLDER = 'IoT Lab curriculum';

/** Admin API routes that deploy (`POST /flows`, `POST /flow`, `PUT /flow/:id`), below adminRoot. */
const DEPLOY_ROUTE = /^(flows|flow|flow\/[^/]+)\/*$/i;

/** The most a deploy may weigh (Node-RED's own limit, `apiMaxLength`). */
const MAX_DEPLOY_BYTES = 5 * 1024 * 1024;

/**
 * What a flow's `http in` node serves runs in an origin of its own (an opaque one): a page made by
 * a flow cannot read the platform's pages, storage or cookies, as the editor's author may not be
 * the person who opens it.
 */
const FLOW_PAGE_POLICY = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads';

/**
 * Node-RED for the platform. Its runtime runs in a process of its own under Node's permission
 * model (runtime.ts): no shell, no files outside its directory, for anyone. `mount` (before the
 * server listens) starts that process and serves, on the platform's HTTP server, the editor at
 * `adminRoot` and the flows' `http in` nodes at `nodeRoot` by forwarding to it, the editor's
 * WebSocket included; `start` (once the broker listens) runs the flows with the broker's
 * connection set on the shared `mqtt-broker` config node.
 *
 * In front of Node-RED: sign-in (sign-in.ts), who each request is from (a signed statement, so
 * no lab token ever reaches the flows' process), which nodes a role may deploy (access.ts), no
 * CORS, no token in a URL, and an answer to every request.
 */
export class FlowsEditor {
  readonly adminRoot: string;
  readonly nodeRoot: string;
  readonly #options: FlowsOptions;
  readonly #signIn: EditorSignIn;
  readonly #agent = new Agent({ keepAlive: true });
  #runtime!: NodeRedProcess;
  #studentAccess: StudentAccess;
  #stopped = false;

  private constructor(options: FlowsOptions) {
    this.#options = options;
    this.adminRoot = trimSlash(options.adminRoot ?? '/flows');
    this.nodeRoot = trimSlash(options.nodeRoot ?? '/flows-api');
    if (options.settingsFile) moveLegacySettings(options.userDir, options.settingsFile);
    this.#studentAccess =
      (options.settingsFile && readStudentAccess(options.settingsFile)) || options.studentAccess;
    this.#signIn = new EditorSignIn(options.labSignIn, () => this.#studentAccess, options.log);
  }

  /** Starts Node-RED's process and serves the editor from the app; call before `app.listen`. */
  static async mount(options: FlowsOptions): Promise<FlowsEditor> {
    mkdirSync(options.userDir, { recursive: true });
    // Node-RED's own sessions, issued before sign-in moved in front of it: Node-RED would still take
    // one from a form body's `access_token`. It issues none any more.
    rmSync(join(options.userDir, '.sessions.json'), { force: true });
    const editor = new FlowsEditor(options);
    editor.#shelveCurriculum();
    editor.#runtime = await NodeRedProcess.start({
      userDir: options.userDir,
      nodesDir: options.nodesDir,
      settings: editor.#runtimeSettings(),
      log: options.log,
    });
    try {
      await options.app.register(async (scope) => editor.#routes(scope));
      if (options.settingsRoutes !== false) {
        // Changing who may open the editor is audited, or not offered.
        if (!options.audit)
          throw new Error('the flow editor settings routes need an audit log (options.audit)');
        registerSettingsRoutes(options.app, editor, options.settingsFile, options.log, options.audit);
      }
    } catch (error) {
      await editor.stop();
      throw error;
    }
    return editor;
  }

  /** What students may do in the editor (takes effect on their next request). */
  get studentAccess(): StudentAccess {
    return this.#studentAccess;
  }
  set studentAccess(access: StudentAccess) {
    this.#studentAccess = access;
  }

  /** Node-RED's settings (the runtime adds its sign-in and logging). */
  #runtimeSettings(): Record<string, unknown> {
    const { userDir, credentialSecret, nodesDir } = this.#options;
    return {
      userDir,
      flowFile: 'flows.json',
      flowFilePretty: true,
      // The saved flows wait for `start`, which deploys them with the broker's fresh secret: they
      // never try the stale one (a refused login in the broker's log at every restart).
      safeMode: true,
      httpAdminRoot: this.adminRoot,
      httpNodeRoot: this.nodeRoot,
      fileWorkingDirectory: userDir,
      ...(credentialSecret ? { credentialSecret } : {}),
      ...(nodesDir ? { nodesDir } : {}),
      // No installing of nodes or of a function node's npm modules (no npm in a lab room, and no
      // code from the registry in the flows' process), no update checks, no tours.
      externalModules: {
        autoInstall: false,
        palette: { allowInstall: false },
        modules: { allowInstall: false },
      },
      functionExternalModules: false,
      telemetry: { enabled: false, updateNotification: false },
      diagnostics: { enabled: false, ui: false },
      editorTheme: {
        page: { title: 'IoT Lab · flows' },
        header: { title: 'IoT Lab · Node-RED' },
        projects: { enabled: false },
        tours: false,
        login: {
          message:
            'Sign in with your lab account (the one of the lab website). Instructors and mentors edit the flows; students may look at them when their instructor allows it. 使用实验平台账号登录。',
        },
      },
    };
  }

  /**
   * The editor's routes, in a scope of their own where no body is parsed: bodies stream on to
   * Node-RED as they came (deploys and sign-ins are read here, as they are checked here).
   */
  async #routes(scope: FastifyInstance): Promise<void> {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    if (!scope.hasDecorator('websocketServer')) await scope.register(websocket);
    // To the lab API's access control these routes are public: the editor has its own sign-in
    // (sign-in.ts), and Node-RED checks each request's permissions; `http in` nodes are open.
    const open = { config: { access: 'public' as const } };
    const admin = this.adminRoot;
    scope.post(`${admin}/auth/token`, open, (request, reply) => this.#signIn.token(request, reply));
    scope.post(`${admin}/auth/revoke`, open, (request, reply) => this.#signIn.revoke(request, reply));
    scope.get(`${admin}/comms`, { ...open, websocket: true }, (socket) =>
      relayWebSocket(socket, `ws://127.0.0.1:${this.#runtime.port}${admin}/comms`, async (token) => {
        const user = await this.#signIn.userOf(token);
        return user ? this.#runtime.statement(user) : undefined;
      }),
    );
    for (const url of [admin, `${admin}/*`])
      scope.all(url, open, (request, reply) => this.#forwardToEditor(request, reply));
    for (const url of [this.nodeRoot, `${this.nodeRoot}/*`])
      scope.all(url, open, (request, reply) => {
        forward(request, reply, this.#target(), {
          headers: withoutHopByHop(request.headers),
          answerHeaders: (headers) => ({ ...headers, 'content-security-policy': FLOW_PAGE_POLICY }),
        });
      });
  }

  #target() {
    return { port: this.#runtime.port, agent: this.#agent };
  }

  /**
   * An editor request on to Node-RED, with who it is from instead of their token (Node-RED checks
   * the permissions), deploys checked for nodes the role may not deploy, CORS headers removed.
   */
  async #forwardToEditor(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (new URL(request.url, 'http://x').searchParams.has('access_token'))
      return void reply.code(400).send({
        code: 'TOKEN_IN_URL',
        message: `a token in a URL ends up in history, logs and Referer headers: send it as "Authorization: Bearer <token>" (the editor keeps it in localStorage "auth-tokens${this.adminRoot.replaceAll('/', '-')}") — 请勿在网址中传递令牌`,
      });
    const user = await this.#signIn.userOf(bearerToken(request.headers.authorization));
    const headers = withoutHopByHop(request.headers);
    delete headers.authorization;
    delete headers.cookie;
    delete headers[EDITOR_USER_HEADER];
    if (user) headers[EDITOR_USER_HEADER] = this.#runtime.statement(user);
    let body: Buffer | undefined;
    if (user && user.role !== 'admin' && isDeploy(request, this.adminRoot)) {
      const read = await readDeploy(request);
      if ('refusal' in read) return void reply.code(read.status).send(read.refusal);
      const refused = refusedNodes(user.role, nodesOf(read.json), await this.flows());
      if (refused.length > 0) {
        const types = [...new Set(refused.map((node) => node.type))].join(', ');
        this.#options.log.warn(
          { username: user.username, role: user.role, types },
          'flow editor: deploy refused',
        );
        return void reply.code(403).send({
          code: 'NODE_TYPE_NOT_ALLOWED',
          message: `only admins may deploy nodes that reach the server itself (${types}); nothing was deployed (仅管理员可部署访问服务器本机的节点，未部署)`,
          nodes: refused.map(({ id, type }) => ({ id, type })),
        });
      }
      body = read.bytes;
    }
    forward(request, reply, this.#target(), {
      headers,
      ...(body ? { body } : {}),
      answerHeaders: withoutCors,
    });
  }

  /**
   * Puts the shipped curriculum flows in the editor's local library (renewed at each start), so
   * _Menu → Import → Local → IoT Lab curriculum_ imports one with a click.
   */
  #shelveCurriculum(): void {
    const shelf = join(this.#options.userDir, 'lib', 'flows', LIBRARY_FOLDER);
    mkdirSync(shelf, { recursive: true });
    for (const name of CURRICULUM_FLOWS) {
      writeFileSync(join(shelf, `${name}.json`), `${JSON.stringify(curriculumFlow(name), null, 2)}\n`);
    }
  }

  /**
   * Starts the flows runtime and points the shared broker config node at the platform broker
   * (the service secret changes at every platform start, so the node is redeployed each time).
   */
  async start(broker: BrokerConnection): Promise<void> {
    if (!(await this.#runtime.start()))
      this.#options.log.warn({}, 'Node-RED did not report loading the saved flows in 15 s');
    const current = await this.flows();
    await this.deploy(mergeFlows(current, [brokerNode(broker)]), { [BROKER_NODE_ID]: credentialsOf(broker) });
    this.#options.log.info(
      { path: `${this.adminRoot}/`, studentAccess: this.#studentAccess, mqttUser: broker.username },
      `Node-RED editor at ${this.adminRoot}/ (sign in with a lab account); flows connected as ${broker.username}`,
    );
  }

  /** The deployed flow configuration (every node, config nodes included). */
  flows(): Promise<FlowNode[]> {
    return this.#runtime.flows();
  }

  /** Deploys a full flow configuration (what the editor's Deploy does), with credentials by node id. */
  async deploy(flows: FlowNode[], credentials?: Record<string, Record<string, string>>): Promise<void> {
    const withCredentials = flows.map((node) =>
      credentials?.[node.id] ? { ...node, credentials: credentials[node.id] } : node,
    );
    if (!(await this.#runtime.deploy(withCredentials)))
      this.#options.log.warn({}, 'the deployed flows did not start (missing node types?): see the editor');
  }

  /**
   * Deploys shipped curriculum flows (all by default) and any `extra` nodes (e.g. a
   * `flowVariant`) beside what runs, replacing earlier copies by id. The deployed broker config
   * node is kept: the flows use the platform's connection.
   */
  async deployCurriculum(
    names: readonly CurriculumFlowName[] = CURRICULUM_FLOWS,
    extra: readonly FlowNode[] = [],
  ): Promise<void> {
    const shipped = names
      .flatMap((name) => curriculumFlow(name))
      .filter((node) => node.id !== BROKER_NODE_ID);
    await this.upsert([...shipped, ...extra.filter((node) => node.id !== BROKER_NODE_ID)]);
  }

  /** Adds (or replaces, by id) these nodes in the running configuration and deploys. */
  async upsert(nodes: FlowNode[]): Promise<void> {
    await this.deploy(mergeFlows(await this.flows(), nodes));
  }

  /**
   * Adds (or updates) the InfluxDB config node `iotlab-influxdb` from the platform's store
   * settings, so students' InfluxDB nodes write where the platform stores. The platform depends on
   * node-red-contrib-influxdb; should its nodes be missing (a trimmed install), this only logs how
   * to get them. Returns whether the node was deployed.
   */
  async configureInflux(store: InfluxStoreSettings): Promise<boolean> {
    if (!(await this.hasNodeType('influxdb'))) {
      this.#options.log.info(
        { url: store.url },
        'the store is InfluxDB, but the InfluxDB nodes are not installed: npm install node-red-contrib-influxdb in the platform directory to get a preconfigured "iotlab-influxdb" config node',
      );
      return false;
    }
    const { node, credentials } = influxConfigNode(store);
    await this.deploy(mergeFlows(await this.flows(), [node]), { [node.id]: credentials });
    return true;
  }

  /** Whether a node type is installed (e.g. `influxdb` from node-red-contrib-influxdb). */
  hasNodeType(type: string): Promise<boolean> {
    return this.#runtime.hasNodeType(type);
  }

  /** Stops the flows and their process. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#runtime?.stop();
    this.#agent.destroy();
  }
}

/** Whether the request deploys (matched as Node-RED's router would: any case, trailing slashes). */
function isDeploy(request: FastifyRequest, adminRoot: string): boolean {
  if (request.method !== 'POST' && request.method !== 'PUT') return false;
  const path = (request.url.split('?')[0] ?? '').slice(adminRoot.length + 1);
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {}
  return DEPLOY_ROUTE.test(path) || DEPLOY_ROUTE.test(decoded);
}

/**
 * A deploy's body, read to be checked (and then sent on as it is): JSON only, as Node-RED's
 * editor sends it — a form-encoded one would reach Node-RED's other body parser unchecked.
 */
async function readDeploy(
  request: FastifyRequest,
): Promise<{ bytes: Buffer; json: unknown } | { status: number; refusal: object }> {
  const type = String(request.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  if (type !== 'application/json' || request.headers['content-encoding'])
    return {
      status: 415,
      refusal: {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'a deploy is plain application/json (部署内容须为 JSON)',
      },
    };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_DEPLOY_BYTES)
      return {
        status: 413,
        refusal: { code: 'TOO_LARGE', message: 'the deploy is over 5 MB (部署内容超过 5 MB)' },
      };
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  try {
    return { bytes, json: JSON.parse(bytes.toString('utf8')) };
  } catch {
    return {
      status: 400,
      refusal: { code: 'INVALID_JSON', message: 'the deploy is not valid JSON (部署内容不是有效的 JSON)' },
    };
  }
}

/**
 * Every node of a deploy: `POST /flows` sends an array (API v1) or `{flows}` (v2); `POST /flow`
 * and `PUT /flow/:id` send `{nodes, configs, subflows}`.
 */
function nodesOf(body: unknown): FlowNode[] {
  const nodes: FlowNode[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const record = value as Record<string, unknown>;
    if (typeof record.type === 'string') nodes.push(record as FlowNode);
    for (const key of ['flows', 'nodes', 'configs', 'subflows']) visit(record[key]);
  };
  visit(body);
  return nodes;
}

/** The editor's admin API is for the platform's own pages: Node-RED's `Access-Control-Allow-Origin: *` goes. */
function withoutCors(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith('access-control-')));
}

function trimSlash(path: string): string {
  const withLead = path.startsWith('/') ? path : `/${path}`;
  return withLead.length > 1 ? withLead.replace(/\/+$/, '') : withLead;
}

/** The platform's InfluxDB settings (`store.influx` of the configuration). */
export interface InfluxStoreSettings {
  url: string;
  apiVersion: 1 | 2;
  token: string;
  database: string;
  username: string;
  password: string;
}

export const INFLUX_NODE_ID = 'iotlab-influxdb';

/** The config node of node-red-contrib-influxdb (0.7) for the platform's store. */
export function influxConfigNode(store: InfluxStoreSettings): {
  node: FlowNode;
  credentials: Record<string, string>;
} {
  const url = new URL(store.url);
  const https = url.protocol === 'https:';
  const node: FlowNode = {
    id: INFLUX_NODE_ID,
    type: 'influxdb',
    name: 'IoT Lab store',
    hostname: url.hostname,
    port: url.port || (https ? '443' : '8086'),
    protocol: https ? 'https' : 'http',
    database: store.database,
    usetls: https,
    tls: '',
    influxdbVersion: store.apiVersion === 1 ? '1.x' : '2.0',
    url: store.url,
    rejectUnauthorized: true,
  };
  const credentials: Record<string, string> =
    store.apiVersion === 1 ? { username: store.username, password: store.password } : { token: store.token };
  return { node, credentials };
}

function credentialsOf(broker: BrokerConnection): Record<string, string> {
  return { user: broker.username, password: broker.password };
}
