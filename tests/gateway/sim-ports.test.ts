/**
 * The simulator's USB kits (an Arduino printing lines, a StandardFirmata board) read by a gateway,
 * as `iotlab demo` and `iotlab sim` run them: what the gateway tells the person at the terminal.
 * Warnings are for what needs someone to act; the simulator's own ports and a planned stop need nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { parseScenario, Simulation } from '../../firmware-sim/index.ts';
import { type GatewayLogger, SerialGateway } from '../../gateway/index.ts';
import { eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

interface Logged {
  level: 'info' | 'warn';
  message: string;
  fields: Record<string, unknown>;
}

describeWithServer('socat', "the gateway on the simulator's USB kits", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp() {
    const scenario = parseScenario(
      {
        name: 'usb-kits',
        description: 'the demo scenario’s USB kits',
        kits: [
          { id: 'demo-03', kind: 'arduino', profile: 'greenhouse', intervalMs: 500, seed: 3 },
          { id: 'demo-04', kind: 'firmata', profile: 'greenhouse', intervalMs: 500, seed: 4 },
        ],
      },
      'usb-kits',
    );
    const simulation = await Simulation.prepare(scenario);
    cleanups.push(() => simulation.stop());
    const lab: TestPlatform = await startTestPlatform();
    cleanups.push(() => lab.close());
    for (const kit of scenario.kits) await lab.addKit(kit.id);
    const service = await lab.addService('demo-gateway');
    const logged: Logged[] = [];
    const logger: GatewayLogger = {
      info: (fields, message) => logged.push({ level: 'info', message, fields: { ...fields } }),
      warn: (fields, message) => logged.push({ level: 'warn', message, fields: { ...fields } }),
    };
    const outboxDir = mkdtempSync(join(tmpdir(), 'iotlab-outbox-'));
    cleanups.push(async () => rmSync(outboxDir, { recursive: true, force: true }));
    const gateway = new SerialGateway({
      service: { name: 'demo-gateway', secret: service.secret },
      brokerUrl: lab.mqttUrl,
      ports: simulation.gatewayPorts(),
      scanUsb: false,
      baudRate: 115200,
      outboxDir,
      scanIntervalMs: 200,
      identifyTimeoutMs: 300,
      logger,
    });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    // As in the demo: the gateway opens the ports while the lab is still being seeded, and the
    // simulated kits start (and say who they are) later than the gateway would wait for a board.
    await new Promise((resolve) => setTimeout(resolve, 800));
    await simulation.start({ brokerUrl: lab.mqttUrl, credentials: () => ({ username: '', password: '' }) });
    for (const kitId of ['demo-03', 'demo-04']) {
      await eventually(
        async () => (await lab.platform.store.latest(kitId)).temperature !== undefined,
        15_000,
        `readings of ${kitId} stored`,
      );
    }
    return { simulation, gateway, logged };
  }

  it('does not call the simulated Arduino an unknown board, and stops without a warning', async () => {
    const { simulation, gateway, logged } = await setUp();
    expect(logged.filter((entry) => entry.level === 'warn')).toEqual([]);
    expect(logged.filter((entry) => entry.message === 'kit identified').map((e) => e.fields.kitId)).toEqual(
      expect.arrayContaining(['demo-03', 'demo-04']),
    );

    const before = logged.length;
    await gateway.stop();
    await simulation.stop();
    const atStop = logged.slice(before);
    expect(atStop.filter((entry) => entry.level === 'warn')).toEqual([]);
    expect(atStop.map((entry) => entry.message)).not.toContain('serial port closed (unplugged?)');
  }, 60_000);

  it('reports a board that goes away once, as one line', async () => {
    const { simulation, logged } = await setUp();
    const board = simulation.gatewayPorts().find((port) => port.mode === 'firmata')?.path;
    const before = logged.length;
    await simulation.stop(); // socat goes: both boards are unplugged
    await eventually(
      () => logged.slice(before).filter((e) => e.message === 'serial port closed (unplugged?)').length === 2,
      10_000,
      'both ports reported closed',
    );
    const firmata = logged.slice(before).filter((entry) => entry.fields.path === board);
    expect(firmata.map((entry) => `${entry.level} ${entry.message}`)).toEqual([
      'info serial port closed (unplugged?)',
    ]);
  }, 60_000);
});
