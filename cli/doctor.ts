/**
 * `iotlab doctor`: checks what the platform needs on this machine before (or instead of) starting
 * it, and says for each problem what to do. Nothing is changed (the data directory is only probed
 * with a temporary file).
 */
import { mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { findSocat } from '../firmware-sim/index.ts';
import { redactUrl } from '../labdb/index.ts';
import type { PlatformConfig } from './config.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  status: CheckStatus;
  /** What was checked, e.g. "MQTT port 1883". */
  subject: string;
  /** What was found, and for a problem what to do. */
  detail: string;
}

const MIN_FREE_BYTES = 1024 ** 3;

/** Runs every check for the configuration; never throws. */
export async function runDoctor(config: PlatformConfig): Promise<Check[]> {
  const checks: Check[] = [nodeVersion(), dataDir(config)];
  checks.push(await port('HTTP port', config.http.host, config.http.port, 'http.port (IOTLAB_HTTP_PORT)'));
  checks.push(await port('MQTT port', config.mqtt.host, config.mqtt.port, 'mqtt.port (IOTLAB_MQTT_PORT)'));
  if (config.mqtt.tlsCert) {
    checks.push(tlsFiles(config));
    checks.push(
      await port(
        'MQTT TLS port',
        config.mqtt.host,
        config.mqtt.tlsPort,
        'mqtt.tlsPort (IOTLAB_MQTT_TLS_PORT)',
      ),
    );
  }
  checks.push(await store(config));
  checks.push(await labDatabase(config));
  if (config.cluster.redisUrl) checks.push(await redis(config.cluster.redisUrl));
  checks.push(socat());
  return checks;
}

function nodeVersion(): Check {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= 20
    ? { status: 'ok', subject: 'Node.js', detail: process.versions.node }
    : {
        status: 'fail',
        subject: 'Node.js',
        detail: `${process.versions.node}: version 20 or later is needed`,
      };
}

function dataDir(config: PlatformConfig): Check {
  const dir = resolve(config.dataDir);
  const subject = `data directory ${dir}`;
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.doctor-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
  } catch (error) {
    return {
      status: 'fail',
      subject,
      detail: `cannot write there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): set dataDir (IOTLAB_DATA_DIR) to a writable directory`,
    };
  }
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  const gib = (free / 1024 ** 3).toFixed(1);
  return free < MIN_FREE_BYTES
    ? {
        status: 'warn',
        subject,
        detail: `writable, but only ${gib} GiB free: telemetry and the spool need room (retention: store.retentionDays)`,
      }
    : { status: 'ok', subject, detail: `writable, ${gib} GiB free` };
}

/** Whether the port can be bound on the host (port 0: any free port, always fine). */
function port(label: string, host: string, portNumber: number, setting: string): Promise<Check> {
  const subject = `${label} ${host}:${portNumber}`;
  if (portNumber === 0)
    return Promise.resolve({ status: 'ok', subject, detail: 'a free port is chosen at start' });
  return new Promise((done) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      const detail =
        error.code === 'EADDRINUSE'
          ? `in use by another program (is iotlab, Mosquitto or another server already running?): stop it or set ${setting}`
          : error.code === 'EACCES'
            ? `not allowed to listen there (ports below 1024 need privileges): set ${setting}`
            : `cannot listen there (${error.code ?? error.message}): check ${setting} and http/mqtt host`;
      done({ status: 'fail', subject, detail });
    });
    server.listen({ port: portNumber, host, exclusive: true }, () => {
      server.close(() => done({ status: 'ok', subject, detail: 'free' }));
    });
  });
}

