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

/**
 * What a service account may do. `read`: subscribe to every kit's topics, call the API's reads;
 * `grade`: grade attempts over the API; `publish`: telemetry and events on a kit's behalf (derived
 * data, e.g. a smoothed sensor) and other non-platform topics; `command`: commands to kits;
 * `gateway`: connect USB kits as `<kit>@<service>` and report as that gateway. New accounts only
 * read: writing data that grading trusts is given, never assumed.
 */
export const SERVICE_SCOPES = ['read', 'grade', 'publish', 'command', 'gateway'] as const;
export type ServiceScope = (typeof SERVICE_SCOPES)[number];
export const DEFAULT_SERVICE_SCOPES: readonly ServiceScope[] = ['read'];

export interface ServiceAccount {
  name: string;
  description: string;
  createdAt: number;
  scopes: ServiceScope[];
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
    | 'INVALID_SCOPE'
    | 'USB_SERIAL_TAKEN'
    | 'KIT_NAME_TOO_LONG'
    | 'USB_SERIAL_TOO_LONG'
    | 'SERVICE_DESCRIPTION_TOO_LONG';
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
/** A service account's name: 2–48 characters of a–z, 0–9 and -, starting with a letter. */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{1,47}$/;

/**
 * The longest text the registry's columns take (their VARCHAR(n) in migrations/). PostgreSQL
 * refuses a longer value with an error where SQLite keeps it, so the registry checks first.
 */
export const KIT_NAME_MAX_LENGTH = 200;
export const USB_SERIAL_MAX_LENGTH = 100;
export const SERVICE_DESCRIPTION_MAX_LENGTH = 200;

function checkLength(code: RegistryError['code'], what: string, value: string, max: number): void {
  // In characters, as PostgreSQL counts them (not UTF-16 units: "🌡" is 1, not 2).
  const length = [...value].length;
  if (length > max) throw new RegistryError(code, `${what} is ${length} characters; at most ${max}`);
}

interface ServiceRow {
  name: string;
  description: string;
  created_at: number;
  scopes: string;
}

function toService(row: ServiceRow): ServiceAccount {
  return {
    name: row.name,
    description: row.description,
    createdAt: row.created_at,
    scopes: parseScopes(row.scopes),
  };
}

/** Scopes from their stored (or typed) form "read,publish"; unknown words are dropped. */
export function parseScopes(text: string): ServiceScope[] {
  const words = text.split(',').map((word) => word.trim());
  return SERVICE_SCOPES.filter((scope) => words.includes(scope));
}

function checkScopes(scopes: readonly string[]): ServiceScope[] {
  const unknown = scopes.filter((scope) => !(SERVICE_SCOPES as readonly string[]).includes(scope));
  if (unknown.length > 0) {
    throw new RegistryError(
      'INVALID_SCOPE',
      `unknown scope ${unknown.map((s) => `"${s}"`).join(', ')}: use ${SERVICE_SCOPES.join(', ')}`,
    );
  }
  return SERVICE_SCOPES.filter((scope) => scopes.includes(scope));
}

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
    const name = input.name ?? input.id;
    checkLength('KIT_NAME_TOO_LONG', 'kit name', name, KIT_NAME_MAX_LENGTH);
    const secret = newSecret();
    const now = Date.now();
    try {
      await db.run(
        'INSERT INTO kits (id, name, kind, secret_hash, created_at, updated_at, secret_issued_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [input.id, name, kind, hashSecret(secret), now, now, now],
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
    if (usbSerial !== null)
      checkLength('USB_SERIAL_TOO_LONG', 'USB serial', usbSerial, USB_SERIAL_MAX_LENGTH);
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

  async addService(
    name: string,
    description = '',
    scopes: readonly string[] = DEFAULT_SERVICE_SCOPES,
  ): Promise<{ service: ServiceAccount; secret: string }> {
    const checked = checkScopes(scopes);
    if (!SERVICE_NAME_PATTERN.test(name)) {
      throw new RegistryError(
        'INVALID_SERVICE_NAME',
        `service name "${name}" is not valid: 2–48 characters of a–z, 0–9 and -, starting with a letter`,
      );
    }
    checkLength(
      'SERVICE_DESCRIPTION_TOO_LONG',
      'service description',
      description,
      SERVICE_DESCRIPTION_MAX_LENGTH,
    );
    const secret = newSecret();
    try {
      await this.#db.run(
        'INSERT INTO service_accounts (name, description, secret_hash, created_at, scopes) VALUES (?, ?, ?, ?, ?)',
        [name, description, hashSecret(secret), Date.now(), checked.join(',')],
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
    const row = await this.#db.get<ServiceRow>(
      'SELECT name, description, created_at, scopes FROM service_accounts WHERE name = ?',
      [name],
    );
    return row ? toService(row) : undefined;
  }

  async listServices(): Promise<ServiceAccount[]> {
    const rows = await this.#db.all<ServiceRow>(
      'SELECT name, description, created_at, scopes FROM service_accounts ORDER BY name',
    );
    return rows.map(toService);
  }

  /** Sets what a service may do (replacing what it could before). */
  async setServiceScopes(name: string, scopes: readonly string[]): Promise<ServiceAccount> {
    const checked = checkScopes(scopes);
    const { changes } = await this.#db.run('UPDATE service_accounts SET scopes = ? WHERE name = ?', [
      checked.join(','),
      name,
    ]);
    if (changes === 0) throw new RegistryError('SERVICE_NOT_FOUND', `no service "${name}"`);
    return (await this.getService(name)) as ServiceAccount;
  }

  /**
   * Creates the service with these scopes, or gives an existing one a new secret and these scopes
   * (the platform's own accounts: Node-RED, the local gateway, at every start). Returns the secret.
   */
  async ensureService(name: string, description: string, scopes: readonly string[]): Promise<string> {
    if (!(await this.getService(name))) return (await this.addService(name, description, scopes)).secret;
    await this.setServiceScopes(name, scopes);
    return this.rotateServiceSecret(name);
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
    return (await this.serviceScopes(name, secret)) !== undefined;
  }

  /** The scopes of the service when the secret is its own; undefined otherwise. */
  async serviceScopes(name: string, secret: string): Promise<ServiceScope[] | undefined> {
    const row = await this.#db.get<{ secret_hash: string; scopes: string }>(
      'SELECT secret_hash, scopes FROM service_accounts WHERE name = ?',
      [name],
    );
    return row && verifySecret(secret, row.secret_hash) ? parseScopes(row.scopes) : undefined;
  }
}
