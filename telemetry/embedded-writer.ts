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
// A commit under load dirties a page per series it touches, so SQLite's default checkpoint (which
// syncs) every 1,000 pages of WAL came after nearly every commit: transactions of 1,600 records
// took 2.6 µs a reading with it, 1.8 every 10,000 pages (40 MB). The file is cut back to 64 MB
// after a checkpoint.
db.pragma('wal_autocheckpoint = 10000');
db.pragma('journal_size_limit = 67108864');

/** Series ids by kit, then sensor (series are never renumbered). */
const seriesIds = new Map<string, Map<string, number>>();
const insertSeries = db.prepare(
  'INSERT INTO series (kit, sensor) VALUES (?, ?) ON CONFLICT (kit, sensor) DO UPDATE SET kit = excluded.kit RETURNING id',
);
// (series, ts) is the primary key and the table has no other constraint, so REPLACE is an upsert;
// it costs a fifth less than ON CONFLICT DO UPDATE.
const insertRow = (rows: number) =>
  db.prepare(
    `INSERT OR REPLACE INTO readings (series_id, ts, value) VALUES ${Array(rows).fill('(?, ?, ?)').join(', ')}`,
  );
/** Rows per statement: one statement of 32 costs about half as much per row as 32 of one. */
const ROWS_PER_INSERT = 32;
const insertMany = insertRow(ROWS_PER_INSERT);
const insertOne = insertRow(1);
const allSeries = db.prepare('SELECT id FROM series');
const deleteOld = db.prepare('DELETE FROM readings WHERE series_id = ? AND ts < ?');

function seriesId(kit: string, sensor: string): number {
  let ofKit = seriesIds.get(kit);
  if (ofKit === undefined) {
    ofKit = new Map();
    seriesIds.set(kit, ofKit);
  }
  let id = ofKit.get(sensor);
  if (id === undefined) {
    id = (insertSeries.get(kit, sensor) as { id: number }).id;
    ofKit.set(sensor, id);
  }
  return id;
}

/**
 * Writes a batch's readings in (series, ts) order, so that consecutive rows land in the same
 * B-tree pages: with the multi-row statements this takes about 40 % less time than inserting
 * record by record. Rows of one series and instant keep their order (the last one wins).
 */
const writeAll = db.transaction((records: TelemetryRecord[]) => {
  const ids: number[] = [];
  const stamps: number[] = [];
  const values: number[] = [];
  for (const record of records) {
    for (const sensor in record.readings) {
      ids.push(seriesId(record.kitId, sensor));
      stamps.push(record.ts);
      values.push(record.readings[sensor] as number);
    }
    if (record.seq !== undefined) {
      ids.push(seriesId(record.kitId, SEQ_FIELD));
      stamps.push(record.ts);
      values.push(record.seq);
    }
  }
  const order = Array.from(ids.keys()).sort(
    (a, b) =>
      (ids[a] as number) - (ids[b] as number) || (stamps[a] as number) - (stamps[b] as number) || a - b,
  );
  const params: number[] = new Array(ROWS_PER_INSERT * 3);
  let next = 0;
  for (; next + ROWS_PER_INSERT <= order.length; next += ROWS_PER_INSERT) {
    for (let j = 0; j < ROWS_PER_INSERT; j++) {
      const row = order[next + j] as number;
      params[3 * j] = ids[row] as number;
      params[3 * j + 1] = stamps[row] as number;
      params[3 * j + 2] = values[row] as number;
    }
    insertMany.run(params);
  }
  for (; next < order.length; next++) {
    const row = order[next] as number;
    insertOne.run(ids[row], stamps[row], values[row]);
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
