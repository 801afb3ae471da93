import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfluxDatabase, freePort, type RunningServer, startInfluxd } from '../../harness/index.ts';
import type { TelemetryRecord } from '../../protocol/index.ts';
import { Spool } from '../../spool/index.ts';
import { createEmbeddedStore, TelemetryWriter } from '../../telemetry/index.ts';
import { createInfluxStore } from '../../telemetry/influxdb.ts';
import { eventually } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

const DAY = 86_400_000;
const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iotlab-writer-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function records(kitId: string, count: number, start = Date.now() - 60_000): TelemetryRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    kitId,
    ts: start + i,
    seq: i,
    readings: { temperature: 20 + (i % 10) },
  }));
}

describe('spool', () => {
  it('keeps batches on disk across a restart and replays them in order, once', async () => {
    const dir = tempDir();
    const first = new Spool<TelemetryRecord>(dir);
    first.append(records('a', 3));
    first.append(records('b', 2));
    first.close();
    const second = new Spool<TelemetryRecord>(dir);
    expect(second.pendingRecords).toBe(5);
    const seen: string[] = [];
    await second.replay(async (batch) => {
      seen.push(batch.map((r) => `${r.kitId}${r.seq}`).join(','));
    });
    expect(seen).toEqual(['a0,a1,a2', 'b0,b1']);
    expect(second.isEmpty).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stops at a failed batch and resumes from it', async () => {
    const dir = tempDir();
    const spool = new Spool<TelemetryRecord>(dir);
    spool.append(records('a', 1));
    spool.append(records('b', 1));
    let fail = true;
    const seen: string[] = [];
    const write = async (batch: TelemetryRecord[]) => {
      if (batch[0]?.kitId === 'b' && fail) throw new Error('store down');
      seen.push(batch[0]?.kitId as string);
    };
    await expect(spool.replay(write)).rejects.toThrow('store down');
    expect(spool.pendingRecords).toBe(1);
    fail = false;
    await spool.replay(write);
    expect(seen).toEqual(['a', 'b']);
  });

  it('replays in order what it kept in memory and what it had to read back, also what is appended during a replay', async () => {
    const dir = tempDir();
    // Room for 4 in memory: 'a' and 'b' together do not fit, so that segment is read from disk.
    const spool = new Spool<TelemetryRecord>(dir, { memoryItems: 4 });
    spool.append(records('a', 3));
    spool.append(records('b', 2));
    const seen: string[] = [];
    const write = async (batch: TelemetryRecord[]) => {
      seen.push(batch.map((r) => `${r.kitId}${r.seq}`).join(','));
      if (batch[0]?.kitId === 'c') spool.append(records('e', 1));
    };
    expect(await spool.replay(write)).toBe(5);
    spool.append(records('c', 1));
    spool.append(records('d', 2));
    expect(await spool.replay(write)).toBe(4);
    expect(seen).toEqual(['a0,a1,a2', 'b0,b1', 'c0', 'd0,d1', 'e0']);
    expect(spool.isEmpty).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('hands consecutive small batches over together with mergeUpTo, and a failed group stays whole for the next replay', async () => {
    const dir = tempDir();
    const spool = new Spool<TelemetryRecord>(dir);
    for (const kit of ['a', 'b', 'c', 'd']) spool.append(records(kit, 2));
    const calls: string[] = [];
    let fail = true;
    const write = async (batch: TelemetryRecord[]) => {
      const kits = [...new Set(batch.map((r) => r.kitId))].join('');
      if (kits.includes('c') && fail) throw new Error('store down');
      calls.push(`${kits}:${batch.length}`);
    };
    await expect(spool.replay(write, { mergeUpTo: 4 })).rejects.toThrow('store down');
    expect(calls).toEqual(['ab:4']);
    expect(spool.pendingRecords).toBe(4);
    fail = false;
    expect(await spool.replay(write, { mergeUpTo: 4 })).toBe(4);
    expect(calls).toEqual(['ab:4', 'cd:4']);
  });

  it('survives a torn last line (power cut during an append)', () => {
    const dir = tempDir();
    const spool = new Spool<TelemetryRecord>(dir);
    spool.append(records('a', 2));
    spool.close();
    const [segment] = readdirSync(dir);
    appendFileSync(join(dir, segment as string), '[{"kitId":"a","ts":1');
    expect(new Spool<TelemetryRecord>(dir).pendingRecords).toBe(2);
  });
});

describeWithServer('influxd', 'telemetry writer against a real InfluxDB', () => {
  let influx: RunningServer;
  beforeAll(async () => {
    influx = await startInfluxd();
  }, 30_000);
  afterAll(async () => {
    await influx?.stop();
  });

  it('spools while no server answers, and the next process replays the spool', async () => {
    const spoolDir = tempDir();
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const down = new TelemetryWriter({
      store: createInfluxStore({ url: deadUrl, apiVersion: 1, database: 'replay' }),
      spoolDir,
    });
    for (const record of records('replay-kit', 500)) down.add(record);
    await down.close();
    expect(down.stats).toMatchObject({ accepted: 500, stored: 0, spooled: 500 });

    await createInfluxDatabase(influx.url, 'replay');
    const store = createInfluxStore({ url: influx.url, apiVersion: 1, database: 'replay' });
    const up = new TelemetryWriter({ store, spoolDir, retryIntervalMs: 50 });
    await eventually(() => up.stats.spooled === 0, 10_000, 'the spool to drain');
    expect(await store.count({ kitId: 'replay-kit', from: Date.now() - DAY, to: Date.now() })).toBe(500);
    await up.close();
    await store.close();
  });

  it('keeps a batch the store refuses for good in the dead-letter file, and goes on with the rest', async () => {
    await createInfluxDatabase(influx.url, 'conflict');
    // Another tool wrote temperature as an integer first; our float writes then conflict.
    await fetch(`${influx.url}/write?db=conflict&precision=ms`, {
      method: 'POST',
      body: `telemetry,kit=x temperature=1i ${Date.now() - DAY / 2}`,
    });
    const spoolDir = tempDir();
    const store = createInfluxStore({ url: influx.url, apiVersion: 1, database: 'conflict' });
    const writer = new TelemetryWriter({ store, spoolDir });
    for (const record of records('conflict-kit', 10)) writer.add(record);
    await writer.flush();
    writer.add({ kitId: 'conflict-kit', ts: Date.now(), readings: { humidity: 50 } });
    await writer.flush();
    expect(writer.stats.deadLettered).toBe(10);
    const letters = readFileSync(join(spoolDir, 'dead-letter.jsonl'), 'utf8').trim().split('\n');
    const letter = JSON.parse(letters[0] as string) as { reason: string; records: TelemetryRecord[] };
    expect(letter.reason).toMatch(/field type conflict/);
    expect(letter.records).toHaveLength(10);
    expect(
      await store.count({
        kitId: 'conflict-kit',
        sensor: 'humidity',
        from: Date.now() - DAY,
        to: Date.now() + 1,
      }),
    ).toBe(1);
    await writer.close();
    await store.close();
  });
});

describe('telemetry writer on the embedded store', () => {
  it('says records are durable once stored, and spills them to the spool behind a write that takes long', async () => {
    const dir = tempDir();
    const store = createEmbeddedStore({ path: join(dir, 't.sqlite'), retentionDays: 0 });
    // The real store, with a write that waits until the test lets it go (a flooded or slow store).
    let release: () => void = () => {};
    let hold = false;
    const slowStore = Object.create(store) as typeof store;
    slowStore.write = async (batch) => {
      if (hold) await new Promise<void>((resolve) => (release = resolve));
      return store.write(batch);
    };
    const events: string[] = [];
    const writer = new TelemetryWriter({
      store: slowStore,
      spoolDir: dir,
      flushIntervalMs: 60_000,
      spillAfterMs: 20,
      onEvent: (event) => events.push(event.type),
    });
    const durable = (batch: TelemetryRecord[]) => {
      for (const record of batch) writer.add(record);
      return new Promise<void>((resolve) => writer.whenDurable(resolve));
    };
    const all = records('spill-kit', 30);

    // No write in flight: written at once, not after the flush interval.
    await durable(all.slice(0, 10));
    expect(writer.stats.stored).toBe(10);

    // A write that does not end: the next records are acknowledged from the spool meanwhile.
    hold = true;
    const inFlight = durable(all.slice(10, 20));
    await eventually(() => writer.stats.buffered === 0, 2_000, 'the write to start');
    await durable(all.slice(20, 30));
    expect(writer.stats.stored).toBe(10);
    expect(writer.stats.spooled).toBe(10);

    hold = false;
    release();
    await inFlight;
    await eventually(
      () => writer.stats.stored === 30 && writer.stats.spooled === 0,
      5_000,
      'the spill replayed',
    );
    const seqs = (await store.sequence({ kitId: 'spill-kit', from: 0, to: Date.now() })).map((p) => p.value);
    expect(seqs).toEqual(all.map((record) => record.seq));
    // Spilling is ordinary work under load: no "store unavailable" warning, no recovery report.
    expect(events).toEqual([]);
    await writer.close();
    await store.close();
  });

  it('batches by size and time and stores every record once', async () => {
    const dir = tempDir();
    const store = createEmbeddedStore({ path: join(dir, 't.sqlite'), retentionDays: 0 });
    const writer = new TelemetryWriter({ store, spoolDir: dir, batchSize: 100, flushIntervalMs: 20 });
    for (const record of records('batch-kit', 1_050)) writer.add(record);
    await eventually(() => writer.stats.stored === 1_050, 5_000, 'all records stored by timer');
    expect(await store.count({ kitId: 'batch-kit', from: 0, to: Date.now() })).toBe(1_050);
    await writer.close();
    await store.close();
  });
});
