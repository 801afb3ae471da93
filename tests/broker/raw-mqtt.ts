/**
 * MQTT 3.1.1 over a raw TCP socket, for tests that need what a client library hides or refuses to
 * do: a CONNECT without a client id, keep-alive 0, a client that never acknowledges, a packet
 * header announcing more bytes than will ever come.
 */
import { type Socket, connect as tcpConnect } from 'node:net';

export interface RawConnect {
  clientId?: string;
  clean?: boolean;
  /** Seconds; 0 = no keep-alive. */
  keepalive?: number;
  username?: string;
  password?: string;
  will?: { topic: string; payload: string; qos?: 0 | 1 | 2; retain?: boolean };
}

export type RawPacket =
  | { type: 'connack'; sessionPresent: boolean; returnCode: number }
  | {
      type: 'publish';
      topic: string;
      payload: Buffer;
      qos: number;
      dup: boolean;
      retain: boolean;
      messageId?: number;
    }
  | { type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp' | 'unsuback'; messageId: number }
  | { type: 'suback'; messageId: number; granted: number[] }
  | { type: 'pingresp' };

const CONNECT = 1;
const PUBLISH = 3;
const PUBACK = 4;
const SUBSCRIBE = 8;

/** The fixed header alone: type and flags, then the remaining length as MQTT's varint. */
export function fixedHeader(type: number, flags: number, remainingLength: number): Buffer {
  const bytes = [(type << 4) | flags];
  let length = remainingLength;
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

/** A packet's header announcing `length` bytes that a test then streams, or never sends. */
export const announceConnect = (length: number): Buffer => fixedHeader(CONNECT, 0, length);
export const announcePublish = (length: number): Buffer => fixedHeader(PUBLISH, 0, length);

function utf8Field(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function packet(type: number, flags: number, body: Buffer): Buffer {
  return Buffer.concat([fixedHeader(type, flags, body.length), body]);
}

function uint16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

export function connectPacket(options: RawConnect = {}): Buffer {
  const { will } = options;
  let flags = options.clean === false ? 0 : 0x02;
  if (will) flags |= 0x04 | ((will.qos ?? 0) << 3) | (will.retain ? 0x20 : 0);
  if (options.password !== undefined) flags |= 0x40;
  if (options.username !== undefined) flags |= 0x80;
  const parts = [
    utf8Field('MQTT'),
    Buffer.from([4, flags]),
    uint16(options.keepalive ?? 30),
    utf8Field(options.clientId ?? ''),
  ];
  if (will) parts.push(utf8Field(will.topic), utf8Field(will.payload));
  if (options.username !== undefined) parts.push(utf8Field(options.username));
  if (options.password !== undefined) parts.push(utf8Field(options.password));
  return packet(CONNECT, 0, Buffer.concat(parts));
}

export function publishPacket(
  topic: string,
  payload: string | Buffer,
  options: { qos?: 0 | 1 | 2; messageId?: number; retain?: boolean } = {},
): Buffer {
  const qos = options.qos ?? 0;
  const parts = [utf8Field(topic)];
  if (qos > 0) parts.push(uint16(options.messageId ?? 1));
  parts.push(typeof payload === 'string' ? Buffer.from(payload) : payload);
  return packet(PUBLISH, (qos << 1) | (options.retain ? 1 : 0), Buffer.concat(parts));
}

export function subscribePacket(messageId: number, filters: [string, 0 | 1 | 2][]): Buffer {
  const parts = [uint16(messageId)];
  for (const [filter, qos] of filters) parts.push(utf8Field(filter), Buffer.from([qos]));
  return packet(SUBSCRIBE, 0x02, Buffer.concat(parts));
}

export const pubackPacket = (messageId: number): Buffer => packet(PUBACK, 0, uint16(messageId));
export const disconnectPacket = (): Buffer => Buffer.from([0xe0, 0]);

function decode(type: number, flags: number, body: Buffer): RawPacket | undefined {
  switch (type) {
    case 2:
      return { type: 'connack', sessionPresent: (body[0] ?? 0) === 1, returnCode: body[1] ?? -1 };
    case 3: {
      const topicLength = body.readUInt16BE(0);
      const topic = body.subarray(2, 2 + topicLength).toString('utf8');
      const qos = (flags >> 1) & 3;
      let offset = 2 + topicLength;
      const messageId = qos > 0 ? body.readUInt16BE(offset) : undefined;
      if (qos > 0) offset += 2;
      return {
        type: 'publish',
        topic,
        payload: body.subarray(offset),
        qos,
        dup: (flags & 8) !== 0,
        retain: (flags & 1) !== 0,
        ...(messageId === undefined ? {} : { messageId }),
      };
    }
    case 4:
    case 5:
    case 6:
    case 7:
    case 11: {
      const names = { 4: 'puback', 5: 'pubrec', 6: 'pubrel', 7: 'pubcomp', 11: 'unsuback' } as const;
      return { type: names[type], messageId: body.readUInt16BE(0) };
    }
    case 9:
      return { type: 'suback', messageId: body.readUInt16BE(0), granted: [...body.subarray(2)] };
    case 13:
      return { type: 'pingresp' };
    default:
      return undefined;
  }
}

/** A raw MQTT connection: what it received, and whether the broker closed it. */
export class RawClient {
  readonly packets: RawPacket[] = [];
  /** Resolves when the socket is closed (by either side). */
  readonly closed: Promise<void>;
  #buffer = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => this.#receive(chunk));
    socket.on('error', () => {}); // a reset by the broker shows as `closed`
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => this.#wake());
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Opens a connection, sends CONNECT and waits for the CONNACK. */
  static async connect(port: number, options: RawConnect = {}): Promise<RawClient> {
    const client = await RawClient.open(port);
    client.send(connectPacket(options));
    await client.next('connack');
    return client;
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next packet of a type not taken by an earlier `next` (waits up to `timeoutMs`). */
  async next<T extends RawPacket['type']>(
    type: T,
    timeoutMs = 5_000,
  ): Promise<Extract<RawPacket, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.packets.findIndex((p) => p.type === type);
      if (index >= 0) return this.packets.splice(index, 1)[0] as Extract<RawPacket, { type: T }>;
      if (this.isClosed) throw new Error(`connection closed before a ${type} arrived`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #receive(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      let length = 0;
      let multiplier = 1;
      let offset = 1;
      for (;;) {
        const byte = this.#buffer[offset];
        if (byte === undefined) return; // the header is not complete yet
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        offset++;
        if ((byte & 0x80) === 0) break;
      }
      if (this.#buffer.length < offset + length) return;
      const first = this.#buffer[0] as number;
      const decoded = decode(first >> 4, first & 0x0f, this.#buffer.subarray(offset, offset + length));
      this.#buffer = this.#buffer.subarray(offset + length);
      if (decoded) this.packets.push(decoded);
      this.#wake();
    }
  }
}

/**
 * Streams `totalBytes` of filler after `header` with backpressure (one reused chunk, so the test
 * process itself stays small); resolves with how many bytes the socket took before it closed.
 */
export async function streamUntilClosed(
  client: RawClient,
  header: Buffer,
  totalBytes: number,
): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  client.send(header);
  while (sent < totalBytes && !client.isClosed) {
    const ok = client.socket.write(chunk);
    sent += chunk.length;
    if (!ok) {
      await Promise.race([new Promise((resolve) => client.socket.once('drain', resolve)), client.closed]);
    }
  }
  return sent;
}
