// The trunk's batched UDP listener over the native addon (native/udp_batch.c): an unconnected socket
// watched by libuv; each wake-up reads everything waiting with recvmmsg (with each sender's address),
// answers every datagram, and sends all the answers with one sendmmsg to the addresses they came from.
// Under load one wake-up serves dozens of requests; when idle it answers each at once, as dgram would.
import { DatagramQueue } from '../transport/datagram-queue.js';
import { loadUdpBatch, NAME_BYTES, type UdpBatchAddon } from '../transport/native.js';
import { SockaddrReader } from '../transport/sockaddr.js';
import type { DatagramAnswer, UdpListener } from './udp-listener.js';

const RX_BATCH = 64;
const MAX_RX_ROUNDS = 16; // per wake-up; the watch is level-triggered, so the rest comes next wake-up
// The largest UDP payload fits, so nothing is cut (as with node:dgram); untouched slot pages cost no memory.
const SLOT_BYTES = 64 * 1024;
// One round's answers at most (flushed after each recvmmsg).
const MAX_QUEUED_BYTES = RX_BATCH * SLOT_BYTES;

export async function listenUdpBatch(host: string, port: number, bufferBytes: number, answer: DatagramAnswer): Promise<UdpListener> {
  const addon = loadUdpBatch() as UdpBatchAddon;
  const socket = addon.open(host.includes(':') ? 6 : 4, host, port, bufferBytes, bufferBytes);
  const fd = socket.fd;
  const arena = Buffer.allocUnsafe(SLOT_BYTES * RX_BATCH);
  const rxLengths = new Uint32Array(RX_BATCH);
  const rxUs = new Float64Array(RX_BATCH);
  const rxNames = new Uint8Array(NAME_BYTES * RX_BATCH);
  const peers = new SockaddrReader();
  const out = new DatagramQueue(MAX_QUEUED_BYTES, true);
  let closed = false;

  const flush = (): void => {
    while (out.count > 0) {
      const r = addon.sendBatch(fd, out.data, out.offsets, out.lengths, out.count, out.names!);
      if (r === 0) break; // send buffer full: UDP answers are not kept; the client retransmits
      out.dropFront(r < 0 ? 1 : r); // a hard error fails the first message only
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
