import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kitTopic } from '../../protocol/index.ts';
import { collect, connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { connectPacket, RawClient } from './raw-mqtt.ts';

const HOUR = 3_600_000;
let lab: TestPlatform;
const secrets: Record<string, string> = {};
const open: MqttClient[] = [];

async function kitClient(kitId: string, url = lab.mqttUrl): Promise<MqttClient> {
  const client = await connect(url, {
    clientId: `${kitId}-${open.length}`,
    username: kitId,
    password: secrets[kitId],
  });
  open.push(client);
  return client;
}

/** The QoS the broker granted, 128 meaning refused (mqtt.js rejects on a refusal). */
async function grantedQos(client: MqttClient, filter: string): Promise<number> {
  try {
    return (await client.subscribeAsync(filter, { qos: 1 }))[0]?.qos ?? -1;
  } catch (error) {
    return ((error as { packet?: { granted?: number[] } }).packet?.granted?.[0] as number) ?? -1;
  }
}

async function storedCount(kitId: string): Promise<number> {
  return lab.platform.store.count({ kitId, from: Date.now() - HOUR, to: Date.now() + HOUR });
}

beforeAll(async () => {
  // Connections are checked against the registry every 0.2 s here (30 s by default).
  lab = await startTestPlatform({ mqtt: { credentialRecheckSeconds: 0.2 } });
  for (const id of ['kit-a', 'kit-b', 'kit-ws', 'kit-bad', 'kit-good', 'kit-will', 'kit-cli', 'kit-churn'])
    secrets[id] = await lab.addKit(id);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.endAsync(true)));
});
afterAll(async () => {
  await lab.close();
});

