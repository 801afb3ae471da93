import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export type SqlValue = string | number | bigint | null;

/**
 * The lab database's query layer. It is asynchronous and takes `?` placeholders in portable
 * SQL, so a PostgreSQL adapter (`?` → `$n`) can stand in for the embedded one without changing
 * callers.
 */
export interface LabDb {
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /** Runs `work` in one transaction; other callers wait until it ends. */
  transaction<T>(work: (tx: LabDb) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Opens (creating if needed) the embedded lab database and applies pending migrations. */
export function openLabDb(path: string): LabDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  migrate(sqlite);

  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = sqlite.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  // Transactions on one connection must not interleave: each waits for the one before it.
  let queue: Promise<unknown> = Promise.resolve();

  const direct: LabDb = {
    async all<T>(sql: string, params: readonly SqlValue[] = []) {
      return prepare(sql).all(...params) as T[];
    },
    async get<T>(sql: string, params: readonly SqlValue[] = []) {
      return prepare(sql).get(...params) as T | undefined;
    },
    async run(sql: string, params: readonly SqlValue[] = []) {
      return { changes: prepare(sql).run(...params).changes };
    },
    transaction<T>(work: (tx: LabDb) => Promise<T>): Promise<T> {
      const result = queue.then(async () => {
        sqlite.exec('BEGIN IMMEDIATE');
        try {
          const value = await work(direct);
          sqlite.exec('COMMIT');
          return value;
        } catch (error) {
          sqlite.exec('ROLLBACK');
          throw error;
        }
      });
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      await queue;
      if (sqlite.open) sqlite.close();
    },
  };
  return direct;
}

function migrate(sqlite: Database.Database): void {
  sqlite.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id VARCHAR(200) PRIMARY KEY, applied_at BIGINT NOT NULL)',
  );
  const applied = new Set(
    (sqlite.prepare('SELECT id FROM schema_migrations').all() as { id: string }[]).map((row) => row.id),
  );
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((name) => name.endsWith('.sql'))
    .sort();
  for (const file of files) {
    if (applied.has(file)) continue;
    const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
    sqlite.transaction(() => {
      sqlite.exec(sql);
      sqlite.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)').run(file, Date.now());
    })();
  }
}
