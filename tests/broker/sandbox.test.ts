import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kitTopic } from '../../protocol/index.ts';
import { collect, connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

/** The retained messages a new subscriber to `filter` gets, once they stop coming. */
async function retainedUnder(url: string, filter: string, expected: number): Promise<Map<string, string>> {
  const reader = await connect(url);
  try {
    const inbox = await collect(reader, filter);
    await eventually(() => inbox.messages.length >= expected, 5_000, `${expected} retained messages`);
    await new Promise((resolve) => setTimeout(resolve, 200)); // and no more than that
    return new Map(inbox.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload.toString()]));
  } finally {
    await reader.endAsync();
  }
}

describe('sandbox for a first MQTT lesson', () => {
  let lab: TestPlatform;
  beforeAll(async () => {
    lab = await startTestPlatform({
      mqtt: { sandbox: true, sandboxPrefix: 'lesson1', sandboxMaxRetained: 5, sandboxMaxRetainedBytes: 256 },
    });
    await lab.addKit('real-kit');
  });
  afterAll(async () => {
    await lab.close();
  });

  it('lets anyone publish and subscribe under the sandbox prefix without credentials', async () => {
    const alice = await connect(lab.mqttUrl, { clientId: 'alice' });
    const bob = await connect(lab.wsUrl, { clientId: 'bob' });
    const inbox = await collect(bob, 'lesson1/#');
    await alice.publishAsync('lesson1/alice/hello', '{"readings":{"temperature":21}}', { qos: 1 });
    await inbox.next(1);
    expect(inbox.messages[0]?.payload.toString()).toBe('{"readings":{"temperature":21}}');
    await Promise.all([alice.endAsync(), bob.endAsync()]);
  });

  it('keeps sandbox clients away from kit topics and stores nothing of theirs', async () => {
    const anonymous = await connect(lab.mqttUrl, { clientId: 'mallory' });
    let refusedQos = -1;
    await anonymous
      .subscribeAsync(kitTopic('real-kit', 'commands'))
      .catch((error: { packet?: { granted?: number[] } }) => {
        refusedQos = error.packet?.granted?.[0] ?? -1;
      });
    expect(refusedQos).toBe(128);
    // Publishing outside the sandbox closes the connection (MQTT 3.1.1 has no way to refuse one message).
    const closed = new Promise<void>((resolve) => anonymous.once('close', () => resolve()));
    anonymous.publish(kitTopic('real-kit', 'telemetry'), '{"readings":{"temperature":99}}', { qos: 1 });
    await closed;
    await lab.platform.writer.flush();
    expect(await lab.platform.store.count({ kitId: 'real-kit', from: 0, to: Date.now() + 60_000 })).toBe(0);
    anonymous.end(true);
  });

  describe('retained messages under the prefix', () => {
    let student: MqttClient;
    beforeAll(async () => {
      student = await connect(lab.mqttUrl, { clientId: 'retaining-student' });
    });
    afterAll(async () => {
      await student.endAsync();
    });

    it('keeps at most the configured number; later topics are delivered but not retained', async () => {
      const live = await connect(lab.mqttUrl);
      const inbox = await collect(live, 'lesson1/count/#');
      for (let i = 0; i < 8; i++)
        await student.publishAsync(`lesson1/count/${i}`, `v${i}`, { qos: 1, retain: true });
      await inbox.next(8);
      await live.endAsync();
      const kept = await retainedUnder(lab.mqttUrl, 'lesson1/count/#', 5);
      expect([...kept.keys()].sort()).toEqual([0, 1, 2, 3, 4].map((i) => `lesson1/count/${i}`));
      // Replacing a kept one is fine; clearing one makes room for another.
      await student.publishAsync('lesson1/count/0', 'new', { qos: 1, retain: true });
      await student.publishAsync('lesson1/count/1', '', { qos: 1, retain: true });
      await student.publishAsync('lesson1/count/7', 'v7', { qos: 1, retain: true });
      const after = await retainedUnder(lab.mqttUrl, 'lesson1/count/#', 5);
      expect(Object.fromEntries(after)).toEqual({
        'lesson1/count/0': 'new',
        'lesson1/count/2': 'v2',
        'lesson1/count/3': 'v3',
        'lesson1/count/4': 'v4',
        'lesson1/count/7': 'v7',
      });
      for (const topic of after.keys()) await student.publishAsync(topic, '', { qos: 1, retain: true });
    });

    it('does not retain a message over the size limit, but delivers it', async () => {
      const live = await connect(lab.mqttUrl);
      const inbox = await collect(live, 'lesson1/big');
      await student.publishAsync('lesson1/big', 'x'.repeat(1000), { qos: 1, retain: true });
      await inbox.next(1);
      expect(inbox.messages[0]?.payload.length).toBe(1000);
      await live.endAsync();
      await student.publishAsync('lesson1/marker', 'small', { qos: 1, retain: true });
      const kept = await retainedUnder(lab.mqttUrl, 'lesson1/#', 1);
      expect([...kept.keys()]).toEqual(['lesson1/marker']);
      await student.publishAsync('lesson1/marker', '', { qos: 1, retain: true });
    });

    it('closes an anonymous client publishing a 10 MB retained message, and keeps nothing of it', async () => {
      const mallory = await connect(lab.mqttUrl, { clientId: 'retained-flood' });
      const closed = new Promise<void>((resolve) => mallory.once('close', () => resolve()));
      mallory.publish('lesson1/flood', Buffer.alloc(10 * 1024 * 1024, 0x61), { qos: 0, retain: true });
      await closed;
      mallory.end(true);
      await student.publishAsync('lesson1/marker', 'small', { qos: 1, retain: true });
      const kept = await retainedUnder(lab.mqttUrl, 'lesson1/#', 1);
      expect([...kept.keys()]).toEqual(['lesson1/marker']);
      await student.publishAsync('lesson1/marker', '', { qos: 1, retain: true });
    });
  });
});
