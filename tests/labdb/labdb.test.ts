import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  hashSecret,
  KitRegistry,
  type LabDb,
  MIGRATIONS_DIR,
  openLabDb,
  openPostgresLabDb,
  verifySecret,
} from '../../labdb/index.ts';
import { freshPostgresDatabase, LAB_DB_MODE, type TestPostgresDatabase } from '../helpers/lab-db.ts';

const dir = mkdtempSync(join(tmpdir(), 'iotlab-labdb-'));
const databases = new Map<string, TestPostgresDatabase>();
afterAll(async () => {
  for (const database of databases.values()) await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** The lab database `name` of this run's engine (opening it again reopens the same one). */
async function open(name: string): Promise<LabDb> {
  if (LAB_DB_MODE === 'sqlite') return openLabDb(join(dir, `${name}.sqlite`));
  let database = databases.get(name);
  if (!database) {
    database = await freshPostgresDatabase();
    databases.set(name, database);
  }
  return openPostgresLabDb(database.url);
}

describe(`lab database (${LAB_DB_MODE})`, () => {
  it('applies each migration once and keeps data across reopening', async () => {
    const first = await open('lab');
    expect(first.dialect).toBe(LAB_DB_MODE);
    await new KitRegistry(first).addKit({ id: 'kept-kit' });
    await first.close();
    const second = await open('lab');
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
    const db = await open('tx');
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
    const db = await open('secrets');
    const { secret } = await new KitRegistry(db).addKit({ id: 'hashed-kit' });
    const row = await db.get<{ secret_hash: string }>("SELECT secret_hash FROM kits WHERE id = 'hashed-kit'");
    expect(row?.secret_hash).not.toContain(secret);
    expect(row?.secret_hash).toMatch(/^sha256\$/);
    expect(hashSecret(secret)).not.toBe(hashSecret(secret)); // salted
    expect(verifySecret(secret, row?.secret_hash)).toBe(true);
    expect(verifySecret(`${secret}x`, row?.secret_hash)).toBe(false);
    await db.close();
  });

  it('hands back the same values on both engines', async () => {
    const db = await open('values');
    const now = 1_790_000_000_123;
    await db.run('INSERT INTO kits (id, name, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', [
      'value-kit',
      "it's ? not a placeholder",
      'esp32',
      now,
      now,
    ]);
    await db.run('INSERT INTO kits (id, name, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', [
      'other-kit',
      'Other',
      'arduino',
      now + 1,
      now + 1,
    ]);
    const row = await db.get<Record<string, unknown>>(
      `SELECT count(*) AS n, sum(created_at) AS total, max(created_at) AS latest,
              count(*) = 2 AS two, EXISTS (SELECT 1 FROM kits WHERE id = ?) AS known,
              'a ? in text' AS text, NULL AS missing
       FROM kits WHERE name <> '?' -- a ? in a comment
       AND id <> ?`,
      ['value-kit', 'no-such-kit'],
    );
    expect(row).toEqual({
      n: 2,
      total: 2 * now + 1,
      latest: now + 1,
      two: 1,
      known: 1,
      text: 'a ? in text',
      missing: null,
    });
    expect((await db.get<{ name: string }>('SELECT name FROM kits WHERE id = ?', ['value-kit']))?.name).toBe(
      "it's ? not a placeholder",
    );
    // REAL keeps a double's precision (PostgreSQL's REAL is 4 bytes: migrations make it DOUBLE PRECISION).
    await db.run(
      "INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at) VALUES ('u1', 'u1', 'U', 'student', 'x', 1, 1)",
    );
    await db.run('INSERT INTO skill_evidence (user_id, skill, score, source, at) VALUES (?, ?, ?, ?, ?)', [
      'u1',
      'mqtt',
      2 / 3,
      'task:1',
      1,
    ]);
    expect((await db.get<{ score: number }>('SELECT score FROM skill_evidence'))?.score).toBe(2 / 3);
    expect(
      await db.run("UPDATE kits SET updated_at = updated_at + 1 WHERE kind IN ('esp32', 'arduino')"),
    ).toEqual({
      changes: 2,
    });
    await expect(
      db.run(
        "INSERT INTO kits (id, name, kind, created_at, updated_at) VALUES ('other-kit', 'x', 'esp32', 1, 1)",
      ),
    ).rejects.toThrow(/UNIQUE|duplicate key/);
    await db.close();
  });

  it('refuses registry text longer than its column with a clear error, and keeps text up to it', async () => {
    const db = await open('lengths');
    const registry = new KitRegistry(db);
    await expect(registry.addService('long-words', 'x'.repeat(250))).rejects.toMatchObject({
      name: 'RegistryError',
      code: 'SERVICE_DESCRIPTION_TOO_LONG',
      message: 'service description is 250 characters; at most 200',
    });
    await expect(registry.addKit({ id: 'long-name', name: 'x'.repeat(201) })).rejects.toMatchObject({
      code: 'KIT_NAME_TOO_LONG',
      message: 'kit name is 201 characters; at most 200',
    });
    await registry.addKit({ id: 'usb-kit' });
    await expect(registry.bindUsbSerial('usb-kit', '0'.repeat(101))).rejects.toMatchObject({
      code: 'USB_SERIAL_TOO_LONG',
      message: 'USB serial is 101 characters; at most 100',
    });
    expect(await registry.getService('long-words')).toBeUndefined();
    expect(await registry.getKit('long-name')).toBeUndefined();
    expect((await registry.getKit('usb-kit'))?.usbSerial).toBeNull();
    // Counted in characters, as PostgreSQL counts them: 200 of 🌡 are 400 UTF-16 units.
    const description = '温室'.repeat(100);
    expect((await registry.addService('full-words', description)).service.description).toBe(description);
    const name = '🌡'.repeat(200);
    expect((await registry.addKit({ id: 'full-name', name })).kit.name).toBe(name);
    await registry.bindUsbSerial('usb-kit', '0'.repeat(100));
    expect((await registry.getKit('usb-kit'))?.usbSerial).toBe('0'.repeat(100));
    await db.close();
  });

  it("runs this process's transactions one at a time", async () => {
    const db = await open('queue');
    await db.run("INSERT INTO service_accounts (name, secret_hash, created_at) VALUES ('counter', 'x', 0)");
    const increment = () =>
      db.transaction(async (tx) => {
        const row = await tx.get<{ created_at: number }>(
          "SELECT created_at FROM service_accounts WHERE name = 'counter'",
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
        // The database object the work closed over, not `tx`: still part of the transaction.
        await db.run("UPDATE service_accounts SET created_at = ? WHERE name = 'counter'", [
          (row?.created_at ?? 0) + 1,
        ]);
      });
    await Promise.all([increment(), increment(), increment()]);
    const row = await db.get<{ created_at: number }>(
      "SELECT created_at FROM service_accounts WHERE name = 'counter'",
    );
    expect(row?.created_at).toBe(3);
    await db.close();
  });
});

describe.runIf(LAB_DB_MODE === 'postgres')('lab database on PostgreSQL, across processes', () => {
  it('serialises the transactions of separate connections pools (as two processes would)', async () => {
    const a = await open('processes');
    const b = await open('processes');
    await a.run("INSERT INTO service_accounts (name, secret_hash, created_at) VALUES ('counter', 'x', 0)");
    const increment = (db: LabDb) =>
      db.transaction(async (tx) => {
        const row = await tx.get<{ created_at: number }>(
          "SELECT created_at FROM service_accounts WHERE name = 'counter'",
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
        await tx.run("UPDATE service_accounts SET created_at = ? WHERE name = 'counter'", [
          (row?.created_at ?? 0) + 1,
        ]);
      });
    await Promise.all([increment(a), increment(b), increment(a), increment(b)]);
    const row = await a.get<{ created_at: number }>(
      "SELECT created_at FROM service_accounts WHERE name = 'counter'",
    );
    expect(row?.created_at).toBe(4);
    await Promise.all([a.close(), b.close()]);
  });

  it('applies the migrations once when processes start together', async () => {
    const database = await freshPostgresDatabase();
    databases.set('together', database);
    const opened = await Promise.all([openPostgresLabDb(database.url), openPostgresLabDb(database.url)]);
    const [first] = opened;
    const rows = await first?.all<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
    expect(rows?.[0]?.n).toBe(readdirSync(MIGRATIONS_DIR).filter((name) => name.endsWith('.sql')).length);
    await Promise.all(opened.map((db) => db.close()));
  });
});
