import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlowNode, NodeRedUser } from './node-red.ts';

/** The runtime's own process (plain JavaScript: see its header). */
const CHILD_ENTRY = fileURLToPath(new URL('./runtime-child.cjs', import.meta.url));

/** The header in which the platform tells the runtime who an editor request is from. */
export const EDITOR_USER_HEADER = 'x-iotlab-editor-user';

export interface RuntimeLog {
  error(object: object, message: string): void;
  warn(object: object, message: string): void;
  info(object: object, message: string): void;
  debug(object: object, message: string): void;
}

export interface RuntimeOptions {
  /** Node-RED's working directory: the only one the runtime may write. */
  userDir: string;
  /** Another directory of nodes to load (read-only for the runtime). */
  nodesDir?: string | undefined;
  /** Node-RED settings (JSON: the runtime adds its sign-in and logging). */
  settings: Record<string, unknown>;
  log: RuntimeLog;
}

/** Node-RED's numeric log levels (98: audit). */
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

/**
 * Expected at every start, so not warnings: the safe-mode banner (the flows are started right
 * after), projects being off, the generated credentials key (kept in userDir), and fsync being
 * refused (Node 20's permission model disables it; Node-RED still writes and renames its files).
 */
const EXPECTED =
  /^\*+$|safe mode|Projects disabled|system-generated key|Encrypted credentials not found|fsync API is disabled/i;

interface LogEntry {
  level: number;
  msg: string;
  type?: string;
  id?: string;
  event?: string;
}

type FromRuntime =
  | { kind: 'listening'; port: number }
  | { kind: 'reply'; id: number; result?: unknown; error?: string }
  | ({ kind: 'log' } & LogEntry);

/**
 * The Node-RED runtime in a child process under Node's permission model: it may read
 * node_modules and write its userDir, and may not start processes or workers, load native
 * addons, or read anything else (the lab database, the platform's configuration). Its
 * environment is empty but for the time zone and language, so `env.get` in a flow finds no
 * platform secret. It listens on loopback; the platform forwards requests to it.
 *
 * Messages from the runtime are not trusted beyond what it could do anyway: a flow that
 * escapes Node-RED's sandbox controls this process.
 */
