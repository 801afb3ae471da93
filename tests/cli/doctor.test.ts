/**
 * `iotlab doctor` tells an administrator what would keep the platform from starting or storing —
 * a port taken, a data directory that cannot be written, InfluxDB away or without its database —
 * and what to do about it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeepPartial, loadConfig, type PlatformConfig } from '../../cli/config.ts';
import { type Check, runDoctor } from '../../cli/doctor.ts';
import {
  createInfluxDatabase,
  freePort,
  type RunningPostgres,
  type RunningServer,
  startInfluxd,
  startPostgres,
  startRedis,
} from '../../harness/index.ts';
import { describeWithServer } from '../helpers/suites.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iotlab-doctor-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function doctor(overrides: DeepPartial<PlatformConfig> = {}): Promise<Record<string, Check>> {
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: join(dir, 'data'),
      ...overrides,
      http: { host: '127.0.0.1', port: await freePort(), ...overrides.http },
      mqtt: { host: '127.0.0.1', port: await freePort(), ...overrides.mqtt },
    },
  });
  const checks = await runDoctor(config);
  return Object.fromEntries(checks.map((check) => [check.subject.split(' ')[0] ?? '', check]));
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('iotlab doctor', () => {
  it('finds nothing wrong on a machine ready for the embedded platform', async () => {
    const checks = await doctor();
    expect(Object.values(checks).filter((check) => check.status === 'fail')).toEqual([]);
    expect(checks.telemetry?.detail).toMatch(/embedded/);
  });

  it('names a port another program holds, and the setting to change', async () => {
    const port = await freePort();
    const squatter = await listen(port);
    try {
      const checks = await doctor({ mqtt: { port } });
      expect(checks.MQTT).toMatchObject({
        status: 'fail',
        detail: expect.stringMatching(/in use.*mqtt\.port/),
      });
      expect(checks.HTTP?.status).toBe('ok');
    } finally {
      squatter.close();
    }
  });

  it('says when the data directory cannot be written', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const checks = await doctor({ dataDir: join(file, 'data') });
    expect(checks.data).toMatchObject({ status: 'fail', detail: expect.stringMatching(/IOTLAB_DATA_DIR/) });
  });

  it('says when InfluxDB cannot be reached', async () => {
    const closed = await freePort();
    const checks = await doctor({
      store: { influx: { url: `http://127.0.0.1:${closed}`, apiVersion: 1, database: 'lab' } },
    });
    expect(checks.InfluxDB).toMatchObject({ status: 'fail', detail: expect.stringMatching(/unreachable/) });
  });
});

describe('iotlab doctor for more than one machine', () => {
  it("says when the lab database or the cluster's Redis cannot be reached, and which setting to fix", async () => {
    const closed = await freePort();
    const checks = await doctor({
      lab: { databaseUrl: `postgres://lab:secret@127.0.0.1:${closed}/lab` },
      cluster: { redisUrl: `redis://127.0.0.1:${closed}` },
      store: { influx: { url: `http://127.0.0.1:${closed}`, apiVersion: 1, database: 'lab' } },
    });
    expect(checks.lab).toMatchObject({ status: 'fail', detail: expect.stringMatching(/lab\.databaseUrl/) });
    expect(checks.lab?.subject).not.toContain('secret');
    expect(checks.Redis).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/cluster\.redisUrl/),
    });
  });
});

describeWithServer('postgres', 'iotlab doctor with PostgreSQL', () => {
  describeWithServer('redis-server', 'and Redis', () => {
    let postgres: RunningPostgres;
    let redis: RunningServer;
    beforeAll(async () => {
      [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    }, 30_000);
    afterAll(async () => {
      await Promise.all([postgres?.stop(), redis?.stop()]);
    });

    it("finds the lab database and the cluster's Redis", async () => {
      const closed = await freePort();
      const checks = await doctor({
        lab: { databaseUrl: await postgres.createDatabase('doctor_lab') },
        cluster: { redisUrl: redis.url },
        store: { influx: { url: `http://127.0.0.1:${closed}`, apiVersion: 1, database: 'lab' } },
      });
      expect(checks.lab).toMatchObject({ status: 'ok', detail: expect.stringMatching(/PostgreSQL \d+/) });
      expect(checks.Redis?.status).toBe('ok');
    });
  });
});

describeWithServer('influxd', 'iotlab doctor with InfluxDB', () => {
  let influx: RunningServer;
  beforeAll(async () => {
    influx = await startInfluxd();
  }, 30_000);
  afterAll(async () => {
    await influx?.stop();
  });

  it('asks for the missing database, then finds it', async () => {
    const store = { influx: { url: influx.url, apiVersion: 1 as const, database: 'greenhouse' } };
    const missing = await doctor({ store });
    expect(missing.InfluxDB).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/CREATE DATABASE "greenhouse"/),
    });
    await createInfluxDatabase(influx.url, 'greenhouse');
    expect((await doctor({ store })).InfluxDB?.status).toBe('ok');
  });
});
