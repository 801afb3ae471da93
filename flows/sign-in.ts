import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type EditorUser, editorUser, type LabAccounts, type StudentAccess } from './access.ts';

export interface AccessLog {
  warn(object: object, message: string): void;
  info(object: object, message: string): void;
}

/** How long an editor session lasts (as a lab login token does). */
const SESSION_SECONDS = 12 * 3600;

/** Node-RED's own clients: the editor, and the `node-red-admin` command line. */
const CLIENTS = new Set(['node-red-editor', 'node-red-admin']);

interface Session {
  username: string;
  expiresAt: number;
}

/**
 * The editor's sign-in, in front of Node-RED. Its login dialog posts a password grant to
 * `<adminRoot>/auth/token`; this answers it with the lab's one password check (so the lab's one
 * limiter: per address, and per account at an address) and a session token of the editor's
 * own. Node-RED's token endpoint, and its limiter (per username, successes counted, so anyone
 * could lock anyone out), are never reached. A lab login token (Bearer) is accepted as well.
 *
 * Sessions live in memory (only token hashes): a platform restart signs the editor out. Every
 * request re-reads the person, so a disabled account or a changed student policy applies at once.
 */
export class EditorSignIn {
  readonly #accounts: LabAccounts;
  readonly #studentAccess: () => StudentAccess;
  readonly #log: AccessLog;
  readonly #sessions = new Map<string, Session>();

  constructor(accounts: LabAccounts, studentAccess: () => StudentAccess, log: AccessLog) {
    this.#accounts = accounts;
    this.#studentAccess = studentAccess;
    this.#log = log;
  }

  /** Who an editor token (a session of ours, or a lab login token) is, if they may use the editor. */
  async userOf(token: string | undefined): Promise<EditorUser | null> {
    if (!token) return null;
    const key = hash(token);
    const session = this.#sessions.get(key);
    if (session && session.expiresAt <= Date.now()) {
      this.#sessions.delete(key);
      return null;
    }
    const person = session
      ? await this.#accounts.byUsername(session.username)
      : await this.#accounts.byToken(token);
    return editorUser(person, this.#studentAccess());
  }

  /** `POST <adminRoot>/auth/token`: OAuth 2's password grant, as Node-RED's editor sends it. */
  async token(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const body = await readForm(request.raw);
    if (body.grant_type !== 'password')
      return refuse(reply, 400, 'unsupported_grant_type', 'only the password grant', '仅支持密码登录');
    if (!CLIENTS.has(body.client_id ?? ''))
      return refuse(reply, 401, 'invalid_client', 'unknown client', '未知客户端');
    const { username, password } = body;
    if (!username || !password)
      return refuse(reply, 400, 'invalid_request', 'username and password are needed', '请输入用户名和密码');
    const result = await this.#accounts.signIn(username, password, { address: request.ip });
    if (!result.ok && result.reason === 'locked') {
      const minutes = Math.ceil(result.retryAfterSeconds / 60);
      this.#log.warn({ username, address: request.ip }, 'flow editor: sign-in refused, too many failures');
      void reply.header('retry-after', String(result.retryAfterSeconds));
      return refuse(
        reply,
        429,
        'too_many_attempts',
        `too many failed sign-ins: try again in ${minutes} minutes`,
        `登录失败次数过多，请 ${minutes} 分钟后再试`,
      );
    }
    if (!result.ok) {
      this.#log.warn({ username, address: request.ip }, 'flow editor: wrong username or password');
      // 403 invalid_grant, as Node-RED's own endpoint (oauth2orize) answers.
      return refuse(reply, 403, 'invalid_grant', 'wrong username or password', '用户名或密码错误');
    }
    const user = editorUser(result.user, this.#studentAccess());
    if (!user) {
      this.#log.warn({ username, role: result.user.role }, 'flow editor: this role has no access');
      return refuse(
        reply,
        403,
        'invalid_grant',
        'this account may not use the flow editor',
        '该账号无权使用流程编辑器',
      );
    }
    this.#log.info({ username, role: user.role }, 'flow editor: signed in');
    const token = randomBytes(32).toString('base64url');
    this.#forgetExpired();
    this.#sessions.set(hash(token), {
      username: user.username,
      expiresAt: Date.now() + SESSION_SECONDS * 1000,
    });
    void reply.header('cache-control', 'no-store');
    return reply.send({ access_token: token, expires_in: SESSION_SECONDS, token_type: 'Bearer' });
  }

  /**
   * `POST <adminRoot>/auth/revoke` (the editor's Sign out): ends the caller's session, and the
   * one named in the body. A lab login token is ended by the lab API's sign-out, not here.
   */
  async revoke(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const body = await readForm(request.raw);
    const token = bearerToken(request.headers.authorization);
    if (!(await this.userOf(token))) return reply.code(401).send();
    for (const ended of [token, body.token]) if (ended) this.#sessions.delete(hash(ended));
    return reply.code(200).send();
  }

  #forgetExpired(): void {
    const now = Date.now();
    for (const [key, session] of this.#sessions) if (session.expiresAt <= now) this.#sessions.delete(key);
  }
}

/** The token of an `Authorization: Bearer …` header. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** An OAuth 2 error answer (RFC 6749 §5.2), its description in English and Chinese. */
function refuse(reply: FastifyReply, status: number, error: string, en: string, zh: string): FastifyReply {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .send({ error, error_description: `${en} (${zh})` });
}

/** A small form-encoded or JSON body (the sign-in's); other or oversized bodies read as empty. */
async function readForm(request: IncomingMessage, limit = 16 * 1024): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return {};
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const type = String(request.headers['content-type'] ?? '');
  try {
    const fields = type.includes('json')
      ? (JSON.parse(text) as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(text));
    return Object.fromEntries(
      Object.entries(fields).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  } catch {
    return {};
  }
}
