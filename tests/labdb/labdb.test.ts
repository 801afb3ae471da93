import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashSecret, KitRegistry, MIGRATIONS_DIR, openLabDb, verifySecret } from '../../labdb/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'iotlab-labdb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lab database', () => {
  it('applies each migration once and keeps data across reopening', async () => {
    const path = join(dir, 'lab.sqlite');
    const first = openLabDb(path);
    await new KitRegistry(first).addKit({ id: 'kept-kit' });
    await first.close();
    const second = openLabDb(path);
    const migrations = await second.all<{ id: string }>('SELECT id FROM schema_migrations');
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((name) => name.endsWith('.sql'))
      .sort();
    expect(files.length).toBeGreaterThanOrEqual(6);
    expect(migrations.map((m) => m.id).sort()).toEqual(files);
    expect((await new KitRegistry(second).getKit('kept-kit'))?.id).toBe('kept-kit');
    await second.close();
  });

  it('rolls a failed transaction back whole', async () => {
    const db = openLabDb(join(dir, 'tx.sqlite'));
    const registry = new KitRegistry(db);
    await expect(
      db.transaction(async (tx) => {
        await tx.run("INSERT INTO service_accounts (name, secret_hash, created_at) VALUES ('half', 'x', 1)");
        throw new Error('second step failed');
      }),
    ).rejects.toThrow('second step failed');
    expect(await registry.getService('half')).toBeUndefined();
    await db.close();
  });

  it('stores secrets only as salted hashes', async () => {
    const db = openLabDb(join(dir, 'secrets.sqlite'));
    const { secret } = await new KitRegistry(db).addKit({ id: 'hashed-kit' });
    const row = await db.get<{ secret_hash: string }>("SELECT secret_hash FROM kits WHERE id = 'hashed-kit'");
    expect(row?.secret_hash).not.toContain(secret);
    expect(row?.secret_hash).toMatch(/^sha256\$/);
    expect(hashSecret(secret)).not.toBe(hashSecret(secret)); // salted
    expect(verifySecret(secret, row?.secret_hash)).toBe(true);
    expect(verifySecret(`${secret}x`, row?.secret_hash)).toBe(false);
    await db.close();
  });
});
