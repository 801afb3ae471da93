/**
 * The lab database on PostgreSQL, behind the same `LabDb` interface as the embedded SQLite file.
 *
 * The SQL callers write is one portable dialect (the one both engines run); what differs is
 * handled here, and only here:
 * - placeholders: `?` becomes `$1, $2…` (not inside quoted strings, identifiers or comments);
 * - values: int8 (`count(*)`, BIGINT columns) and numeric (`sum` of BIGINT) come back as JS
 *   numbers, and truth values (`a = b`, `EXISTS …`) as 0/1, as SQLite returns them; JSON columns
 *   are TEXT on both, so they read as strings;
 * - migrations: the same files as SQLite, with `REAL` read as `DOUBLE PRECISION` (SQLite's REAL
 *   is 8 bytes, PostgreSQL's 4) — see {@link toPostgresDdl};
 * - transactions: see {@link openPostgresLabDb}.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { type LabDb, readMigrations, type SqlValue } from './db.ts';

/** An advisory lock key ("iotlab" in ASCII) every lab transaction and migration takes. */
const LAB_LOCK = 0x696f746c6162;

const OID = { bool: 16, int8: 20, numeric: 1700, json: 114, jsonb: 3802 } as const;

/** Result parsing that matches what better-sqlite3 hands back for the same query. */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    switch (oid) {
      case OID.int8:
      case OID.numeric:
        return Number;
      case OID.bool:
        return (value: string) => (value === 't' ? 1 : 0);
      case OID.json:
      case OID.jsonb:
        return (value: string) => value;
      default:
        // biome-ignore lint/suspicious/noExplicitAny: pg's own overloads differ only by format.
        return pg.types.getTypeParser(oid, format as any);
    }
  },
};

/**
 * `?` placeholders → `$n`, skipping '…' strings, "…" identifiers, -- and /* *\/ comments. A
 * statement without `?` comes back unchanged.
 */
