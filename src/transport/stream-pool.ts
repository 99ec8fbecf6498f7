// Connection-oriented transports (TCP, TLS, WS, WSS) share everything but how one connection is
// opened and read: one connection per slot (a slot per agent, or a smaller shared pool), opened
// lazily on the slot's first send; messages wait in a queue until it is ready (TCP connected, TLS
// handshaken, WebSocket upgraded). A connection that closes is reopened on the slot's next send and
// counted in stats().reconnects. Sends made in the same tick on one connection are corked into one
// write where the link can cork (the dispatcher sends batches).
// Responses cannot come back once a connection is gone (we run no listener for the server to connect
// to, RFC 3261 18.2.2), so a close or a failed connect is reported on the slot: its transactions fail
// now as transport errors instead of timing out 32 s later.
// Connection set-up time (connect() to ready) is a histogram of its own: in a login storm the
// handshakes, not the SIP transactions, are what a server chokes on. Failed set-ups count by reason.
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { encodeHistogram, newLatencyHistogram, recordUs } from '../metrics/histogram.js';
import { isLoopback } from './target.js';
import type { ConnectStats, Endpoint, Transport, TransportEvents, TransportProtocol, TransportStats } from './transport.js';

/** One open (or opening) connection, as a protocol module provides it. */
export interface StreamLink {
  /** Only called once ready. Never throws. */
  write(data: Buffer): void;
  /** Optional write batching (TCP/TLS sockets). */
  cork?(): void;
  uncork?(): void;
  /** Graceful close (FIN / WebSocket close frame). */
  end(): void;
  destroy(): void;
}

/** What a link reports. `close` comes exactly once, last. */
export interface LinkEvents {
  ready(local: Endpoint): void;
  message(data: Buffer): void;
  framingErrors(n: number): void;
  /** The first reason reported before close is the one the slot error names. */
  error(reason: string): void;
  close(): void;
}

export type Dial = (events: LinkEvents) => StreamLink;

export interface StreamPoolOptions {
  protocol: Exclude<TransportProtocol, 'udp'>;
  viaProtocol: string;
  connections: number;
  dial: Dial;
  /** Where responses come from (reported with each message). */
  remote: Endpoint;
  /** Advertised host until a connection reports its own local address. */
  localHost: string;
  connectTimeoutMs?: number;
}

const CLOSE_GRACE_MS = 1000;

class Connection {
  link: StreamLink | null = null;
  ready = false;
  everReady = false;
  corked = false;
  queue: Buffer[] = [];
  lastError = '';
  openedAt = 0;
  connectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Called once the current link has closed (close() waits on it). */
  onClosed: (() => void) | null = null;
  readonly local: Endpoint;
  constructor(
    readonly slot: number,
    localHost: string,
  ) {
    // Port 0 until the first connection is up: we do not know it before (and run no listener anyway).
    this.local = { host: localHost, port: 0 };
  }
}

function uncork(c: Connection): void {
  c.corked = false;
  c.link?.uncork?.();
}

