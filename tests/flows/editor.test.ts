/**
 * The Node-RED editor embedded in the platform (`flows.enabled`): served at /flows from the
 * platform's HTTP server, signed in with lab accounts only, its flows running on the platform
 * broker with their own service account.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Role } from '../../lab-api/index.ts';
import { People } from '../../lab-api/index.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { ScriptedKit } from './kits.ts';

const PASSWORD = 'correct-horse-battery';
let lab: TestPlatform;
let base: string;

beforeAll(async () => {
  lab = await startTestPlatform({ flows: { enabled: true, studentAccess: 'read' } });
  base = `${lab.httpUrl}/flows`;
  const people = new People(lab.platform.labDb);
  const setup = { kind: 'service', name: 'test-setup' } as const;
  const enterprise = await people.createOrganisation(setup, { kind: 'enterprise', name: '穗田智慧农业' });
  const add = (username: string, role: Role) =>
    people.createUser(setup, {
      username,
      displayName: username,
      role,
      password: PASSWORD,
      organisationId: role === 'mentor' ? enterprise.id : null,
      studentNumber: role === 'student' ? '2026990001' : null,
    });
  await add('teacher', 'instructor');
  await add('mentor', 'mentor');
  await add('pupil', 'student');
  await add('guesser', 'instructor');
});
afterAll(async () => {
  await lab?.close();
});

/** Signs in to the editor as its login dialog does; the access token, or the refusal. */
async function editorSignIn(username: string, password = PASSWORD) {
  const response = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: 'node-red-editor',
      grant_type: 'password',
      scope: '',
      username,
      password,
    }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    access_token?: string;
    error_description?: string;
  };
  return { status: response.status, token: body.access_token, body };
}

