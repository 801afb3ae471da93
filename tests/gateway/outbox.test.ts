import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SimulatedSerialKit, startPtyPair } from '../../firmware-sim/index.ts';
import { SerialGateway } from '../../gateway/index.ts';
import { freePort, spawnIotlab } from '../../harness/index.ts';
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

describeWithServer('socat', 'gateway outbox across a kill -9 of the gateway', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-gw-kill-'));
  const gatewayDir = mkdtempSync(join(tmpdir(), 'iotlab-gw-kill-outbox-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(gatewayDir, { recursive: true, force: true });
  });

  /** The readings waiting in the gateway's on-disk outbox for a kit (seq numbers). */
  const outboxSeqs = (kitId: string): number[] => {
    const dir = join(gatewayDir, 'gateway-outbox', kitId);
    return readdirSync(dir)
      .filter((name) => name.endsWith('.jsonl'))
      .sort()
      .flatMap((name) =>
        readFileSync(join(dir, name), 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .flatMap((line) =>
            (JSON.parse(line) as { seq?: number }[]).map((payload) => payload.seq as number),
          ),
      );
  };

  it('delivers what its outbox held when it was killed, once it runs again', async () => {
    const ports = { http: { port: await freePort() }, mqtt: { port: await freePort() }, dataDir };
    let lab: TestPlatform = await startTestPlatform(ports);
    await lab.addKit('uno-kill');
    const { secret } = await lab.addService('kill-gw', ['read', 'gateway']);
    const pair = await startPtyPair();
    // `iotlab gateway` as its own process, as on a lab PC with USB kits.
    const startGateway = () => {
      const gateway = spawnIotlab({
        command: 'gateway',
        fromSources: true,
        env: {
          IOTLAB_DATA_DIR: gatewayDir,
          IOTLAB_GATEWAY_BROKER_URL: lab.mqttUrl,
          IOTLAB_GATEWAY_NAME: 'kill-gw',
          IOTLAB_GATEWAY_SERVICE_SECRET: secret,
          // The port is the kit's (it said its id at boot, before this process opened the port).
          IOTLAB_GATEWAY_PORTS: JSON.stringify([{ path: pair.a, kitId: 'uno-kill' }]),
          IOTLAB_GATEWAY_SCAN_USB: 'false',
        },
      });
      children.push(gateway.child);
      return gateway;
    };
    const range = { kitId: 'uno-kill', from: Date.now() - DAY, to: Date.now() + DAY };
    const stored = async () => (await lab.platform.store.sequence(range)).map((p) => p.value);

    const first = startGateway();
    const kit = new SimulatedSerialKit({
      kitId: 'uno-kill',
      path: pair.b,
      intervalMs: 20, // 50 lines/s
      readings: (_now, seq) => ({ soil_moisture: 30 + (seq % 40) }),
    });
    await kit.start();
    try {
      await eventually(async () => (await stored()).length > 30, 20_000, 'readings delivered').catch(
        (error) => {
          throw new Error(`${(error as Error).message}; the gateway said: ${first.output()}`);
        },
      );
      // The broker goes away: the gateway keeps reading the kit into its outbox…
      await lab.close();
      await eventually(() => outboxSeqs('uno-kill').length > 20, 10_000, 'readings waiting in the outbox');
      // …and is killed outright.
      first.child.kill('SIGKILL');
      await first.exited;
      await kit.stop();
      const held = outboxSeqs('uno-kill');
      expect(held.length).toBeGreaterThan(20);

      lab = await startTestPlatform(ports);
      const second = startGateway();
      await eventually(
        async () => {
          const have = new Set(await stored());
          return held.every((seq) => have.has(seq));
        },
        20_000,
        'what the outbox held, stored',
      );
      await eventually(() => outboxSeqs('uno-kill').length === 0, 10_000, 'the outbox to empty');
      second.child.kill('SIGTERM');
      await second.exited;
    } finally {
      await kit.stop();
      await pair.stop();
      await lab.close();
    }
  }, 90_000);
});
