import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  type PtyPair,
  SimulatedSerialKit,
  type SimulatedSerialKitOptions,
  startPtyPair,
} from '../../firmware-sim/index.ts';
import { type GatewayStatus, SerialGateway } from '../../gateway/index.ts';
import { gatewayStatusTopic, kitTopic } from '../../protocol/index.ts';
import { collect, connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

const DAY = 86_400_000;

describeWithServer('socat', 'serial gateway with simulated Arduino kits on ptys', () => {
  let lab: TestPlatform;
  let gatewaySecret: string;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    lab = await startTestPlatform();
    gatewaySecret = (await lab.addService('lab-pc')).secret;
    for (const kit of ['uno-01', 'uno-02', 'uno-03', 'uno-04', 'uno-05', 'uno-06']) await lab.addKit(kit);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await lab?.close();
  });

  async function pty(): Promise<PtyPair> {
    const pair = await startPtyPair();
    cleanups.push(() => pair.stop());
    return pair;
  }

  async function gateway(
    ports: { path: string; kitId?: string }[],
    identifyTimeoutMs = 5_000,
  ): Promise<SerialGateway> {
    const outboxDir = mkdtempSync(join(tmpdir(), 'iotlab-outbox-'));
    const gw = new SerialGateway({
      service: { name: 'lab-pc', secret: gatewaySecret },
      brokerUrl: lab.mqttUrl,
      ports,
      scanUsb: false,
      baudRate: 115200,
      outboxDir,
      scanIntervalMs: 200,
      statusIntervalMs: 300,
      identifyTimeoutMs,
    });
    await gw.start();
    cleanups.push(async () => {
      await gw.stop();
      rmSync(outboxDir, { recursive: true, force: true });
    });
    return gw;
  }

  async function serialKit(kitId: string, path: string, options: Partial<SimulatedSerialKitOptions> = {}) {
    const kit = new SimulatedSerialKit({
      kitId,
      path,
      intervalMs: 50,
      readings: (_now, seq) => ({ temperature: 20 + (seq % 10) / 10, humidity: 50 }),
      ...options,
    });
    await kit.start();
    cleanups.push(() => kit.stop());
    return kit;
  }

  const stored = (kitId: string, sensor?: string) =>
    lab.platform.store.count({
      kitId,
      from: Date.now() - DAY,
      to: Date.now() + DAY,
      ...(sensor ? { sensor } : {}),
    });

  it('reads a kit that announces itself and stores every line', async () => {
    const pair = await pty();
    const gw = await gateway([{ path: pair.a }]);
    const kit = await serialKit('uno-01', pair.b, { format: 'plotter' });
    await eventually(async () => (await stored('uno-01', 'temperature')) >= 20, 10_000, '20 readings');
    await kit.stop();
    await eventually(
      async () => (await stored('uno-01', 'temperature')) === kit.sent,
      5_000,
      'every line stored',
    );
    const port = gw.status().ports[0];
    expect(port).toMatchObject({
      kitId: 'uno-01',
      identifiedBy: 'metadata',
      firmware: 'iotlab-sim-uno/0.1',
      linesBad: 0,
    });
    expect(port?.linesGood).toBe(kit.sent + 1); // the readings lines and the "# kit=" line
    expect(lab.platform.broker.kitStatus('uno-01')).toMatchObject({ online: true });
  });

  it('uses the configured port → kit mapping when the sketch does not say', async () => {
    const pair = await pty();
    await gateway([{ path: pair.a, kitId: 'uno-02' }]);
    await serialKit('uno-02', pair.b, { announce: false, format: 'keyvalue' });
    await eventually(async () => (await stored('uno-02')) >= 10, 10_000, 'readings of the mapped kit');
  });

  it('reports an unknown board, keeps its first lines, and sends them once it says who it is', async () => {
    const pair = await pty();
    const watcherAccount = await lab.addService('gw-watcher');
    const watcher: MqttClient = await connect(lab.mqttUrl, {
      username: watcherAccount.username,
      password: watcherAccount.secret,
    });
    cleanups.push(() => watcher.endAsync());
    const statuses = await collect(watcher, gatewayStatusTopic('lab-pc'));
    const gw = await gateway([{ path: pair.a }], 300);
    const kit = await serialKit('uno-03', pair.b, { announce: false });
    await eventually(
      () => (gw.status().ports[0]?.linesGood ?? 0) >= 5,
      5_000,
      'lines from the unknown board',
    );
    await eventually(
      () =>
        statuses
          .json()
          .some((s) =>
            (s as unknown as GatewayStatus).ports?.some((p) => p.kitId === null && p.linesGood > 0),
          ),
      5_000,
      'the gateway status to show the unidentified port',
    );
    expect(await stored('uno-03')).toBe(0);
    const before = kit.sent;
    kit.writeRaw('# kit=uno-03 fw=late-1.0\r\n');
    await eventually(
      async () => (await stored('uno-03', 'temperature')) >= before,
      5_000,
      'the kept lines delivered',
    );
  });

  it('drops garbage, non-UTF-8, over-long and partial lines, counts them, and keeps reading', async () => {
    const pair = await pty();
    const gw = await gateway([{ path: pair.a }]);
    const kit = await serialKit('uno-04', pair.b, { intervalMs: 100 });
    await eventually(async () => (await stored('uno-04', 'temperature')) >= 3, 5_000, 'first readings');
    kit.writeRaw(Buffer.from([0xff, 0xfe, 0x80, 0x0d, 0x0a])); // not UTF-8
    kit.writeRaw('temp@@##!!\r\n'); // noise
    kit.writeRaw(`${'x'.repeat(10_000)}\r\n`); // 10 kB without a newline
    kit.writeRaw('{"temperature":2\r\n'); // a line cut short
    const sentBefore = kit.sent;
    await eventually(
      async () => (await stored('uno-04', 'temperature')) >= sentBefore + 5,
      5_000,
      'readings after the garbage',
    );
    const port = gw.status().ports[0];
    expect(port?.linesBad).toBe(4);
    expect(port?.problems).toMatchObject({ NOT_UTF8: 1, UNRECOGNISED_LINE: 1, NOT_JSON: 1 });
    expect(port?.droppedBytes).toBeGreaterThanOrEqual(10_000);
    expect(port?.state).toBe('open');
  });

  it('recovers from unplug and replug, and marks the kit offline meanwhile', async () => {
    const pair = await pty();
    const gw = await gateway([{ path: pair.a }]);
    let kit = await serialKit('uno-05', pair.b);
    await eventually(async () => (await stored('uno-05')) >= 5, 5_000, 'readings before the unplug');
    await kit.stop();
    await pair.unplug();
    await eventually(() => gw.status().ports.length === 0, 5_000, 'the gateway to notice the unplug');
    await eventually(
      () => lab.platform.broker.kitStatus('uno-05')?.online === false,
      5_000,
      'the kit to be offline',
    );

    const replug = await startPtyPair({ linkA: pair.a, linkB: pair.b });
    cleanups.push(() => replug.unplug());
    // The gateway scans every 200 ms here (500 ms by default): the port is back well within 2 s.
    await eventually(() => gw.status().ports[0]?.state === 'open', 5_000, 'the port reopened');
    kit = await serialKit('uno-05', replug.b);
    const before = await stored('uno-05');
    await eventually(async () => (await stored('uno-05')) > before, 5_000, 'readings after the replug');
    expect(lab.platform.broker.kitStatus('uno-05')?.online).toBe(true);
  });

  it('passes a command from the kit command topic down the serial line', async () => {
    const pair = await pty();
    await gateway([{ path: pair.a }]);
    const kit = await serialKit('uno-06', pair.b);
    await eventually(() => lab.platform.broker.kitStatus('uno-06')?.online === true, 5_000, 'the kit online');
    const ops = await lab.addService('ops-console');
    const console = await connect(lab.mqttUrl, { username: ops.username, password: ops.secret });
    cleanups.push(() => console.endAsync());
    await console.publishAsync(
      kitTopic('uno-06', 'commands'),
      JSON.stringify({ command: 'led', value: 1, id: 'c1' }),
      {
        qos: 1,
      },
    );
    await eventually(() => kit.commands.length === 1, 5_000, 'the command on the serial line');
    expect(kit.commands[0]).toEqual({ command: 'led', value: 1, id: 'c1' });
  });
});
