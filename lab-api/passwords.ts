import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { type Localized, say } from './errors.ts';

/**
 * People's passwords: scrypt, a memory-hard KDF (N=2^15, r=8: 32 MiB and ~50–100 ms per check),
 * so a stolen database is expensive to guess through. Stored as `scrypt$N$r$p$salt$hash`.
 */
const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const MAX_MEMORY = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N: n, r, p, maxmem: MAX_MEMORY }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltText, keyText] = stored.split('$');
  if (scheme !== 'scrypt' || !saltText || !keyText) return false;
  const expected = Buffer.from(keyText, 'base64url');
  const actual = await derive(password, Buffer.from(saltText, 'base64url'), Number(n), Number(r), Number(p));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** What a new password must be: long enough to resist guessing, not only digits (学号, birthdays). */
export function passwordProblem(password: string): Localized | undefined {
  if (password.length < 10) return say('a password needs at least 10 characters', '密码至少需要 10 个字符');
  if (password.length > 200) return say('a password can have at most 200 characters', '密码最多 200 个字符');
  if (/^\d+$/.test(password))
    return say(
      'a password of digits only is too easy to guess',
      '纯数字的密码太容易被猜到，请加入字母或符号',
    );
  return undefined;
}
