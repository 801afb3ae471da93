/**
 * The MQTT 3.1.1 behaviours a client relies on, checked on the platform's broker with kit auth, the
 * topic ACL and the sandbox on (free topics for anonymous clients under `sandbox/`; a service
 * account where a test needs `#`). Clients use small keep-alives: the idle limit is 3 s × 1.5 here.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import {
  connectPacket,
  disconnectPacket,
  publishPacket,
  RawClient,
  type RawConnect,
  subscribePacket,
} from './raw-mqtt.ts';

const KEEPALIVE_LIMIT = 3;
let lab: TestPlatform;
const open: { end(): unknown }[] = [];

beforeAll(async () => {
  lab = await startTestPlatform({ mqtt: { sandbox: true, keepaliveLimit: KEEPALIVE_LIMIT } });
});
afterEach(() => {
  for (const client of open.splice(0)) client.end();
});
afterAll(async () => {
  await lab.close();
});

/** An MQTT 3.1.1 client with a 2 s keep-alive (anonymous: a sandbox client, unless credentials are given). */
async function client(options: IClientOptions = {}): Promise<MqttClient> {
  const connected = await connect(lab.mqttUrl, { protocolVersion: 4, keepalive: 2, ...options });
  open.push({ end: () => connected.end(true) });
  return connected;
}

/** A raw connection that sent CONNECT and got its CONNACK. */
async function raw(options: RawConnect): Promise<RawClient> {
  const connection = await RawClient.connect(lab.platform.ports.mqtt, options);
  open.push({ end: () => connection.destroy() });
  return connection;
}

/** Resolves with the CONNACK's session-present flag of a new mqtt.js connection. */
function sessionPresent(options: IClientOptions): Promise<{ client: MqttClient; sessionPresent: boolean }> {
  const connection = mqtt.connect(lab.mqttUrl, {
    protocolVersion: 4,
    keepalive: 2,
    reconnectPeriod: 0,
    ...options,
  });
  open.push({ end: () => connection.end(true) });
  return new Promise((resolve, reject) => {
    connection.once('connect', (connack) =>
      resolve({ client: connection, sessionPresent: connack.sessionPresent }),
    );
    connection.once('error', reject);
  });
}

/** Publishes a marker on `topic` and waits for it: everything published before it has arrived too. */
async function settle(publisher: MqttClient, inbox: Awaited<ReturnType<typeof collect>>, topic: string) {
  const before = inbox.messages.length;
  await publisher.publishAsync(topic, 'marker', { qos: 1 });
  await eventually(
    () => inbox.messages.slice(before).some((m) => m.topic === topic && m.payload.toString() === 'marker'),
    5_000,
    'the marker',
  );
}

