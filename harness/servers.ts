/**
 * Real servers for tests and benchmarks: influxd 1.x, victoria-metrics, mosquitto, PostgreSQL and Redis,
 * each on a free loopback port with a temporary data directory. A missing server binary skips its suite on a
 * developer's machine (with the Debian package to install) and fails it in CI (`CI=true`).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import pg from 'pg';

/** The server binaries the harness knows, and the Debian package that installs each. */
export const SERVER_PACKAGES = {
  influxd: 'influxdb',
  'victoria-metrics': 'victoria-metrics',
  mosquitto: 'mosquitto',
  socat: 'socat',
  chromium: 'chromium',
  postgres: 'postgresql',
  'redis-server': 'redis-server',
  haproxy: 'haproxy',
} as const;

export type ServerBinary = keyof typeof SERVER_PACKAGES;

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  port: number;
  pid: number;
  /** The server's data directory; pass it (with `port`) to start the server again on the same data. */
  dataDir: string;
  /** Last lines the server wrote to stderr/stdout, for error messages. */
  output(): string;
  /**
   * SIGTERM, wait for the exit, SIGKILL after 5 s. Removes `dataDir` (also one passed in with
   * `StartOptions.dataDir`: it is handed over) unless `keepData` is set, to start again on it.
   */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export interface StartOptions {
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Data directory of a stopped server to reuse (default: a fresh temporary one). */
  dataDir?: string;
  /** How long to wait for the server to answer (default 15 s). */
  readyTimeoutMs?: number;
}

/** True when `CI` is set to anything but `false`/`0`/empty. */
export function inCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** Absolute path of a server binary on PATH (Debian installs both in /usr/bin), or undefined. */
export function findBinary(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * A server binary's path: on PATH, and for PostgreSQL also where Debian keeps it
 * (/usr/lib/postgresql/<version>/bin, not on PATH), the newest version first.
 */
export function findServerBinary(binary: ServerBinary): string | undefined {
  const onPath = findBinary(binary);
  if (onPath || binary !== 'postgres') return onPath;
  let versions: string[] = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  } catch {
    return undefined;
  }
  for (const version of versions) {
    const candidate = join('/usr/lib/postgresql', version, 'bin', 'postgres');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not this version
    }
  }
  return undefined;
}

export function serverAvailable(binary: ServerBinary): boolean {
  return findServerBinary(binary) !== undefined;
}

export function missingMessage(binary: ServerBinary): string {
  return `${binary} not found on PATH${binary === 'postgres' ? ' nor in /usr/lib/postgresql/*/bin' : ''}: install the Debian package "${SERVER_PACKAGES[binary]}" (apt-get install ${SERVER_PACKAGES[binary]})`;
}

/**
 * A free TCP port on 127.0.0.1 below 32768, for a server that must be told its port (InfluxDB,
 * PostgreSQL, HAProxy…). Linux hands out outgoing connections' ports from 32768–60999, so a port
 * the kernel chose for a listener could be taken by a busy test's connection before the server
 * binds it; below that range only another server can take it (and starting retries then).
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port on 127.0.0.1 between 20000 and 32767');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// Children still running when the test process exits are killed (by pid) so none outlive a crashed run.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) {
        if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
          try {
            process.kill(c.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    });
  }
}

const OUTPUT_TAIL_CHARS = 8_000;
const STOP_GRACE_MS = 5_000;

interface SpawnSpec {
  binary: ServerBinary;
  args: string[];
  env?: Record<string, string>;
  port: number;
  dataDir: string;
  /** Created by the harness for this start: removed when the start fails. */
  ownsDataDir: boolean;
  /** HTTP readiness: `GET readyPath` answers a status `readyStatus` accepts. */
  readyPath?: string;
  readyStatus?: (status: number) => boolean;
  /** Otherwise ready when this resolves (tried until the timeout), else once the port accepts TCP. */
  readyCheck?: () => Promise<void>;
  readyTimeoutMs: number;
  /** Run as this user (a server that refuses root, started by root). */
  user?: { uid: number; gid: number };
  /** The signal that stops it quickly (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}

class StartFailure extends Error {
  constructor(
    message: string,
    readonly exitedEarly: boolean,
  ) {
    super(message);
  }
}

async function spawnServer(spec: SpawnSpec): Promise<RunningServer> {
  const path = findServerBinary(spec.binary);
  if (!path) throw new Error(missingMessage(spec.binary));
  const child = spawn(path, spec.args, {
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(spec.user ? { uid: spec.user.uid, gid: spec.user.gid } : {}),
  });
  track(child);
  let tail = '';
  const collect = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });

  const url = `http://127.0.0.1:${spec.port}`;
  let stopped = false;
  const stop = async (options?: { keepData?: boolean }): Promise<void> => {
    if (!stopped) {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill(spec.stopSignal ?? 'SIGTERM');
        const timer = setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        }, STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
    }
    if (!options?.keepData) await rm(spec.dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + spec.readyTimeoutMs;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      await stop({ keepData: !spec.ownsDataDir });
      throw new StartFailure(
        `${spec.binary} exited before it was ready (${spawnError?.message ?? `exit code ${child.exitCode ?? child.signalCode}`}); its output:\n${tail}`,
        true,
      );
    }
    try {
      if (spec.readyCheck) {
        await spec.readyCheck();
        break;
      }
      if (spec.readyPath === undefined) {
        await tcpAccepts(spec.port);
        break;
      }
      const response = await fetch(`${url}${spec.readyPath}`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (spec.readyStatus?.(response.status) ?? response.ok) break;
      lastProblem = `GET ${spec.readyPath} answered ${response.status}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    if (Date.now() > deadline) {
      await stop({ keepData: !spec.ownsDataDir });
      throw new StartFailure(
        `${spec.binary} did not answer ${spec.readyPath ? `GET ${spec.readyPath}` : 'TCP'} on ${url} within ${spec.readyTimeoutMs} ms (${lastProblem}); its output:\n${tail}`,
        false,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (child.pid === undefined) throw new Error(`${spec.binary} has no pid`);
  return { url, port: spec.port, pid: child.pid, dataDir: spec.dataDir, output: () => tail, stop };
}

/**
 * Starts with a free port, retrying with another one when the server exits early (another process
 * may have taken the port between `freePort()` and the server's bind). A fixed port is tried once.
 */
