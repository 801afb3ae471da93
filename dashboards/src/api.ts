/**
 * The lab API over fetch: the bearer token lives in sessionStorage (gone when the tab closes).
 * Every call sends `Accept-Language` with the UI's language, so the API's error messages come in it.
 */
import type { Login } from '../../contract/index.ts';
import { currentLang, t } from './i18n.ts';

export type { Role } from '../../contract/index.ts';

/** A signed-in session: POST /auth/login's answer, kept in the tab's sessionStorage. */
export type Session = Login;

const KEY = 'iotlab.session';

/**
 * An error the API answered: `message` is for people, in the UI's language (the API answers in
 * the `Accept-Language` we send); `code` is for programs and the tooltip; `details` is the body's
 * structured part (a roster's rows, a rubric's problems, the current version).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The headers every request sends: the UI's language, and the token when signed in. */
function baseHeaders(): Record<string, string> {
  const headers: Record<string, string> = { 'accept-language': currentLang() };
  if (current) headers.authorization = `Bearer ${current.token}`;
  return headers;
}

/** fetch, with a network failure as an ApiError in the UI's language (not the browser's English). */
async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(`/api/v1${path}`, init);
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', t('networkError'));
  }
}

/** An error answer as an ApiError: the API's own sentence, or a plain one when there is none (a proxy's page). */
function failure(response: Response, text: string): ApiError {
  let body: { code?: unknown; message?: unknown; details?: unknown } = {};
  try {
    body = text ? (JSON.parse(text) as typeof body) : {};
  } catch {
    body = {};
  }
  return new ApiError(
    response.status,
    typeof body.code === 'string' ? body.code : `HTTP_${response.status}`,
    typeof body.message === 'string' && body.message
      ? body.message
      : t('httpError', { status: response.status }),
    typeof body.details === 'object' && body.details !== null
      ? (body.details as Record<string, unknown>)
      : {},
  );
}

let current: Session | null = null;
try {
  const stored = sessionStorage.getItem(KEY);
  if (stored) {
    const parsed = JSON.parse(stored) as Session;
    if (parsed.expiresAt > Date.now()) current = parsed;
  }
} catch {
  current = null;
}

const listeners = new Set<() => void>();

export function session(): Session | null {
  return current;
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setSession(next: Session | null): void {
  current = next;
  if (next) sessionStorage.setItem(KEY, JSON.stringify(next));
  else sessionStorage.removeItem(KEY);
  for (const listener of listeners) listener();
}

export interface Answer<T> {
  body: T;
  etag: string | null;
}

/** Calls the API; JSON in and out. A 401 signs out (the token expired or was revoked). */
export async function call<T>(
  method: string,
  path: string,
  options: { body?: unknown; raw?: string | Blob; contentType?: string; ifMatch?: string | null } = {},
): Promise<Answer<T>> {
  const headers = baseHeaders();
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  let body: string | Blob | undefined;
  if (options.raw !== undefined) {
    body = options.raw;
    headers['content-type'] = options.contentType ?? 'text/plain';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await send(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  if (!response.ok) {
    if (response.status === 401 && current && path !== '/auth/login') setSession(null);
    throw failure(response, text);
  }
  return { body: (text ? JSON.parse(text) : null) as T, etag: response.headers.get('etag') };
}

export async function get<T>(path: string): Promise<T> {
  return (await call<T>('GET', path)).body;
}

export async function post<T>(path: string, body?: unknown): Promise<T> {
  return (await call<T>('POST', path, body === undefined ? {} : { body })).body;
}

export async function login(username: string, password: string): Promise<Session> {
  const { body } = await call<Session>('POST', '/auth/login', { body: { username, password } });
  setSession(body);
  return body;
}

export async function logout(): Promise<void> {
  try {
    if (current) await call('POST', '/auth/logout');
  } catch {
    // Signed out locally either way.
  }
  setSession(null);
}

/** Downloads a file the API serves (exports), with the token, under the server's file name. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const response = await send(path, { headers: baseHeaders() });
  if (!response.ok) throw failure(response, await response.text());
  const disposition = response.headers.get('content-disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  const plain = /filename="?([^";]+)"?/i.exec(disposition)?.[1];
  const name = star ? decodeURIComponent(star) : (plain ?? fallbackName);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