export function toPositional(sql: string): string {
  if (!sql.includes('?')) return sql;
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (c === "'" || c === '"') {
      const end = closingQuote(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '?') {
      out += `$${++n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Index after the quote that closes the one at `start` (a doubled quote is part of the text). */
function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  for (;;) {
    const next = sql.indexOf(quote, i);
    if (next === -1) return sql.length;
    if (sql[next + 1] === quote) {
      i = next + 2;
      continue;
    }
    return next + 1;
  }
}

/**
 * A migration file's SQL as PostgreSQL should run it. The files are written in the SQL both
 * engines share; the one type they read differently is REAL (8-byte float in SQLite, 4-byte in
 * PostgreSQL, which would round stored scores): here it is DOUBLE PRECISION.
 */
export function toPostgresDdl(sql: string): string {
  return sql.replace(/\bREAL\b/g, 'DOUBLE PRECISION');
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

/** PostgreSQL could not be reached, or refused the connection: `message` says where and why. */
export class LabDbConnectError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabDbConnectError';
  }
}

interface OpenTransaction {
  tx: LabDb;
  /** Set when the transaction ended: work it started that runs on afterwards uses the pool. */
  done: boolean;
}

export interface PostgresOptions {
  /** Pool size (default 10). */
  max?: number;
  /** How long to wait for a connection (default 10 s). */
  connectionTimeoutMs?: number;
}

/**
 * Opens the lab database at a `postgres://` URL and applies pending migrations (the same files as
 * the embedded database). Statements run on a pool of connections.
 *
 * Transactions: `transaction(work)` runs `work` on one dedicated connection between BEGIN and
 * COMMIT (ROLLBACK when it throws), and, as with SQLite's single connection, this process's
 * transactions run one at a time (a queue). A statement `work` makes through the database object
 * it closed over rather than `tx` still runs in the transaction (the call is traced by its async
 * context), as it does on SQLite's one connection. Statements of other callers do not wait: they
 * run on other connections and see only committed data.
 *
 * Across processes (two platforms on one database, the CLI beside a platform): every lab
 * transaction first takes one advisory lock (`pg_advisory_xact_lock`), so lab transactions of
 * all processes are serialised, as SQLite's `BEGIN IMMEDIATE` serialises writers on the file; a
 * check-then-write inside a transaction cannot race another process's. Single statements outside
 * transactions run concurrently under READ COMMITTED, each atomic, and the schema's UNIQUE and
 * partial indexes hold for every process. Migrations are applied under the same lock, so
 * processes starting together apply each once.
 */
export async function openPostgresLabDb(url: string, options: PostgresOptions = {}): Promise<LabDb> {
  const where = redactUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    types: TYPES,
    application_name: 'iotlab',
  });
  // An idle connection the server dropped (restart, shutdown) is replaced on next use; without a
  // listener its error would end the process.
  pool.on('error', () => {});
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new LabDbConnectError(`cannot open the lab database at ${where}: ${reason(error)}`, {
      cause: error,
    });
  }
  try {
    await migrate(client);
  } catch (error) {
    client.release(true);
    await pool.end().catch(() => {});
    throw new Error(`migrating the lab database at ${where} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  client.release();

  const positional = new Map<string, string>();
  const text = (sql: string): string => {
    let converted = positional.get(sql);
    if (converted === undefined) {
      converted = toPositional(sql);
      if (positional.size < 2_000) positional.set(sql, converted);
    }
    return converted;
  };
  const on = (queryable: pg.Pool | pg.PoolClient): Omit<LabDb, 'transaction' | 'close'> => ({
    dialect: 'postgres',
    async all<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await queryable.query({ text: text(sql), values: params as SqlValue[] })).rows as T[];
    },
    async get<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await queryable.query({ text: text(sql), values: params as SqlValue[] })).rows[0] as
        | T
        | undefined;
    },
    async run(sql: string, params: readonly SqlValue[] = []) {
      return {
        changes: (await queryable.query({ text: text(sql), values: params as SqlValue[] })).rowCount ?? 0,
      };
    },
  });

  const inTransaction = new AsyncLocalStorage<OpenTransaction>();
  const current = (): LabDb | undefined => {
    const open = inTransaction.getStore();
    return open && !open.done ? open.tx : undefined;
  };
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const db: LabDb = {
    dialect: 'postgres',
    all: (sql, params) => (current() ?? direct).all(sql, params),
    get: (sql, params) => (current() ?? direct).get(sql, params),
    run: (sql, params) => (current() ?? direct).run(sql, params),
    transaction<T>(work: (tx: LabDb) => Promise<T>): Promise<T> {
      // Within a transaction's work (SQLite would wait for itself): part of that transaction.
      const open = current();
      if (open) return work(open);
      const result = queue.then(async () => {
        const client = await pool.connect();
        let broken: Error | undefined;
        const state: OpenTransaction = { tx: db, done: false };
        try {
          // One round trip: BEGIN, then wait for the lab's transaction lock (see above).
          await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${LAB_LOCK})`);
          const tx: LabDb = {
            ...on(client),
            transaction: (inner) => inner(tx),
            close: () => Promise.reject(new Error('close the lab database, not a transaction')),
          };
          state.tx = tx;
          const value = await inTransaction.run(state, () => work(tx));
          await client.query('COMMIT');
          return value;
        } catch (error) {
          await client.query('ROLLBACK').catch((rollbackError: Error) => {
            broken = rollbackError;
          });
          throw error;
        } finally {
          state.done = true;
          client.release(broken);
        }
      });
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      await pool.end();
    },
  };
  const direct = on(pool);
  return db;
}

function reason(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: { message: string }[] };
  // Node's AggregateError (IPv4 and IPv6 both refused) has an empty message.
  const message = e.message || e.errors?.map((inner) => inner.message).join('; ') || String(error);
  return e.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

async function migrate(client: pg.PoolClient): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1)', [LAB_LOCK]);
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id VARCHAR(200) PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const applied = new Set(
      (await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((row) => row.id),
    );
    for (const { id, sql } of readMigrations()) {
      if (applied.has(id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(toPostgresDdl(sql));
        await client.query('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)', [
          id,
          Date.now(),
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`migration ${id}: ${(error as Error).message}`, { cause: error });
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LAB_LOCK]).catch(() => {});
  }
}