function tlsFiles(config: PlatformConfig): Check {
  const subject = 'TLS certificate and key';
  for (const [name, file] of [
    ['mqtt.tlsCert', config.mqtt.tlsCert],
    ['mqtt.tlsKey', config.mqtt.tlsKey],
  ] as const) {
    try {
      const text = readFileSync(file, 'utf8');
      if (!text.includes('-----BEGIN')) {
        return { status: 'fail', subject, detail: `${name} ${file} is not a PEM file` };
      }
    } catch (error) {
      return {
        status: 'fail',
        subject,
        detail: `${name} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      };
    }
  }
  return { status: 'ok', subject, detail: `${config.mqtt.tlsCert}, ${config.mqtt.tlsKey}` };
}

async function store(config: PlatformConfig): Promise<Check> {
  const influx = config.store.influx;
  if (influx.url === '') {
    return {
      status: 'ok',
      subject: 'telemetry store',
      detail: `embedded (SQLite in the data directory, ${config.store.retentionDays > 0 ? `kept ${config.store.retentionDays} days` : 'kept for ever'})`,
    };
  }
  const subject = `InfluxDB ${influx.url}`;
  const headers: Record<string, string> = {};
  if (influx.apiVersion === 1 && influx.username) {
    headers.authorization = `Basic ${Buffer.from(`${influx.username}:${influx.password}`).toString('base64')}`;
  } else if (influx.apiVersion === 2) {
    headers.authorization = `Token ${influx.token}`;
  }
  try {
    const ping = await fetch(new URL('/ping', influx.url), { signal: AbortSignal.timeout(5_000) });
    if (ping.status !== 204 && ping.status !== 200) {
      return { status: 'fail', subject, detail: `/ping answered HTTP ${ping.status}: is this InfluxDB?` };
    }
    if (influx.apiVersion === 1) {
      const url = new URL('/query', influx.url);
      url.searchParams.set('q', 'SHOW DATABASES');
      const answer = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
      if (answer.status === 401 || answer.status === 403) {
        return {
          status: 'fail',
          subject,
          detail: 'refused the username and password (store.influx.username/password)',
        };
      }
      const body = (await answer.json()) as { results?: { series?: { values?: string[][] }[] }[] };
      const names = (body.results?.[0]?.series?.[0]?.values ?? []).map((row) => row[0]);
      return names.includes(influx.database)
        ? { status: 'ok', subject, detail: `reachable, database ${influx.database} exists` }
        : {
            status: 'fail',
            subject,
            detail: `reachable, but database ${influx.database} does not exist: CREATE DATABASE "${influx.database}" (readings would wait in the spool)`,
          };
    }
    const url = new URL('/api/v2/buckets', influx.url);
    url.searchParams.set('name', influx.bucket);
    const answer = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
    if (answer.status === 401 || answer.status === 403) {
      return { status: 'fail', subject, detail: 'refused the token (store.influx.token)' };
    }
    const body = (await answer.json()) as { buckets?: unknown[] };
    return body.buckets?.length
      ? { status: 'ok', subject, detail: `reachable, bucket ${influx.bucket} exists` }
      : {
          status: 'fail',
          subject,
          detail: `reachable, but bucket ${influx.bucket} was not found for this token`,
        };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    return {
      status: 'fail',
      subject,
      detail: `unreachable (${cause}): start InfluxDB or fix store.influx.url; readings would wait in the spool meanwhile`,
    };
  }
}

/** The lab database: the embedded file, or a PostgreSQL server that answers (nothing is migrated here). */
async function labDatabase(config: PlatformConfig): Promise<Check> {
  const url = config.lab.databaseUrl;
  if (url === '') {
    return { status: 'ok', subject: 'lab database', detail: 'embedded (SQLite in the data directory)' };
  }
  const subject = `lab database ${redactUrl(url)}`;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ version: string }>(
      "SELECT current_setting('server_version') AS version",
    );
    return { status: 'ok', subject, detail: `reachable, PostgreSQL ${rows[0]?.version ?? ''}`.trim() };
  } catch (error) {
    return {
      status: 'fail',
      subject,
      detail: `cannot be used (${(error as Error).message}): start PostgreSQL or fix lab.databaseUrl (IOTLAB_LAB_DATABASE_URL)`,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/** The Redis of a cluster answers PING. */
async function redis(url: string): Promise<Check> {
  const subject = `Redis ${redactUrl(url)}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 5_000 });
  client.on('error', () => {}); // reported below
  try {
    await client.connect();
    await client.ping();
    return { status: 'ok', subject, detail: 'reachable (cluster mode)' };
  } catch (error) {
    return {
      status: 'fail',
      subject,
      detail: `does not answer (${(error as Error).message}): start Redis or fix cluster.redisUrl (IOTLAB_CLUSTER_REDIS_URL)`,
    };
  } finally {
    client.disconnect();
  }
}

function socat(): Check {
  const path = findSocat();
  return path
    ? { status: 'ok', subject: 'socat', detail: `${path} (simulated USB kits)` }
    : {
        status: 'warn',
        subject: 'socat',
        detail: 'not installed: simulated USB kits (Arduino, Firmata) cannot run; apt-get install socat',
      };
}
