import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type EditorUser, editorUser, type LabSignIn, type StudentAccess } from './access.ts';

export interface AccessLog {
  warn(object: object, message: string): void;
  info(object: object, message: string): void;
}

/** Node-RED's own clients: the editor, and the `node-red-admin` command line. */
const CLIENTS = new Set(['node-red-editor', 'node-red-admin']);

/**
 * The editor's sign-in, in front of Node-RED. Its login dialog posts a password grant to
 * `<adminRoot>/auth/token`; this answers it with the lab's one password check (so the lab's one
 * limiter: per address, per account at an address, and the browser's device cookie) and a lab
 * login token: signing out, changing the password, a disabled account and expiry end an editor
 * sign-in as they end any other. Node-RED's token endpoint, and its limiter (per username,
 * successes counted, so anyone could lock anyone out), are never reached.
 *
 * Every request re-reads the person, so a disabled account or a changed student policy applies at once.
 */
export class EditorSignIn {
  readonly #lab: LabSignIn;
  readonly #studentAccess: () => StudentAccess;
  readonly #log: AccessLog;

  constructor(lab: LabSignIn, studentAccess: () => StudentAccess, log: AccessLog) {
    this.#lab = lab;
    this.#studentAccess = studentAccess;
    this.#log = log;
  }

  /** Who an editor token (a session of ours, or a lab login token) is, if they may use the editor. */
  async userOf(token: string | undefined): Promise<EditorUser | null> {
    if (!token) return null;
    return editorUser(await this.#lab.byToken(token), this.#studentAccess());
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
    const result = await this.#lab.signIn(username, password, {
      address: request.ip,
      device: this.#lab.deviceFromCookies(request.headers.cookie),
    });
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
    const { token, expiresAt } = await this.#lab.issueToken(user.username);
    if (result.device)
      void reply.header('set-cookie', this.#lab.deviceCookie(result.device, request.protocol === 'https'));
    void reply.header('cache-control', 'no-store');
    return reply.send({
      access_token: token,
      expires_in: Math.round((expiresAt - Date.now()) / 1000),
      token_type: 'Bearer',
    });
  }

  /**
   * `POST <adminRoot>/auth/revoke` (the editor's Sign out): ends the caller's login. The body's
   * `token` (Node-RED's editor names the same one) is ended only when it is the caller's own.
   */
  async revoke(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const body = await readForm(request.raw);
    const token = bearerToken(request.headers.authorization);
    const user = await this.userOf(token);
    if (!token || !user) return reply.code(401).send();
    await this.#lab.revokeToken(token);
    if (
      body.token &&
      body.token !== token &&
      (await this.#lab.byToken(body.token))?.username === user.username
    )
      await this.#lab.revokeToken(body.token);
    return reply.code(200).send();
  }
}

/** The token of an `Authorization: Bearer …` header. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
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