async function labToken(username: string): Promise<string> {
  const response = await fetch(`${lab.httpUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  return ((await response.json()) as { token: string }).token;
}

const getFlows = (token?: string) =>
  fetch(`${base}/flows`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

async function settings(method: 'GET' | 'PUT', token: string, body?: unknown) {
  const response = await fetch(`${lab.httpUrl}/api/v1/flows/settings`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function deploy(token: string, flows: unknown[]) {
  return fetch(`${base}/flows`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'node-red-api-version': 'v2',
      'node-red-deployment-type': 'full',
    },
    body: JSON.stringify({ flows }),
  });
}

describe('the editor at /flows', () => {
  it('is served by the platform, asks for a lab sign-in, and keeps its files under the data dir', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>IoT Lab · flows</title>');
    const login = (await (await fetch(`${base}/auth/login`)).json()) as {
      type: string;
      loginMessage: string;
    };
    expect(login.type).toBe('credentials');
    expect(login.loginMessage).toContain('lab account');
    expect((await getFlows()).status).toBe(401);
    expect(existsSync(join(lab.dataDir, 'node-red', 'flows.json'))).toBe(true);
  });

  it('lets an instructor and a mentor in to edit and deploy', async () => {
    for (const username of ['teacher', 'mentor']) {
      const { status, token } = await editorSignIn(username);
      expect(status).toBe(200);
      const flows = await getFlows(token);
      expect(flows.status).toBe(200);
      const body = (await flows.json()) as { id: string; type: string; port?: string }[];
      // The broker connection is the platform's own.
      expect(body.find((node) => node.id === 'iotlab-broker')).toMatchObject({
        type: 'mqtt-broker',
        port: String(lab.platform.ports.mqtt),
      });
      const deployed = await deploy(token as string, body);
      expect(deployed.status).toBe(200);
    }
  });

  it('lets a student look but not deploy, and refuses them altogether once an instructor says so', async () => {
    const { status, token } = await editorSignIn('pupil');
    expect(status).toBe(200);
    const flows = await getFlows(token);
    expect(flows.status).toBe(200);
    const refused = await deploy(token as string, (await flows.json()) as unknown[]);
    expect(refused.status).toBe(401);

    const pupil = await labToken('pupil');
    const teacher = await labToken('teacher');
    expect(await settings('GET', pupil)).toMatchObject({
      status: 200,
      body: { studentAccess: 'read', editorPath: '/flows/' },
    });
    expect((await settings('PUT', pupil, { studentAccess: 'read' })).status).toBe(403);
    expect(await settings('PUT', teacher, { studentAccess: 'none' })).toMatchObject({
      status: 200,
      body: { studentAccess: 'none' },
    });
    try {
      expect(await editorSignIn('pupil')).toMatchObject({ status: 403, body: { error: 'invalid_grant' } });
      // The session they already had stops working too, and so does their lab token.
      expect((await getFlows(token)).status).toBe(401);
      expect((await getFlows(pupil)).status).toBe(401);
      // Instructors are not affected; the choice is kept for the next start.
      expect((await editorSignIn('teacher')).status).toBe(200);
      // Outside Node-RED's directory, which the flows' process may write.
      expect(readFileSync(join(lab.dataDir, 'flows-settings.json'), 'utf8')).toContain('"none"');
      // Who changed it, from what to what, is in the lab's audit log.
      const audit = await fetch(`${lab.httpUrl}/api/v1/audit?entity=flow_settings`, {
        headers: { authorization: `Bearer ${teacher}` },
      });
      expect(((await audit.json()) as { items: unknown[] }).items[0]).toMatchObject({
        action: 'update',
        before: { studentAccess: 'read' },
        after: { studentAccess: 'none' },
      });
    } finally {
      await settings('PUT', teacher, { studentAccess: 'read' });
    }
    expect((await editorSignIn('pupil')).status).toBe(200);
  });

  it('refuses a wrong password, and a username at an address after five failed attempts', async () => {
    // The token endpoint (OAuth 2) answers a refused grant with 403 invalid_grant.
    expect(await editorSignIn('teacher', 'not-the-password')).toMatchObject({
      status: 403,
      body: { error: 'invalid_grant' },
    });
    expect((await editorSignIn('nobody-here')).status).toBe(403);
    for (let i = 0; i < 5; i++) await editorSignIn('guesser', `wrong-${i}`);
    // Even the right password now: locked (the lab's limiter, 15 minutes), and told so.
    const locked = await editorSignIn('guesser');
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ error: 'too_many_attempts' });
    expect(JSON.stringify(locked.body)).toMatch(/try again in 15 minutes/);
    // Other people are not locked out.
    expect((await editorSignIn('teacher')).status).toBe(200);
  });

  it("accepts the lab's own login token, so the dashboards can open the editor signed in", async () => {
    const token = await labToken('teacher');
    expect((await getFlows(token)).status).toBe(200);
    expect((await getFlows('not-a-token')).status).toBe(401);
    // The editor's live connection (debug, deploy notices) over the platform's server.
    const ws = new WebSocket(`${lab.httpUrl.replace('http', 'ws')}/flows/comms`);
    const answer = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ auth: token })));
      ws.on('message', (data) => resolve(data.toString()));
      ws.on('error', reject);
    });
    ws.close();
    expect(JSON.parse(answer)).toEqual({ auth: 'ok' });
  });
});

describe('the curriculum in the editor library', () => {
  it('offers every shipped flow under Import → Local → IoT Lab curriculum', async () => {
    const { token } = await editorSignIn('teacher');
    const headers = { authorization: `Bearer ${token}` };
    const folder = await fetch(`${base}/library/local/flows/IoT%20Lab%20curriculum`, { headers });
    expect(folder.status).toBe(200);
    const names = ((await folder.json()) as { fn?: string }[]).map((entry) => entry.fn).sort();
    expect(names).toEqual([
      'closed-loop.json',
      'data-cleaning.json',
      'kit-health.json',
      'threshold-alarm.json',
    ]);
    const flow = await fetch(`${base}/library/local/flows/IoT%20Lab%20curriculum/kit-health.json`, {
      headers,
    });
    const nodes = (await flow.json()) as { id: string; type: string }[];
    expect(nodes.find((node) => node.type === 'tab')?.id).toBe('iotlab-kit-health');
  });
});

describe('the curriculum flows on the platform', () => {
  it('run on the platform broker with the flows service account', async () => {
    const editor = lab.platform.flows;
    if (!editor) throw new Error('flows not running');
    await editor.deployCurriculum();
    const tabs = (await editor.flows()).filter((node) => node.type === 'tab').map((node) => node.id);
    expect(tabs).toEqual(
      expect.arrayContaining([
        'iotlab-threshold-alarm',
        'iotlab-closed-loop',
        'iotlab-data-cleaning',
        'iotlab-kit-health',
      ]),
    );
    const kit = await ScriptedKit.connect(lab.mqttUrl, 'editor-kit', await lab.addKit('editor-kit'));
    try {
      // The flows subscribe once their connection is up; keep sending until the alarm answers.
      const deadline = Date.now() + 15_000;
      while (!kit.commands.some((c) => c.command === 'buzzer') && Date.now() < deadline) {
        await kit.send({ temperature: 20 });
        await kit.send({ temperature: 35 });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(kit.commands.find((c) => c.command === 'buzzer')).toMatchObject({ command: 'buzzer', value: 1 });
      expect(await lab.platform.registry.getService('node-red')).toBeTruthy();
    } finally {
      await kit.close();
    }
  });
});

describe('http in nodes', () => {
  it('are served under /flows-api, request bodies included', async () => {
    const editor = lab.platform.flows;
    if (!editor) throw new Error('flows not running');
    const z = 'test-http';
    await editor.upsert([
      { id: z, type: 'tab', label: 'HTTP test' },
      {
        id: `${z}.in`,
        type: 'http in',
        z,
        name: '',
        url: '/echo',
        method: 'post',
        upload: false,
        swaggerDoc: '',
        x: 100,
        y: 60,
        wires: [[`${z}.fn`]],
      },
      {
        id: `${z}.fn`,
        type: 'function',
        z,
        name: '',
        func: 'msg.payload = { got: msg.payload.temperature + 1 }; return msg;',
        outputs: 1,
        x: 300,
        y: 60,
        wires: [[`${z}.out`]],
      },
      {
        id: `${z}.out`,
        type: 'http response',
        z,
        name: '',
        statusCode: '',
        headers: {},
        x: 500,
        y: 60,
        wires: [],
      },
    ]);
    const response = await fetch(`${lab.httpUrl}/flows-api/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ temperature: 21 }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(JSON.parse(text)).toEqual({ got: 22 });
  });
});