export class NodeRedProcess {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #userKey: string;
  readonly #log: RuntimeLog;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #nextId = 1;
  #stopping = false;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess, port: number, userKey: string, log: RuntimeLog) {
    this.#child = child;
    this.port = port;
    this.#userKey = userKey;
    this.#log = log;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (message: FromRuntime) => {
      try {
        this.#receive(message);
      } catch (error) {
        log.warn({ err: error }, 'unreadable message from the Node-RED process');
      }
    });
    child.on('error', (error) => log.error({ err: error }, 'the Node-RED process failed'));
    child.once('exit', (code, signal) => {
      for (const { reject } of this.#pending.values()) reject(new Error('the Node-RED process ended'));
      this.#pending.clear();
      if (!this.#stopping)
        log.error(
          { code, signal },
          'the Node-RED process ended unexpectedly: the flows do not run and the editor is unavailable until the platform restarts',
        );
    });
  }

  /** Starts the process and Node-RED's HTTP side in it (the flows wait for `start`). */
  static async start(options: RuntimeOptions): Promise<NodeRedProcess> {
    const nodeRedPath = createRequire(import.meta.url).resolve('node-red');
    const readable = [nodeModulesOf(nodeRedPath), CHILD_ENTRY, options.userDir, options.nodesDir].filter(
      (path): path is string => Boolean(path),
    );
    // The permission flags take comma-separated lists: a comma in a path would grant another one.
    const withComma = [...readable].find((path) => path.includes(','));
    if (withComma) throw new Error(`the flows' directories may not contain a comma: ${withComma}`);
    const child = spawn(
      process.execPath,
      [...permissionFlags(readable, [options.userDir]), '--disable-warning=ExperimentalWarning', CHILD_ENTRY],
      // Its own process group: a Ctrl-C in the terminal reaches the platform, which stops it in
      // order; it ends by itself when the platform goes (its IPC channel closes).
      { cwd: options.userDir, env: runtimeEnv(), stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true },
    );
    const output: string[] = [];
    forwardLines(child, (stream, line) => {
      if (output.length < 20) output.push(line);
      // A function node's console.log lands on stdout: the flow's business, not the platform's.
      if (stream === 'stdout') options.log.debug({}, `node-red: ${line}`);
      else options.log.warn({}, `node-red (stderr): ${line}`);
    });
    const userKey = randomBytes(32).toString('hex');
    const port = await new Promise<number>((resolve, reject) => {
      const settle = (error: Error | undefined, port?: number) => {
        clearTimeout(timer);
        child.off('error', onError).off('exit', onExit).off('message', onMessage);
        if (port !== undefined) return resolve(port);
        child.kill('SIGKILL');
        reject(new Error(`the Node-RED process did not start: ${error?.message}\n${output.join('\n')}`));
      };
      const onError = (error: Error) => settle(error);
      const onExit = (code: number | null, signal: string | null) =>
        settle(new Error(`it ended (${signal ?? code})`));
      const onMessage = (message: FromRuntime) => {
        if (message?.kind === 'listening') settle(undefined, message.port);
      };
      const timer = setTimeout(() => settle(new Error('no answer in 60 s')), 60_000);
      child.on('error', onError).on('exit', onExit).on('message', onMessage);
      child.send({
        kind: 'init',
        nodeRedPath,
        settings: options.settings,
        userHeader: EDITOR_USER_HEADER,
        userKey,
      });
    });
    return new NodeRedProcess(child, port, userKey, options.log);
  }

  /** The value of {@link EDITOR_USER_HEADER} (and of the editor's WebSocket `auth`) for a person. */
  statement(user: NodeRedUser): string {
    const payload = Buffer.from(JSON.stringify({ username: user.username, permissions: user.permissions }));
    return `${this.#userKey}.${payload.toString('base64url')}`;
  }

  /** Starts the flows runtime; false when the saved flows were not loaded within 15 s. */
  start(): Promise<boolean> {
    return this.#call('start') as Promise<boolean>;
  }

  /** The deployed flow configuration (credentials left out). */
  async flows(): Promise<FlowNode[]> {
    const flows = await this.#call('flows');
    return Array.isArray(flows) ? (flows as FlowNode[]) : [];
  }

  /** Deploys a full configuration; false when its flows did not start within 15 s. */
  deploy(flows: FlowNode[]): Promise<boolean> {
    return this.#call('deploy', { flows }) as Promise<boolean>;
  }

  async hasNodeType(type: string): Promise<boolean> {
    return (await this.#call('hasNodeType', { type })) === true;
  }

  /** Stops the flows and the process (killed when it has not ended within 10 s). */
  async stop(): Promise<void> {
    if (this.#stopping) return this.#exited;
    this.#stopping = true;
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const killer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
      await this.#call('stop').catch(() => this.#child.kill('SIGKILL'));
      await this.#exited;
      clearTimeout(killer);
    }
  }

  #call(method: string, args?: object): Promise<unknown> {
    if (!this.#child.connected) return Promise.reject(new Error('the Node-RED process is not running'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ kind: 'call', id, method, args });
    });
  }

  #receive(message: FromRuntime): void {
    if (message?.kind === 'reply') {
      const waiting = this.#pending.get(message.id);
      if (!waiting) return;
      this.#pending.delete(message.id);
      if (message.error !== undefined) waiting.reject(new Error(String(message.error)));
      else waiting.resolve(message.result);
    } else if (message?.kind === 'log') {
      this.#logEntry(message);
    }
  }

  #logEntry(entry: LogEntry): void {
    const text = typeof entry.msg === 'string' ? entry.msg.slice(0, 2000) : '';
    if (entry.level === 98) {
      // Audit events: sign-in failures and refused permissions matter, the rest is noise.
      if (typeof entry.event === 'string' && /fail/.test(entry.event))
        this.#log.warn({ event: entry.event }, 'flow editor audit');
      return;
    }
    if (EXPECTED.test(text)) {
      this.#log.debug({}, `node-red: ${text}`);
      return;
    }
    const node = typeof entry.type === 'string' ? { node: entry.type, id: String(entry.id) } : {};
    const level = Object.hasOwn(LEVELS, entry.level) ? LEVELS[entry.level] : undefined;
    this.#log[level ?? 'info'](node, `node-red: ${text}`);
  }
}

/** The node_modules folder Node-RED is installed in (all the node modules it loads are there). */
function nodeModulesOf(nodeRedPath: string): string {
  const marker = `${sep}node_modules${sep}`;
  return nodeRedPath.slice(0, nodeRedPath.lastIndexOf(marker) + marker.length - 1);
}

/**
 * Node's permission model: these paths to read, these to write, nothing else: no child
 * processes, workers, native addons or WASI (none of the `--allow-*` for them is given).
 * Node 22 calls it `--permission`; Node 25 also restricts the network, which flows need.
 */
function permissionFlags(read: string[], write: string[]): string[] {
  const flags = process.allowedNodeEnvironmentFlags;
  return [
    flags.has('--permission') ? '--permission' : '--experimental-permission',
    ...read.map((path) => `--allow-fs-read=${path}`),
    ...write.map((path) => `--allow-fs-write=${path}`),
    ...(flags.has('--allow-net') ? ['--allow-net'] : []),
  ];
}

/** The runtime's environment: the time zone and language, no configuration or secret of ours. */
function runtimeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['TZ', 'LANG', 'LC_ALL']) {
    if (process.env[name]) env[name] = process.env[name];
  }
  return env;
}

function forwardLines(
  child: ChildProcess,
  onLine: (stream: 'stdout' | 'stderr', line: string) => void,
): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    let rest = '';
    child[stream]?.setEncoding('utf8');
    child[stream]?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = (lines.pop() ?? '').slice(-2000);
      for (const line of lines) if (line.trim()) onLine(stream, line.slice(0, 2000));
    });
  }
}
