// TCP: one connection per slot (a slot per agent, or a smaller shared pool), opened lazily on the
// slot's first send; messages wait in a queue until it is up. A connection that closes is reopened on
// the slot's next send and counted in stats().reconnects. Bytes are cut into messages by StreamFramer.
// Sends made in the same tick on one connection are corked into one write (the dispatcher sends batches).
// Responses cannot come back once a connection is gone (we run no listener for the server to connect
// to, RFC 3261 18.2.2), so a close or a failed connect is reported on the slot: its transactions fail
// now as transport errors instead of timing out 32 s later.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { StreamFramer } from './framing.js';
import { isLoopback } from './target.js';
import type { Endpoint, TargetSpec, Transport, TransportEvents, TransportStats } from './transport.js';
import { resolveHost } from './udp.js';

export interface TcpTransportOptions {
  target: TargetSpec;
  connections: number;
  connectTimeoutMs?: number;
  /** Largest message the framer accepts (bytes). */
  maxMessageBytes?: number;
}

const CLOSE_GRACE_MS = 1000;

class Connection {
  socket: Socket | null = null;
  connected = false;
  everConnected = false;
  corked = false;
  queue: Buffer[] = [];
  lastError = '';
  framerErrors = 0;
  connectTimer: ReturnType<typeof setTimeout> | undefined;
  readonly framer: StreamFramer;
  readonly local: Endpoint;
  constructor(
    readonly slot: number,
    localHost: string,
    maxMessageBytes: number | undefined,
  ) {
    this.framer = new StreamFramer(maxMessageBytes);
    // Port 0 until the first connection is up: we do not know it before (and run no listener anyway).
    this.local = { host: localHost, port: 0 };
  }
}

function uncork(c: Connection): void {
  c.corked = false;
  c.socket?.uncork();
}

export async function createTcpTransport(opts: TcpTransportOptions, events: TransportEvents): Promise<Transport> {
  const { target } = opts;
  if (!Number.isInteger(opts.connections) || opts.connections < 1) {
    throw new Error(`tcp: connections must be a positive integer, got ${opts.connections}`);
  }
  const remote = await resolveHost(target.host);
  const from: Endpoint = { host: remote.address, port: target.port };
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  const localHost = isLoopback(target.host) ? (remote.family === 6 ? '::1' : '127.0.0.1') : await sourceAddressFor(remote.address, remote.family);
  const stats: TransportStats = { sent: 0, received: 0, sendErrors: 0, reconnects: 0, framingErrors: 0 };
  const conns: Connection[] = [];
  for (let slot = 0; slot < opts.connections; slot++) conns.push(new Connection(slot, localHost, opts.maxMessageBytes));
  let closed = false;

  const write = (c: Connection, data: Buffer): void => {
    const socket = c.socket as Socket;
    if (!c.corked) {
      c.corked = true;
      socket.cork();
      process.nextTick(uncork, c);
    }
    socket.write(data);
  };

  const open = (c: Connection): void => {
    const socket = connect({ host: remote.address, port: target.port, family: remote.family, noDelay: true });
    c.socket = socket;
    c.lastError = '';
    c.connectTimer = setTimeout(() => {
      c.lastError = 'connect timeout';
      socket.destroy();
    }, connectTimeoutMs);
    c.connectTimer.unref();

    socket.on('connect', () => {
      clearTimeout(c.connectTimer);
      c.connected = true;
      if (c.everConnected) stats.reconnects++;
      c.everConnected = true;
      c.local.host = socket.localAddress ?? c.local.host;
      c.local.port = socket.localPort ?? 0;
      c.framer.reset();
      const queued = c.queue;
      c.queue = [];
      for (const data of queued) write(c, data);
    });

    socket.on('data', (chunk: Buffer) => {
      const framer = c.framer;
      framer.push(chunk);
      for (let m = framer.next(); m !== null; m = framer.next()) {
        stats.received++;
        events.onMessage(m, c.slot, from);
      }
      if (framer.errors !== c.framerErrors) {
        stats.framingErrors += framer.errors - c.framerErrors;
        c.framerErrors = framer.errors;
      }
    });

    socket.on('error', (err: NodeJS.ErrnoException) => {
      c.lastError ||= err.code ?? err.message;
    });

    socket.on('close', () => {
      clearTimeout(c.connectTimer);
      const wasConnected = c.connected;
      c.socket = null;
      c.connected = false;
      c.corked = false;
      const lost = c.queue.length;
      c.queue = [];
      stats.sendErrors += lost;
      if (closed) return;
      if (wasConnected) events.onSlotError(c.slot, c.lastError ? `connection lost: ${c.lastError}` : 'connection closed by peer');
      else events.onSlotError(c.slot, `connect failed: ${c.lastError || 'closed'}`);
    });
  };

  return {
    protocol: 'tcp',
    reliable: true,
    viaProtocol: 'TCP',
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
      if (c.connected) write(c, data);
      else {
        c.queue.push(data);
        if (c.socket === null) open(c);
      }
    },
    stats: () => ({ ...stats }),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(
        conns.map((c) => {
          const socket = c.socket;
          if (socket === null) return undefined;
          return new Promise<void>((ok) => {
            const force = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
            socket.once('close', () => {
              clearTimeout(force);
              ok();
            });
            if (c.connected) socket.end();
            else socket.destroy();
          });
        }),
      );
    },
  };
}

/** The source address the kernel would use towards `address` (a connected UDP socket sends nothing). */
async function sourceAddressFor(address: string, family: 4 | 6): Promise<string> {
  const probe = createSocket(family === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((ok, fail) => {
      probe.once('error', fail);
      probe.connect(9, address, () => ok());
    });
    return probe.address().address;
  } catch {
    return family === 6 ? '::' : '0.0.0.0';
  } finally {
    probe.close();
  }
}
