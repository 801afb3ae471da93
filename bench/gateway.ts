/**
 * Gateway benchmark: one gateway process reading N serial kits (socat ptys) at a line rate each,
 * into the platform; lines/s delivered, gateway CPU and memory, lines lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedSerialKit, startPtyPair } from '../firmware-sim/index.ts';
import { freePort } from '../harness/index.ts';
import { KitRegistry, openLabDb } from '../labdb/index.ts';
import { createEmbeddedStore } from '../telemetry/index.ts';
import { processUsage, spawnBenchIotlab, startPlatformProcess } from './platform-process.ts';
import { emitResult, sleep } from './report.ts';

export interface GatewayBenchOptions {
  kits: number;
  linesPerSecond: number;
  seconds: number;
}

export async function gatewayBench(opts: GatewayBenchOptions): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-bench-gw-'));
  const outboxDir = mkdtempSync(join(tmpdir(), 'iotlab-bench-outbox-'));
  const db = openLabDb(join(dataDir, 'lab.sqlite'));
  const registry = new KitRegistry(db);
  const kitIds = Array.from({ length: opts.kits }, (_, i) => `uno-${String(i).padStart(3, '0')}`);
  for (const id of kitIds) await registry.addKit({ id, kind: 'arduino' });
  const { secret } = await registry.addService('bench-gw');
  await db.close();

  const pairs = await Promise.all(kitIds.map(() => startPtyPair()));
  const platform = await startPlatformProcess({
    IOTLAB_DATA_DIR: dataDir,
    IOTLAB_HTTP_PORT: String(await freePort()),
    IOTLAB_MQTT_PORT: String(await freePort()),
  });
  const gateway = spawnBenchIotlab('gateway', {
    IOTLAB_DATA_DIR: outboxDir,
    IOTLAB_GATEWAY_NAME: 'bench-gw',
    IOTLAB_GATEWAY_BROKER_URL: platform.mqttUrl,
    IOTLAB_GATEWAY_SERVICE_SECRET: secret,
    IOTLAB_GATEWAY_SCAN_USB: 'false',
    IOTLAB_GATEWAY_PORTS: pairs.map((pair) => pair.a).join(','),
  });
  const store = createEmbeddedStore({ path: join(dataDir, 'telemetry.sqlite'), retentionDays: 0 });
  const kits = kitIds.map(
    (kitId, i) =>
      new SimulatedSerialKit({
        kitId,
        path: (pairs[i] as { b: string }).b,
        intervalMs: 1000 / opts.linesPerSecond,
        format: 'plotter',
        readings: (_now, seq) => ({
          temperature: 20 + (seq % 50) / 10,
          humidity: 55,
          light: 300 + (seq % 100),
          motion: seq % 2,
        }),
      }),
  );
  const range = () => ({ from: Date.now() - 86_400_000, to: Date.now() + 86_400_000 });
  const delivered = async () => {
    let total = 0;
    for (const kitId of kitIds) total += await store.count({ kitId, sensor: 'temperature', ...range() });
    return total;
  };
  try {
    await sleep(2_000); // the gateway opens the ports
    const before = processUsage(gateway.child.pid as number);
    const start = Date.now();
    await Promise.all(kits.map((kit) => kit.start()));
    await sleep(opts.seconds * 1000);
    await Promise.all(kits.map((kit) => kit.stop()));
    const sendSeconds = (Date.now() - start) / 1000;
    const sent = kits.reduce((n, kit) => n + kit.sent, 0);
    let stored = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      stored = await delivered();
      if (stored >= sent) break;
      await sleep(250);
    }
    const elapsed = (Date.now() - start) / 1000;
    const after = processUsage(gateway.child.pid as number);
    emitResult('gateway', {
      run: 'serial kits',
      kits: opts.kits,
      linesPerSecondPerKit: opts.linesPerSecond,
      seconds: opts.seconds,
      linesSent: sent,
      linesSentPerSecond: Math.round(sent / sendSeconds),
      linesDelivered: stored,
      linesDeliveredPerSecond: Math.round(stored / elapsed),
      linesLost: sent - stored,
      gatewayCpuPercent: Math.round(((after.cpuSeconds - before.cpuSeconds) / elapsed) * 100),
      gatewayRssMB: after.rssMB,
    });
  } finally {
    await Promise.all(kits.map((kit) => kit.stop()));
    await gateway.stop();
    await store.close();
    await platform.stop();
    await Promise.all(pairs.map((pair) => pair.stop()));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(outboxDir, { recursive: true, force: true });
  }
}
