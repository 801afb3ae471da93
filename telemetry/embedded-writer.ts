/**
 * The embedded store's writer thread: SQLite inserts are synchronous, so they run here, off the
 * thread that serves MQTT and HTTP. Batches arrive as JSON text (cheaper to pass than objects).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { TelemetryRecord } from '../protocol/index.ts';
import { configure, type WriterReply, type WriterRequest } from './embedded-schema.ts';
import { SEQ_FIELD } from './store.ts';

const db = new Database((workerData as { path: string }).path);
configure(db);

const seriesIds = new Map<string, number>();
const insertSeries = db.prepare(
  'INSERT INTO series (kit, sensor) VALUES (?, ?) ON CONFLICT (kit, sensor) DO UPDATE SET kit = excluded.kit RETURNING id',
);
const upsertReading = db.prepare(
  'INSERT INTO readings (series_id, ts, value) VALUES (?, ?, ?) ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value',
);
const allSeries = db.prepare('SELECT id FROM series');
const deleteOld = db.prepare('DELETE FROM readings WHERE series_id = ? AND ts < ?');

function seriesId(kit: string, sensor: string): number {
  const key = `${kit}\u0000${sensor}`;
  let id = seriesIds.get(key);
  if (id === undefined) {
    id = (insertSeries.get(kit, sensor) as { id: number }).id;
    seriesIds.set(key, id);
  }
  return id;
}

const writeAll = db.transaction((records: TelemetryRecord[]) => {
  for (const record of records) {
    for (const sensor in record.readings) {
      upsertReading.run(seriesId(record.kitId, sensor), record.ts, record.readings[sensor]);
    }
    if (record.seq !== undefined) upsertReading.run(seriesId(record.kitId, SEQ_FIELD), record.ts, record.seq);
  }
});

parentPort?.on('message', (request: WriterRequest | 'close') => {
  if (request === 'close') {
    db.close();
    parentPort?.close();
    return;
  }
  const reply: WriterReply = { id: request.id };
  try {
    if (request.type === 'write') writeAll(JSON.parse(request.records) as TelemetryRecord[]);
    else for (const { id } of allSeries.all() as { id: number }[]) deleteOld.run(id, request.cutoff);
  } catch (error) {
    reply.error = { message: (error as Error).message, code: (error as { code?: string }).code ?? '' };
  }
  parentPort?.postMessage(reply);
});
