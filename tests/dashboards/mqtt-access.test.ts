/**
 * People's browsers on MQTT: `user:<username>` with their lab login token, subscribe-only, each
 * topic checked against the lab database (a student: their own kits and attempts; an instructor:
 * their classes'; an admin: all; a mentor: none). Real broker, real mqtt clients over WebSocket.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, connect } from '../helpers/platform.ts';
import { type DashboardLab, openDemoSession, startDashboardLab } from './fixture.ts';

let lab: DashboardLab;
const clients: MqttClient[] = [];
let attempts: { id: string; student_id: string; kit_id: string }[] = [];

beforeAll(async () => {
  // People's connections are checked against their login every 0.2 s here (30 s by default).
  lab = await startDashboardLab({
    kits: 3,
    simulate: false,
    platform: { mqtt: { credentialRecheckSeconds: 0.2 } },
  });
  await openDemoSession(lab);
  attempts = await lab.tp.platform.labDb.all('SELECT id, student_id, kit_id FROM attempts');
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.endAsync().catch(() => {});
  await lab?.close();
});

async function asUser(account: { username: string; password: string }): Promise<MqttClient> {
  const client = await connect(lab.tp.wsUrl, {
    username: `user:${account.username}`,
    password: await lab.token(account),
    protocolVersion: 4,
  });
  clients.push(client);
  return client;
}

/** Whether the broker granted the subscription (mqtt.js rejects a SUBACK with 0x80). */
async function granted(client: MqttClient, topic: string): Promise<boolean> {
  try {
    const [grant] = await client.subscribeAsync(topic, { qos: 0 });
    return grant !== undefined && grant.qos !== 128;
  } catch (error) {
    if ((error as Error).message.includes('Subscribe error')) return false;
    throw error;
  }
}

const kitTopic = (kitId: string, channel: string) => `iotlab/v1/kits/${kitId}/${channel}`;

