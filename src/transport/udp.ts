// UDP: a pool of datagram sockets shared by many agents (slot i uses socket i). The generator's knee
// over UDP is kernel receive-buffer drops in bursts, not CPU, so SO_RCVBUF/SO_SNDBUF are raised and
// read back (Linux caps them at net.core.rmem_max/wmem_max and reports double the granted value).
//
// Each socket is connect()ed to the target: sends skip Node's per-send address lookup (measured
// ~0.5 us/send cheaper here), the kernel filters datagrams from anyone else, and an ICMP port
// unreachable surfaces as an ECONNREFUSED 'error' on the slot instead of silent timeouts. The catch:
// a server that answers from a different address than the one we sent to is not heard.
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isLoopback } from './target.js';
import type { Endpoint, TargetSpec, Transport, TransportEvents, TransportStats } from './transport.js';

export interface UdpTransportOptions {
  target: TargetSpec;
  sockets: number;
  /** Requested SO_RCVBUF and SO_SNDBUF in bytes (default 4 MiB). */
  bufferBytes?: number;
  /** Address to bind; default the loopback of the target's family for a loopback target, else the wildcard. */
  localHost?: string;
}

export interface UdpTransport extends Transport {
  /** Buffer sizes the kernel actually granted (socket 0; all sockets get the same request). */
  bufferSizes(): { recv: number; send: number };
}

const DEFAULT_BUFFER = 4 * 1024 * 1024;

export async function createUdpTransport(opts: UdpTransportOptions, events: TransportEvents): Promise<UdpTransport> {
  const { target } = opts;
  const { remote, family, localHost, bufferBytes } = await udpSetup(opts);
  const stats: TransportStats = { sent: 0, received: 0, sendErrors: 0, reconnects: 0, framingErrors: 0 };
  const sockets: Socket[] = [];
  const sendDone: ((err: Error | null) => void)[] = [];
  const advertised: Endpoint[] = [];
  let closed = false;

  const reportError = (slot: number, err: NodeJS.ErrnoException): void => {
    stats.sendErrors++;
    if (!closed) events.onSlotError(slot, err.code ?? err.message);
  };

  try {
    for (let slot = 0; slot < opts.sockets; slot++) {
      const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: bufferBytes, sendBufferSize: bufferBytes });
      sockets.push(socket);
      await new Promise<void>((ok, fail) => {
        socket.once('error', fail);
        socket.bind(0, localHost, () => {
          socket.off('error', fail);
          ok();
        });
      });
      await new Promise<void>((ok, fail) => {
        socket.once('error', fail);
        socket.connect(target.port, remote.address, () => {
          socket.off('error', fail);
          ok();
        });
      });
      const from: Endpoint = { host: remote.address, port: target.port };
      socket.on('message', (msg) => {
        // A lone CRLF (RFC 5626 keep-alive) is not a message.
        if (msg.length <= 4 && isOnlyCrlf(msg)) return;
        stats.received++;
        events.onMessage(msg, slot, from);
      });
      // Async errors, e.g. ECONNREFUSED from an ICMP port unreachable. The socket stays usable.
      socket.on('error', (err: NodeJS.ErrnoException) => reportError(slot, err));
      // One callback per socket, made once: the hot path allocates no closure per send.
      sendDone.push((err) => {
        if (err) reportError(slot, err as NodeJS.ErrnoException);
      });
      const local = socket.address();
      advertised.push({ host: local.address, port: local.port });
    }
  } catch (err) {
    for (const s of sockets) s.close();
    const e = err as NodeJS.ErrnoException;
    throw new Error(`udp: cannot open a socket for ${target.text}: ${e.code ?? e.message}`);
  }

  return {
    protocol: 'udp',
    reliable: false,
    viaProtocol: 'UDP',
    slots: opts.sockets,
    advertised: (slot) => advertised[slot],
    send(slot, data) {
      stats.sent++;
      try {
        sockets[slot].send(data, sendDone[slot]);
      } catch (err) {
        // Sync throws (socket closed, bad slot) are reported like async ones, but never re-entrantly.
        process.nextTick(reportError, slot, err as NodeJS.ErrnoException);
      }
    },
    stats: () => ({ ...stats }),
    bufferSizes: () => ({ recv: sockets[0].getRecvBufferSize(), send: sockets[0].getSendBufferSize() }),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(sockets.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
    },
  };
}

function isOnlyCrlf(msg: Buffer): boolean {
  for (let i = 0; i < msg.length; i++) if (msg[i] !== 13 && msg[i] !== 10) return false;
  return true;
}

/** What both UDP transports settle before opening sockets: the target's address and the local bind. */
export async function udpSetup(opts: { target: TargetSpec; sockets: number; localHost?: string; bufferBytes?: number }) {
  const { target } = opts;
  if (!Number.isInteger(opts.sockets) || opts.sockets < 1) throw new Error(`udp: sockets must be a positive integer, got ${opts.sockets}`);
  const remote = await resolveHost(target.host);
  const family = remote.family;
  // Loopback targets get a loopback bind of the same family; others the wildcard.
  const localHost = opts.localHost ?? (isLoopback(target.host) ? (family === 6 ? '::1' : '127.0.0.1') : family === 6 ? '::' : '0.0.0.0');
  return { remote, family, localHost, bufferBytes: opts.bufferBytes ?? DEFAULT_BUFFER };
}

/** An IP literal as is; a name resolved once (per-send DNS would cost more than the send). */
export async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const family = isIP(host);
  if (family !== 0) return { address: host, family: family as 4 | 6 };
  try {
    const r = await lookup(host);
    return { address: r.address, family: r.family === 6 ? 6 : 4 };
  } catch (err) {
    throw new Error(`cannot resolve target host "${host}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
