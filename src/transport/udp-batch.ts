// Batched UDP over the native addon (native/udp_batch.c): send() only copies into a per-socket queue,
// flush() hands each socket's queue to one sendmmsg, drain() reads everything waiting with recvmmsg.
// Measured here, most of a node:dgram generator's CPU is per-datagram libuv/JS overhead and event-loop
// wake-ups; this transport does no I/O and causes no wake-up on its own: the dispatcher's tick does it.
//
// Latency stays honest although responses are read at the tick: each datagram carries its kernel
// receive time (SO_TIMESTAMPNS), which the addon converts to CLOCK_MONOTONIC microseconds and this
// module shifts onto realClock's base (process.hrtime is CLOCK_MONOTONIC on Linux, so the shift is a
// constant; it is re-sampled now and then anyway, and each rxUs is capped at realClock's "now").
//
// Sockets are connect()ed to the target, as in udp.ts: no per-message address, and the kernel drops
// datagrams from anyone else.
import { realClock } from '../shared/clock.js';
import { DatagramQueue } from './datagram-queue.js';
import { loadUdpBatchWithReason, type UdpBatchAddon } from './native.js';
import type { Endpoint, TargetSpec, Transport, TransportEvents, TransportStats } from './transport.js';
import { udpSetup } from './udp.js';
import { constants } from 'node:os';

export interface UdpBatchTransportOptions {
  target: TargetSpec;
  sockets: number;
  /** Requested SO_RCVBUF and SO_SNDBUF in bytes (default 4 MiB). */
  bufferBytes?: number;
  /** Address to bind; default as in udp.ts (loopback of the family for a loopback target, else the wildcard). */
  localHost?: string;
  /** Largest datagram read whole; longer ones are counted as framing errors (default 8 KiB). */
  maxDatagramBytes?: number;
  /** Event-driven mode: drain a socket as soon as it is readable (libuv poll) instead of only at drain(). */
  watch?: boolean;
  /** Override the addon binary (tests). */
  addonPath?: string;
}

export interface UdpBatchTransport extends Transport {
  readonly batched: true;
  /** Sends everything queued by send() since the last flush: one sendmmsg per socket. */
  flush(): void;
  /** Reads everything waiting on all sockets and reports it; returns how many messages were delivered. */
  drain(): number;
  /** Buffer sizes the kernel granted (socket 0; all sockets get the same request). */
  bufferSizes(): { recv: number; send: number };
}

type BatchEvents = TransportEvents & { onMessageAt?(data: Buffer, slot: number, rxUs: number): void };

const RX_BATCH = 128; // datagrams per recvmmsg call
const MAX_RX_ROUNDS = 32; // per socket per drain: a flood cannot starve the event loop
const SHIFT_RESAMPLE_DRAINS = 4096;
// Bound on what may wait for a socket whose send buffer stays full; beyond it sends fail (ENOBUFS)
// and the transaction layer's retransmission takes over.
const MAX_QUEUE_BYTES = 64 * 1024 * 1024;

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const errnoName = (neg: number): string => ERRNO_NAMES.get(-neg) ?? `errno ${-neg}`;

interface SendQueue {
  fd: number;
  out: DatagramQueue;
}

