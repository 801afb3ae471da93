import { isValidKitId } from '../protocol/index.ts';
import type { LabDb } from './db.ts';
import { hashSecret, newSecret, verifySecret } from './secrets.ts';

export type KitKind = 'esp32' | 'arduino' | 'firmata' | 'other';
export const KIT_KINDS: readonly KitKind[] = ['esp32', 'arduino', 'firmata', 'other'];

export interface Kit {
  id: string;
  name: string;
  kind: KitKind;
  /** False once its secret was revoked: it can no longer connect. */
  active: boolean;
  createdAt: number;
  secretIssuedAt: number | null;
  /** USB serial number of the kit's board, for the gateway to recognise it. */
  usbSerial: string | null;
}

export interface ServiceAccount {
  name: string;
  description: string;
  createdAt: number;
}

/** A coded error the CLI and HTTP layers turn into a clear message. */
export class RegistryError extends Error {
  readonly code:
    | 'KIT_EXISTS'
    | 'KIT_NOT_FOUND'
    | 'INVALID_KIT_ID'
    | 'INVALID_KIND'
    | 'SERVICE_EXISTS'
    | 'SERVICE_NOT_FOUND'
    | 'INVALID_SERVICE_NAME'
    | 'USB_SERIAL_TAKEN';
  constructor(code: RegistryError['code'], message: string) {
    super(message);
    this.name = 'RegistryError';
    this.code = code;
  }
}

interface KitRow {
  id: string;
  name: string;
  kind: KitKind;
  secret_hash: string | null;
  created_at: number;
  secret_issued_at: number | null;
  usb_serial: string | null;
}

const KNOWN_KIT_TTL_MS = 5_000;
const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{1,47}$/;

function toKit(row: KitRow): Kit {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    active: row.secret_hash !== null,
    createdAt: row.created_at,
    secretIssuedAt: row.secret_issued_at,
    usbSerial: row.usb_serial,
  };
}

/** Kits and service accounts with their hashed secrets; the broker checks credentials here. */
export class KitRegistry {
  readonly #db: LabDb;
  /** Kit ids known to exist, with when that was checked: ingest asks once per message. */
  readonly #known = new Map<string, number>();

  constructor(db: LabDb) {
    this.#db = db;
  }

  /**
   * Registers a kit and returns its secret — the only time the secret is visible. `db`: a
   * transaction the registration is part of (the API records the audit in the same one).
   */
  async addKit(
    input: { id: string; name?: string; kind?: KitKind },
    db: LabDb = this.#db,
  ): Promise<{ kit: Kit; secret: string }> {
    if (!isValidKitId(input.id)) {
      throw new RegistryError(
        'INVALID_KIT_ID',
        `kit id "${input.id}" is not valid: 2–48 characters of a–z, 0–9, - and _, starting with a letter or digit`,
      );
    }
    const kind = input.kind ?? 'esp32';
    if (!KIT_KINDS.includes(kind)) {
      throw new RegistryError('INVALID_KIND', `kit kind "${kind}" is not one of ${KIT_KINDS.join(', ')}`);
    }
    const secret = newSecret();
    const now = Date.now();
    try {
      await db.run(
        'INSERT INTO kits (id, name, kind, secret_hash, created_at, updated_at, secret_issued_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [input.id, input.name ?? input.id, kind, hashSecret(secret), now, now, now],
      );
    } catch (error) {
      if (/UNIQUE|PRIMARY KEY/i.test((error as Error).message)) {
        throw new RegistryError('KIT_EXISTS', `kit "${input.id}" already exists (rotate its secret instead)`);
      }
      throw error;
    }
    return { kit: (await this.getKit(input.id, db)) as Kit, secret };
  }

  async getKit(id: string, db: LabDb = this.#db): Promise<Kit | undefined> {
    const row = await db.get<KitRow>('SELECT * FROM kits WHERE id = ?', [id]);
    return row ? toKit(row) : undefined;
  }

  async listKits(): Promise<Kit[]> {
    return (await this.#db.all<KitRow>('SELECT * FROM kits ORDER BY id')).map(toKit);
  }

  /** Per kit, a stamp that changes with its secret: when it was issued, or "revoked" (see broker). */
  async kitSecretStamps(): Promise<Map<string, string>> {
    const rows = await this.#db.all<{
      id: string;
      secret_hash: string | null;
      secret_issued_at: number | null;
    }>('SELECT id, secret_hash, secret_issued_at FROM kits');
    return new Map(
      rows.map((row) => [row.id, row.secret_hash === null ? 'revoked' : String(row.secret_issued_at ?? 0)]),
    );
  }

  /** Issues a new secret; the old one stops working at once. `db`: see {@link addKit}. */
  async rotateKitSecret(id: string, db: LabDb = this.#db): Promise<string> {
    const secret = newSecret();
    const now = Date.now();
    const { changes } = await db.run(
      'UPDATE kits SET secret_hash = ?, secret_issued_at = ?, updated_at = ? WHERE id = ?',
      [hashSecret(secret), now, now, id],
    );
    if (changes === 0) throw new RegistryError('KIT_NOT_FOUND', `no kit "${id}"`);
    return secret;
  }

  /** Revokes a kit's secret but keeps the kit (and its data) on record. `db`: see {@link addKit}. */
  async revokeKit(id: string, db: LabDb = this.#db): Promise<void> {
    const { changes } = await db.run('UPDATE kits SET secret_hash = NULL, updated_at = ? WHERE id = ?', [
      Date.now(),
      id,
    ]);
    if (changes === 0) throw new RegistryError('KIT_NOT_FOUND', `no kit "${id}"`);
  }

