import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse, Login } from '../../contract/index.ts';
import { Classes } from '../../lab-api/classes/index.ts';
import { People } from '../../lab-api/index.ts';
import { HEALTH_STORE_WAIT_MS } from '../../lab-api/routes/health.ts';
import { kitTopic } from '../../protocol/index.ts';
import { connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

let lab: TestPlatform;
let auth: string;
const T0 = Math.floor((Date.now() - 30 * 60_000) / 60_000) * 60_000; // a whole minute, half an hour ago

async function get(path: string, headers: Record<string, string> = { authorization: auth }) {
  const response = await fetch(`${lab.httpUrl}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  lab = await startTestPlatform();
  const service = await lab.addService('dashboard');
  auth = `Basic ${Buffer.from(`${service.name}:${service.secret}`).toString('base64')}`;
  const secret = await lab.addKit('bench-07');
  const kit = await connect(lab.mqttUrl, { username: 'bench-07', password: secret });
  // Six readings, ten seconds apart, in the first minute; three more in the next.
  const values = [20, 21, 22, 23, 24, 25, 30, 31, 32];
  for (const [i, value] of values.entries()) {
    const ts = T0 + (i < 6 ? i * 10_000 : 60_000 + (i - 6) * 10_000);
    await kit.publishAsync(
      kitTopic('bench-07', 'telemetry'),
      JSON.stringify({ ts, readings: { temperature: value } }),
      { qos: 1 },
    );
  }
  await eventually(
    async () => (await lab.platform.store.count({ kitId: 'bench-07', from: T0, to: T0 + 120_000 })) === 9,
    5_000,
    'readings stored',
  );
  await kit.endAsync();
});
afterAll(async () => {
  await lab.close();
});

describe('HTTP API', () => {
  it('reports health without credentials', async () => {
    const { status, body } = await get('/health', {});
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', store: { kind: 'embedded', reachable: true } });
    expect((body.writer as { stored: number }).stored).toBeGreaterThanOrEqual(9);
  });

  it('asks for credentials, and refuses wrong ones, with a code and a message', async () => {
    const anonymous = await get('/api/v1/kits', {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ code: 'AUTH_REQUIRED' });
    const wrong = await get('/api/v1/kits', {
      authorization: `Basic ${Buffer.from('dashboard:nope').toString('base64')}`,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({
      code: 'BAD_CREDENTIALS',
      message: expect.stringContaining('wrong secret'),
    });
  });

  it('returns raw readings of a range', async () => {
    const { status, body } = await get(
      `/api/v1/kits/bench-07/telemetry?sensor=temperature&from=${T0}&to=${T0 + 60_000}`,
    );
    expect(status).toBe(200);
    expect(body.unit).toBe('°C');
    expect((body.points as { value: number }[]).map((p) => p.value)).toEqual([20, 21, 22, 23, 24, 25]);
  });

  it('aggregates by window, with ISO times accepted', async () => {
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + 120_000).toISOString();
    const { status, body } = await get(
      `/api/v1/kits/bench-07/telemetry?sensor=temperature&from=${from}&to=${to}&every=60000`,
    );
    expect(status).toBe(200);
    expect(body.windows).toEqual([
      { ts: T0, mean: 22.5, min: 20, max: 25, count: 6 },
      { ts: T0 + 60_000, mean: 31, min: 30, max: 32, count: 3 },
    ]);
  });

  it('shows a kit with its connection and latest values', async () => {
    const { body } = await get('/api/v1/kits/bench-07');
    expect(body).toMatchObject({
      id: 'bench-07',
      active: true,
      latest: { temperature: { value: 32, unit: '°C' } },
    });
    expect(body.connection).toMatchObject({ online: false, messages: 9 });
  });

  it('explains bad queries', async () => {
    const noSensor = await get('/api/v1/kits/bench-07/telemetry');
    expect(noSensor.status).toBe(400);
    expect(noSensor.body).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringContaining('sensor'),
    });
    const reversed = await get(
      `/api/v1/kits/bench-07/telemetry?sensor=temperature&from=${T0 + 1000}&to=${T0}`,
    );
    expect(reversed.body).toMatchObject({ statusCode: 400, code: 'INVALID_RANGE' });
    const unknownKit = await get('/api/v1/kits/nobody/telemetry?sensor=temperature');
    expect(unknownKit.body).toMatchObject({ statusCode: 404, code: 'KIT_NOT_FOUND' });
    const injection = await get(
      `/api/v1/kits/bench-07/telemetry?sensor=${encodeURIComponent("temperature' OR 1=1 --")}`,
    );
    expect(injection.status).toBe(400);
  });

  it('serves the OpenAPI document and Swagger UI at /docs', async () => {
    const spec = await get('/docs/json', {});
    expect(Object.keys(spec.body.paths as object)).toEqual(
      expect.arrayContaining(['/health', '/api/v1/kits', '/api/v1/kits/{kitId}/telemetry']),
    );
    // It says what the API is today, not what it once planned to be.
    const { description } = spec.body.info as { description: string };
    expect(description).not.toMatch(/soon/);
    expect(description).toMatch(/grades/);
    const ui = await fetch(`${lab.httpUrl}/docs`);
    expect(ui.status).toBe(200);
  });
});

describe('people over real HTTP', () => {
  it('signs in, answers 401 without a token and 403 for a role that may not, and revoking a kit drops it', async () => {
    const people = new People(lab.platform.labDb);
    await people.createUser(
      { kind: 'service', name: 'test' },
      {
        username: 'stu.http',
        displayName: '学生',
        role: 'student',
        password: 'student-http-pass',
        studentNumber: '2026999001',
      },
    );
    const admin = await people.createUser(
      { kind: 'service', name: 'test' },
      {
        username: 'admin.http',
        displayName: 'Admin',
        role: 'admin',
        password: 'admin-http-pass1',
      },
    );
    const login = async (username: string, password: string) => {
      const response = await fetch(`${lab.httpUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as Login).token;
    };
    const student = await login('stu.http', 'student-http-pass');
    expect((await fetch(`${lab.httpUrl}/api/v1/users`)).status).toBe(401);
    const refused = await fetch(`${lab.httpUrl}/api/v1/users`, {
      headers: { authorization: `Bearer ${student}` },
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'ROLE_NOT_ALLOWED' });

    const token = await login(admin.username, 'admin-http-pass1');
    const secret = await lab.addKit('revoked-live');
    const kit = await connect(lab.mqttUrl, {
      username: 'revoked-live',
      password: secret,
      reconnectPeriod: 0,
    });
    const closed = new Promise<void>((resolve) => kit.once('close', () => resolve()));
    const revoked = await fetch(`${lab.httpUrl}/api/v1/kits/revoked-live/secret`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(revoked.status).toBe(200);
    await closed; // the kit's live session ends with its secret
    await expect(connect(lab.mqttUrl, { username: 'revoked-live', password: secret })).rejects.toThrow(
      /Bad username or password/i,
    );
    kit.end(true);
  });
});

