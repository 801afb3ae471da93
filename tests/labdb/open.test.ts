import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, startPlatform } from '../../cli/index.ts';
import { freePort } from '../../harness/index.ts';
import { labDatabaseUrlProblem, openLabDatabase } from '../../labdb/index.ts';
import { toPositional } from '../../labdb/postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'iotlab-labdb-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('opening the lab database', () => {
  it('numbers ? placeholders, leaving strings, identifiers and comments alone', () => {
    expect(toPositional('SELECT 1')).toBe('SELECT 1');
    expect(
      toPositional(`SELECT '?', "a?" FROM t WHERE a = ? AND b LIKE ? ESCAPE '\\' -- ?\n AND c = ?`),
    ).toBe(`SELECT '?', "a?" FROM t WHERE a = $1 AND b LIKE $2 ESCAPE '\\' -- ?\n AND c = $3`);
    expect(toPositional("SELECT 'it''s ?', ? /* ? */, ?")).toBe("SELECT 'it''s ?', $1 /* ? */, $2");
  });

  it('takes an empty URL for the embedded file and a postgres:// URL for PostgreSQL, nothing else', async () => {
    expect(labDatabaseUrlProblem('')).toBeUndefined();
    expect(labDatabaseUrlProblem('postgres://lab:secret@db.example:5432/iotlab')).toBeUndefined();
    expect(labDatabaseUrlProblem('postgresql://db.example/iotlab')).toBeUndefined();
    expect(labDatabaseUrlProblem('mysql://db.example/iotlab')).toMatch(/mysql:\/\/ is not supported/);
    expect(labDatabaseUrlProblem('not a url')).toMatch(/is not a URL/);
    const db = await openLabDatabase({ url: '', sqlitePath: join(dir, 'lab.sqlite') });
    expect(db.dialect).toBe('sqlite');
    await db.close();
  });

  it('names the setting when the URL is bad', () => {
    expect(() => loadConfig({ env: { IOTLAB_LAB_DATABASE_URL: 'mysql://db/iotlab' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { IOTLAB_LAB_DATABASE_URL: 'mysql://db/iotlab' } })).toThrow(
      /lab\.databaseUrl \(env IOTLAB_LAB_DATABASE_URL\)/,
    );
  });

  it('stops the start-up with a clear error, naming the setting, when the server cannot be reached', async () => {
    const port = await freePort();
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: dir,
        lab: { databaseUrl: `postgres://lab:hunter2@127.0.0.1:${port}/iotlab` },
        http: { host: '127.0.0.1', port: 0 },
        mqtt: { host: '127.0.0.1', port: 0 },
        log: { level: 'silent', statusIntervalSeconds: 0 },
        flows: { enabled: false },
      },
    });
    const started = startPlatform(config, pino({ level: 'silent' }));
    await expect(started).rejects.toThrow(ConfigError);
    await expect(started).rejects.toThrow(
      new RegExp(
        `lab\\.databaseUrl \\(env IOTLAB_LAB_DATABASE_URL\\): cannot open the lab database at postgres://lab:\\*\\*\\*@127\\.0\\.0\\.1:${port}/iotlab: .*ECONNREFUSED`,
      ),
    );
    await expect(started).rejects.not.toThrow(/hunter2/);
  });
});
