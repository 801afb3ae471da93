import { Duplex } from 'node:stream';

/**
 * Packet size limits, enforced in front of Aedes. Aedes (through mqtt-packet) buffers a whole
 * packet before any hook runs, so a client that announces a 250 MB CONNECT gets 250 MB of the
 * platform's memory before it has even said who it is. The guard reads only each packet's fixed
 * header (type + remaining length) as the bytes pass, and closes the connection the moment a header
 * announces more than allowed, before the body is read.
 */
export interface PacketLimits {
  /** Largest CONNECT (client id, credentials and last will together), in bytes after the fixed header. */
  maxConnectBytes: number;
  /** Largest packet after the CONNECT, in bytes after the fixed header. */
  maxPacketBytes: number;
}

export interface PacketViolation {
  reason: 'first packet is not CONNECT' | 'CONNECT too large' | 'packet too large' | 'malformed length';
  /** MQTT control packet type (1 CONNECT, 3 PUBLISH, …). */
  type: number;
  /** The remaining length the header announced (bytes). */
  length: number;
  limit: number;
}

const CONNECT = 1;
/** The remaining length is a varint of at most 4 bytes (MQTT 3.1.1 §2.2.3). */
const MAX_LENGTH_BYTES = 4;

/** Follows the packet boundaries of an MQTT byte stream without keeping any of its bytes. */
class PacketScanner {
  #state: 'type' | 'length' | 'body' = 'type';
  #type = 0;
  #length = 0;
  #lengthBytes = 0;
  #bodyLeft = 0;
  #packetsSeen = 0;
  /** Packets whose last byte has passed. */
  completed = 0;

  constructor(readonly limits: PacketLimits) {}

  /** Advances over a chunk; returns the first limit it breaks. */
  scan(chunk: Buffer): PacketViolation | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === 'body') {
        const taken = Math.min(this.#bodyLeft, chunk.length - i);
        i += taken;
        this.#bodyLeft -= taken;
        if (this.#bodyLeft === 0) this.#endPacket();
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.#state === 'type') {
        this.#type = byte >> 4;
        this.#length = 0;
        this.#lengthBytes = 0;
        this.#state = 'length';
        continue;
      }
      this.#length += (byte & 0x7f) * 128 ** this.#lengthBytes;
      this.#lengthBytes++;
      if (byte & 0x80) {
        if (this.#lengthBytes === MAX_LENGTH_BYTES) return this.#violation('malformed length', 0);
        continue;
      }
      const violation = this.#check();
      if (violation) return violation;
      this.#packetsSeen++;
      this.#bodyLeft = this.#length;
      if (this.#bodyLeft === 0) this.#endPacket();
      else this.#state = 'body';
    }
    return undefined;
  }

  #check(): PacketViolation | undefined {
    const { maxConnectBytes, maxPacketBytes } = this.limits;
    if (this.#packetsSeen === 0) {
      if (this.#type !== CONNECT) return this.#violation('first packet is not CONNECT', 0);
      if (this.#length > maxConnectBytes) return this.#violation('CONNECT too large', maxConnectBytes);
    } else if (this.#length > maxPacketBytes) return this.#violation('packet too large', maxPacketBytes);
    return undefined;
  }

  #violation(reason: PacketViolation['reason'], limit: number): PacketViolation {
    return { reason, type: this.#type, length: this.#length, limit };
  }

  #endPacket(): void {
    this.completed++;
    this.#state = 'type';
  }
}

/**
 * The connection Aedes sees: the client's socket (TCP, TLS or a WebSocket stream) with every
 * incoming byte passed through a {@link PacketScanner}. Writes go straight to the socket.
 */
export class PacketGuard extends Duplex {
  /** When the client's last complete packet arrived (ms since the epoch): the broker's idle limit reads it. */
  lastPacketAt = Date.now();
  readonly #socket: Duplex;
  readonly #scanner: PacketScanner;

  constructor(socket: Duplex, limits: PacketLimits, onViolation: (violation: PacketViolation) => void) {
    super();
    this.#socket = socket;
    this.#scanner = new PacketScanner(limits);
    socket.on('data', (chunk: Buffer) => {
      if (this.destroyed) return;
      const completedBefore = this.#scanner.completed;
      const violation = this.#scanner.scan(chunk);
      if (violation) {
        onViolation(violation);
        this.destroy();
        return;
      }
      if (this.#scanner.completed !== completedBefore) this.lastPacketAt = Date.now();
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#socket.write(chunk, encoding)) callback();
    else this.#socket.once('drain', () => callback());
  }

  /** mqtt-packet corks the stream while it writes one packet in pieces: keep them together. */
  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.#socket.cork();
    let ok = true;
    for (const { chunk, encoding } of chunks) ok = this.#socket.write(chunk, encoding);
    this.#socket.uncork();
    if (ok) callback();
    else this.#socket.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy();
    callback(error);
  }
}