async function startOnPort(
  options: StartOptions,
  prefix: string,
  make: (port: number, dataDir: string, ownsDataDir: boolean) => Promise<SpawnSpec>,
): Promise<RunningServer> {
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), prefix)));
    const port = options.port ?? (await freePort());
    try {
      return await spawnServer(await make(port, dataDir, ownsDataDir));
    } catch (error) {
      if (!(error instanceof StartFailure) || !error.exitedEarly || attempt >= attempts) throw error;
    }
  }
}

/**
 * Starts `influxd run -config /dev/null` (InfluxDB 1.x) on loopback, configured by environment;
 * ready when `GET /ping` answers 204.
 */
export function startInfluxd(options: StartOptions = {}): Promise<RunningServer> {
  return startOnPort(options, 'iotlab-influxd-', async (port, dataDir, ownsDataDir) => ({
    binary: 'influxd',
    args: ['run', '-config', '/dev/null'],
    env: {
      INFLUXDB_HTTP_BIND_ADDRESS: `127.0.0.1:${port}`,
      // The RPC service used by backup/restore; binds :8088 on all interfaces by default.
      INFLUXDB_BIND_ADDRESS: `127.0.0.1:${await freePort()}`,
      INFLUXDB_META_DIR: join(dataDir, 'meta'),
      INFLUXDB_DATA_DIR: join(dataDir, 'data'),
      INFLUXDB_DATA_WAL_DIR: join(dataDir, 'wal'),
      INFLUXDB_REPORTING_DISABLED: 'true',
      // Graphite, collectd, OpenTSDB and UDP listeners are off by default; keep them off.
      INFLUXDB_GRAPHITE_0_ENABLED: 'false',
      INFLUXDB_COLLECTD_0_ENABLED: 'false',
      INFLUXDB_OPENTSDB_0_ENABLED: 'false',
      INFLUXDB_UDP_0_ENABLED: 'false',
      // Quieter and lighter: no _internal database, no per-request and per-query log lines.
      INFLUXDB_MONITOR_STORE_ENABLED: 'false',
      INFLUXDB_HTTP_LOG_ENABLED: 'false',
      INFLUXDB_DATA_QUERY_LOG_ENABLED: 'false',
    },
    port,
    dataDir,
    ownsDataDir,
    readyPath: '/ping',
    readyStatus: (status) => status === 204,
    readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
  }));
}

