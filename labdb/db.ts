import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export type SqlValue = string | number | bigint | null;

/**
 * The lab database's query layer. It is asynchronous and takes `?` placeholders in portable
 * SQL; two adapters stand behind it: the embedded SQLite file (`openLabDb`) and PostgreSQL
 * (`openPostgresLabDb`, `?` → `$n`), and callers see the same values from both (numbers for
 * integers and counts, 0/1 for truth values, JSON columns as text). `openLabDatabase` picks one.
 */
export interface LabDb {
  /** Which engine answers: for messages and diagnostics; the SQL callers write is the same. */
  readonly dialect: 'sqlite' | 'postgres';
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /**
   * Runs `work` in one transaction; this process's other transactions wait until it ends (see
   * each adapter for what other processes see).
   */
  transaction<T>(work: (tx: LabDb) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * Opens (creating if needed) the embedded lab database and applies pending migrations. One
 * connection: a transaction (`BEGIN IMMEDIATE`) holds the file's write lock, so writers of other
 * processes (the CLI beside the platform) wait for it (up to `busy_timeout`, 5 s).
 */
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
    dialect: 'sqlite',
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

/** The migrations in the order they apply: file name and SQL, one source for both engines. */
export function readMigrations(): { id: string; sql: string }[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((id) => ({ id, sql: readFileSync(join(MIGRATIONS_DIR, id), 'utf8') }));
}

function migrate(sqlite: Database.Database): void {
  sqlite.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id VARCHAR(200) PRIMARY KEY, applied_at BIGINT NOT NULL)',
  );
  const applied = new Set(
    (sqlite.prepare('SELECT id FROM schema_migrations').all() as { id: string }[]).map((row) => row.id),
  );
  for (const { id: file, sql } of readMigrations()) {
    if (applied.has(file)) continue;
    sqlite.transaction(() => {
      sqlite.exec(sql);
      sqlite.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)').run(file, Date.now());
    })();
  }
}
