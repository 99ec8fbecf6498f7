// Datagrams waiting for one sendmmsg (native/udp_batch.c sendBatch): their bytes back to back in one
// buffer, with offsets and lengths, and optionally each one's destination as a raw sockaddr (a server's
// unconnected socket). Shared by the generator's batched transport and the trunk's batched listener.
import { NAME_BYTES } from './native.js';

const INITIAL_BYTES = 64 * 1024;
const INITIAL_MESSAGES = 256;

export class DatagramQueue {
  data = Buffer.allocUnsafe(INITIAL_BYTES);
  offsets = new Uint32Array(INITIAL_MESSAGES);
  lengths = new Uint32Array(INITIAL_MESSAGES);
  /** Destination of message i at names[i * NAME_BYTES]; null for a connected socket's queue. */
  names: Uint8Array | null;
  count = 0;
  bytes = 0;

  constructor(
    /** Bound on the queued bytes: push() refuses beyond it. */
    private readonly maxBytes: number,
    withNames = false,
  ) {
    this.names = withNames ? new Uint8Array(NAME_BYTES * INITIAL_MESSAGES) : null;
  }

  /** Appends a copy of `message` (to the address at names[nameAt], for a queue with names); false when over maxBytes. */
  push(message: Uint8Array, names?: Uint8Array, nameAt = 0): boolean {
    if ((this.count === this.offsets.length || this.bytes + message.length > this.data.length) && !this.grow(message.length)) return false;
    this.data.set(message, this.bytes);
    this.offsets[this.count] = this.bytes;
    this.lengths[this.count] = message.length;
    if (this.names !== null && names !== undefined) this.names.set(names.subarray(nameAt, nameAt + NAME_BYTES), this.count * NAME_BYTES);
    this.count++;
    this.bytes += message.length;
    return true;
  }

  /** Forgets the first `n` messages (sent, or failed); the rest move to the front. */
  dropFront(n: number): void {
    this.count -= n;
    if (this.count <= 0) {
      this.clear();
      return;
    }
    const base = this.offsets[n];
    this.data.copy(this.data, 0, base, this.bytes);
    this.bytes -= base;
    for (let i = 0; i < this.count; i++) {
      this.offsets[i] = this.offsets[i + n] - base;
      this.lengths[i] = this.lengths[i + n];
    }
    this.names?.copyWithin(0, n * NAME_BYTES, (n + this.count) * NAME_BYTES);
  }

  clear(): void {
    this.count = 0;
    this.bytes = 0;
  }

  private grow(need: number): boolean {
    if (this.count === this.offsets.length) {
      const size = this.offsets.length * 2;
      const offsets = new Uint32Array(size);
      const lengths = new Uint32Array(size);
      offsets.set(this.offsets);
      lengths.set(this.lengths);
      this.offsets = offsets;
      this.lengths = lengths;
      if (this.names !== null) {
        const names = new Uint8Array(NAME_BYTES * size);
        names.set(this.names);
        this.names = names;
      }
    }
    if (this.bytes + need > this.data.length) {
      let size = this.data.length * 2;
      while (size < this.bytes + need) size *= 2;
      if (size > this.maxBytes) return false;
      const data = Buffer.allocUnsafe(size);
      this.data.copy(data, 0, 0, this.bytes);
      this.data = data;
    }
    return true;
  }
}
