// The transport factory: the run wiring asks for a transport by target and never names a protocol module.
import { createTcpTransport } from './tcp.js';
import { createTlsTransport } from './tls.js';
import type { TlsClientOptions } from './tls-options.js';
import { createWsTransport } from './ws.js';
import type { TargetSpec, Transport, TransportEvents } from './transport.js';
import { createUdpTransport } from './udp.js';
import { createUdpBatchTransport } from './udp-batch.js';
import { udpBatchUnavailableReason } from './native.js';

export interface CreateTransportOptions {
  /** UDP sockets in the pool, or TCP/TLS/WS/WSS connections. UDP default: see udpSocketsFor. */
  slots?: number;
  /** Operations per second the run offers: sizes the default UDP pool. */
  rate?: number;
  /** UDP SO_RCVBUF/SO_SNDBUF request (default 4 MiB). */
  bufferBytes?: number;
  connectTimeoutMs?: number;
  /** UDP: `batch` = native sendmmsg/recvmmsg when the addon is built, `dgram` = node:dgram. */
  io?: 'batch' | 'dgram';
  /** tls and wss: CA file, --insecure, SNI name. */
  tls?: TlsClientOptions;
}

/**
 * Default UDP pool size. node:dgram: 4 (spreads libuv's per-socket work). Batched I/O: one socket per
 * 8,000/s, 1 to 4: each socket costs a recvmmsg and a sendmmsg per tick, which at a few thousand/s
 * is a large share of the CPU on a VM, while at 25,000/s one socket's receive buffer (capped by
 * net.core.rmem_max) holds too little to ride out a GC pause.
 */
export function udpSocketsFor(io: 'batch' | 'dgram', rate = 0): number {
  return io === 'dgram' ? 4 : Math.min(4, Math.max(1, Math.ceil(rate / 8000)));
}

export async function createTransport(target: TargetSpec, opts: CreateTransportOptions, events: TransportEvents): Promise<Transport> {
  switch (target.protocol) {
    case 'udp': {
      // Batched native I/O when the addon built (it is optional: a failed build leaves node:dgram).
      if (opts.io !== 'dgram') {
        const unavailable = udpBatchUnavailableReason();
        if (unavailable === undefined) return createUdpBatchTransport({ target, sockets: opts.slots ?? udpSocketsFor('batch', opts.rate), bufferBytes: opts.bufferBytes }, events);
        if (opts.io === 'batch') throw new Error(`--io batch: the native UDP addon is not available (${unavailable}); run npm run build:native`);
      }
      return createUdpTransport({ target, sockets: opts.slots ?? udpSocketsFor('dgram', opts.rate), bufferBytes: opts.bufferBytes }, events);
    }
    case 'tcp':
      return createTcpTransport({ target, connections: opts.slots ?? 1, connectTimeoutMs: opts.connectTimeoutMs }, events);
    case 'tls':
      return createTlsTransport({ target, connections: opts.slots ?? 1, connectTimeoutMs: opts.connectTimeoutMs, tls: opts.tls }, events);
    case 'ws':
    case 'wss':
      return createWsTransport({ target, connections: opts.slots ?? 1, connectTimeoutMs: opts.connectTimeoutMs, tls: opts.tls }, events);
    default:
      // Only a caller bypassing parseTarget gets here; fail clearly rather than return nothing.
      throw new Error(`unknown transport protocol "${(target as { protocol: string }).protocol}" (udp, tcp, tls, ws, wss)`);
  }
}

export { parseTarget, isLoopback } from './target.js';
export type { TargetSpec, Transport, TransportEvents } from './transport.js';
export type { TlsClientOptions } from './tls-options.js';
