import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kitTopic } from '../../protocol/index.ts';
import { collect, connect, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

describe('sandbox for a first MQTT lesson', () => {
  let lab: TestPlatform;
  beforeAll(async () => {
    lab = await startTestPlatform({ mqtt: { sandbox: true, sandboxPrefix: 'lesson1' } });
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
});
