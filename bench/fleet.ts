/**
 * Fleet benchmark: many simulated ESP32 kits (8 sensors each, 1 message/s) against the platform
 * for a sustained run; platform CPU and memory, readings lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../harness/index.ts';
import { KitRegistry, openLabDb } from '../labdb/index.ts';
import { createEmbeddedStore } from '../telemetry/index.ts';
import { connectKits, disconnect, SENSORS_PER_MESSAGE, steady } from './load.ts';
import { startPlatformProcess } from './platform-process.ts';
import { emitResult, sleep } from './report.ts';

export interface FleetBenchOptions {
  kits: number;
  seconds: number;
}

export async function fleetBench(opts: FleetBenchOptions): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-bench-fleet-'));
  const db = openLabDb(join(dataDir, 'lab.sqlite'));
  const registry = new KitRegistry(db);
  const kits = [];
  for (let i = 0; i < opts.kits; i++) {
    const kitId = `esp-${String(i).padStart(4, '0')}`;
    kits.push({ kitId, secret: (await registry.addKit({ id: kitId })).secret });
  }
  await db.close();
  const platform = await startPlatformProcess({
    IOTLAB_DATA_DIR: dataDir,
    IOTLAB_HTTP_PORT: String(await freePort()),
    IOTLAB_MQTT_PORT: String(await freePort()),
  });
  const store = createEmbeddedStore({ path: join(dataDir, 'telemetry.sqlite'), retentionDays: 0 });
  try {
    const clients = await connectKits(platform.mqttUrl, kits, { keepalive: 60 });
    const before = platform.usage();
    const start = Date.now();
    // One message per kit per second on average, spread evenly over the second.
    await steady(clients, opts.kits, opts.seconds);
    const acked = clients.reduce((n, kit) => n + kit.acked, 0);
    const expected = acked * SENSORS_PER_MESSAGE;
    let stored = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      stored = 0;
      for (const { kitId } of kits)
        stored += await store.count({ kitId, from: 0, to: Date.now() + 86_400_000 });
      if (stored >= expected) break;
      await sleep(500);
    }
    const elapsed = (Date.now() - start) / 1000;
    const after = platform.usage();
    emitResult('fleet', {
      run: 'sustained',
      kits: opts.kits,
      sensorsPerKit: SENSORS_PER_MESSAGE,
      seconds: opts.seconds,
      readingsPerSecond: Math.round(expected / opts.seconds),
      messagesAcked: acked,
      readingsStored: stored,
      readingsLost: expected - stored,
      platformCpuPercent: Math.round(((after.cpuSeconds - before.cpuSeconds) / elapsed) * 100),
      platformRssMB: after.rssMB,
      platformPeakRssMB: after.peakRssMB,
    });
    await disconnect(clients);
  } finally {
    await store.close();
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
