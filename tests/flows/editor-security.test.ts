/**
 * The flow editor is no way onto the server: who may deploy which nodes; the flows' runtime in a
 * process of its own under Node's permission model, so a function node that escapes Node-RED's
 * `vm` still reads no lab database and starts no process; one password check, with the lab API's
 * limiter; and an admin API that answers every request, sends no CORS headers and takes no token
 * in a URL. Clients that must look like different machines connect from other loopback addresses
 * (127.0.0.2…): the platform does not trust proxy headers, so the address it sees is the socket's.
 */
import { existsSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../lab-api/index.ts';
import { People } from '../../lab-api/index.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

const PASSWORD = 'correct-horse-battery';
/** Set in the platform's environment: the flows must not see it. */
const PLANTED = 'IOTLAB_FLOWS_TEST_PLANTED';
let lab: TestPlatform;

beforeAll(async () => {
  process.env[PLANTED] = 'planted-secret';
  lab = await startTestPlatform({ flows: { enabled: true, studentAccess: 'read' } });
  const people = new People(lab.platform.labDb);
  const setup = { kind: 'service', name: 'test-setup' } as const;
  const enterprise = await people.createOrganisation(setup, { kind: 'enterprise', name: '穗田智慧农业' });
  const users: [string, Role][] = [
    ['root', 'admin'],
    ['teacher', 'instructor'],
    ['mentor', 'mentor'],
    ['locked', 'instructor'],
    ['victim', 'instructor'],
    ['leaver', 'instructor'],
    ['changer', 'instructor'],
  ];
  for (const [username, role] of users) {
    await people.createUser(setup, {
      username,
      displayName: username,
      role,
      password: PASSWORD,
      organisationId: role === 'mentor' ? enterprise.id : null,
      studentNumber: null,
    });
  }
});
afterAll(async () => {
  await lab?.close();
  delete process.env[PLANTED];
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: Record<string, unknown>;
}

/**
 * One HTTP request to the platform from a chosen loopback address; rejects when no answer came
 * in `timeoutMs` (an unanswered request is a finding of its own).
 */
function call(
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    from?: string;
    timeoutMs?: number;
  } = {},
): Promise<Answer> {
  const { port } = new URL(lab.httpUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        localAddress: options.from ?? '127.0.0.1',
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(
        new Error(`no answer to ${options.method ?? 'GET'} ${path} in ${options.timeoutMs ?? 10_000} ms`),
      );
    }, options.timeoutMs ?? 10_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(options.body);
  });
}

/** The editor's login dialog: a form-encoded password grant. */
function editorSignIn(username: string, password = PASSWORD, from = '127.0.0.1') {
  return call('/flows/auth/token', {
    method: 'POST',
    from,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: 'node-red-editor',
      grant_type: 'password',
      scope: '',
      username,
      password,
    }).toString(),
  });
}