describe('lab users on MQTT', () => {
  it('refuses a wrong token, and a token of someone else', async () => {
    await expect(
      connect(lab.tp.wsUrl, { username: `user:${lab.accounts.student.username}`, password: 'not-a-token' }),
    ).rejects.toThrow(/Bad username or password/i);
    await expect(
      connect(lab.tp.wsUrl, {
        username: `user:${lab.accounts.student.username}`,
        password: await lab.token(lab.accounts.instructor),
      }),
    ).rejects.toThrow(/Bad username or password/i);
  });

  it("lets a student read their own team's kit, never another team's, nor wildcards or commands", async () => {
    const client = await asUser(lab.accounts.student);
    const [mine, other] = lab.kitIds as [string, string];
    expect(await granted(client, kitTopic(mine, 'telemetry'))).toBe(true);
    expect(await granted(client, kitTopic(mine, 'status'))).toBe(true);
    expect(await granted(client, kitTopic(mine, 'errors'))).toBe(true);
    expect(await granted(client, kitTopic(other, 'telemetry'))).toBe(false);
    expect(await granted(client, kitTopic(other, 'errors'))).toBe(false);
    expect(await granted(client, kitTopic(mine, 'commands'))).toBe(false);
    expect(await granted(client, 'iotlab/v1/kits/+/telemetry')).toBe(false);
    expect(await granted(client, '#')).toBe(false);
  });

  it("lets a student follow the grading of their own attempt only, and their class's leaderboard", async () => {
    // The student of an attempt signs in (the demo picks one student per kit) — not the student the
    // other tests sign in as: setting a password ends that person's other logins.
    const shared = await lab.tp.platform.labDb.get<{ id: string }>(
      'SELECT id FROM users WHERE username = ?',
      [lab.accounts.student.username],
    );
    const own = attempts.find((a) => a.student_id !== shared?.id) as (typeof attempts)[0];
    const other = attempts.find((a) => a.id !== own.id) as (typeof attempts)[0];
    const admin = lab.accounts.admin;
    const { version, username } = await lab.api<{ version: number; username: string }>(
      admin,
      'GET',
      `/users/${own.student_id}`,
    );
    const account = { username, password: 'attempt-owner-password-1' };
    await lab.api(
      admin,
      'PATCH',
      `/users/${own.student_id}`,
      { password: account.password },
      { 'if-match': `"${version}"` },
    );
    const client = await asUser(account);
    expect(await granted(client, `iotlab/v1/attempts/${own.id}/grading`)).toBe(true);
    expect(await granted(client, `iotlab/v1/attempts/${other.id}/grading`)).toBe(false);
    const session = await lab.tp.platform.labDb.get<{ id: string }>('SELECT id FROM lab_sessions');
    expect(await granted(client, `iotlab/v1/sessions/${session?.id}/leaderboard`)).toBe(true);
  });

  it('never lets a person publish: a message on their own kit reaches nobody', async () => {
    const [mine] = lab.kitIds as [string];
    const service = await lab.tp.addService('dash-watch');
    const watcher = await connect(lab.tp.mqttUrl, { username: service.username, password: service.secret });
    clients.push(watcher);
    const seen = await collect(watcher, kitTopic(mine, 'events'));
    const before = seen.messages.length;
    const student = await asUser(lab.accounts.student);
    await student.publishAsync(kitTopic(mine, 'events'), JSON.stringify({ event: 'forged' }), { qos: 1 });
    // A marker published after it by the service arrives; the student's message never does.
    await watcher.publishAsync(kitTopic(mine, 'events'), JSON.stringify({ event: 'marker' }), { qos: 1 });
    await seen.next(before + 1);
    expect(seen.json().map((m) => m.event)).not.toContain('forged');
    expect(seen.json().map((m) => m.event)).toContain('marker');
    expect(student.connected).toBe(true);
  });

  it("lets an instructor read their class's kits and attempts, a mentor nothing, an admin everything", async () => {
    const [mine, other] = lab.kitIds as [string, string];
    const teacher = await asUser(lab.accounts.instructor);
    expect(await granted(teacher, kitTopic(other, 'telemetry'))).toBe(true);
    expect(await granted(teacher, `iotlab/v1/attempts/${attempts[0]?.id}/grading`)).toBe(true);
    expect(await granted(teacher, 'iotlab/v1/kits/+/telemetry')).toBe(false);
    const mentor = await asUser(lab.accounts.mentor);
    expect(await granted(mentor, kitTopic(mine, 'telemetry'))).toBe(false);
    const admin = await asUser(lab.accounts.admin);
    expect(await granted(admin, 'iotlab/v1/kits/+/telemetry')).toBe(true);
  });

  it('refuses an instructor the kits of a class they do not teach', async () => {
    const other = await lab.api<{ id: string }>(lab.accounts.admin, 'POST', '/users', {
      username: 'teacher.wang',
      displayName: '王老师',
      role: 'instructor',
      password: 'another-long-password-1',
    });
    expect(other.id).toBeTruthy();
    const client = await asUser({ username: 'teacher.wang', password: 'another-long-password-1' });
    expect(await granted(client, kitTopic(lab.kitIds[0] as string, 'telemetry'))).toBe(false);
  });

  it("ends a person's MQTT connection when they log out", async () => {
    // A login of its own (the other tests keep theirs).
    const login = await fetch(`${lab.tp.httpUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(lab.accounts.student),
    });
    const { token } = (await login.json()) as { token: string };
    const client = await connect(lab.tp.wsUrl, {
      username: `user:${lab.accounts.student.username}`,
      password: token,
      protocolVersion: 4,
    });
    clients.push(client);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const logout = await fetch(`${lab.tp.httpUrl}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(logout.status).toBeLessThan(300);
    await closed;
    expect(client.connected).toBe(false);
    // The token no longer opens a connection either.
    await expect(
      connect(lab.tp.wsUrl, { username: `user:${lab.accounts.student.username}`, password: token }),
    ).rejects.toThrow(/Bad username or password/i);
  });
});
