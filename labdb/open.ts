import { type LabDb, openLabDb } from './db.ts';
import { openPostgresLabDb, type PostgresOptions, redactUrl } from './postgres.ts';

/** The problem with a lab database URL, or undefined when it can be opened (empty: the embedded file). */
export function labDatabaseUrlProblem(url: string): string | undefined {
  if (url === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${redactUrl(url)}" is not a URL: use postgres://user:password@host:5432/database, or leave it empty for the embedded SQLite file`;
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    return `${parsed.protocol}// is not supported: use postgres://user:password@host:5432/database, or leave it empty for the embedded SQLite file`;
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) return 'the URL names no host';
  return undefined;
}

/**
 * The one way the platform and the CLI open the lab database: PostgreSQL for a `postgres://` (or
 * `postgresql://`) URL, else the embedded SQLite file at `sqlitePath`. Pending migrations are
 * applied either way. Rejects with a message saying what is wrong with the URL, or why the
 * server could not be reached (the caller names its setting).
 */
export async function openLabDatabase(options: {
  url: string;
  sqlitePath: string;
  postgres?: PostgresOptions;
}): Promise<LabDb> {
  if (options.url === '') return openLabDb(options.sqlitePath);
  const problem = labDatabaseUrlProblem(options.url);
  if (problem) throw new Error(problem);
  return openPostgresLabDb(options.url, options.postgres);
}
