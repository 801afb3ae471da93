import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createInfluxDatabase,
  type RunningServer,
  startInfluxd,
  startVictoriaMetrics,
} from '../../harness/index.ts';
import type { TelemetryRecord } from '../../protocol/index.ts';
import { createInfluxStore, type InfluxStoreConfig } from '../../telemetry/influxdb.ts';
import { StoreWriteError } from '../../telemetry/store.ts';
import { describeWithServer } from '../helpers/suites.ts';
import { describeStoreContract } from './store-contract.ts';

const MINUTE = 60_000;
let dbCounter = 0;
const newDatabase = () => `lab_${process.pid}_${++dbCounter}`;

async function writeError(promise: Promise<unknown>): Promise<StoreWriteError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StoreWriteError);
    return error as StoreWriteError;
  }
  throw new Error('the write was expected to fail');
}

/** Raw line-protocol write, as another tool (Telegraf, a student's script) would do it. */
async function rawWrite(url: string, db: string, body: string): Promise<void> {
  const response = await fetch(`${url}/write?db=${db}&precision=ms`, { method: 'POST', body });
  expect(response.status, await response.text()).toBe(204);
}

describeWithServer('influxd', 'InfluxDB store on influxd 1.x', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startInfluxd();
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  }, 15_000);

  describeStoreContract('influxdb (1.x API)', async () => {
    const database = newDatabase();
    await createInfluxDatabase(server.url, database);
    return {
      store: createInfluxStore({ url: server.url, apiVersion: 1, database }),
      cleanup: async () => {},
    };
  });

  describe('operator errors: retried (the readings wait in the spool) with a message that says what to fix', () => {
    it('reports a missing database (influxd 1.6: 404 "database not found")', async () => {
      const store = createInfluxStore({ url: server.url, apiVersion: 1, database: 'no_such_db' });
      const error = await writeError(
        store.write([{ kitId: 'k1', ts: Date.now(), readings: { temperature: 21 } }]),
      );
      expect(error.transient).toBe(true);
      expect(error.message).toMatch(/HTTP 404: database not found: "no_such_db"/);
      expect(error.message).toMatch(/CREATE DATABASE "no_such_db"/);
      await store.close();
    });

    it('reports a missing retention policy (influxd 1.6 answers it with a 500)', async () => {
      const database = newDatabase();
      await createInfluxDatabase(server.url, database);
      const store = createInfluxStore({
        url: server.url,
        apiVersion: 1,
        database,
        retentionPolicy: 'no_such_rp',
      });
      const error = await writeError(
        store.write([{ kitId: 'k1', ts: Date.now(), readings: { temperature: 21 } }]),
      );
      expect(error.transient).toBe(true);
      expect(error.message).toMatch(/HTTP 500: retention policy not found: no_such_rp.*wait in the spool/);
      await store.close();
    });
  });

  describe('refused data: permanent (transient: false), kept in the dead-letter file by the writer', () => {
    it('reports a field type conflict (400 partial write) with the server words', async () => {
      const database = newDatabase();
      await createInfluxDatabase(server.url, database);
      // Another tool wrote the field as an integer first; we always write floats.
      await rawWrite(server.url, database, `telemetry,kit=k1 temperature=20i ${Date.now() - MINUTE}`);
      const store = createInfluxStore({ url: server.url, apiVersion: 1, database });
      const error = await writeError(
        store.write([{ kitId: 'k1', ts: Date.now(), readings: { temperature: 21 } }]),
      );
      expect(error.transient).toBe(false);
      expect(error.message).toMatch(/HTTP 400 .*: partial write: field type conflict/);
      await store.close();
    });

    it('stores the other readings of a batch with a sensor named "time" and reports the dropped ones', async () => {
      const database = newDatabase();
      await createInfluxDatabase(server.url, database);
      const store = createInfluxStore({ url: server.url, apiVersion: 1, database });
      const ts = Date.now() - MINUTE;
      const error = await writeError(
        store.write([
          { kitId: 'k1', ts, readings: { time: 5, temperature: 21.5 } },
          { kitId: 'k2', ts, readings: { temperature: 19 } },
        ]),
      );
      expect(error.transient).toBe(false);
      expect(error.message).toMatch(/sensor named "time"/);
      const range = { from: ts, to: ts + 1 };
      expect(await store.readings({ kitId: 'k1', sensor: 'temperature', ...range })).toEqual([
        { ts, value: 21.5 },
      ]);
      expect(await store.readings({ kitId: 'k2', sensor: 'temperature', ...range })).toEqual([
        { ts, value: 19 },
      ]);
      await store.close();
    });
  });

  it('reports the v2 API against influxd 1.6 (404 "page not found") with a hint, and retries', async () => {
    const store = createInfluxStore({ url: server.url, apiVersion: 2, token: 't', org: 'o', bucket: 'lab' });
    const error = await writeError(
      store.write([{ kitId: 'k1', ts: Date.now(), readings: { temperature: 21 } }]),
    );
    expect(error.transient).toBe(true);
    expect(error.message).toMatch(/no v2 write API .*HTTP 404: 404 page not found.*apiVersion 1/);
    await store.close();
  });

  it('reports a query error with the server message', async () => {
    const store = createInfluxStore({ url: server.url, apiVersion: 1, database: 'no_such_db' });
    await expect(
      store.readings({ kitId: 'k1', sensor: 'temperature', from: 0, to: Date.now() }),
    ).rejects.toThrow(/database not found: no_such_db/);
    await store.close();
  });

  it('escapes kit ids and sensor names, and keeps a sensor named "kit" apart from the kit tag', async () => {
    const database = newDatabase();
    await createInfluxDatabase(server.url, database);
    const store = createInfluxStore({
      url: server.url,
      apiVersion: 1,
      database,
      measurement: 'lab "telemetry"',
    });
    const odd = `o'brien "lab",1=x\\y`;
    const ts = Date.now() - MINUTE;
    await store.write([
      { kitId: odd, ts, seq: 3, readings: { 'weird "name", x=y': 4.25, kit: 7 } },
      { kitId: 'k1', ts, readings: { kit: 99 } },
      { kitId: `${odd}x`, ts, readings: { kit: 98 } },
    ]);
    const range = { from: ts - 1, to: ts + 1 };
    expect(await store.readings({ kitId: odd, sensor: 'weird "name", x=y', ...range })).toEqual([
      { ts, value: 4.25 },
    ]);
    expect(await store.readings({ kitId: odd, sensor: 'kit', ...range })).toEqual([{ ts, value: 7 }]);
    expect(await store.latest(odd)).toEqual({
      kit: { ts, value: 7 },
      'weird "name", x=y': { ts, value: 4.25 },
    });
    expect(await store.count({ kitId: odd, ...range })).toBe(2);
    expect(await store.count({ kitId: odd, sensor: 'kit', ...range })).toBe(1);
    expect(await store.aggregate({ kitId: odd, sensor: 'kit', ...range, every: MINUTE })).toEqual([
      { ts: Math.floor(ts / MINUTE) * MINUTE, mean: 7, min: 7, max: 7, count: 1 },
    ]);
    expect(await store.sequence({ kitId: odd, ...range })).toEqual([{ ts, value: 3 }]);
    await store.close();
  });

  it('writes a batch of 10,000 records in one call and reads them all back', async () => {
    const database = newDatabase();
    await createInfluxDatabase(server.url, database);
    const store = createInfluxStore({ url: server.url, apiVersion: 1, database });
    const start = Math.floor((Date.now() - 3 * 3_600_000) / 1000) * 1000;
    const records: TelemetryRecord[] = Array.from({ length: 10_000 }, (_, i) => ({
      kitId: `k${i % 4}`,
      ts: start + Math.floor(i / 4) * 1000,
      seq: Math.floor(i / 4),
      readings: { temperature: 15 + (i % 97) / 8, humidity: 30 + (i % 41) },
    }));
    await store.write(records);
    const range = { from: start, to: start + 3_600_000 };
    expect(await store.count({ kitId: 'k3', ...range })).toBe(5_000);
    const points = await store.readings({ kitId: 'k2', sensor: 'temperature', ...range });
    expect(points).toHaveLength(2_500);
    expect(points[1_234]).toEqual({ ts: start + 1_234 * 1000, value: 15 + ((1_234 * 4 + 2) % 97) / 8 });
    // Compressed answers (for a server behind a slow link) read the same.
    const compressed = createInfluxStore({
      url: server.url,
      apiVersion: 1,
      database,
      compressResponses: true,
    });
    expect(await compressed.readings({ kitId: 'k2', sensor: 'temperature', ...range })).toEqual(points);
    expect(await compressed.seriesNames('k2')).toEqual(await store.seriesNames('k2'));
    await compressed.close();
    await store.close();
  }, 30_000);

  it('serializes concurrent writes and rejects writes after close', async () => {
    const database = newDatabase();
    await createInfluxDatabase(server.url, database);
    const store = createInfluxStore({ url: server.url, apiVersion: 1, database });
    const ts = Date.now() - 10 * MINUTE;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.write([{ kitId: 'k1', ts: ts + i, readings: { temperature: i } }]),
      ),
    );
    expect(await store.count({ kitId: 'k1', from: ts, to: ts + 20 })).toBe(20);
    await store.close();
    const error = await writeError(store.write([{ kitId: 'k1', ts, readings: { temperature: 1 } }]));
    expect(error.transient).toBe(true);
  });
});