/** `CREATE DATABASE <name>` over `POST /query` (idempotent in InfluxDB 1.x). */
export async function createInfluxDatabase(url: string, name: string): Promise<void> {
  const body = new URLSearchParams({
    q: `CREATE DATABASE "${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
  });
  const response = await fetch(`${url}/query`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`CREATE DATABASE ${name} answered ${response.status}: ${text}`);
  const parsed = JSON.parse(text) as { results?: { error?: string }[]; error?: string };
  const error = parsed.error ?? parsed.results?.find((r) => r.error)?.error;
  if (error) throw new Error(`CREATE DATABASE ${name} failed: ${error}`);
}

/**
 * Starts victoria-metrics on loopback (it serves the InfluxDB write APIs `/write` and
 * `/api/v2/write`, not InfluxQL); ready when `GET /health` answers 200.
 */
export function startVictoriaMetrics(options: StartOptions = {}): Promise<RunningServer> {
  return startOnPort(options, 'iotlab-victoria-', async (port, dataDir, ownsDataDir) => ({
    binary: 'victoria-metrics',
    args: [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${dataDir}`,
      '-retentionPeriod=100y',
      '-loggerLevel=ERROR',
    ],
    port,
    dataDir,
    ownsDataDir,
    readyPath: '/health',
    readyStatus: (status) => status === 200,
    readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
  }));
}

function tcpAccepts(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

/**
 * Starts Mosquitto (a site's existing broker, for the external-broker ingest) on loopback with
 * anonymous access and no persistence; `url` is `mqtt://127.0.0.1:PORT`.
 */
export function startMosquitto(options: StartOptions = {}): Promise<RunningServer> {
  return startOnPort(options, 'iotlab-mosquitto-', async (port, dataDir, ownsDataDir) => {
    const config = join(dataDir, 'mosquitto.conf');
    await writeFile(
      config,
      `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n`,
    );
    return {
      binary: 'mosquitto',
      args: ['-c', config],
      port,
      dataDir,
      ownsDataDir,
      readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
    };
  }).then((server) => ({ ...server, url: `mqtt://127.0.0.1:${server.port}` }));
}

/**
 * Starts a throwaway Redis (Debian package `redis-server`) on loopback, without persistence (no RDB
 * snapshots, no append-only file; its folder is only its working directory); `url` is
 * `redis://127.0.0.1:PORT`. Ready when PING answers PONG; `stop()` ends it by its pid.
 */
export function startRedis(options: StartOptions = {}): Promise<RunningServer> {
  return startOnPort(options, 'iotlab-redis-', async (port, dataDir, ownsDataDir) => ({
    binary: 'redis-server',
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dataDir,
      '--daemonize',
      'no',
    ],
    port,
    dataDir,
    ownsDataDir,
    readyCheck: () => redisPing(port),
    readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
  })).then((server) => ({ ...server, url: `redis://127.0.0.1:${server.port}` }));
}

/** Sends PING over RESP and resolves on +PONG (no Redis client needed). */
function redisPing(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'));
    socket.setTimeout(1_000, () => socket.destroy(new Error('PING got no answer')));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (!answer.includes('\r\n')) return;
      socket.destroy();
      if (answer.startsWith('+PONG')) resolve();
      else reject(new Error(`PING answered ${answer.trim()}`));
    });
    socket.once('error', reject);
  });
}

/** A running PostgreSQL: `url` is its `postgres` database as the superuser `postgres` (no password). */
export interface RunningPostgres extends RunningServer {
  /** Creates a database (a fresh name when none is given) and returns its URL. */
  createDatabase(name?: string, options?: { template?: string }): Promise<string>;
}

let databaseCounter = 0;

/**
 * Starts a throwaway PostgreSQL (Debian package `postgresql`): `initdb` a cluster in a temporary
 * folder (trust authentication, UTF-8, the C locale: text sorts by code point, as SQLite's does),
 * then `postgres` on 127.0.0.1 only (no Unix socket), without fsync (test data). Run as root (CI),
 * both run as the `postgres` user the package creates, in a folder that user owns: PostgreSQL
 * refuses root. Ready when a query answers; `stop()` ends it by its pid (fast shutdown) and
 * removes the folder.
 */
export function startPostgres(options: StartOptions = {}): Promise<RunningPostgres> {
  const postgres = findServerBinary('postgres');
  return startOnPort(options, 'iotlab-postgres-', async (port, dataDir, ownsDataDir) => {
    if (!postgres) throw new Error(missingMessage('postgres'));
    const user = process.getuid?.() === 0 ? postgresUser() : undefined;
    const cluster = join(dataDir, 'data');
    if (ownsDataDir) {
      if (user) await chown(dataDir, user.uid, user.gid);
      await run(
        join(dirname(postgres), 'initdb'),
        [
          '-D',
          cluster,
          '-A',
          'trust',
          '-U',
          'postgres',
          '-E',
          'UTF8',
          '--no-locale',
          '--no-sync',
          '--no-instructions',
        ],
        user,
      );
    }
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    return {
      binary: 'postgres',
      args: [
        '-D',
        cluster,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=300',
      ],
      port,
      dataDir,
      ownsDataDir,
      readyCheck: async () => {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.query('SELECT 1');
        } finally {
          await client.end().catch(() => {});
        }
      },
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
      ...(user ? { user } : {}),
      stopSignal: 'SIGINT',
    };
  }).then((server) => {
    const url = `postgres://postgres@127.0.0.1:${server.port}/postgres`;
    return {
      ...server,
      url,
      createDatabase: (name, createOptions) =>
        createPostgresDatabase(url, name ?? `iotlab_${process.pid}_${++databaseCounter}`, createOptions),
    };
  });
}