describe('kits publish telemetry that becomes queryable', () => {
  it('over TCP', async () => {
    const kit = await kitClient('kit-a');
    for (let seq = 0; seq < 20; seq++) {
      await kit.publishAsync(
        kitTopic('kit-a', 'telemetry'),
        JSON.stringify({ seq, readings: { temperature: 20 + seq / 10, humidity: 50 } }),
        { qos: 1 },
      );
    }
    await eventually(async () => (await storedCount('kit-a')) === 40, 5_000, '40 readings of kit-a');
    const points = await lab.platform.store.readings({
      kitId: 'kit-a',
      sensor: 'temperature',
      from: Date.now() - HOUR,
      to: Date.now() + HOUR,
    });
    expect(points.map((p) => p.value)).toEqual(Array.from({ length: 20 }, (_, i) => 20 + i / 10));
    const seqs = await lab.platform.store.sequence({
      kitId: 'kit-a',
      from: Date.now() - HOUR,
      to: Date.now() + HOUR,
    });
    expect(seqs.map((p) => p.value)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('over WebSocket on the HTTP port', async () => {
    const kit = await kitClient('kit-ws', lab.wsUrl);
    const ts = Date.now() - 60_000;
    await kit.publishAsync(
      kitTopic('kit-ws', 'telemetry'),
      JSON.stringify({ ts, readings: { light: 321 } }),
      { qos: 1 },
    );
    await eventually(async () => (await storedCount('kit-ws')) === 1, 5_000, 'the WebSocket kit reading');
    const latest = await lab.platform.store.latest('kit-ws');
    expect(latest.light).toEqual({ ts, value: 321 });
  });
});

describe('authentication', () => {
  it('refuses a wrong secret, an unknown kit and a missing password', async () => {
    await expect(connect(lab.mqttUrl, { username: 'kit-a', password: 'not-the-secret' })).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(
      connect(lab.mqttUrl, { username: 'no-such-kit', password: secrets['kit-a'] }),
    ).rejects.toThrow(/Bad username or password/i);
    await expect(connect(lab.mqttUrl, {})).rejects.toThrow(/Not authorized/i);
  });

  it('stops accepting a secret once it is rotated', async () => {
    const id = 'kit-rotate';
    const first = await lab.addKit(id);
    (await connect(lab.mqttUrl, { username: id, password: first })).end(true);
    const second = await lab.platform.registry.rotateKitSecret(id);
    await expect(connect(lab.mqttUrl, { username: id, password: first })).rejects.toThrow(
      /Bad username or password/i,
    );
    const client = await connect(lab.mqttUrl, { username: id, password: second });
    await client.endAsync();
  });
});

describe('topic ACL', () => {
  it('a kit cannot publish as another kit, and is told why', async () => {
    const service = await lab.addService('acl-watcher');
    const watcher = await connect(lab.mqttUrl, { username: service.username, password: service.secret });
    open.push(watcher);
    const seenByB = await collect(watcher, kitTopic('kit-b', 'telemetry'));
    const kitA = await kitClient('kit-a');
    const errors = await collect(kitA, kitTopic('kit-a', 'errors'));
    await kitA.publishAsync(
      kitTopic('kit-b', 'telemetry'),
      JSON.stringify({ readings: { temperature: 99 } }),
      { qos: 1 },
    );
    await errors.next(1);
    expect(errors.json()[0]).toMatchObject({
      code: 'TOPIC_NOT_ALLOWED',
      topic: kitTopic('kit-b', 'telemetry'),
    });
    await lab.platform.writer.flush();
    expect(await storedCount('kit-b')).toBe(0);
    expect(seenByB.messages).toHaveLength(0);
  });

  it('a kit may not subscribe to wildcards, $SYS or another kit', async () => {
    const kitA = await kitClient('kit-a');
    for (const filter of ['#', '$SYS/#', kitTopic('kit-b', 'commands'), 'iotlab/v1/kits/+/telemetry']) {
      expect(await grantedQos(kitA, filter), filter).toBe(128);
    }
    const own = await kitA.subscribeAsync([kitTopic('kit-a', 'commands'), kitTopic('kit-a', 'errors')], {
      qos: 1,
    });
    expect(own.map((g) => g.qos)).toEqual([1, 1]);
  });

  it("no account may subscribe to the platform's own topics ($iotlab/…: records between instances, who is dropped)", async () => {
    const service = await lab.addService('curious', ['read', 'publish', 'command']);
    const client = await connect(lab.mqttUrl, { username: service.username, password: service.secret });
    open.push(client);
    for (const filter of ['$iotlab/#', '$iotlab/records/+', '$iotlab/kit-drop', '$iotlab/person-drop']) {
      expect(await grantedQos(client, filter), filter).toBe(128);
    }
    expect(await grantedQos(client, 'iotlab/v1/kits/+/telemetry')).toBe(1);
  });

  it('a platform account may use wildcards and $SYS, and can command a kit', async () => {
    const service = await lab.addService('ops');
    const ops = await connect(lab.mqttUrl, { username: service.username, password: service.secret });
    open.push(ops);
    const all = await collect(ops, 'iotlab/v1/kits/+/telemetry');
    const sys = await collect(ops, '$SYS/#');
    expect(all.granted[0]?.qos).toBe(1);
    expect(sys.granted[0]?.qos).toBe(1);
    const kitB = await kitClient('kit-b');
    const commands = await collect(kitB, kitTopic('kit-b', 'commands'));
    await kitB.publishAsync(kitTopic('kit-b', 'telemetry'), JSON.stringify({ readings: { gas: 420 } }));
    await all.next(1);
    await ops.publishAsync(kitTopic('kit-b', 'commands'), JSON.stringify({ command: 'fan', value: 1 }), {
      qos: 1,
    });
    await commands.next(1);
    expect(commands.json()[0]).toEqual({ command: 'fan', value: 1 });
  });
});

describe('bad payloads', () => {
  const cases: [string, string | Buffer, string][] = [
    ['not JSON', 'temperature=21', 'NOT_JSON'],
    ['NaN (not JSON either)', '{"readings":{"temperature":NaN}}', 'NOT_JSON'],
    ['a JSON array', '[1,2,3]', 'NOT_AN_OBJECT'],
    ['readings missing', '{"temperature":21}', 'MISSING_READINGS'],
    ['a string value', '{"readings":{"temperature":"hot"}}', 'NO_READINGS'],
    ['Infinity', '{"readings":{"temperature":1e999}}', 'NO_READINGS'],
    [
      'a timestamp far in the future',
      JSON.stringify({ ts: Date.now() + 24 * HOUR, readings: { temperature: 21 } }),
      'TIMESTAMP_IN_FUTURE',
    ],
    // Just over the limit: still read and explained (a packet far over it closes the connection).
    ['16 KiB + 1 byte', Buffer.alloc(16 * 1024 + 1, 'x'), 'PAYLOAD_TOO_LARGE'],
  ];

  it('are refused with the reason on the error topic while a good kit keeps flowing', async () => {
    const good = await kitClient('kit-good');
    const bad = await kitClient('kit-bad');
    const errors = await collect(bad, kitTopic('kit-bad', 'errors'));
    let goodSent = 0;
    // Every acknowledgement awaited at the end: none is left to fail once the client closes.
    const acknowledged: Promise<unknown>[] = [];
    const flowing = setInterval(() => {
      acknowledged.push(
        good.publishAsync(
          kitTopic('kit-good', 'telemetry'),
          JSON.stringify({ seq: goodSent, readings: { temperature: 22 } }),
          { qos: 1 },
        ),
      );
      goodSent++;
    }, 10);
    try {
      for (const [, payload] of cases)
        await bad.publishAsync(kitTopic('kit-bad', 'telemetry'), payload, { qos: 1 });
      // Reports are rate-limited per (kit, reason): the second NOT_JSON and NO_READINGS within a second are folded.
      await errors.next(7);
    } finally {
      clearInterval(flowing);
      await Promise.allSettled(acknowledged);
    }

    const codes = errors.json().map((e) => e.code);
    for (const [what, , code] of cases) expect(codes, what).toContain(code);
    expect(codes).toContain('BAD_VALUE_TYPE'); // the string and Infinity values are named too
    expect(
      errors.json().every((e) => typeof e.message === 'string' && (e.message as string).length > 10),
    ).toBe(true);
    expect(bad.connected).toBe(true);

    await eventually(async () => (await storedCount('kit-good')) === goodSent, 5_000, 'every good reading');
    await lab.platform.writer.flush();
    expect(await storedCount('kit-bad')).toBe(0);
  });

  it('keeps the valid readings of a message and drops only the bad one', async () => {
    const bad = await kitClient('kit-bad');
    const errors = await collect(bad, kitTopic('kit-bad', 'errors'));
    await bad.publishAsync(
      kitTopic('kit-bad', 'telemetry'),
      JSON.stringify({ readings: { humidity: 55, temperature: null } }),
      { qos: 1 },
    );
    await errors.next(1);
    expect(errors.json()[0]).toMatchObject({
      code: 'VALUE_MISSING',
      severity: 'dropped',
      sensor: 'temperature',
    });
    await eventually(async () => (await storedCount('kit-bad')) === 1, 5_000, 'the humidity reading');
    expect(Object.keys(await lab.platform.store.latest('kit-bad'))).toEqual(['humidity']);
  });

  it('reports a repeated problem once per second with a count, not once per message', async () => {
    const bad = await kitClient('kit-bad');
    const errors = await collect(bad, kitTopic('kit-bad', 'errors'));
    for (let i = 0; i < 50; i++)
      await bad.publishAsync(kitTopic('kit-bad', 'telemetry'), '{"readings":{}}', { qos: 1 });
    await errors.next(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(errors.messages.length).toBeLessThan(3);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await bad.publishAsync(kitTopic('kit-bad', 'telemetry'), '{"readings":{}}', { qos: 1 });
    await eventually(
      () => errors.json().some((e) => (e.repeated as number) >= 40),
      3_000,
      'a report with the repeat count',
    );
  });
});

describe('amplification and unbounded series', () => {
  /** Readings with `count` distinct names, e.g. {"Bad_0_3": 1, …} or {"s_0_3": 1, …}. */
  const names = (prefix: string, message: number, count: number) =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}_${message}_${i}`, 1]));

  it('reports a kit sending new bad sensor names once per code, not once per name', async () => {
    const bad = await kitClient('kit-bad');
    const errors = await collect(bad, kitTopic('kit-bad', 'errors'));
    for (let message = 0; message < 20; message++) {
      await bad.publishAsync(
        kitTopic('kit-bad', 'telemetry'),
        JSON.stringify({ readings: { ...names('Bad', message, 63), temperature: 21 } }),
        { qos: 1 },
      );
    }
    await errors.next(1);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let any further reports arrive
    // One report a second per code (a slow run may span two seconds), where there were 1,260.
    const reports = errors.json().filter((e) => e.code === 'BAD_SENSOR_NAME');
    expect(reports.length).toBeLessThanOrEqual(2);
  });

  it('caps the distinct sensors of a kit, says so, and keeps storing the sensors it has', async () => {
    const id = 'kit-many-sensors';
    secrets[id] = await lab.addKit(id);
    const kit = await kitClient(id);
    const errors = await collect(kit, kitTopic(id, 'errors'));
    await kit.publishAsync(kitTopic(id, 'telemetry'), JSON.stringify({ readings: { temperature: 20 } }), {
      qos: 1,
    });
    for (let message = 0; message < 20; message++) {
      await kit.publishAsync(
        kitTopic(id, 'telemetry'),
        JSON.stringify({ readings: names('s', message, 50) }),
        {
          qos: 1,
        },
      );
    }
    await kit.publishAsync(kitTopic(id, 'telemetry'), JSON.stringify({ readings: { temperature: 22 } }), {
      qos: 1,
    });
    await errors.next(1);
    expect(errors.json()[0]).toMatchObject({ code: 'SENSOR_LIMIT' });
    expect(errors.json()[0]?.message).toMatch(/64/);
    await eventually(
      async () => (await lab.platform.store.latest(id)).temperature?.value === 22,
      5_000,
      'the last temperature stored',
    );
    const sensors = Object.keys(await lab.platform.store.latest(id));
    expect(sensors).toHaveLength(64);
  });

  it('refuses a value beyond ±1e15 with VALUE_TOO_LARGE, so every aggregate stays a number', async () => {
    const id = 'kit-overflow';
    secrets[id] = await lab.addKit(id);
    const kit = await kitClient(id);
    const errors = await collect(kit, kitTopic(id, 'errors'));
    for (const level of [1e308, 1e308, 5, -1e308])
      await kit.publishAsync(kitTopic(id, 'telemetry'), JSON.stringify({ readings: { level } }), { qos: 1 });
    await errors.next(1);
    expect(errors.json()[0]).toMatchObject({ code: 'VALUE_TOO_LARGE', sensor: 'level' });
    const range = { kitId: id, sensor: 'level', from: Date.now() - HOUR, to: Date.now() + HOUR };
    await eventually(async () => (await lab.platform.store.count(range)) >= 1, 5_000, 'the level stored');
    await lab.platform.writer.flush();
    const windows = await lab.platform.store.aggregate({ ...range, every: 2 * HOUR });
    expect(windows.length).toBeGreaterThan(0);
    for (const window of windows) {
      for (const value of [window.mean, window.min, window.max]) expect(Number.isFinite(value)).toBe(true);
    }
  });
});

describe('status', () => {
  it('is offline after thousands of connections that close right after their CONNECT', async () => {
    const id = 'kit-churn';
    const port = lab.platform.ports.mqtt;
    const connectOnce = async (n: number) => {
      const raw = await RawClient.open(port);
      raw.send(connectPacket({ clientId: `${id}-${n}`, username: id, password: secrets[id] }));
      // Close at different points of the broker's handling of the CONNECT.
      if (n % 3 === 1) await new Promise((resolve) => setImmediate(resolve));
      if (n % 3 === 2) await raw.next('connack').catch(() => {});
      raw.destroy();
      await raw.closed;
    };
    for (let batch = 0; batch < 40; batch++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => connectOnce(batch * 50 + i)));
    }
    await eventually(
      () => lab.platform.broker.kitStatus(id)?.online === false,
      5_000,
      'the churned kit offline',
    );
    expect(lab.platform.broker.kitStatus(id)?.connections).toBe(0);
    const service = await lab.addService('churn-watcher');
    const watcher = await connect(lab.mqttUrl, { username: service.username, password: service.secret });
    open.push(watcher);
    const retained = await collect(watcher, kitTopic(id, 'status'));
    await retained.next(1);
    expect(retained.json()[0]).toMatchObject({ state: 'offline' });
  });

  it('is retained online while connected and offline after the kit vanishes', async () => {
    const kit = await kitClient('kit-will');
    const service = await lab.addService('status-watcher');
    await eventually(
      () => lab.platform.broker.kitStatus('kit-will')?.online === true,
      2_000,
      'online status',
    );
    const first = await connect(lab.mqttUrl, { username: service.username, password: service.secret });
    open.push(first);
    const online = await collect(first, kitTopic('kit-will', 'status'));
    await online.next(1);
    expect(online.messages[0]?.retain).toBe(true);
    expect(online.json()[0]).toMatchObject({ state: 'online' });

    kit.stream.destroy(); // the kit loses power: no DISCONNECT packet
    await eventually(
      () => lab.platform.broker.kitStatus('kit-will')?.online === false,
      5_000,
      'offline status',
    );
    const later = await connect(lab.mqttUrl, { username: service.username, password: service.secret });
    open.push(later);
    const retained = await collect(later, kitTopic('kit-will', 'status'));
    await retained.next(1);
    expect(retained.json()[0]).toMatchObject({ state: 'offline' });
  });
});

describe('a gateway connecting USB kits on their behalf', () => {
  it('is the kit in every respect, with the gateway service secret', async () => {
    const gateway = await lab.addService('lab-pc-1');
    const uno = await connect(lab.mqttUrl, {
      username: 'kit-b@lab-pc-1',
      password: gateway.secret,
      clientId: 'gw-kit-b',
    });
    open.push(uno);
    await eventually(() => lab.platform.broker.kitStatus('kit-b')?.online === true, 2_000, 'kit-b online');
    const before = await storedCount('kit-b');
    await uno.publishAsync(kitTopic('kit-b', 'telemetry'), JSON.stringify({ readings: { distance: 42 } }), {
      qos: 1,
    });
    await eventually(async () => (await storedCount('kit-b')) === before + 1, 5_000, 'the USB kit reading');
    // …and only that kit: it cannot publish for another one.
    const errors = await collect(uno, kitTopic('kit-b', 'errors'));
    await uno.publishAsync(kitTopic('kit-a', 'telemetry'), JSON.stringify({ readings: { distance: 1 } }), {
      qos: 1,
    });
    await errors.next(1);
    expect(errors.json()[0]).toMatchObject({ code: 'TOPIC_NOT_ALLOWED' });
  });

  it('is refused with a wrong service secret, an unknown or a revoked kit', async () => {
    const gateway = await lab.addService('lab-pc-2');
    await expect(connect(lab.mqttUrl, { username: 'kit-b@lab-pc-2', password: 'wrong' })).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(
      connect(lab.mqttUrl, { username: 'ghost@lab-pc-2', password: gateway.secret }),
    ).rejects.toThrow(/Bad username or password/i);
    await lab.addKit('kit-revoked');
    await lab.platform.registry.revokeKit('kit-revoked');
    await expect(
      connect(lab.mqttUrl, { username: 'kit-revoked@lab-pc-2', password: gateway.secret }),
    ).rejects.toThrow(/Bad username or password/i);
  });
});

describe('events and commands are kept with the telemetry', () => {
  it('stores a kit event and a command sent to it, apart from the sensor readings', async () => {
    const kit = await kitClient('kit-a');
    const ops = await lab.addService('event-ops');
    const console = await connect(lab.mqttUrl, { username: ops.username, password: ops.secret });
    open.push(console);
    const before = await storedCount('kit-a');
    await kit.publishAsync(kitTopic('kit-a', 'events'), JSON.stringify({ event: 'alarm', value: 1 }), {
      qos: 1,
    });
    await console.publishAsync(
      kitTopic('kit-a', 'commands'),
      JSON.stringify({ command: 'fan', value: 'on' }),
      { qos: 1 },
    );
    const range = { kitId: 'kit-a', from: Date.now() - HOUR, to: Date.now() + HOUR };
    await eventually(
      async () => (await lab.platform.store.seriesNames('kit-a')).includes('@command.fan'),
      5_000,
      'the command stored',
    );
    expect(await lab.platform.store.readings({ ...range, sensor: '@event.alarm' })).toMatchObject([
      { value: 1 },
    ]);
    expect(await lab.platform.store.readings({ ...range, sensor: '@command.fan' })).toMatchObject([
      { value: 1 },
    ]);
    expect(await storedCount('kit-a')).toBe(before); // not sensor readings
    expect(Object.keys(await lab.platform.store.latest('kit-a'))).not.toContain('@event.alarm');
  });

  it('stores an event a platform service raises for a kit (a Node-RED alarm flow), not one for an unknown kit', async () => {
    const ops = await lab.addService('alarm-flow');
    const flow = await connect(lab.mqttUrl, { username: ops.username, password: ops.secret });
    open.push(flow);
    const range = { kitId: 'kit-b', from: Date.now() - HOUR, to: Date.now() + HOUR };
    await flow.publishAsync(kitTopic('no-such-kit', 'events'), JSON.stringify({ event: 'overheat' }), {
      qos: 1,
    });
    await flow.publishAsync(kitTopic('kit-b', 'events'), JSON.stringify({ event: 'overheat', value: 2 }), {
      qos: 1,
    });
    await eventually(
      async () => (await lab.platform.store.seriesNames('kit-b')).includes('@event.overheat'),
      5_000,
      'the flow’s event stored',
    );
    expect(await lab.platform.store.readings({ ...range, sensor: '@event.overheat' })).toMatchObject([
      { value: 2 },
    ]);
    expect(await lab.platform.store.seriesNames('no-such-kit')).toEqual([]);
  });
});

describe('secrets changed by another process', () => {
  it('drops a kit whose secret the CLI rotated, and only the new secret gets it back in', async () => {
    const old = secrets['kit-cli'] as string;
    const kit = await connect(lab.mqttUrl, { clientId: 'kit-cli', username: 'kit-cli', password: old });
    open.push(kit);
    const closed = new Promise<void>((resolve) => kit.once('close', () => resolve()));
    const rotated = await promisify(execFile)(
      process.execPath,
      ['bin/iotlab-dev.js', 'kits', 'rotate', 'kit-cli'],
      {
        env: { ...process.env, IOTLAB_DATA_DIR: lab.dataDir },
      },
    );
    const fresh = /(?:password|secret)[^:]*: (\S+)/i.exec(rotated.stdout)?.[1];
    expect(fresh, rotated.stdout).toBeDefined();
    await closed;
    await expect(
      connect(lab.mqttUrl, { clientId: 'kit-cli', username: 'kit-cli', password: old }),
    ).rejects.toThrow(/Bad username or password/i);
    const back = await connect(lab.mqttUrl, {
      clientId: 'kit-cli',
      username: 'kit-cli',
      password: fresh as string,
    });
    open.push(back);
    expect(back.connected).toBe(true);
  });
});

describe('the sensor cap across a restart', () => {
  it('counts the sensors the store already has for a kit', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-sensor-cap-'));
    const id = 'kit-restarted';
    const publishSensors = async (server: TestPlatform, secret: string, readings: Record<string, number>) => {
      const kit = await connect(server.mqttUrl, { username: id, password: secret });
      await kit.publishAsync(kitTopic(id, 'telemetry'), JSON.stringify({ readings }), { qos: 1 });
      await kit.endAsync();
      await server.platform.writer.flush();
    };
    const sensors = (from: number, count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`s${from + i}`, i]));
    try {
      const first = await startTestPlatform({ dataDir });
      const secret = await first.addKit(id);
      await publishSensors(first, secret, sensors(0, 60));
      await first.close();
      const second = await startTestPlatform({ dataDir });
      try {
        await publishSensors(second, secret, sensors(60, 10));
        expect(Object.keys(await second.platform.store.latest(id))).toHaveLength(64);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('service accounts do what their scopes allow', () => {
  it('lets a read-only service watch kits, but not write data, command kits or connect kits', async () => {
    await kitClient('kit-a');
    const viewer = await lab.addService('wall-screen', ['read']);
    const screen = await connect(lab.mqttUrl, { username: viewer.username, password: viewer.secret });
    open.push(screen);
    const watcher = await lab.addService('scope-watcher');
    const watching = await connect(lab.mqttUrl, { username: watcher.username, password: watcher.secret });
    open.push(watching);
    const seen = await collect(watching, 'iotlab/v1/kits/kit-a/#');
    expect(seen.granted[0]?.qos).toBe(1);
    const readable = await collect(screen, 'iotlab/v1/kits/+/telemetry');
    expect(readable.granted[0]?.qos).toBe(1);

    const before = await storedCount('kit-a');
    await screen.publishAsync(
      kitTopic('kit-a', 'telemetry'),
      JSON.stringify({ readings: { temperature: 99 } }),
      {
        qos: 1,
      },
    );
    await screen.publishAsync(
      kitTopic('kit-a', 'commands'),
      JSON.stringify({ command: 'heater', value: 'on' }),
      {
        qos: 1,
      },
    );
    // A marker through the watcher's own scopes: once it is seen, the screen's two came before it.
    await watching.publishAsync(kitTopic('kit-a', 'events'), JSON.stringify({ event: 'marker' }), { qos: 1 });
    await seen.next(1);
    const written = seen.messages.map((m) => m.topic).filter((topic) => !topic.endsWith('/status'));
    expect(written).toEqual([kitTopic('kit-a', 'events')]);
    expect(await storedCount('kit-a')).toBe(before);
    expect(await lab.platform.store.seriesNames('kit-a')).not.toContain('@command.heater');
    await expect(
      connect(lab.mqttUrl, { username: 'kit-a@wall-screen', password: viewer.secret }),
    ).rejects.toThrow(/Bad username or password/i);
  });

  it('keeps live grading and leaderboards the platform’s own, whatever scopes a service has', async () => {
    const full = await lab.addService('forger');
    const forger = await connect(lab.mqttUrl, { username: full.username, password: full.secret });
    open.push(forger);
    const topics = [
      'iotlab/v1/attempts/a1/grading',
      'iotlab/v1/sessions/s1/leaderboard',
      kitTopic('kit-a', 'status'),
    ];
    for (const topic of topics) {
      await forger.publishAsync(topic, JSON.stringify({ total: 100 }), { qos: 1, retain: true });
    }
    // A newcomer finds no retained forgery on any of them.
    const reader = await connect(lab.mqttUrl, { username: full.username, password: full.secret });
    open.push(reader);
    const forged = await collect(reader, 'iotlab/v1/+/+/+');
    // Retained messages come right after the subscription; a marker published now comes after them.
    await forger.publishAsync('iotlab/v1/notes/forger/marker', JSON.stringify({ marker: true }), { qos: 1 });
    await eventually(async () => forged.json().some((body) => body.marker === true), 5_000, 'the marker');
    expect(forged.json().filter((body) => body.total === 100)).toEqual([]);
  });
});
