/**
 * Packet size limits at the transport: a client announcing a packet the broker would have to
 * buffer whole (250 MB CONNECTs took the platform from 0.2 to 2.2 GB) is closed as soon as the
 * packet's fixed header says how big it is — over TCP, WebSocket (TLS: tests/broker/tls.test.ts).
 */
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { kitTopic } from '../../protocol/index.ts';
import { collect, connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import {
  announceConnect,
  announcePublish,
  connectPacket,
  publishPacket,
  RawClient,
  streamUntilClosed,
} from './raw-mqtt.ts';

const HOUR = 3_600_000;
const MB = 1024 * 1024;
let lab: TestPlatform;
let kitSecret: string;
const open: { end(): unknown }[] = [];

beforeAll(async () => {
  lab = await startTestPlatform({ mqtt: { sandbox: true } });
  kitSecret = await lab.addKit('steady-kit');
});
afterEach(() => {
  for (const client of open.splice(0)) client.end();
});
afterAll(async () => {
  await lab.close();
});

const mqttPort = () => lab.platform.ports.mqtt;

async function rawClient(): Promise<RawClient> {
  const client = await RawClient.open(mqttPort());
  open.push({ end: () => client.destroy() });
  return client;
}

describe('the broker reads no more of an oversized packet than its header', () => {
  it('closes a connection announcing a 250 MB CONNECT while the client is still sending it', async () => {
    const client = await rawClient();
    const sent = await streamUntilClosed(client, announceConnect(250 * MB), 64 * MB);
    expect(sent).toBeLessThan(64 * MB);
    await client.closed;
  });

  it('closes a connection whose first packet is not a CONNECT', async () => {
    const client = await rawClient();
    client.send(publishPacket('sandbox/x', 'hello'));
    await client.closed;
  });

  it('closes a sandbox client announcing a huge PUBLISH after a valid CONNECT', async () => {
    const client = await rawClient();
    client.send(connectPacket({ clientId: 'big-sandbox-publisher' }));
    expect((await client.next('connack')).returnCode).toBe(0);
    const sent = await streamUntilClosed(client, announcePublish(100 * MB), 64 * MB);
    expect(sent).toBeLessThan(64 * MB);
    await client.closed;
  });

  it('closes a kit announcing a huge PUBLISH after a valid CONNECT', async () => {
    const client = await rawClient();
    client.send(connectPacket({ clientId: 'big-kit', username: 'steady-kit', password: kitSecret }));
    expect((await client.next('connack')).returnCode).toBe(0);
    const sent = await streamUntilClosed(client, announcePublish(100 * MB), 64 * MB);
    expect(sent).toBeLessThan(64 * MB);
    await client.closed;
  });

  it('lets a platform service publish a full-size payload on a long non-kit topic', async () => {
    const service = await lab.addService('big-flow');
    const flow = await connect(lab.mqttUrl, { username: service.username, password: service.secret });
    open.push(flow);
    const inbox = await collect(flow, 'flows/#');
    const topic = `flows/${'x'.repeat(200)}/dashboard`;
    const payload = Buffer.alloc(lab.platform.config.mqtt.maxPayloadBytes, 0x62);
    await flow.publishAsync(topic, payload, { qos: 1 });
    await inbox.next(1);
    expect(inbox.messages[0]?.payload.length).toBe(payload.length);
    expect(flow.connected).toBe(true);
  });

  it('closes a WebSocket client announcing a huge CONNECT, however it splits the bytes', async () => {
    const socket = new WebSocket(lab.wsUrl, 'mqtt');
    open.push({ end: () => socket.terminate() });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    socket.send(announceConnect(250 * MB));
    let sent = 0;
    while (sent < 64 * MB && socket.readyState === WebSocket.OPEN) {
      const error = await new Promise<Error | undefined>((resolve) => socket.send(chunk, resolve));
      if (error) break;
      sent += chunk.length;
    }
    expect(sent).toBeLessThan(64 * MB);
    await closed;
  });

  it('refuses one huge WebSocket message before reading it whole (the WebSocket layer holds whole messages)', async () => {
    const socket = new WebSocket(lab.wsUrl, 'mqtt');
    open.push({ end: () => socket.terminate() });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(Buffer.alloc(MB / 2, 0x61));
    // 1009: message too big — the server stopped at its limit, it did not take half a megabyte in.
    expect(await closed).toBe(1009);
  });

  it('keeps its memory while several clients stream huge packets, and a kit keeps publishing', async () => {
    const kit: MqttClient = await connect(lab.mqttUrl, {
      clientId: 'steady-kit',
      username: 'steady-kit',
      password: kitSecret,
    });
    open.push(kit);
    let published = 0;
    let publishing = true;
    const flowing = (async () => {
      while (publishing) {
        await kit.publishAsync(
          kitTopic('steady-kit', 'telemetry'),
          JSON.stringify({ seq: published, readings: { temperature: 21 } }),
          { qos: 1 },
        );
        published++;
      }
    })();

    const before = process.memoryUsage().rss;
    const attackers = await Promise.all(Array.from({ length: 8 }, () => rawClient()));
    // Half announce a huge CONNECT; half connect properly, then announce a huge PUBLISH.
    const streamed = await Promise.all(
      attackers.map(async (client, i) => {
        if (i % 2 === 0) return streamUntilClosed(client, announceConnect(250 * MB), 32 * MB);
        client.send(connectPacket({ clientId: `attacker-${i}` }));
        await client.next('connack');
        return streamUntilClosed(client, announcePublish(250 * MB), 32 * MB);
      }),
    );
    const grown = process.memoryUsage().rss - before;
    publishing = false;
    await flowing;

    for (const sent of streamed) expect(sent).toBeLessThan(32 * MB);
    expect(grown).toBeLessThan(16 * MB);
    expect(published).toBeGreaterThan(0);
    await eventually(
      async () =>
        (await lab.platform.store.count({
          kitId: 'steady-kit',
          from: Date.now() - HOUR,
          to: Date.now() + HOUR,
        })) === published,
      5_000,
      'every reading of the steady kit',
    );
  });
});