/** `CREATE DATABASE name` (optionally a copy of `template`) on the server at `serverUrl`; returns its URL. */
export async function createPostgresDatabase(
  serverUrl: string,
  name: string,
  options: { template?: string } = {},
): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    const template = options.template ? ` TEMPLATE ${pg.escapeIdentifier(options.template)}` : '';
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}${template}`);
  } finally {
    await client.end().catch(() => {});
  }
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/** `DROP DATABASE IF EXISTS name WITH (FORCE)` (its open connections are ended). */
export async function dropPostgresDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The `postgres` user's ids (from /etc/passwd): the Debian package creates it. */
function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'PostgreSQL refuses to run as root and there is no "postgres" user (the Debian package "postgresql" creates it)',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

function run(file: string, args: string[], user?: { uid: number; gid: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...(user ?? {}), cwd: tmpdir(), timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

/** One platform instance behind HAProxy: its MQTT and HTTP ports on 127.0.0.1. */
export interface ProxiedInstance {
  /** Its `server` name in the configuration (a, b, c in deploy/haproxy.cfg). */
  name: string;
  mqttPort: number;
  httpPort: number;
}

export interface RunningHaproxy extends RunningServer {
  /** The proxy's MQTT port (`url` is its HTTP front). */
  mqttPort: number;
  /** The configuration it runs. */
  config: string;
}

/**
 * HAProxy running a configuration written for real machines (deploy/haproxy.cfg), moved onto
 * loopback: its fronts bind 127.0.0.1 on free ports, its `server` lines point at these
 * instances (those the file names and `instances` does not are left out), and its `maxconn` fits
 * a test machine's open-file limit. Ready once its HTTP front accepts connections.
 */
export async function startHaproxy(
  configText: string,
  instances: readonly ProxiedInstance[],
  options: StartOptions = {},
): Promise<RunningHaproxy> {
  const mqttPort = await freePort();
  let config = '';
  const server = await startOnPort(options, 'iotlab-haproxy-', async (httpPort, dataDir, ownsDataDir) => {
    config = haproxyOnLoopback(configText, instances, { mqtt: mqttPort, http: httpPort });
    const file = join(dataDir, 'haproxy.cfg');
    await writeFile(file, config);
    return {
      binary: 'haproxy',
      args: ['-db', '-f', file],
      port: httpPort,
      dataDir,
      ownsDataDir,
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
      stopSignal: 'SIGTERM',
    };
  });
  return { ...server, mqttPort, config };
}

/** The configuration with its fronts on loopback ports and its servers on the given instances. */
export function haproxyOnLoopback(
  configText: string,
  instances: readonly ProxiedInstance[],
  ports: { mqtt: number; http: number },
): string {
  const byName = new Map(instances.map((instance) => [instance.name, instance]));
  const lines: string[] = [];
  for (const line of configText.split('\n')) {
    // A test machine's open-file limit is below what a college's connection count needs.
    const maxconn = /^(\s*)maxconn \d+\s*$/.exec(line);
    if (maxconn) {
      lines.push(`${maxconn[1]}maxconn 4000`);
      continue;
    }
    const bind = /^(\s*)bind :(\d+)\s*$/.exec(line);
    if (bind) {
      lines.push(`${bind[1]}bind 127.0.0.1:${bind[2] === '1883' ? ports.mqtt : ports.http}`);
      continue;
    }
    const server = /^(\s*)server (\S+) [^\s:]+:(\d+)(.*)$/.exec(line);
    if (server) {
      const [, indent, name, port, rest] = server;
      const instance = byName.get(name as string);
      if (!instance) continue;
      // MQTT servers are checked on their instance's HTTP health (`port`); HTTP ones directly.
      lines.push(
        port === '1883'
          ? `${indent}server ${name} 127.0.0.1:${instance.mqttPort} port ${instance.httpPort}${rest}`
          : `${indent}server ${name} 127.0.0.1:${instance.httpPort}${rest}`,
      );
      continue;
    }
    lines.push(line);
  }
  return lines.join('\n');
}
