/**
 * Which lab database the lab suites run on. `npm test` runs tests/lab-api, tests/labdb and the
 * lab-touching grading suite twice (vitest.config.ts projects): on the embedded SQLite file and,
 * with IOTLAB_TEST_LAB_DB=postgres, on a real PostgreSQL the `postgres` project's global setup
 * (tests/helpers/postgres-setup.ts) starts once; each lab gets a fresh database on it.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createPostgresDatabase, dropPostgresDatabase } from '../../harness/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The `postgres` database URL of the PostgreSQL the global setup started ('' when none). */
    labPostgresUrl: string;
  }
}

export type LabDbMode = 'sqlite' | 'postgres';

export const LAB_DB_MODE: LabDbMode = process.env.IOTLAB_TEST_LAB_DB === 'postgres' ? 'postgres' : 'sqlite';

/** A fresh, empty PostgreSQL database for one lab, and how to drop it. */
export interface TestPostgresDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database on the suite's PostgreSQL (only with IOTLAB_TEST_LAB_DB=postgres). */
export async function freshPostgresDatabase(): Promise<TestPostgresDatabase> {
  const server = inject('labPostgresUrl');
  if (!server) {
    throw new Error(
      'IOTLAB_TEST_LAB_DB=postgres needs the PostgreSQL the "postgres" project starts: run `npx vitest run --project postgres`',
    );
  }
  const name = `lab_${process.pid}_${randomBytes(6).toString('hex')}`;
  const url = await createPostgresDatabase(server, name);
  return { url, drop: () => dropPostgresDatabase(server, name) };
}

/** A fresh database when the suite runs on PostgreSQL; undefined on SQLite (the caller's file). */
export async function freshLabDatabase(): Promise<TestPostgresDatabase | undefined> {
  return LAB_DB_MODE === 'postgres' ? freshPostgresDatabase() : undefined;
}
