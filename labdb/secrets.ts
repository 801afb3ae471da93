import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Machine secrets (kits, services) are 192 random bits, so a salted SHA-256 is enough to keep
 * them safe at rest and cheap to check on every MQTT connect. People's passwords, which are
 * guessable, get a memory-hard KDF elsewhere.
 */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  return `sha256$${salt.toString('base64url')}$${digest(salt, secret).toString('base64url')}`;
}

export function verifySecret(secret: string, stored: string | null | undefined): boolean {
  if (!stored) return false;
  const [scheme, saltText, hashText] = stored.split('$');
  if (scheme !== 'sha256' || !saltText || !hashText) return false;
  const expected = Buffer.from(hashText, 'base64url');
  const actual = digest(Buffer.from(saltText, 'base64url'), secret);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function digest(salt: Buffer, secret: string): Buffer {
  return createHash('sha256').update(salt).update(secret, 'utf8').digest();
}
