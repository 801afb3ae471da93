import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startMosquitto } from '../../harness/index.ts';
import { kitTopic } from '../../protocol/index.ts';
import { collect, connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

describeWithServer('mosquitto', 'ingest from an external broker (Mosquitto)', () => {
  let mosquitto: RunningServer;
  let lab: TestPlatform;
  let kit: MqttClient;
  const HOUR = 3_600_000;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    lab = await startTestPlatform({ ingest: { externalBrokerUrl: mosquitto.url } });
    await lab.addKit('ext-kit');
    // On the site's own broker the kit connects however that broker lets it (here: anonymously).
    kit = await connect(mosquitto.url, { clientId: 'ext-kit' });
  }, 30_000);
  afterAll(async () => {
    await kit?.endAsync();
    await lab?.close();
    await mosquitto?.stop();
  });

  it('stores telemetry that registered kits publish on the external broker', async () => {
    for (let seq = 0; seq < 25; seq++) {
      await kit.publishAsync(
        kitTopic('ext-kit', 'telemetry'),
        JSON.stringify({ seq, readings: { soil_moisture: 40 + seq } }),
        { qos: 1 },
      );
    }
    const range = {
      kitId: 'ext-kit',
      sensor: 'soil_moisture',
      from: Date.now() - HOUR,
      to: Date.now() + HOUR,
    };
    await eventually(async () => (await lab.platform.store.count(range)) === 25, 5_000, '25 readings');
    const values = (await lab.platform.store.readings(range)).map((p) => p.value);
    expect(values).toEqual(Array.from({ length: 25 }, (_, i) => 40 + i));
  });

  it('tells an unknown kit and a kit sending garbage why, on the external broker', async () => {
    const unknownErrors = await collect(kit, kitTopic('stranger', 'errors'));
    const kitErrors = await collect(kit, kitTopic('ext-kit', 'errors'));
    await kit.publishAsync(kitTopic('stranger', 'telemetry'), JSON.stringify({ readings: { light: 10 } }), {
      qos: 1,
    });
    await kit.publishAsync(kitTopic('ext-kit', 'telemetry'), 'hello', { qos: 1 });
    await unknownErrors.next(1);
    await kitErrors.next(1);
    expect(unknownErrors.json()[0]).toMatchObject({ code: 'UNKNOWN_KIT', severity: 'refused' });
    expect(kitErrors.json()[0]).toMatchObject({ code: 'NOT_JSON' });
    await lab.platform.writer.flush();
    expect(
      await lab.platform.store.count({ kitId: 'stranger', from: Date.now() - HOUR, to: Date.now() + HOUR }),
    ).toBe(0);
  });
});