describe('publish and subscribe', () => {
  it.each([0, 1, 2] as const)('delivers a QoS %i message once, at the QoS it was sent with', async (qos) => {
    const subscriber = await client();
    const packets: { payload: string; qos: number }[] = [];
    subscriber.on('message', (topic, payload, packet) => {
      if (topic === `sandbox/qos/${qos}`) packets.push({ payload: payload.toString(), qos: packet.qos });
    });
    await subscriber.subscribeAsync(`sandbox/qos/${qos}`, { qos: 2 });
    const publisher = await client();
    await publisher.publishAsync(`sandbox/qos/${qos}`, `hello at ${qos}`, { qos });
    await eventually(() => packets.length === 1, 5_000, 'the message');
    const inbox = await collect(subscriber, 'sandbox/qos/marker');
    await settle(publisher, inbox, 'sandbox/qos/marker');
    expect(packets).toEqual([{ payload: `hello at ${qos}`, qos }]);
  });

  it('downgrades to the QoS of the subscription', async () => {
    const subscriber = await client();
    const qos: number[] = [];
    subscriber.on('message', (_topic, _payload, packet) => qos.push(packet.qos));
    await subscriber.subscribeAsync('sandbox/down', { qos: 0 });
    const publisher = await client();
    await publisher.publishAsync('sandbox/down', 'x', { qos: 2 });
    await eventually(() => qos.length === 1, 5_000, 'the message');
    expect(qos).toEqual([0]);
  });

  /** The QoS of each copy of one message that matches a QoS 0 and a QoS 1 subscription of one client. */
  async function overlappingCopies(name: string): Promise<number[]> {
    const subscriber = await client();
    const received: number[] = [];
    subscriber.on('message', (topic, _payload, packet) => {
      if (topic === `sandbox/${name}/a`) received.push(packet.qos);
    });
    await subscriber.subscribeAsync({ [`sandbox/${name}/#`]: { qos: 0 }, [`sandbox/${name}/+`]: { qos: 1 } });
    const publisher = await client();
    await publisher.publishAsync(`sandbox/${name}/a`, 'x', { qos: 1 });
    const inbox = await collect(subscriber, `sandbox/${name}-marker`);
    await settle(publisher, inbox, `sandbox/${name}-marker`);
    return received;
  }

  it('delivers a message matching overlapping subscriptions once', async () => {
    expect(await overlappingCopies('overlap')).toHaveLength(1);
  });

  // MQTT-3.3.5-1 wants the highest QoS of the matching subscriptions; Aedes 1.2 uses the first
  // one's (moscajs/aedes#1074, open). A kit never has overlapping subscriptions (no wildcards).
  it.fails('…at the highest QoS of the matching subscriptions (known Aedes gap, aedes#1074)', async () => {
    expect(await overlappingCopies('overlap-qos')).toEqual([1]);
  });

  it('stops delivering after UNSUBSCRIBE', async () => {
    const subscriber = await client();
    const inbox = await collect(subscriber, 'sandbox/unsub/+');
    const publisher = await client();
    await publisher.publishAsync('sandbox/unsub/before', 'x', { qos: 1 });
    await inbox.next(1);
    await subscriber.unsubscribeAsync('sandbox/unsub/+');
    await publisher.publishAsync('sandbox/unsub/after', 'x', { qos: 1 });
    const marker = await collect(subscriber, 'sandbox/unsub-marker');
    await settle(publisher, marker, 'sandbox/unsub-marker');
    expect(inbox.messages.map((m) => m.topic)).toEqual(['sandbox/unsub/before']);
  });

  it('does not match $ topics with # or +, only with a filter that names them', async () => {
    // One client per filter: a message is then known to match the filter of the client that got it.
    const account = await lab.addService('conformance-ops');
    const ops = () => client({ username: account.username, password: account.secret });
    const everything = await collect(await ops(), '#');
    const plus = await collect(await ops(), '+/+/+/clients');
    const sys = await collect(await ops(), '$SYS/+/new/clients');
    await client({ clientId: 'a-new-client' }); // the broker announces it on $SYS/<id>/new/clients
    await eventually(() => sys.messages.some((m) => m.payload.toString() === 'a-new-client'), 5_000, '$SYS');
    expect([...everything.messages, ...plus.messages].filter((m) => m.topic.startsWith('$'))).toEqual([]);
  });

  it('refuses one filter of a SUBSCRIBE with 0x80 and grants the others', async () => {
    const connection = await raw({ clientId: 'refused-filter' });
    connection.send(
      subscribePacket(7, [
        ['sandbox/ok', 1],
        ['iotlab/v1/kits/+/telemetry', 1],
        ['#', 0],
      ]),
    );
    const suback = await connection.next('suback');
    expect(suback).toEqual({ type: 'suback', messageId: 7, granted: [1, 0x80, 0x80] });
    expect(connection.isClosed).toBe(false);
  });
});

describe('retained messages', () => {
  it('gives a new subscriber the last retained message, and nothing once it is cleared', async () => {
    const publisher = await client();
    await publisher.publishAsync('sandbox/retained/t', 'first', { qos: 1, retain: true });
    await publisher.publishAsync('sandbox/retained/t', 'second', { qos: 1, retain: true });
    const reader = await client();
    const inbox = await collect(reader, 'sandbox/retained/t');
    await inbox.next(1);
    expect(inbox.messages).toMatchObject([{ retain: true }]);
    expect(inbox.messages[0]?.payload.toString()).toBe('second');

    // A live message to an existing subscriber is not marked retained (MQTT-3.3.1-9).
    await publisher.publishAsync('sandbox/retained/t', 'third', { qos: 1, retain: true });
    await inbox.next(2);
    expect(inbox.messages[1]?.retain).toBe(false);

    await publisher.publishAsync('sandbox/retained/t', '', { qos: 1, retain: true });
    const later = await client();
    const nothing = await collect(later, 'sandbox/retained/+');
    await settle(publisher, nothing, 'sandbox/retained/marker');
    expect(nothing.messages.map((m) => m.topic)).toEqual(['sandbox/retained/marker']);
  });
});

describe('last will', () => {
  it('is published when the connection breaks, not after a DISCONNECT', async () => {
    const watcher = await client();
    const wills = await collect(watcher, 'sandbox/will/+');
    const will = (name: string) => ({
      topic: `sandbox/will/${name}`,
      payload: `${name} gone`,
      qos: 1 as const,
    });
    const polite = await raw({ clientId: 'polite', will: will('polite') });
    const vanished = await raw({ clientId: 'vanished', will: will('vanished') });
    polite.send(disconnectPacket());
    await polite.closed;
    vanished.destroy();
    await wills.next(1);
    const publisher = await client();
    await settle(publisher, wills, 'sandbox/will/marker');
    expect(wills.messages.map((m) => m.payload.toString())).toEqual(['vanished gone', 'marker']);
  });

  it('is published when the client lets its keep-alive expire', async () => {
    const watcher = await client();
    const wills = await collect(watcher, 'sandbox/will/silent');
    const silent = await raw({
      clientId: 'silent',
      keepalive: 1,
      will: { topic: 'sandbox/will/silent', payload: 'silent gone' },
    });
    await wills.next(1);
    expect(wills.messages[0]?.payload.toString()).toBe('silent gone');
    await silent.closed;
  });
});