describe('a refused kit change changes nothing', () => {
  it("keeps a kit's secret when another class's instructor, a service or a student tries to rotate or revoke it", async () => {
    const system = { kind: 'service', name: 'test' } as const;
    const people = new People(lab.platform.labDb);
    const password = 'kit-change-pass-1';
    const make = (username: string, role: 'instructor' | 'student', extra = {}) =>
      people.createUser(system, { username, displayName: username, role, password, ...extra });
    const owner = await make('teacher.owner', 'instructor');
    await make('teacher.other', 'instructor');
    const pupil = await make('pupil.kit', 'student', { studentNumber: '2026999101' });
    const classes = new Classes(lab.platform.labDb);
    const asOwner = { kind: 'user', id: owner.id, username: owner.username, role: 'instructor' } as const;
    const person = { ...asOwner, organisationId: null, displayName: owner.displayName };
    const cls = await classes.createClass(person, { name: '物联网2409' });
    await classes.members.enrol(person, cls.id, [pupil.id]);
    const secret = await lab.addKit('guarded-01');
    await classes.kits.setBinding(person, 'guarded-01', { studentId: pupil.id });

    const kit = await connect(lab.mqttUrl, { username: 'guarded-01', password: secret, reconnectPeriod: 0 });
    let dropped = false;
    kit.on('close', () => {
      dropped = true;
    });
    const login = async (username: string) => {
      const response = await fetch(`${lab.httpUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      return `Bearer ${((await response.json()) as Login).token}`;
    };
    const attempts: [string, string, string][] = [
      [await login('teacher.other'), '/api/v1/kits/guarded-01/secret', 'KIT_BOUND_ELSEWHERE'],
      [auth, '/api/v1/kits/guarded-01/secret', 'ROLE_NOT_ALLOWED'],
      [await login('pupil.kit'), '/%61pi/v1/kits/guarded-01/secret', 'ROLE_NOT_ALLOWED'],
    ];
    for (const [authorization, path, code] of attempts) {
      for (const method of ['POST', 'DELETE']) {
        const response = await fetch(`${lab.httpUrl}${path}`, { method, headers: { authorization } });
        expect([response.status, ((await response.json()) as ErrorResponse).code]).toEqual([403, code]);
      }
    }
    // Still connected, and a new connection with the old secret still works; nothing audited.
    await kit.publishAsync(kitTopic('guarded-01', 'status'), JSON.stringify({ state: 'online' }), { qos: 1 });
    expect(dropped).toBe(false);
    const again = await connect(lab.mqttUrl, {
      username: 'guarded-01',
      password: secret,
      reconnectPeriod: 0,
    });
    await again.endAsync();
    const audit = await lab.platform.labDb.all(
      "SELECT action FROM audit_log WHERE entity = 'kit' AND entity_id = 'guarded-01'",
    );
    expect(audit).toEqual([]);
    await kit.endAsync();
  });
});

describe('health while the store hangs', () => {
  it('says 503 degraded within its own wait, not the store client’s', async () => {
    // An "InfluxDB" that accepts connections and never answers.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const port = (silent.address() as AddressInfo).port;
    const hanging = await startTestPlatform({
      store: { influx: { url: `http://127.0.0.1:${port}`, apiVersion: 1, database: 'lab' } },
    });
    try {
      const started = Date.now();
      const response = await fetch(`${hanging.httpUrl}/health`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        status: 'degraded',
        store: { kind: 'influxdb', reachable: false },
      });
      // Well before the store client's own timeout (10 s) gives up.
      expect(Date.now() - started).toBeLessThan(HEALTH_STORE_WAIT_MS + 3_000);
    } finally {
      await hanging.close();
      silent.close();
    }
  }, 30_000);
});
