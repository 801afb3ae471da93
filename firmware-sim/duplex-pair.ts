import { Duplex } from 'node:stream';

/**
 * Two connected in-memory stream ends: what one writes, the other reads. `maxChunk` splits every
 * write into pieces of at most that many bytes (to check that parsers put messages back together).
 */
export function createDuplexPair(options: { maxChunk?: number } = {}): [Duplex, Duplex] {
  const maxChunk = Math.max(1, options.maxChunk ?? Number.POSITIVE_INFINITY);
  class End extends Duplex {
    peer: End | undefined;
    constructor() {
      // one end going away ends the other, as a closed socket or an unplugged cable does
      super({ allowHalfOpen: false });
    }
    override _read(): void {}
    override _write(
      chunk: Buffer,
      _encoding: BufferEncoding,
      callback: (error?: Error | null) => void,
    ): void {
      const peer = this.peer;
      if (peer && !peer.destroyed) {
        for (let at = 0; at < chunk.length; at += maxChunk) {
          peer.push(chunk.subarray(at, Math.min(chunk.length, at + maxChunk)));
        }
      }
      callback();
    }
    override _final(callback: (error?: Error | null) => void): void {
      if (this.peer && !this.peer.destroyed) this.peer.push(null);
      callback();
    }
    override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
      const peer = this.peer;
      this.peer = undefined;
      if (peer && !peer.destroyed) peer.push(null);
      callback(error);
    }
  }
  const a = new End();
  const b = new End();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