function labSignIn(username: string, password = PASSWORD, from = '127.0.0.1') {
  return call('/api/v1/auth/login', {
    method: 'POST',
    from,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
}

async function labToken(username: string): Promise<string> {
  const answer = await labSignIn(username);
  expect(answer.status, answer.text).toBe(200);
  return answer.json.token as string;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

interface Node {
  id: string;
  type: string;
  [key: string]: unknown;
}

async function deployed(token: string): Promise<Node[]> {
  const answer = await call('/flows/flows', { headers: bearer(token) });
  expect(answer.status, answer.text).toBe(200);
  return JSON.parse(answer.text) as Node[];
}

/** What the editor's Deploy button sends: the whole configuration. */
function deploy(token: string, flows: Node[]) {
  return call('/flows/flows', {
    method: 'POST',
    headers: {
      ...bearer(token),
      'content-type': 'application/json',
      'node-red-api-version': 'v2',
      'node-red-deployment-type': 'full',
    },
    body: JSON.stringify({ flows }),
  });
}

/** A tab with an inject wired to an exec node running `id`. */
function shellTab(id: string): Node[] {
  return [
    { id, type: 'tab', label: `shell ${id}` },
    {
      id: `${id}.inject`,
      type: 'inject',
      z: id,
      once: false,
      repeat: '',
      props: [{ p: 'payload' }],
      payload: '',
      payloadType: 'date',
      x: 100,
      y: 60,
      wires: [[`${id}.exec`]],
    },
    {
      id: `${id}.exec`,
      type: 'exec',
      z: id,
      command: 'id',
      addpay: '',
      append: '',
      useSpawn: 'false',
      timer: '',
      winHide: false,
      oldrc: false,
      name: '',
      x: 300,
      y: 60,
      wires: [[], [], []],
    },
  ];
}

describe('deploying nodes that reach the host', () => {
  it("refuses a mentor's and an instructor's deploy with an exec node, and deploys nothing", async () => {
    for (const username of ['mentor', 'teacher']) {
      const token = await labToken(username);
      const before = await deployed(token);
      const refused = await deploy(token, [...before, ...shellTab(`shell-${username}`)]);
      expect(refused.status, refused.text).toBe(403);
      expect(refused.text).toContain('exec');
      const after = await deployed(token);
      expect(after.map((node) => node.id)).toEqual(before.map((node) => node.id));
      expect(after.some((node) => node.type === 'exec')).toBe(false);
    }
  });

  it("accepts an admin's, and lets others deploy beside the admin's exec node as long as they leave it alone", async () => {
    const admin = await labToken('root');
    const before = await deployed(admin);
    const accepted = await deploy(admin, [...before, ...shellTab('shell-admin')]);
    expect(accepted.status, accepted.text).toBe(200);
    const mentor = await labToken('mentor');
    try {
      const withExec = await deployed(mentor);
      expect(withExec.some((node) => node.id === 'shell-admin.exec')).toBe(true);
      // Moving the tab's nodes around is no change to the exec node that matters…
      const moved = withExec.map((node) => (node.z === 'shell-admin' ? { ...node, x: 500, y: 200 } : node));
      expect((await deploy(mentor, moved)).status).toBe(200);
      // …another command is.
      const changed = moved.map((node) =>
        node.id === 'shell-admin.exec' ? { ...node, command: 'cat /etc/passwd' } : node,
      );
      const refused = await deploy(mentor, changed);
      expect(refused.status, refused.text).toBe(403);
    } finally {
      expect((await deploy(admin, before)).status).toBe(200);
    }
  });
});

describe('a function node that escapes the vm', () => {
  it('reads no lab database, starts no process, writes nothing, sees no platform secret — and the platform runs on', async () => {
    const database = join(lab.dataDir, 'lab.sqlite');
    const dropped = join(lab.dataDir, 'dropped-by-a-flow');
    expect(existsSync(database)).toBe(true);
    const z = 'escape-test';
    // Buffer is the host's (Node-RED hands it to the sandbox), so its constructor's constructor
    // is the host's Function, and `return process` the host's process.
    const func = `
      const out = {};
      let host;
      try { host = Buffer.constructor('return process')(); out.escaped = typeof host.pid === 'number'; }
      catch (error) { out.escaped = String(error); }
      const attempt = (name, action) => {
        try { out[name] = 'done: ' + String(action()).slice(0, 60); }
        catch (error) { out[name] = 'refused: ' + (error.code || error.message); }
      };
      attempt('read', () => host.getBuiltinModule('fs').readFileSync(${JSON.stringify(database)}).length);
      attempt('spawn', () => host.getBuiltinModule('child_process').execFileSync('id'));
      attempt('write', () => host.getBuiltinModule('fs').writeFileSync(${JSON.stringify(dropped)}, 'x'));
      attempt('worker', () => new (host.getBuiltinModule('worker_threads').Worker)('1', { eval: true }));
      out.env = env.get(${JSON.stringify(PLANTED)}) || null;
      out.hostEnv = (host && host.env[${JSON.stringify(PLANTED)}]) || null;
      msg.payload = out;
      return msg;`;
    const flow: Node[] = [
      { id: z, type: 'tab', label: 'escape' },
      {
        id: `${z}.in`,
        type: 'http in',
        z,
        url: '/escape',
        method: 'get',
        upload: false,
        swaggerDoc: '',
        x: 100,
        y: 60,
        wires: [[`${z}.fn`]],
      },
      { id: `${z}.fn`, type: 'function', z, func, outputs: 1, x: 300, y: 60, wires: [[`${z}.out`]] },
      { id: `${z}.out`, type: 'http response', z, statusCode: '', headers: {}, x: 500, y: 60, wires: [] },
    ];
    const mentor = await labToken('mentor');
    const before = await deployed(mentor);
    expect((await deploy(mentor, [...before, ...flow])).status).toBe(200);
    try {
      let answer: Answer | undefined;
      for (let i = 0; i < 50 && answer?.status !== 200; i++) {
        answer = await call('/flows-api/escape');
        if (answer.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(answer?.status, answer?.text).toBe(200);
      const out = answer?.json as Record<string, unknown>;
      // The escape itself works (the test would prove nothing otherwise)…
      expect(out.escaped).toBe(true);
      // …and gets nowhere.
      expect(out.read).toMatch(/^refused/);
      expect(out.spawn).toMatch(/^refused/);
      expect(out.write).toMatch(/^refused/);
      expect(out.worker).toMatch(/^refused/);
      expect(existsSync(dropped)).toBe(false);
      expect(out.env).toBeNull();
      expect(out.hostEnv).toBeNull();
      // What a flow serves cannot script the platform's pages: its own opaque origin.
      expect(answer?.headers['content-security-policy']).toMatch(/sandbox/);
    } finally {
      await deploy(mentor, before);
    }
    const health = await call('/health');
    expect(health.status).toBe(200);
    expect((await call('/flows/flows', { headers: bearer(mentor) })).status).toBe(200);
  });
});

describe('signing in to the editor', () => {
  it('refuses a username and address the lab API has locked: 429, Retry-After, in Chinese and English', async () => {
    const from = '127.0.0.2';
    for (let i = 0; i < 5; i++) expect((await labSignIn('locked', `wrong-${i}`, from)).status).toBe(401);
    expect((await labSignIn('locked', PASSWORD, from)).status).toBe(429);
    const refused = await editorSignIn('locked', PASSWORD, from);
    expect(refused.status, refused.text).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json.error).toBe('too_many_attempts');
    expect(refused.json.error_description).toMatch(/try again/);
    expect(refused.json.error_description).toMatch(/登录失败次数过多/);
    // The same person from another machine is not locked.
    expect((await editorSignIn('locked', PASSWORD, '127.0.0.5')).status).toBe(200);
  });

  it('does not let failures from one address lock a person out of the editor at another', async () => {
    const attacker = '127.0.0.3';
    for (let i = 0; i < 8; i++) await editorSignIn('victim', `guess-${i}`, attacker);
    // The attacker is slowed down…
    expect((await editorSignIn('victim', PASSWORD, attacker)).status).toBe(429);
    // …and so is the lab API for that pair: one limiter…
    expect((await labSignIn('victim', PASSWORD, attacker)).status).toBe(429);
    // …while the victim, at their own desk, signs in.
    const signedIn = await editorSignIn('victim', PASSWORD, '127.0.0.4');
    expect(signedIn.status, signedIn.text).toBe(200);
    expect(typeof signedIn.json.access_token).toBe('string');
  });

  it('ends the session on sign-out', async () => {
    const signedIn = await editorSignIn('leaver');
    expect(signedIn.status, signedIn.text).toBe(200);
    const token = signedIn.json.access_token as string;
    expect((await call('/flows/flows', { headers: bearer(token) })).status).toBe(200);
    const revoked = await call('/flows/auth/revoke', {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(revoked.status).toBe(200);
    expect((await call('/flows/flows', { headers: bearer(token) })).status).toBe(401);
  });
});

describe('an editor sign-in is a lab login', () => {
  it('ends when the person changes their password, and keeps the browser known to the limiter', async () => {
    const signedIn = await editorSignIn('changer');
    expect(signedIn.status, signedIn.text).toBe(200);
    expect(String(signedIn.headers['set-cookie'])).toMatch(/^iotlab_device=/);
    const token = signedIn.json.access_token as string;
    expect((await call('/flows/flows', { headers: bearer(token) })).status).toBe(200);
    // The token is a lab login: the lab API knows it.
    expect((await call('/api/v1/me', { headers: bearer(token) })).status).toBe(200);
    const changed = await call('/api/v1/me/password', {
      method: 'POST',
      headers: { ...bearer(await labToken('changer')), 'content-type': 'application/json' },
      body: JSON.stringify({ currentPassword: PASSWORD, newPassword: 'a-new-long-passphrase' }),
    });
    expect(changed.status, changed.text).toBe(200);
    expect((await call('/flows/flows', { headers: bearer(token) })).status).toBe(401);
  });
});

describe('the admin API over HTTP', () => {
  it('answers an anonymous JSON POST to an unknown path at once', async () => {
    const answer = await call('/flows/no-such-thing', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'world' }),
      timeoutMs: 5_000,
    });
    expect([401, 404]).toContain(answer.status);
    const deeper = await call('/flows/no/such/thing?x=1', { timeoutMs: 5_000 });
    expect([401, 404]).toContain(deeper.status);
  });

  it('sends no CORS headers: only pages of the platform itself may call it', async () => {
    const origin = { origin: 'http://elsewhere.example' };
    const page = await call('/flows/', { headers: origin });
    expect(page.status).toBe(200);
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await call('/flows/flows', {
      method: 'OPTIONS',
      headers: {
        ...origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
    const token = await labToken('teacher');
    const flows = await call('/flows/flows', { headers: { ...origin, ...bearer(token) } });
    expect(flows.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('takes no token in a URL, only in the Authorization header', async () => {
    const signedIn = await editorSignIn('teacher');
    const token = signedIn.json.access_token as string;
    const lab = await labToken('teacher');
    for (const candidate of [token, lab]) {
      const inUrl = await call(`/flows/flows?access_token=${encodeURIComponent(candidate)}`);
      expect([400, 401]).toContain(inUrl.status);
      expect((await call('/flows/flows', { headers: bearer(candidate) })).status).toBe(200);
    }
    // The editor page itself would keep it in the browser's history: refused, with how to do it.
    const page = await call(`/flows/?access_token=${encodeURIComponent(lab)}`);
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/Authorization/);
  });
});