describeWithServer('influxd', 'InfluxDB store behind a proxy with a body limit', () => {
  let server: RunningServer | undefined;
  let proxy: Server | undefined;
  afterAll(async () => {
    proxy?.closeAllConnections(); // keep-alive connections would hold close() open
    await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
    await server?.stop();
  }, 15_000);

  /** A reverse proxy in front of influxd that refuses request bodies over `limit` bytes with 413, as nginx's client_max_body_size does. */
  async function limitingProxy(target: string, limit: number): Promise<string> {
    proxy = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        if (body.length > limit) {
          res.writeHead(413, { 'content-type': 'text/html' }).end('<h1>413 Request Entity Too Large</h1>');
          return;
        }
        const headers: Record<string, string> = {};
        for (const name of ['content-type', 'content-encoding', 'authorization', 'accept']) {
          const value = req.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        try {
          const answer = await fetch(`${target}${req.url}`, {
            method: req.method ?? 'GET',
            headers,
            ...(body.length > 0 ? { body } : {}),
          });
          res.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'text/plain',
          });
          res.end(Buffer.from(await answer.arrayBuffer()));
        } catch (error) {
          res.writeHead(502).end(String(error));
        }
      });
    });
    await new Promise<void>((resolve) => proxy?.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  it('splits a batch the proxy finds too large (413) and stores every reading; refuses only a single record too large', async () => {
    server = await startInfluxd();
    const database = newDatabase();
    await createInfluxDatabase(server.url, database);
    const url = await limitingProxy(server.url, 2_000);
    const store = createInfluxStore({ url, apiVersion: 1, database, timeoutMs: 5_000 });
    const t = Date.now() - 10 * MINUTE;
    const records: TelemetryRecord[] = Array.from({ length: 300 }, (_, i) => ({
      kitId: 'greenhouse-07',
      ts: t + i * 1000,
      seq: i,
      readings: {
        temperature: 20 + Math.sin(i) * 3,
        humidity: 50 + Math.cos(i) * 9,
        soil_moisture: 30 + i / 7,
      },
    }));
    await store.write(records);
    expect(await store.count({ kitId: 'greenhouse-07', from: t, to: t + 300_000 })).toBe(900);
    const last = await store.readings({
      kitId: 'greenhouse-07',
      sensor: 'humidity',
      from: t + 299_000,
      to: t + 300_000,
    });
    expect(last).toEqual([{ ts: t + 299_000, value: (records[299] as TelemetryRecord).readings.humidity }]);

    const huge = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`sensor_${i}`, Math.sin(i) * 1e4]),
    );
    const error = await writeError(store.write([{ kitId: 'greenhouse-07', ts: t, readings: huge }]));
    expect(error.transient).toBe(false);
    expect(error.message).toMatch(/413/);
    await store.close();
  }, 60_000);
});

