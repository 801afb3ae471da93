import { afterAll, expect, it } from 'vitest';
import { SimulatedSerialKit, startPtyPair } from '../../firmware-sim/index.ts';
import { eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

describeWithServer('socat', 'the gateway inside `iotlab start` (one-machine install)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('reads a USB kit on a configured port and stores its readings, with no credentials to set up', async () => {
    const pair = await startPtyPair();
    cleanups.push(() => pair.stop());
    const lab: TestPlatform = await startTestPlatform({
      gateway: { enabled: true, scanUsb: false, ports: [{ path: pair.a }] },
    });
    cleanups.push(() => lab.close());
    await lab.addKit('bench-uno');
    const kit = new SimulatedSerialKit({
      kitId: 'bench-uno',
      path: pair.b,
      intervalMs: 100,
      format: 'plotter',
      readings: () => ({ distance: 87, motion: 0 }),
    });
    await kit.start();
    cleanups.push(() => kit.stop());
    await eventually(
      async () => (await lab.platform.store.latest('bench-uno')).distance?.value === 87,
      10_000,
      'the USB kit reading in the store',
    );
    expect(lab.platform.gateway?.status().ports[0]).toMatchObject({
      kitId: 'bench-uno',
      identifiedBy: 'metadata',
    });
    expect(lab.platform.broker.kitStatus('bench-uno')).toMatchObject({ online: true });
  });
});
