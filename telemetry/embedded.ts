import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { TelemetryRecord } from '../protocol/index.ts';
import {
  type CountQuery,
  DEFAULT_QUERY_LIMIT,
  SEQ_FIELD,
  type SeriesPoint,
  type SeriesQuery,
  StoreWriteError,
  type TelemetryStore,
  type WindowPoint,
} from './store.ts';

export interface EmbeddedStoreConfig {
  /** SQLite file; `:memory:` for throwaway use. */
  path: string;
  /** Readings older than this many days are deleted (0 keeps everything). */
  retentionDays: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  kit TEXT NOT NULL,
  sensor TEXT NOT NULL,
  UNIQUE (kit, sensor)
);
-- One row per reading; (series, ts) identifies it, so a replayed write overwrites instead of adding.
CREATE TABLE IF NOT EXISTS readings (
  series_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;
`;

const RETENTION_SWEEP_MS = 3_600_000;

/**
 * The default store: SQLite in WAL mode. Each series (kit, sensor) gets a small integer id so a
 * reading costs about 20 bytes on disk: a class of 40 kits × 8 sensors at 1 Hz through a term of
 * lab hours fits in a few GB.
 */
export function createEmbeddedStore(config: EmbeddedStoreConfig): TelemetryStore {
  if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true });
  const db = new Database(config.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);

  const seriesIds = new Map<string, number>();
  for (const row of db.prepare('SELECT id, kit, sensor FROM series').all() as {
    id: number;
    kit: string;
    sensor: string;
  }[]) {
    seriesIds.set(`${row.kit}\u0000${row.sensor}`, row.id);
  }
  const insertSeries = db.prepare('INSERT INTO series (kit, sensor) VALUES (?, ?) RETURNING id');
  const upsertReading = db.prepare(
    'INSERT INTO readings (series_id, ts, value) VALUES (?, ?, ?) ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value',
  );
  const selectRaw = db.prepare(
    'SELECT ts, value FROM readings WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?',
  );
  const selectWindows = db.prepare(
    // better-sqlite3 binds JS numbers as REAL; the cast keeps this an integer division.
    `SELECT (ts / CAST(@every AS INTEGER)) * CAST(@every AS INTEGER) AS ts, avg(value) AS mean, min(value) AS min, max(value) AS max, count(*) AS count
     FROM readings WHERE series_id = @id AND ts >= @from AND ts < @to GROUP BY 1 ORDER BY 1 LIMIT @limit`,
  );
  const selectLatest = db.prepare(
    'SELECT ts, value FROM readings WHERE series_id = ? ORDER BY ts DESC LIMIT 1',
  );
  const countRange = db.prepare(
    'SELECT count(*) AS n FROM readings WHERE series_id = ? AND ts >= ? AND ts < ?',
  );
  const kitSeries = db.prepare('SELECT id, sensor FROM series WHERE kit = ?');
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

  const writeAll = db.transaction((records: readonly TelemetryRecord[]) => {
    for (const record of records) {
      for (const sensor in record.readings) {
        upsertReading.run(seriesId(record.kitId, sensor), record.ts, record.readings[sensor]);
      }
      if (record.seq !== undefined)
        upsertReading.run(seriesId(record.kitId, SEQ_FIELD), record.ts, record.seq);
    }
  });

  const selectSeries = db.prepare('SELECT id FROM series WHERE kit = ? AND sensor = ?');
  /** A series' id; asks the database on a miss, since another process may have written it since. */
  function existingSeries(kit: string, sensor: string): number | undefined {
    const key = `${kit}\u0000${sensor}`;
    let id = seriesIds.get(key);
    if (id === undefined) {
      id = (selectSeries.get(kit, sensor) as { id: number } | undefined)?.id;
      if (id !== undefined) seriesIds.set(key, id);
    }
    return id;
  }

  function sweepRetention(): void {
    if (config.retentionDays <= 0) return;
    const cutoff = Date.now() - config.retentionDays * 86_400_000;
    for (const { id } of allSeries.all() as { id: number }[]) deleteOld.run(id, cutoff);
  }
  sweepRetention();
  const sweepTimer = setInterval(sweepRetention, RETENTION_SWEEP_MS);
  sweepTimer.unref();

  function raw(kit: string, sensor: string, from: number, to: number, limit: number): SeriesPoint[] {
    const id = existingSeries(kit, sensor);
    return id === undefined ? [] : (selectRaw.all(id, from, to, limit) as SeriesPoint[]);
  }

  return {
    kind: 'embedded',
    async write(records) {
      try {
        writeAll(records);
      } catch (error) {
        // SQLITE_BUSY / SQLITE_FULL / I/O errors can clear up; anything else is a bug in the batch.
        const code = (error as { code?: string }).code ?? '';
        const transient = /BUSY|LOCKED|FULL|IOERR/.test(code);
        throw new StoreWriteError(`embedded store write failed: ${(error as Error).message}`, transient, {
          cause: error,
        });
      }
    },
    async readings(q: SeriesQuery) {
      return raw(q.kitId, q.sensor, q.from, q.to, q.limit ?? DEFAULT_QUERY_LIMIT);
    },
    async aggregate(q: SeriesQuery & { every: number }): Promise<WindowPoint[]> {
      const id = existingSeries(q.kitId, q.sensor);
      if (id === undefined) return [];
      return selectWindows.all({
        id,
        every: Math.max(1, Math.round(q.every)),
        from: q.from,
        to: q.to,
        limit: q.limit ?? DEFAULT_QUERY_LIMIT,
      }) as WindowPoint[];
    },
    async latest(kitId) {
      const result: Record<string, SeriesPoint> = {};
      for (const { id, sensor } of kitSeries.all(kitId) as { id: number; sensor: string }[]) {
        if (sensor === SEQ_FIELD) continue;
        const point = selectLatest.get(id) as SeriesPoint | undefined;
        if (point) result[sensor] = point;
      }
      return result;
    },
    async count(q: CountQuery) {
      const series = (kitSeries.all(q.kitId) as { id: number; sensor: string }[]).filter((s) =>
        q.sensor === undefined ? s.sensor !== SEQ_FIELD : s.sensor === q.sensor,
      );
      let total = 0;
      for (const { id } of series) total += (countRange.get(id, q.from, q.to) as { n: number }).n;
      return total;
    },
    async sequence(q) {
      return raw(q.kitId, SEQ_FIELD, q.from, q.to, Number.MAX_SAFE_INTEGER);
    },
    async ping() {
      return db.open;
    },
    async close() {
      clearInterval(sweepTimer);
      if (db.open) db.close();
    },
  };
}
