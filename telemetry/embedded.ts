import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { configure, type WriterReply, type WriterRequest } from './embedded-schema.ts';
import {
  type CountQuery,
  DEFAULT_QUERY_LIMIT,
  isSensorSeries,
  SEQ_FIELD,
  type SeriesPoint,
  type SeriesQuery,
  StoreWriteError,
  type TelemetryStore,
  type WindowPoint,
} from './store.ts';
import { sibling, startModuleWorker } from './thread.ts';

export interface EmbeddedStoreConfig {
  /** SQLite file. */
  path: string;
  /** Readings older than this many days are deleted (0 keeps everything). */
  retentionDays: number;
}

const RETENTION_SWEEP_MS = 3_600_000;

type Request = { type: 'write'; records: string } | { type: 'retention'; cutoff: number };

/**
 * The default store: SQLite in WAL mode. Each series (kit, sensor) gets a small integer id so a
 * reading costs about 20 bytes on disk: a class of 40 kits × 8 sensors at 1 Hz through a term of
 * lab hours fits in a few GB. Writes run in a worker thread (embedded-writer.ts) so that SQLite's
 * synchronous inserts never hold up the broker; queries read here, which WAL allows meanwhile.
 */
export function createEmbeddedStore(config: EmbeddedStoreConfig): TelemetryStore {
  mkdirSync(dirname(config.path), { recursive: true });
  const db = new Database(config.path);
  configure(db);

  const writer = startModuleWorker(sibling('embedded-writer', import.meta.url), { path: config.path });
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  let nextRequest = 0;
  let writerFailure: Error | undefined;
  let drained: (() => void) | undefined;
  writer.on('message', (reply: WriterReply) => {
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0) {
      writer.unref();
      drained?.();
    }
    if (!waiting) return;
    if (!reply.error) return waiting.resolve();
    // SQLITE_BUSY / SQLITE_FULL / I/O errors can clear up; anything else is a bug in the batch.
    const transient = /BUSY|LOCKED|FULL|IOERR/.test(reply.error.code);
    waiting.reject(new StoreWriteError(`embedded store write failed: ${reply.error.message}`, transient));
  });
  writer.on('error', (error) => {
    writerFailure = error;
    for (const waiting of pending.values()) {
      waiting.reject(new StoreWriteError(`embedded store writer stopped: ${error.message}`, true));
    }
    pending.clear();
  });
  writer.unref();

  function ask(request: Request): Promise<void> {
    if (writerFailure) {
      return Promise.reject(
        new StoreWriteError(`embedded store writer stopped: ${writerFailure.message}`, true),
      );
    }
    const id = nextRequest++;
    return new Promise<void>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      writer.ref(); // keep the process alive until the write is done
      writer.postMessage({ ...request, id } satisfies WriterRequest);
    });
  }

  /** Deletes readings past the retention (in the writer thread); at open, then hourly. */
  function sweepRetention(): Promise<void> {
    if (config.retentionDays <= 0) return Promise.resolve();
    return ask({ type: 'retention', cutoff: Date.now() - config.retentionDays * 86_400_000 });
  }
  // Queries wait for the first sweep, so no expired reading is ever returned.
  const swept = sweepRetention().catch(() => {});
  const sweepTimer = setInterval(() => void sweepRetention().catch(() => {}), RETENTION_SWEEP_MS);
  sweepTimer.unref();

  const seriesIds = new Map<string, number>();
  const selectSeries = db.prepare('SELECT id FROM series WHERE kit = ? AND sensor = ?');
  // Rows as arrays: building the points here is a quarter faster than better-sqlite3's row objects.
  const selectRaw = db
    .prepare('SELECT ts, value FROM readings WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?')
    .raw(true);
  // better-sqlite3 binds JS numbers as REAL; the cast keeps this an integer division.
  const selectWindows = db.prepare(
    `SELECT (ts / CAST(@every AS INTEGER)) * CAST(@every AS INTEGER) AS ts,
       avg(value) AS mean, min(value) AS min, max(value) AS max, count(*) AS count
     FROM readings WHERE series_id = @id AND ts >= @from AND ts < @to GROUP BY 1 ORDER BY 1 LIMIT @limit`,
  );
  const selectLatest = db.prepare(
    'SELECT ts, value FROM readings WHERE series_id = ? ORDER BY ts DESC LIMIT 1',
  );
  const countRange = db.prepare(
    'SELECT count(*) AS n FROM readings WHERE series_id = ? AND ts >= ? AND ts < ?',
  );
  const kitSeries = db.prepare('SELECT id, sensor FROM series WHERE kit = ?');

  /** A series' id, cached once it exists (series are never renumbered). */
  function existingSeries(kit: string, sensor: string): number | undefined {
    const key = `${kit}\u0000${sensor}`;
    let id = seriesIds.get(key);
    if (id === undefined) {
      id = (selectSeries.get(kit, sensor) as { id: number } | undefined)?.id;
      if (id !== undefined) seriesIds.set(key, id);
    }
    return id;
  }

  function raw(kit: string, sensor: string, from: number, to: number, limit: number): SeriesPoint[] {
    const id = existingSeries(kit, sensor);
    if (id === undefined) return [];
    const rows = selectRaw.all(id, from, to, limit) as [number, number][];
    const points: SeriesPoint[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as [number, number];
      points[i] = { ts: row[0], value: row[1] };
    }
    return points;
  }

  return {
    kind: 'embedded',
    write(records) {
      if (records.length === 0) return Promise.resolve();
      return ask({ type: 'write', records: JSON.stringify(records) });
    },
    async readings(q: SeriesQuery) {
      await swept;
      return raw(q.kitId, q.sensor, q.from, q.to, q.limit ?? DEFAULT_QUERY_LIMIT);
    },
    async aggregate(q: SeriesQuery & { every: number }): Promise<WindowPoint[]> {
      await swept;
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
      await swept;
      const result: Record<string, SeriesPoint> = {};
      for (const { id, sensor } of kitSeries.all(kitId) as { id: number; sensor: string }[]) {
        if (!isSensorSeries(sensor)) continue;
        const point = selectLatest.get(id) as SeriesPoint | undefined;
        if (point) result[sensor] = point;
      }
      return result;
    },
    async count(q: CountQuery) {
      await swept;
      const series = (kitSeries.all(q.kitId) as { id: number; sensor: string }[]).filter((s) =>
        q.sensor === undefined ? isSensorSeries(s.sensor) : s.sensor === q.sensor,
      );
      let total = 0;
      for (const { id } of series) total += (countRange.get(id, q.from, q.to) as { n: number }).n;
      return total;
    },
    async sequence(q) {
      await swept;
      return raw(q.kitId, SEQ_FIELD, q.from, q.to, Number.MAX_SAFE_INTEGER);
    },
    async seriesNames(kitId) {
      return (kitSeries.all(kitId) as { sensor: string }[]).map((row) => row.sensor).sort();
    },
    async ping() {
      return db.open && writerFailure === undefined;
    },
    async close() {
      clearInterval(sweepTimer);
      if (pending.size > 0) await new Promise<void>((resolve) => (drained = resolve));
      const exited = new Promise((resolve) => writer.once('exit', resolve));
      // Held until it exits: an unref'd worker would let the process end before close() resolves.
      writer.ref();
      writer.postMessage('close');
      await exited;
      if (db.open) db.close();
    },
  };
}