export async function createUdpBatchTransport(opts: UdpBatchTransportOptions, events: BatchEvents): Promise<UdpBatchTransport> {
  const loaded = loadUdpBatchWithReason(opts.addonPath);
  if (!loaded.addon) throw new Error(`udp batch I/O unavailable: ${loaded.reason}`);
  const addon: UdpBatchAddon = loaded.addon;
  const { target } = opts;
  const { remote, family, localHost, bufferBytes } = await udpSetup(opts);
  const slotBytes = opts.maxDatagramBytes ?? 8192;
  const stats: TransportStats = { sent: 0, received: 0, sendErrors: 0, reconnects: 0, framingErrors: 0 };
  const from: Endpoint = { host: remote.address, port: target.port };
  const queues: SendQueue[] = [];
  const advertised: Endpoint[] = [];
  let sizes = { recv: 0, send: 0 };

  try {
    for (let slot = 0; slot < opts.sockets; slot++) {
      const s = addon.open(family, localHost, 0, bufferBytes, bufferBytes);
      queues.push({ fd: s.fd, out: new DatagramQueue(MAX_QUEUE_BYTES) });
      addon.connect(s.fd, remote.address, target.port);
      advertised.push({ host: localHost, port: s.port });
      if (slot === 0) sizes = { recv: s.rcvbuf, send: s.sndbuf };
    }
  } catch (err) {
    for (const q of queues) addon.close(q.fd);
    const e = err as NodeJS.ErrnoException;
    throw new Error(`udp: cannot open a socket for ${target.text}: ${e.code ?? e.message}`);
  }

  // One receive arena for all sockets: a message's view is only valid during its callback.
  const rxArena = Buffer.allocUnsafe(slotBytes * RX_BATCH);
  const rxLengths = new Uint32Array(RX_BATCH);
  const rxMono = new Float64Array(RX_BATCH);
  let shift = 0;
  let drainsSinceShift = 0;
  const sampleShift = (): void => {
    // realClock truncates to whole microseconds: +0.5 centres it; the midpoint brackets the addon read.
    const a = realClock.nowUs();
    const m = addon.nowUs();
    const b = realClock.nowUs();
    shift = (a + b) / 2 + 0.5 - m;
    drainsSinceShift = 0;
  };
  sampleShift();

  let closed = false;
  let draining = false;
  const onAt = events.onMessageAt?.bind(events);

  const reportError = (slot: number, code: string): void => {
    stats.sendErrors++;
    if (!closed) events.onSlotError(slot, code);
  };

  const flushSocket = (slot: number): void => {
    const { fd, out: q } = queues[slot];
    // Each round sends some, drops one failed message, or stops: at most count + 1 rounds.
    while (q.count > 0) {
      const r = addon.sendBatch(fd, q.data, q.offsets, q.lengths, q.count);
      if (r === q.count) {
        stats.sent += r;
        q.clear();
        return;
      }
      if (r === 0) return; // send buffer full (EAGAIN): the rest waits for the next flush
      if (r > 0) {
        stats.sent += r;
        q.dropFront(r);
        continue;
      }
      // A hard error (e.g. ECONNREFUSED from an earlier ICMP unreachable, EMSGSIZE) failed the first message.
      q.dropFront(1);
      reportError(slot, errnoName(r));
    }
  };

  const drainSocket = (slot: number): number => {
    const fd = queues[slot].fd;
    let delivered = 0;
    for (let round = 0; round < MAX_RX_ROUNDS; round++) {
      const n = addon.recvBatch(fd, rxArena, slotBytes, RX_BATCH, rxLengths, rxMono);
      if (n < 0) {
        // A pending socket error (ICMP port unreachable): reported once, the socket stays usable.
        reportError(slot, errnoName(n));
        continue;
      }
      if (n === 0) break;
      const cap = realClock.nowUs();
      for (let k = 0; k < n; k++) {
        const len = rxLengths[k];
        const off = k * slotBytes;
        if (len > slotBytes) {
          stats.framingErrors++;
          continue;
        }
        // A lone CRLF (RFC 5626 keep-alive) is not a message.
        if (len <= 4 && isOnlyCrlf(rxArena, off, len)) continue;
        stats.received++;
        delivered++;
        const data = rxArena.subarray(off, off + len);
        if (onAt !== undefined) {
          const rx = Math.floor(rxMono[k] + shift);
          onAt(data, slot, rx < cap ? rx : cap);
        } else {
          events.onMessage(data, slot, from);
        }
      }
      if (n < RX_BATCH) break;
    }
    return delivered;
  };

  const drainAll = (): number => {
    // Re-entry (a callback calling drain) would overwrite the arena under a live view.
    if (draining || closed) return 0;
    draining = true;
    let total = 0;
    try {
      if (++drainsSinceShift >= SHIFT_RESAMPLE_DRAINS) sampleShift();
      for (let slot = 0; slot < queues.length; slot++) total += drainSocket(slot);
    } finally {
      draining = false;
    }
    return total;
  };

  if (opts.watch) {
    for (let slot = 0; slot < queues.length; slot++) {
      addon.watch(queues[slot].fd, () => {
        if (draining || closed) return;
        draining = true;
        try {
          drainSocket(slot);
        } finally {
          draining = false;
        }
      });
    }
  }

  return {
    protocol: 'udp',
    reliable: false,
    viaProtocol: 'UDP',
    slots: opts.sockets,
    batched: true,
    advertised: (slot) => advertised[slot],
    send(slot, data) {
      const q = queues[slot];
      if (closed || q === undefined) {
        // Never re-entrant, as in udp.ts.
        process.nextTick(reportError, slot, closed ? 'ERR_SOCKET_DGRAM_NOT_RUNNING' : 'EINVAL');
        return;
      }
      if (!q.out.push(data)) process.nextTick(reportError, slot, 'ENOBUFS');
    },
    flush() {
      if (closed) return;
      for (let slot = 0; slot < queues.length; slot++) if (queues[slot].out.count > 0) flushSocket(slot);
    },
    drain: drainAll,
    stats: () => ({ ...stats }),
    bufferSizes: () => ({ ...sizes }),
    async close() {
      if (closed) return;
      // What was queued still goes out (e.g. the final unregisters), then the sockets close.
      for (let slot = 0; slot < queues.length; slot++) if (queues[slot].out.count > 0) flushSocket(slot);
      closed = true;
      for (const q of queues) addon.close(q.fd);
    },
  };
}

function isOnlyCrlf(buf: Buffer, off: number, len: number): boolean {
  for (let i = off; i < off + len; i++) if (buf[i] !== 13 && buf[i] !== 10) return false;
  return true;
}
