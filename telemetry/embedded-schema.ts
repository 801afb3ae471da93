import type Database from 'better-sqlite3';

/** Tables of the embedded telemetry store, shared by its reader (main thread) and its writer (worker). */
export const SCHEMA = `
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

export function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
}

/** Messages between the store and its writer thread. */
export type WriterRequest =
  | { id: number; type: 'write'; records: string }
  | { id: number; type: 'retention'; cutoff: number };
export type WriterReply = { id: number; error?: { message: string; code: string } };
