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
  /**
   * UDP sockets in the pool, or TCP/TLS/WS/WSS connections. UDP default: 1 with batched I/O (one
   * recvmmsg and one sendmmsg per tick; every extra socket adds two syscalls per tick, the dominant
   * cost on a VM), 4 with node:dgram (spreads libuv's per-socket work).
   */
  slots?: number;
  /** UDP SO_RCVBUF/SO_SNDBUF request (default 4 MiB). */
  bufferBytes?: number;
  connectTimeoutMs?: number;
  /** UDP: `batch` = native sendmmsg/recvmmsg when the addon is built, `dgram` = node:dgram. */
  io?: 'batch' | 'dgram';
  /** tls and wss: CA file, --insecure, SNI name. */
  tls?: TlsClientOptions;
}

export const UDP_BATCH_SOCKETS = 1;
export const UDP_DGRAM_SOCKETS = 4;

export async function createTransport(target: TargetSpec, opts: CreateTransportOptions, events: TransportEvents): Promise<Transport> {
  switch (target.protocol) {
    case 'udp': {
      // Batched native I/O when the addon built (it is optional: a failed build leaves node:dgram).
      if (opts.io !== 'dgram') {
        const unavailable = udpBatchUnavailableReason();
        if (unavailable === undefined) return createUdpBatchTransport({ target, sockets: opts.slots ?? UDP_BATCH_SOCKETS, bufferBytes: opts.bufferBytes }, events);
        if (opts.io === 'batch') throw new Error(`--io batch: the native UDP addon is not available (${unavailable}); run npm run build:native`);
      }
      return createUdpTransport({ target, sockets: opts.slots ?? UDP_DGRAM_SOCKETS, bufferBytes: opts.bufferBytes }, events);
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
