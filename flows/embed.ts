import { mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import middie from '@fastify/middie';
import type { FastifyInstance } from 'fastify';
import { type AccessLog, adminAuth, type LabAccounts, type StudentAccess } from './access.ts';
import {
  BROKER_NODE_ID,
  brokerNode,
  CURRICULUM_FLOWS,
  type CurriculumFlowName,
  curriculumFlow,
  mergeFlows,
} from './curriculum.ts';
import { type FlowNode, type NodeRed, nodeRed } from './node-red.ts';
import { readStudentAccess, registerSettingsRoutes, type SettingsAudit } from './routes.ts';

export interface FlowsLog extends AccessLog {
  error(object: object, message: string): void;
  debug(object: object, message: string): void;
}

export interface FlowsOptions {
  /** The platform's fastify app, before it listens: the editor is served from its HTTP server. */
  app: FastifyInstance;
  /** Node-RED's working directory (flows file, credentials, context), under the platform's data dir. */
  userDir: string;
  /** Serve `GET/PUT /api/v1/flows/settings` (needs the lab API's access control on the app). */
  settingsRoutes?: boolean;
  /** Where the editor and its admin API are served. */
  adminRoot?: string;
  /** Where `http in` nodes of flows are served. */
  nodeRoot?: string;
  accounts: LabAccounts;
  /** What students may do, until an instructor chooses otherwise (their choice is kept in userDir). */
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

/** Node-RED's numeric log levels (its `logging` handler receives these). */
const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  10: 'error',
  20: 'error',
  30: 'warn',
  40: 'info',
  50: 'debug',
  60: 'debug',
  98: 'info',
  99: 'debug',
};

/** The folder of the editor's local library holding the curriculum flows. */
export const LIBRARY_FOLDER = 'IoT Lab curriculum';

let embedded = false;

/**
 * Node-RED embedded in the platform's HTTP server. `mount` (before the server listens) serves
 * the editor at `adminRoot` through `@fastify/middie`; `start` (once the broker listens) runs the
 * flows with the broker's connection set on the shared `mqtt-broker` config node.
 *
 * Node-RED is a singleton: one embedded editor per process.
 */
export class FlowsEditor {
  readonly adminRoot: string;
  readonly nodeRoot: string;
  readonly #options: FlowsOptions;
  readonly #red: NodeRed;
  #studentAccess: StudentAccess;
  #started = false;
  #stopped = false;

  private constructor(options: FlowsOptions) {
    this.#options = options;
    this.adminRoot = trimSlash(options.adminRoot ?? '/flows');
    this.nodeRoot = trimSlash(options.nodeRoot ?? '/flows-api');
    this.#studentAccess = readStudentAccess(options.userDir) ?? options.studentAccess;
    this.#red = nodeRed();
  }

  /** Initialises Node-RED on the app's server and mounts the editor; call before `app.listen`. */
  static async mount(options: FlowsOptions): Promise<FlowsEditor> {
    if (embedded) throw new Error('Node-RED is already embedded in this process (it is a singleton)');
    embedded = true;
    try {
      const editor = new FlowsEditor(options);
      await editor.#mount();
      return editor;
    } catch (error) {
      embedded = false;
      throw error;
    }
  }

  /** What students may do in the editor (takes effect on their next request). */
  get studentAccess(): StudentAccess {
    return this.#studentAccess;
  }
  set studentAccess(access: StudentAccess) {
    this.#studentAccess = access;
  }

  async #mount(): Promise<void> {
    const { app, userDir, log } = this.#options;
    mkdirSync(userDir, { recursive: true });
    const settings: Record<string, unknown> = {
      userDir,
      flowFile: 'flows.json',
      flowFilePretty: true,
      // The saved flows wait for `start`, which deploys them with the broker's fresh secret: they
      // never try the stale one (a refused login in the broker's log at every restart).
      safeMode: true,
      httpAdminRoot: this.adminRoot,
      httpNodeRoot: this.nodeRoot,
      ...(this.#options.credentialSecret ? { credentialSecret: this.#options.credentialSecret } : {}),
      ...(this.#options.nodesDir ? { nodesDir: this.#options.nodesDir } : {}),
      adminAuth: adminAuth(this.#options.accounts, () => this.#studentAccess, log),
      // No installing of nodes from the editor (no npm in a lab room), no update checks, no tours.
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
      logging: {
        console: { level: 'off' },
        iotlab: {
          level: 'info',
          audit: true,
          metrics: false,
          handler:
            () => (msg: { level: number; msg?: unknown; type?: string; id?: string; event?: string }) => {
              const level = LEVELS[msg.level] ?? 'info';
              if (msg.level === 98) {
                // Audit events: sign-in failures and refused permissions matter, the rest is noise.
                if (msg.event && /fail/.test(msg.event)) log.warn({ event: msg.event }, 'flow editor audit');
                return;
              }
              const text = typeof msg.msg === 'string' ? msg.msg : JSON.stringify(msg.msg);
              // Expected at every start, so not warnings: the safe-mode banner (the flows are started
              // right after, see start), projects being off, and the generated credentials key (kept in
              // userDir; flows.credentialSecret sets one).
              if (
                /^\*+$|safe mode|Projects disabled|system-generated key|Encrypted credentials not found/i.test(
                  text,
                )
              )
                return log.debug({}, `node-red: ${text}`);
              log[level]({ ...(msg.type ? { node: msg.type, id: msg.id } : {}) }, `node-red: ${text}`);
            },
        },
      },
    };
    this.#shelveCurriculum();
    this.#red.init(app.server, settings);
    if (!app.hasDecorator('use')) await app.register(middie);
    const use = (app as unknown as { use(path: string, fn: unknown): void }).use.bind(app);
    use(`${this.adminRoot}/auth/token`, clearLockout);
    use(this.adminRoot, this.#red.httpAdmin);
    use(this.nodeRoot, this.#red.httpNode);
    if (this.#options.settingsRoutes !== false)
      registerSettingsRoutes(app, this, userDir, log, this.#options.audit);
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
    const server = this.#options.app.server;
    const before = server.listeners('upgrade') as UpgradeListener[];
    // RED.start resolves before the flows file is loaded and its start attempted (in safe mode:
    // not started, state "safe"); deploying before that would race with it.
    let settled = false;
    const onState = (event: unknown) => {
      const { id, payload } = (event ?? {}) as { id?: string; payload?: { state?: string } };
      if (id === 'runtime-state' && (payload?.state === 'safe' || payload?.state === 'stop')) settled = true;
    };
    this.#red.events.on('runtime-event', onState);
    try {
      await this.#red.start();
      this.#started = true;
      if (!(await until(() => settled, 15_000)))
        this.#options.log.warn({}, 'Node-RED did not report loading the saved flows in 15 s');
    } finally {
      this.#red.events.removeListener('runtime-event', onState);
    }
    this.#routeUpgrades(before);
    const current = await this.flows();
    await this.deploy(mergeFlows(current, [brokerNode(broker)]), { [BROKER_NODE_ID]: credentialsOf(broker) });
    this.#options.log.info(
      { path: `${this.adminRoot}/`, studentAccess: this.#studentAccess, mqttUser: broker.username },
      `Node-RED editor at ${this.adminRoot}/ (sign in with a lab account); flows connected as ${broker.username}`,
    );
  }

  /**
   * The editor's WebSocket (`<adminRoot>/comms`) is Node-RED's own; the app's WebSocket plugin
   * (MQTT over WebSocket at /mqtt) would answer it with a 404 and close the socket, so its
   * upgrade listeners skip that path.
   */
  #routeUpgrades(appListeners: UpgradeListener[]): void {
    const server = this.#options.app.server;
    const comms = `${this.adminRoot}/comms`;
    const all = server.listeners('upgrade') as UpgradeListener[];
    server.removeAllListeners('upgrade');
    for (const listener of all) {
      if (!appListeners.includes(listener)) {
        server.on('upgrade', listener);
        continue;
      }
      server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        if ((request.url ?? '').split('?')[0] === comms) return;
        listener(request, socket, head);
      });
    }
  }

  /** The deployed flow configuration (every node, config nodes included). */
  async flows(): Promise<FlowNode[]> {
    return (await this.#red.runtime.flows.getFlows({}))?.flows ?? [];
  }

  /** Deploys a full flow configuration (what the editor's Deploy does), with credentials by node id. */
  async deploy(flows: FlowNode[], credentials?: Record<string, Record<string, string>>): Promise<void> {
    const withCredentials = flows.map((node) =>
      credentials?.[node.id] ? { ...node, credentials: credentials[node.id] } : node,
    );
    // setFlows resolves before nodes with an asynchronous start (function nodes) run: wait for them.
    let started = false;
    const onStarted = () => {
      started = true;
    };
    this.#red.events.on('flows:started', onStarted);
    try {
      await this.#red.runtime.flows.setFlows({ flows: { flows: withCredentials }, deploymentType: 'full' });
      if (!(await until(() => started, 15_000)))
        this.#options.log.warn({}, 'the deployed flows did not start (missing node types?): see the editor');
    } finally {
      this.#red.events.removeListener('flows:started', onStarted);
    }
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
    if (!this.hasNodeType('influxdb')) {
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
  hasNodeType(type: string): boolean {
    return Boolean(this.#red.nodes.getType(type));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#started) await this.#red.stop();
    embedded = false;
  }
}

/**
 * Node-RED refuses a username after 5 failed sign-ins in 10 minutes with a 500 "server_error";
 * say it as what it is: 429, with the wait and the reason (an OAuth 2 error body still).
 */
function clearLockout(_req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    const [body] = args;
    if (res.statusCode === 500 && !res.headersSent && /Too many login attempts/.test(String(body ?? ''))) {
      res.statusCode = 429;
      res.setHeader('retry-after', '600');
      return end(
        JSON.stringify({
          error: 'too_many_attempts',
          error_description:
            'too many failed sign-ins for this username: try again in 10 minutes (登录失败次数过多，请 10 分钟后再试)',
        }),
      );
    }
    return end(...args);
  }) as ServerResponse['end'];
  next();
}

/** Waits for `check`; false when it did not come true in time. */
async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

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
