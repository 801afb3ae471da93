import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SimulatedSerialKit, startPtyPair } from '../../firmware-sim/index.ts';
import { SerialGateway } from '../../gateway/index.ts';
import { freePort } from '../../harness/index.ts';
import { eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

const DAY = 86_400_000;

describeWithServer('socat', 'gateway outbox across a broker restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-restart-'));
  const outboxDir = mkdtempSync(join(tmpdir(), 'iotlab-outbox-'));
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(outboxDir, { recursive: true, force: true });
  });

  it('delivers every reading, none twice, when the broker restarts under load', async () => {
    const ports = { http: { port: await freePort() }, mqtt: { port: await freePort() }, dataDir };
    let lab: TestPlatform = await startTestPlatform(ports);
    await lab.addKit('uno-restart');
    const gatewaySecret = (await lab.addService('restart-gw')).secret;
    const pair = await startPtyPair();
    const gateway = new SerialGateway({
      service: { name: 'restart-gw', secret: gatewaySecret },
      brokerUrl: lab.mqttUrl,
      ports: [{ path: pair.a }],
      scanUsb: false,
      baudRate: 115200,
      outboxDir,
      scanIntervalMs: 200,
    });
    await gateway.start();
    const kit = new SimulatedSerialKit({
      kitId: 'uno-restart',
      path: pair.b,
      intervalMs: 20, // 50 lines/s
      readings: (_now, seq) => ({ soil_moisture: 30 + (seq % 40) }),
    });
    await kit.start();
    try {
      await eventually(
        () => (gateway.link('uno-restart')?.delivered ?? 0) > 30,
        10_000,
        'readings delivered',
      );
      await lab.close(); // the broker goes away mid-stream…
      await eventually(
        () => (gateway.link('uno-restart')?.pending ?? 0) > 20,
        10_000,
        'readings waiting in the outbox',
      );
      lab = await startTestPlatform(ports); // …and comes back on the same port
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await kit.stop();
      await eventually(() => gateway.link('uno-restart')?.pending === 0, 15_000, 'the outbox to drain');
      const range = { kitId: 'uno-restart', from: Date.now() - DAY, to: Date.now() + DAY };
      await eventually(
        async () => (await lab.platform.store.count({ ...range, sensor: 'soil_moisture' })) >= kit.sent,
        10_000,
        'every reading stored',
      );
      expect(await lab.platform.store.count({ ...range, sensor: 'soil_moisture' })).toBe(kit.sent);
      const seqs = (await lab.platform.store.sequence(range)).map((p) => p.value);
      expect(seqs).toEqual(Array.from({ length: kit.sent }, (_, i) => i));
    } finally {
      await kit.stop();
      await gateway.stop();
      await pair.stop();
      await lab.close();
    }
  }, 60_000);
});
