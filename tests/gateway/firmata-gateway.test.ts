import { SerialPort } from 'serialport';
import { afterAll, expect, it } from 'vitest';
import { FirmataBoardEmulator, startPtyPair } from '../../firmware-sim/index.ts';
import { kitTopic } from '../../protocol/index.ts';
import { connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

describeWithServer('socat', 'a Firmata board through the gateway', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('publishes the pin map readings as the kit and applies commands to outputs', async () => {
    const pair = await startPtyPair();
    cleanups.push(() => pair.stop());
    const boardPort = new SerialPort({ path: pair.b, baudRate: 57_600, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      boardPort.open((error) => (error ? reject(error) : resolve())),
    );
    let light = 700;
    const board = new FirmataBoardEmulator(boardPort, {
      analogValue: (channel) => (channel === 0 ? light : 0),
      digitalValue: (pin) => (pin === 7 ? 1 : 0),
    });
    cleanups.push(async () => {
      board.close();
      if (boardPort.isOpen) await new Promise((resolve) => boardPort.close(resolve));
    });

    const lab: TestPlatform = await startTestPlatform({
      gateway: {
        enabled: true,
        scanUsb: false,
        ports: [
          {
            path: pair.a,
            mode: 'firmata',
            kitId: 'firmata-01',
            sampleIntervalMs: 200,
            pinMap: {
              A0: { sensor: 'light', scale: [0, 1023, 0, 1000] },
              D7: { sensor: 'motion' },
              D13: { actuator: 'led' },
            },
          },
        ],
      },
    });
    cleanups.push(() => lab.close());
    await lab.addKit('firmata-01');

    const latest = async () => lab.platform.store.latest('firmata-01');
    await eventually(
      async () => Math.round((await latest()).light?.value ?? -1) === 684,
      15_000,
      'the light reading',
    );
    expect((await latest()).motion?.value).toBe(1);
    expect((await latest()).led?.value).toBe(0);
    light = 100;
    await eventually(
      async () => Math.round((await latest()).light?.value ?? -1) === 98,
      5_000,
      'a changed reading',
    );

    const ops = await lab.addService('firmata-ops');
    const client = await connect(lab.mqttUrl, { username: ops.username, password: ops.secret });
    cleanups.push(() => client.endAsync());
    await client.publishAsync(
      kitTopic('firmata-01', 'commands'),
      JSON.stringify({ command: 'led', value: 'on' }),
      {
        qos: 1,
      },
    );
    await eventually(() => board.output(13)?.value === 1, 5_000, 'D13 switched on');
    await eventually(async () => (await latest()).led?.value === 1, 5_000, 'led=1 in the readings');
    expect(lab.platform.gateway?.status().ports[0]).toMatchObject({
      kitId: 'firmata-01',
      identifiedBy: 'config',
    });
  }, 40_000);
});