export function createStreamPool(opts: StreamPoolOptions, events: TransportEvents): Transport {
  const { protocol, remote } = opts;
  if (!Number.isInteger(opts.connections) || opts.connections < 1) {
    throw new Error(`${protocol}: connections must be a positive integer, got ${opts.connections}`);
  }
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  const stats: TransportStats = { sent: 0, received: 0, sendErrors: 0, reconnects: 0, framingErrors: 0 };
  const connectHistogram = newLatencyHistogram();
  const handshakeFailures: Record<string, number> = {};
  const conns: Connection[] = [];
  for (let slot = 0; slot < opts.connections; slot++) conns.push(new Connection(slot, opts.localHost));
  let closed = false;

  const write = (c: Connection, data: Buffer): void => {
    const link = c.link as StreamLink;
    if (link.cork && !c.corked) {
      c.corked = true;
      link.cork();
      process.nextTick(uncork, c);
    }
    link.write(data);
  };

  const open = (c: Connection): void => {
    c.lastError = '';
    c.openedAt = performance.now();
    c.connectTimer = setTimeout(() => {
      c.lastError ||= 'connect timeout';
      c.link?.destroy();
    }, connectTimeoutMs);
    c.connectTimer.unref();
    // Links never report synchronously from dial() (sockets connect on a later tick).
    c.link = opts.dial({
      ready(local) {
        clearTimeout(c.connectTimer);
        recordUs(connectHistogram, (performance.now() - c.openedAt) * 1000);
        c.ready = true;
        if (c.everReady) stats.reconnects++;
        c.everReady = true;
        c.local.host = local.host || c.local.host;
        c.local.port = local.port;
        const queued = c.queue;
        c.queue = [];
        for (const data of queued) write(c, data);
      },
      message(data) {
        stats.received++;
        events.onMessage(data, c.slot, remote);
      },
      framingErrors(n) {
        stats.framingErrors += n;
      },
      error(reason) {
        c.lastError ||= reason;
      },
      close() {
        clearTimeout(c.connectTimer);
        const wasReady = c.ready;
        c.link = null;
        c.ready = false;
        c.corked = false;
        const lost = c.queue.length;
        c.queue = [];
        stats.sendErrors += lost;
        const onClosed = c.onClosed;
        c.onClosed = null;
        onClosed?.();
        if (closed) return;
        if (wasReady) events.onSlotError(c.slot, c.lastError ? `connection lost: ${c.lastError}` : 'connection closed by peer');
        else {
          const reason = c.lastError || 'closed';
          handshakeFailures[reason] = (handshakeFailures[reason] ?? 0) + 1;
          events.onSlotError(c.slot, `connect failed: ${reason}`);
        }
      },
    });
  };

  const connectStats = (): ConnectStats => {
    const h = connectHistogram;
    const count = h.totalCount;
    const max = count > 0 ? h.maxValue : 0;
    // A percentile is its bucket's highest equivalent value: never report it above the maximum.
    const at = (p: number): number => (count > 0 ? Math.min(h.getValueAtPercentile(p), max) : 0);
    return {
      count,
      failures: Object.values(handshakeFailures).reduce((a, b) => a + b, 0),
      minUs: count > 0 ? h.minNonZeroValue : 0,
      meanUs: count > 0 ? Math.round(h.mean) : 0,
      p50Us: at(50),
      p90Us: at(90),
      p99Us: at(99),
      maxUs: max,
      histogram: count > 0 ? encodeHistogram(h) : '',
    };
  };

  return {
    protocol,
    reliable: true,
    viaProtocol: opts.viaProtocol,
    slots: opts.connections,
    advertised: (slot) => conns[slot].local,
    send(slot, data) {
      const c = conns[slot];
      if (c === undefined || closed) {
        stats.sendErrors++;
        process.nextTick(() => events.onSlotError(slot, closed ? 'transport closed' : 'no such slot'));
        return;
      }
      stats.sent++;
      if (c.ready) write(c, data);
      else {
        c.queue.push(data);
        if (c.link === null) open(c);
      }
    },
    stats: () => ({ ...stats, connectUs: connectStats(), handshakeFailures: { ...handshakeFailures } }),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(
        conns.map((c) => {
          const link = c.link;
          if (link === null) return undefined;
          return new Promise<void>((ok) => {
            const force = setTimeout(() => link.destroy(), CLOSE_GRACE_MS);
            c.onClosed = () => {
              clearTimeout(force);
              ok();
            };
            if (c.ready) link.end();
            else link.destroy();
          });
        }),
      );
    },
  };
}

/** The host to advertise before a connection is up: loopback for a loopback target, else the source address the kernel would use. */
export async function advertisedHostFor(targetHost: string, remote: { address: string; family: 4 | 6 }): Promise<string> {
  if (isLoopback(targetHost)) return remote.family === 6 ? '::1' : '127.0.0.1';
  // A connected UDP socket sends nothing, but tells which source address the route uses.
  const probe = createSocket(remote.family === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((ok, fail) => {
      probe.once('error', fail);
      probe.connect(9, remote.address, () => ok());
    });
    return probe.address().address;
  } catch {
    return remote.family === 6 ? '::' : '0.0.0.0';
  } finally {
    probe.close();
  }
}
