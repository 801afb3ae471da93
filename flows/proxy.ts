import {
  type Agent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import WebSocket from 'ws';

/** Headers of one connection, not of the request (RFC 9110 §7.6.1), and never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export function withoutHopByHop<T extends IncomingHttpHeaders>(headers: T): T {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase());
  const kept = { ...headers };
  for (const name of Object.keys(kept)) {
    if (HOP_BY_HOP.has(name) || named.includes(name)) delete kept[name];
  }
  return kept;
}

export interface Forwarding {
  /** The headers to send on (the client's, changed as the caller decides). */
  headers: OutgoingHttpHeaders;
  /** The request body, when the caller has read it already; otherwise it streams through. */
  body?: Buffer;
  /** Changes to the answer's headers before they go back to the client. */
  answerHeaders?: (headers: IncomingHttpHeaders) => IncomingHttpHeaders;
}

/**
 * Forwards a request to a server on loopback (the Node-RED process) and streams its answer
 * back; the path (and query) goes on as the client sent it. 502 when that server is not there.
 */
export function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  target: { port: number; agent: Agent },
  how: Forwarding,
): void {
  void reply.hijack();
  const client = reply.raw;
  const upstream = httpRequest(
    {
      host: '127.0.0.1',
      port: target.port,
      method: request.method,
      path: request.raw.url,
      headers: how.body ? { ...how.headers, 'content-length': how.body.length } : how.headers,
      agent: target.agent,
    },
    (answer) => {
      const headers = withoutHopByHop(answer.headers);
      client.writeHead(answer.statusCode ?? 502, how.answerHeaders ? how.answerHeaders(headers) : headers);
      answer.pipe(client);
    },
  );
  upstream.on('error', () => {
    if (client.headersSent) return client.destroy();
    client.writeHead(502, { 'content-type': 'application/json; charset=utf-8' });
    client.end(
      JSON.stringify({
        code: 'FLOWS_UNAVAILABLE',
        message: 'the flows runtime is not running (流程运行环境未运行)',
      }),
    );
  });
  // The client went away before the answer was complete: so does the forwarded request.
  client.on('close', () => {
    if (!client.writableFinished) upstream.destroy();
  });
  if (how.body) upstream.end(how.body);
  else request.raw.pipe(upstream);
}

/**
 * Relays a WebSocket to one on loopback, message by message, so the client's `auth` message
 * (Node-RED's editor sends `{"auth": "<token>"}` first) can be swapped: `translate` turns the
 * client's token into what the other side accepts, or refuses it (`{"auth":"fail"}`, closed,
 * as Node-RED answers). Messages keep their order.
 */
export function relayWebSocket(
  client: WebSocket,
  url: string,
  translate: (token: string) => Promise<string | undefined>,
): void {
  const upstream = new WebSocket(url);
  const waiting: string[] = [];
  let queue = Promise.resolve();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    upstream.terminate();
    client.close();
  };
  upstream.on('open', () => {
    for (const message of waiting.splice(0)) upstream.send(message);
  });
  upstream.on('message', (data, isBinary) => {
    if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
  });
  upstream.on('close', end);
  upstream.on('error', end);
  client.on('close', end);
  client.on('error', end);
  client.on('message', (data) => {
    queue = queue.then(async () => {
      const message = await translated(data.toString(), translate);
      if (message === undefined) {
        client.send(JSON.stringify({ auth: 'fail' }));
        return end();
      }
      if (upstream.readyState === WebSocket.OPEN) upstream.send(message);
      else waiting.push(message);
    });
  });
}

/** The message with its `auth` token translated; undefined when the token is refused. */
async function translated(
  text: string,
  translate: (token: string) => Promise<string | undefined>,
): Promise<string | undefined> {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof message !== 'object' || message === null || !('auth' in message)) return text;
  const token = (message as { auth: unknown }).auth;
  const statement = typeof token === 'string' ? await translate(token) : undefined;
  return statement === undefined ? undefined : JSON.stringify({ ...message, auth: statement });
}