describe('persistent sessions', () => {
  it('queues QoS 1 messages while the client is away and delivers them when it is back', async () => {
    const first = await sessionPresent({ clientId: 'persistent-reader', clean: false });
    await first.client.subscribeAsync('sandbox/queue', { qos: 1 });
    await first.client.endAsync();
    const publisher = await client();
    for (const n of [1, 2, 3]) await publisher.publishAsync('sandbox/queue', `m${n}`, { qos: 1 });

    const received: string[] = [];
    const back = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
      const connection = mqtt.connect(lab.mqttUrl, {
        protocolVersion: 4,
        keepalive: 2,
        reconnectPeriod: 0,
        clientId: 'persistent-reader',
        clean: false,
      });
      open.push({ end: () => connection.end(true) });
      connection.on('message', (_topic, payload) => received.push(payload.toString()));
      connection.once('connect', (connack) => resolve(connack));
      connection.once('error', reject);
    });
    expect(back.sessionPresent).toBe(true);
    await eventually(() => received.length === 3, 5_000, 'the queued messages');
    expect(received).toEqual(['m1', 'm2', 'm3']);
  });

  /** A QoS 1 message delivered to a persistent session that never acknowledged it, and its redelivery. */
  async function unacknowledged(clientId: string) {
    const session = { clientId, clean: false };
    const first = await raw(session);
    first.send(subscribePacket(1, [[`sandbox/${clientId}`, 1]]));
    await first.next('suback');
    const publisher = await client();
    await publisher.publishAsync(`sandbox/${clientId}`, 'important', { qos: 1 });
    const delivered = await first.next('publish');
    first.destroy(); // no PUBACK
    await first.closed;
    const second = await raw(session);
    return { delivered, again: await second.next('publish') };
  }

  it('sends an unacknowledged QoS 1 message again on reconnect, with its packet id', async () => {
    const { delivered, again } = await unacknowledged('forgetful');
    expect(again).toMatchObject({ topic: 'sandbox/forgetful', qos: 1, messageId: delivered.messageId });
    expect(again.payload.toString()).toBe('important');
  });

  // MQTT-3.3.1-1 wants DUP set on a redelivery; Aedes 1.2 resends the stored packet as it was
  // (moscajs/aedes#601, open). Clients must not rely on DUP for QoS 1 anyway: it may be a duplicate either way.
  it.fails('…marked DUP (known Aedes gap, aedes#601)', async () => {
    const { again } = await unacknowledged('forgetful-dup');
    expect(again.dup).toBe(true);
  });

  it('starts clean when asked, without the old subscriptions', async () => {
    const old = await sessionPresent({ clientId: 'fresh-start', clean: false });
    await old.client.subscribeAsync('sandbox/fresh', { qos: 1 });
    await old.client.endAsync();
    const fresh = await sessionPresent({ clientId: 'fresh-start', clean: true });
    expect(fresh.sessionPresent).toBe(false);
  });
});

describe('client ids', () => {
  it('gives clients with an empty client id and a clean session an id of their own', async () => {
    const a = await raw({ clientId: '', clean: true });
    const b = await raw({ clientId: '', clean: true });
    a.send(subscribePacket(1, [['sandbox/anonymous-ids', 0]]));
    await a.next('suback');
    b.send(publishPacket('sandbox/anonymous-ids', 'from b'));
    const received = await a.next('publish');
    expect(received.payload.toString()).toBe('from b');
    expect(a.isClosed || b.isClosed).toBe(false); // neither took the other's place
  });

  it('refuses an empty client id without a clean session with CONNACK 2 (MQTT-3.1.3-8)', async () => {
    const connection = await RawClient.open(lab.platform.ports.mqtt);
    open.push({ end: () => connection.destroy() });
    connection.send(connectPacket({ clientId: '', clean: false }));
    expect(await connection.next('connack')).toMatchObject({ returnCode: 2 });
    await connection.closed;
  });
});

describe('keep-alive', () => {
  it.each([0, KEEPALIVE_LIMIT + 1, 65535])('accepts a keep-alive of %i s', async (keepalive) => {
    const connection = await RawClient.open(lab.platform.ports.mqtt);
    open.push({ end: () => connection.destroy() });
    connection.send(connectPacket({ clientId: `keepalive-${keepalive}`, keepalive }));
    expect(await connection.next('connack')).toMatchObject({ returnCode: 0 });
  });

  it('disconnects a client silent for longer than the idle limit, whatever its keep-alive, and sends its will', async () => {
    const watcher = await client();
    const wills = await collect(watcher, 'sandbox/idle/+');
    const silent = await raw({
      clientId: 'idle-silent',
      keepalive: 0,
      will: { topic: 'sandbox/idle/silent', payload: 'gone quiet' },
    });
    const chatty = await raw({
      clientId: 'idle-chatty',
      keepalive: 0,
      will: { topic: 'sandbox/idle/chatty', payload: 'should not happen' },
    });
    const chatting = setInterval(() => chatty.send(publishPacket('sandbox/chat', 'still here')), 500);
    try {
      await wills.next(1, 10_000);
      await silent.closed;
      expect(wills.messages.map((m) => m.payload.toString())).toEqual(['gone quiet']);
      expect(chatty.isClosed).toBe(false);
    } finally {
      clearInterval(chatting);
    }
  });
});
