// The trunk's batched UDP listener over the native addon (native/udp_batch.c): an unconnected socket
// watched by libuv; each wake-up reads everything waiting with recvmmsg (with each sender's address),
// answers every datagram, and sends all the answers with one sendmmsg to the addresses they came from.
// Under load one wake-up serves dozens of requests; when idle it answers each at once, as dgram would.
import { loadUdpBatch, NAME_BYTES, type UdpBatchAddon } from '../transport/native.js';
import { SockaddrReader } from '../transport/sockaddr.js';
import type { DatagramAnswer, UdpListener } from './udp-listener.js';

const RX_BATCH = 64;
const MAX_RX_ROUNDS = 16; // per wake-up; the watch is level-triggered, so the rest comes next wake-up
// The largest UDP payload fits, so nothing is cut (as with node:dgram); untouched slot pages cost no memory.
const SLOT_BYTES = 64 * 1024;

export async function listenUdpBatch(host: string, port: number, bufferBytes: number, answer: DatagramAnswer): Promise<UdpListener> {
  const addon = loadUdpBatch() as UdpBatchAddon;
  const socket = addon.open(host.includes(':') ? 6 : 4, host, port, bufferBytes, bufferBytes);
  const fd = socket.fd;
  const arena = Buffer.allocUnsafe(SLOT_BYTES * RX_BATCH);
  const rxLengths = new Uint32Array(RX_BATCH);
  const rxUs = new Float64Array(RX_BATCH);
  const rxNames = new Uint8Array(NAME_BYTES * RX_BATCH);
  const peers = new SockaddrReader();
  const out = new AnswerQueue();
  let closed = false;

  const flush = (): void => {
    let from = 0;
    while (from < out.count) {
      const r =
        from === 0
          ? addon.sendBatch(fd, out.data, out.offsets, out.lengths, out.count, out.names)
          : addon.sendBatch(fd, out.data, out.offsets.subarray(from), out.lengths.subarray(from), out.count - from, out.names.subarray(from * NAME_BYTES));
      if (r === 0) break; // send buffer full: UDP answers are not queued; the client retransmits
      from += r < 0 ? 1 : r; // a hard error fails the first message only
    }
    out.clear();
  };

  const onReadable = (): void => {
    if (closed) return;
    for (let round = 0; round < MAX_RX_ROUNDS; round++) {
      const n = addon.recvBatch(fd, arena, SLOT_BYTES, RX_BATCH, rxLengths, rxUs, rxNames);
      if (n <= 0) break;
      for (let k = 0; k < n; k++) {
        const at = k * NAME_BYTES;
        const peerPort = peers.port(rxNames, at);
        if (peerPort < 0) continue;
        const data = arena.subarray(k * SLOT_BYTES, k * SLOT_BYTES + rxLengths[k]);
        const response = answer(data, peers.host(rxNames, at), peerPort);
        if (response) out.push(response, rxNames, at);
      }
      if (out.count > 0) flush();
      if (n < RX_BATCH) break;
    }
  };
  addon.watch(fd, onReadable);

  return {
    io: 'batch',
    port: socket.port,
    sendTo(data, toPort, toHost) {
      if (!closed) addon.sendTo(fd, data, toHost, toPort);
    },
    async close() {
      if (closed) return;
      closed = true;
      addon.close(fd);
    },
  };
}

/** Answers waiting for one sendmmsg: bytes back to back, with each one's destination sockaddr. */
class AnswerQueue {
  data = Buffer.allocUnsafe(64 * 1024);
  offsets = new Uint32Array(RX_BATCH);
  lengths = new Uint32Array(RX_BATCH);
  names = new Uint8Array(NAME_BYTES * RX_BATCH);
  count = 0;
  private bytes = 0;

  push(response: Buffer, names: Uint8Array, at: number): void {
    if (this.count === this.offsets.length) this.growSlots();
    if (this.bytes + response.length > this.data.length) {
      const data = Buffer.allocUnsafe(Math.max(this.data.length * 2, this.bytes + response.length));
      this.data.copy(data, 0, 0, this.bytes);
      this.data = data;
    }
    response.copy(this.data, this.bytes);
    this.offsets[this.count] = this.bytes;
    this.lengths[this.count] = response.length;
    this.names.set(names.subarray(at, at + NAME_BYTES), this.count * NAME_BYTES);
    this.bytes += response.length;
    this.count++;
  }

  clear(): void {
    this.count = 0;
    this.bytes = 0;
  }

  private growSlots(): void {
    const size = this.offsets.length * 2;
    const offsets = new Uint32Array(size);
    const lengths = new Uint32Array(size);
    const names = new Uint8Array(NAME_BYTES * size);
    offsets.set(this.offsets);
    lengths.set(this.lengths);
    names.set(this.names);
    this.offsets = offsets;
    this.lengths = lengths;
    this.names = names;
  }
}