describeWithServer('influxd', 'InfluxDB store through an influxd outage', () => {
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.stop();
  }, 15_000);

  it('fails writes as transient while influxd is down, and keeps the old data after a restart', async () => {
    server = await startInfluxd();
    const { port, dataDir, url } = server;
    const database = newDatabase();
    await createInfluxDatabase(url, database);
    const store = createInfluxStore({ url, apiVersion: 1, database, timeoutMs: 2_000 });
    const t = Date.now() - 5 * MINUTE;
    await store.write([{ kitId: 'k1', ts: t, seq: 1, readings: { temperature: 21.5 } }]);

    await server.stop({ keepData: true });
    expect(await store.ping()).toBe(false);
    const error = await writeError(
      store.write([{ kitId: 'k1', ts: t + 1000, seq: 2, readings: { temperature: 22 } }]),
    );
    expect(error.transient).toBe(true);
    expect(error.message).toMatch(/unreachable.*ECONNREFUSED/);

    server = await startInfluxd({ port, dataDir });
    expect(await store.ping()).toBe(true);
    await store.write([{ kitId: 'k1', ts: t + 1000, seq: 2, readings: { temperature: 22 } }]);
    expect(await store.readings({ kitId: 'k1', sensor: 'temperature', from: t, to: t + MINUTE })).toEqual([
      { ts: t, value: 21.5 },
      { ts: t + 1000, value: 22 },
    ]);
    await store.close();
  }, 60_000);
});