  async removeKit(id: string): Promise<void> {
    this.#known.delete(id);
    const { changes } = await this.#db.run('DELETE FROM kits WHERE id = ?', [id]);
    if (changes === 0) throw new RegistryError('KIT_NOT_FOUND', `no kit "${id}"`);
  }

  /** Binds a kit to its board's USB serial number (null unbinds). */
  async bindUsbSerial(id: string, usbSerial: string | null): Promise<void> {
    try {
      const { changes } = await this.#db.run('UPDATE kits SET usb_serial = ?, updated_at = ? WHERE id = ?', [
        usbSerial,
        Date.now(),
        id,
      ]);
      if (changes === 0) throw new RegistryError('KIT_NOT_FOUND', `no kit "${id}"`);
    } catch (error) {
      if (/UNIQUE/i.test((error as Error).message)) {
        const owner = await this.#db.get<{ id: string }>('SELECT id FROM kits WHERE usb_serial = ?', [
          usbSerial,
        ]);
        throw new RegistryError(
          'USB_SERIAL_TAKEN',
          `USB serial ${usbSerial} is already bound to kit "${owner?.id}"`,
        );
      }
      throw error;
    }
  }

  /** USB serial number → kit id, for the gateway. */
  async usbBindings(): Promise<Record<string, string>> {
    const rows = await this.#db.all<{ id: string; usb_serial: string }>(
      'SELECT id, usb_serial FROM kits WHERE usb_serial IS NOT NULL AND secret_hash IS NOT NULL',
    );
    return Object.fromEntries(rows.map((row) => [row.usb_serial, row.id]));
  }

  /** Whether a kit is registered; answers from a cache refreshed every few seconds. */
  async kitExists(id: string): Promise<boolean> {
    const checked = this.#known.get(id);
    if (checked !== undefined && Date.now() - checked < KNOWN_KIT_TTL_MS) return true;
    const row = await this.#db.get<{ id: string }>('SELECT id FROM kits WHERE id = ?', [id]);
    if (row) this.#known.set(id, Date.now());
    else this.#known.delete(id);
    return row !== undefined;
  }

  async isKitActive(id: string): Promise<boolean> {
    const row = await this.#db.get<{ secret_hash: string | null }>(
      'SELECT secret_hash FROM kits WHERE id = ?',
      [id],
    );
    return row !== undefined && row.secret_hash !== null;
  }

  async verifyKit(id: string, secret: string): Promise<boolean> {
    const row = await this.#db.get<{ secret_hash: string | null }>(
      'SELECT secret_hash FROM kits WHERE id = ?',
      [id],
    );
    return verifySecret(secret, row?.secret_hash);
  }

  async addService(name: string, description = ''): Promise<{ service: ServiceAccount; secret: string }> {
    if (!SERVICE_NAME_PATTERN.test(name)) {
      throw new RegistryError(
        'INVALID_SERVICE_NAME',
        `service name "${name}" is not valid: 2–48 characters of a–z, 0–9 and -, starting with a letter`,
      );
    }
    const secret = newSecret();
    try {
      await this.#db.run(
        'INSERT INTO service_accounts (name, description, secret_hash, created_at) VALUES (?, ?, ?, ?)',
        [name, description, hashSecret(secret), Date.now()],
      );
    } catch (error) {
      if (/UNIQUE|PRIMARY KEY/i.test((error as Error).message)) {
        throw new RegistryError(
          'SERVICE_EXISTS',
          `service "${name}" already exists (rotate its secret instead)`,
        );
      }
      throw error;
    }
    return { service: (await this.getService(name)) as ServiceAccount, secret };
  }

  async getService(name: string): Promise<ServiceAccount | undefined> {
    const row = await this.#db.get<{ name: string; description: string; created_at: number }>(
      'SELECT name, description, created_at FROM service_accounts WHERE name = ?',
      [name],
    );
    return row ? { name: row.name, description: row.description, createdAt: row.created_at } : undefined;
  }

  async listServices(): Promise<ServiceAccount[]> {
    const rows = await this.#db.all<{ name: string; description: string; created_at: number }>(
      'SELECT name, description, created_at FROM service_accounts ORDER BY name',
    );
    return rows.map((row) => ({ name: row.name, description: row.description, createdAt: row.created_at }));
  }

  async rotateServiceSecret(name: string): Promise<string> {
    const secret = newSecret();
    const { changes } = await this.#db.run('UPDATE service_accounts SET secret_hash = ? WHERE name = ?', [
      hashSecret(secret),
      name,
    ]);
    if (changes === 0) throw new RegistryError('SERVICE_NOT_FOUND', `no service "${name}"`);
    return secret;
  }

  async removeService(name: string): Promise<void> {
    const { changes } = await this.#db.run('DELETE FROM service_accounts WHERE name = ?', [name]);
    if (changes === 0) throw new RegistryError('SERVICE_NOT_FOUND', `no service "${name}"`);
  }

  async verifyService(name: string, secret: string): Promise<boolean> {
    const row = await this.#db.get<{ secret_hash: string }>(
      'SELECT secret_hash FROM service_accounts WHERE name = ?',
      [name],
    );
    return verifySecret(secret, row?.secret_hash);
  }
}
