import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '../../telemetry/index.ts';
import { describeStoreContract } from './store-contract.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'iotlab-embedded-'));
}

describeStoreContract('embedded (SQLite)', async () => {
  const dir = tempDir();
  return {
    store: createEmbeddedStore({ path: join(dir, 'telemetry.sqlite'), retentionDays: 0 }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('embedded store on disk', () => {
  it('keeps readings across a restart', async () => {
    const dir = tempDir();
    const path = join(dir, 'telemetry.sqlite');
    const ts = Date.now() - 1_000;
    const first = createEmbeddedStore({ path, retentionDays: 0 });
    await first.write([{ kitId: 'kit-1', ts, seq: 4, readings: { temperature: 21.5 } }]);
    await first.close();
    const second = createEmbeddedStore({ path, retentionDays: 0 });
    expect(await second.latest('kit-1')).toEqual({ temperature: { ts, value: 21.5 } });
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes readings older than the retention when it opens', async () => {
    const dir = tempDir();
    const path = join(dir, 'telemetry.sqlite');
    const now = Date.now();
    const keepAll = createEmbeddedStore({ path, retentionDays: 0 });
    await keepAll.write([
      { kitId: 'kit-1', ts: now - 40 * 86_400_000, readings: { humidity: 40 } },
      { kitId: 'kit-1', ts: now - 10 * 86_400_000, readings: { humidity: 50 } },
    ]);
    await keepAll.close();
    const thirtyDays = createEmbeddedStore({ path, retentionDays: 30 });
    const points = await thirtyDays.readings({ kitId: 'kit-1', sensor: 'humidity', from: 0, to: now });
    expect(points.map((p) => p.value)).toEqual([50]);
    await thirtyDays.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