/** A local HTTP server that records requests and answers with a chosen status. */
async function fakeServer(
  status: number,
  body = '',
): Promise<{
  url: string;
  requests: { url: string; headers: IncomingMessage['headers']; body: Buffer }[];
  close(): Promise<void>;
}> {
  const requests: { url: string; headers: IncomingMessage['headers']; body: Buffer }[] = [];
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('InfluxDB store: requests and error classes', () => {
  const record: TelemetryRecord = {
    kitId: 'k1',
    ts: 1_700_000_000_123,
    seq: 7,
    readings: { temperature: 21 },
  };

  it.each([
    [503, '{"error":"overloaded"}', true],
    [500, '{"error":"engine: error syncing wal"}', true],
    [429, '{"code":"too many requests","message":"slow down"}', true],
    [401, '{"error":"authorization failed"}', true],
    [400, '{"code":"invalid","message":"unable to parse points"}', false],
    [413, '{"error":"Request Entity Too Large"}', false],
  ])('classifies HTTP %i %s as transient=%s, with the server text', async (status, body, transient) => {
    const fake = await fakeServer(status, body);
    const store = createInfluxStore({ url: fake.url, apiVersion: 2, token: 't', org: 'o', bucket: 'b' });
    const error = await writeError(store.write([record]));
    expect(error.transient).toBe(transient);
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.message).toContain(
      (JSON.parse(body) as { error?: string; message?: string }).error ?? JSON.parse(body).message,
    );
    expect(fake.requests).toHaveLength(1); // the client library's own retries are off
    await store.close();
    await fake.close();
  });

  it('classifies a server that does not answer in time as transient', async () => {
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    const store = createInfluxStore({
      url: `http://127.0.0.1:${address.port}`,
      apiVersion: 1,
      database: 'lab',
      timeoutMs: 300,
    });
    const started = Date.now();
    const error = await writeError(store.write([record]));
    expect(error.transient).toBe(true);
    expect(error.message).toMatch(/did not answer a write within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3_000);
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('sends 1.x writes to /write with db, rp, precision=ms and u/p, as floats', async () => {
    const fake = await fakeServer(204);
    const config: InfluxStoreConfig = {
      url: `${fake.url}/`,
      apiVersion: 1,
      database: 'lab',
      retentionPolicy: 'week',
      username: 'ingest',
      password: 's3cret&x',
    };
    const store = createInfluxStore(config);
    await store.write([record]);
    const [request] = fake.requests;
    expect(request?.url).toBe('/write?db=lab&precision=ms&rp=week&u=ingest&p=s3cret%26x');
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body.toString()).toBe('telemetry,kit=k1 _seq=7,temperature=21 1700000000123');
    await store.close();
    await fake.close();
  });

  it('sends v2 writes to /api/v2/write with the token in one request, gzipped over 1 KB only with compressWrites', async () => {
    const records = Array.from({ length: 100 }, (_, i) => ({ ...record, ts: record.ts + i, seq: i }));
    const fake = await fakeServer(204);
    for (const compressWrites of [undefined, true]) {
      const store = createInfluxStore({
        url: fake.url,
        apiVersion: 2,
        token: 'lab-token',
        org: 'college',
        bucket: 'lab',
        ...(compressWrites === undefined ? {} : { compressWrites }),
      });
      await store.write(records);
      await store.close();
    }
    expect(fake.requests).toHaveLength(2);
    const [plain, gzipped] = fake.requests;
    for (const request of [plain, gzipped]) {
      expect(request?.url).toBe('/api/v2/write?org=college&bucket=lab&precision=ms');
      expect(request?.headers.authorization).toBe('Token lab-token');
    }
    expect(plain?.headers['content-encoding']).toBeUndefined();
    expect(gzipped?.headers['content-encoding']).toBe('gzip');
    for (const body of [plain?.body, gunzipSync(gzipped?.body ?? Buffer.alloc(0))]) {
      const lines = String(body).split('\n');
      expect(lines).toHaveLength(100);
      expect(lines[99]).toBe('telemetry,kit=k1 _seq=99,temperature=21 1700000000222');
    }
    await fake.close();
  });

  it('asks for InfluxQL answers in JSON, uncompressed unless compressResponses', async () => {
    const answer = JSON.stringify({
      results: [
        { statement_id: 0, series: [{ name: 'telemetry', columns: ['time', 't'], values: [[5, 1.5]] }] },
      ],
    });
    const fake = await fakeServer(200, answer);
    for (const compressResponses of [undefined, false, true]) {
      const store = createInfluxStore({
        url: fake.url,
        apiVersion: 2,
        token: 'lab-token',
        bucket: 'lab',
        ...(compressResponses === undefined ? {} : { compressResponses }),
      });
      expect(await store.readings({ kitId: 'k1', sensor: 't', from: 0, to: 10 })).toEqual([
        { ts: 5, value: 1.5 },
      ]);
      await store.close();
    }
    expect(fake.requests.map((r) => [r.headers.accept, r.headers['accept-encoding']])).toEqual([
      ['application/json', 'identity'],
      ['application/json', 'identity'],
      ['application/json', 'gzip'],
    ]);
    expect(fake.requests[0]?.url).toMatch(/^\/query\?db=lab&q=SELECT.+&epoch=ms$/);
    await fake.close();
  });

  it('refuses a config without a database (1.x) or bucket (v2)', () => {
    expect(() => createInfluxStore({ url: 'http://127.0.0.1:1', apiVersion: 1 })).toThrow(/database/);
    expect(() => createInfluxStore({ url: 'http://127.0.0.1:1', apiVersion: 2, token: 't' })).toThrow(
      /bucket/,
    );
  });
});

describeWithServer('victoria-metrics', 'InfluxDB v2 write path on victoria-metrics', () => {
  let vm: RunningServer;
  beforeAll(async () => {
    vm = await startVictoriaMetrics();
  }, 30_000);
  afterAll(async () => {
    await vm?.stop();
  }, 15_000);

  interface ExportedSeries {
    metric: Record<string, string>;
    values: number[];
    timestamps: number[];
  }

  /** Series matching `selector`, read through victoria-metrics' own export API once they are searchable. */
  async function exported(selector: string, expectedSeries: number): Promise<ExportedSeries[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      await fetch(`${vm.url}/internal/force_flush`).then((r) => r.arrayBuffer());
      const response = await fetch(
        `${vm.url}/api/v1/export?${new URLSearchParams({ 'match[]': selector, start: '0' })}`,
      );
      const text = await response.text();
      expect(response.status, text).toBe(200);
      const series = text
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line) as ExportedSeries);
      if (series.length >= expectedSeries || Date.now() > deadline) {
        return series.sort((a, b) => (a.metric.__name__ ?? '').localeCompare(b.metric.__name__ ?? ''));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('writes readings and seq that victoria-metrics stores as telemetry_<sensor>{kit}', async () => {
    const store = createInfluxStore({
      url: vm.url,
      apiVersion: 2,
      token: 'lab-token',
      org: 'college',
      bucket: 'lab',
    });
    expect(await store.ping()).toBe(true);
    const start = Math.floor((Date.now() - 30 * MINUTE) / 1000) * 1000;
    const records: TelemetryRecord[] = Array.from({ length: 50 }, (_, i) => ({
      kitId: 'vm-kit-1',
      ts: start + i * 10_000,
      seq: 200 + i,
      readings: { temperature: 18.5 + (i % 9) * 0.75, ...(i % 5 === 0 ? { light: 300 + i * 4 } : {}) },
    }));
    await store.write(records);
    // A replay: victoria-metrics (without -dedup.minScrapeInterval) keeps both copies of a sample,
    // unlike InfluxDB, which overwrites; each copy must still carry the value written.
    await store.write(records.slice(0, 10));
    const series = await exported('{__name__=~"telemetry_.*",kit="vm-kit-1"}', 3);
    expect(series.map((s) => s.metric)).toEqual([
      { __name__: 'telemetry__seq', kit: 'vm-kit-1' },
      { __name__: 'telemetry_light', kit: 'vm-kit-1' },
      { __name__: 'telemetry_temperature', kit: 'vm-kit-1' },
    ]);
    const [seq, light, temperature] = series as [ExportedSeries, ExportedSeries, ExportedSeries];
    /** Every exported sample, as [ts, value], sorted; duplicates dropped once checked equal. */
    const samples = (s: ExportedSeries) => {
      const seen = new Map<number, number | undefined>();
      s.timestamps.forEach((ts, i) => {
        if (seen.has(ts)) expect(s.values[i], `second copy at ${ts}`).toBe(seen.get(ts));
        seen.set(ts, s.values[i]);
      });
      return [...seen].sort((a, b) => a[0] - b[0]);
    };
    expect(samples(temperature)).toEqual(records.map((r) => [r.ts, r.readings.temperature]));
    expect(samples(seq)).toEqual(records.map((r) => [r.ts, r.seq]));
    expect(samples(light)).toEqual(
      records.filter((r) => r.readings.light !== undefined).map((r) => [r.ts, r.readings.light]),
    );
    await store.close();
  }, 30_000);
});
