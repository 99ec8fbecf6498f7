// The embedded simulated trunk on real sockets: UDP and TCP on the same port. Responses go back to
// the datagram's source address and port (rport: RFC 3581), or over the connection the request came on.
// Hot path per datagram: parse, decide, build, send; no closure, timer or promise per request. Delayed
// responses wait in one heap served by a single timer.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { realClock } from '../shared/clock.js';
import { parseSipMessage } from '../sip/parser.js';
import { StreamFramer } from '../transport/framing.js';
import { pickSwitches, resolveCredentials, type ResolvedSwitches, type TrunkOptions, type TrunkSwitches } from './config.js';
import type { TrunkCounters } from './counters.js';
import { DelayQueue } from './delay-queue.js';
import { Registrar } from './registrar.js';

const UDP_BUFFER_BYTES = 8 * 1024 * 1024;
/** An ephemeral UDP port may be taken for TCP by someone else: try a few fresh ones. */
const EPHEMERAL_ATTEMPTS = 8;

interface Held {
  data: Buffer;
  udp: UdpSocket | null;
  conn: Socket | null;
  port: number;
  address: string;
}

export class EmbeddedTrunk {
  private udp: UdpSocket | null = null;
  private tcp: Server | null = null;
  private readonly connections = new Set<Socket>();
  private readonly held = new DelayQueue<Held>();
  private heldTimer: NodeJS.Timeout | null = null;
  private heldTimerDueUs = Infinity;
  private stopped = false;
  readonly address: { host: string; port: number };

  private constructor(
    private readonly registrar: Registrar,
    host: string,
  ) {
    this.address = { host, port: 0 };
  }

  static async start(opts: TrunkOptions): Promise<EmbeddedTrunk> {
    const host = opts.host ?? '127.0.0.1';
    const transports = opts.transports ?? ['udp', 'tcp'];
    if (transports.length === 0 || transports.some((t) => t !== 'udp' && t !== 'tcp')) throw new Error('trunk transports must be udp and/or tcp');
    const registrar = new Registrar(opts.clock ?? realClock, resolveCredentials(opts), opts.realm ?? host, pickSwitches(opts), opts.seed);
    const trunk = new EmbeddedTrunk(registrar, host);
    const attempts = opts.port === 0 && transports.length === 2 ? EPHEMERAL_ATTEMPTS : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        await trunk.listen(host, opts.port, transports);
        return trunk;
      } catch (err) {
        await trunk.closeSockets();
        if (attempt >= attempts || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
  }

  counters(): TrunkCounters {
    return this.registrar.counters.snapshot(this.registrar.bindingCount());
  }

  /** Zeroes counters and forgets bindings, cached answers and limiter state. */
  resetCounters(): void {
    this.registrar.reset();
  }

  /** Run-time switches (the in-process twin of POST /config). Throws on a bad patch, changing nothing. */
  configure(patch: TrunkSwitches): void {
    this.registrar.configure(patch);
  }

  config(): ResolvedSwitches {
    return this.registrar.config;
  }

  bindings(): number {
    return this.registrar.bindingCount();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = null;
    this.held.clear();
    await this.closeSockets();
  }

  private async listen(host: string, port: number, transports: ('udp' | 'tcp')[]): Promise<void> {
    if (transports.includes('udp')) {
      const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
      this.udp = socket;
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      port = socket.address().port;
      socket.on('message', (data, rinfo) => this.onDatagram(socket, data, rinfo.address, rinfo.port));
      socket.on('error', () => undefined); // ICMP errors for departed clients: nothing to do
    }
    if (transports.includes('tcp')) {
      const server = createServer((conn) => this.onConnection(conn, host));
      this.tcp = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      port = (server.address() as { port: number }).port;
    }
    this.address.port = port;
  }

  private onDatagram(socket: UdpSocket, data: Buffer, address: string, port: number): void {
    if (isKeepAlive(data)) return; // CRLF keep-alive (RFC 5626 4.4.1): not a request
    const parsed = parseSipMessage(data);
    if (!parsed.ok || parsed.message.kind !== 'request') {
      this.registrar.counters.malformed++;
      return;
    }
    const response = this.registrar.handle(parsed.message, { host: address, port });
    if (!response) return;
    const delayMs = this.registrar.lastDelayMs;
    if (delayMs > 0) this.hold(delayMs, { data: response, udp: socket, conn: null, port, address });
    else sendUdp(socket, response, port, address);
  }

  private onConnection(conn: Socket, host: string): void {
    conn.setNoDelay(true);
    this.connections.add(conn);
    const framer = new StreamFramer();
    let framingErrors = 0;
    const source = { host: conn.remoteAddress ?? host, port: conn.remotePort ?? 0 };
    conn.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      conn.cork(); // several answers to one read leave in one write
      for (let message = framer.next(); message; message = framer.next()) {
        const parsed = parseSipMessage(message);
        if (!parsed.ok || parsed.message.kind !== 'request') {
          this.registrar.counters.malformed++;
          continue;
        }
        const response = this.registrar.handle(parsed.message, source, true);
        if (!response) continue;
        const delayMs = this.registrar.lastDelayMs;
        if (delayMs > 0) this.hold(delayMs, { data: response, udp: null, conn, port: 0, address: '' });
        else conn.write(response);
      }
      conn.uncork();
      // The framer resynchronises on garbage by itself; only count it.
      if (framer.errors > framingErrors) {
        this.registrar.counters.malformed += framer.errors - framingErrors;
        framingErrors = framer.errors;
      }
    });
    conn.on('error', () => undefined);
    conn.on('close', () => this.connections.delete(conn));
  }

  private hold(delayMs: number, item: Held): void {
    const dueUs = realClock.nowUs() + delayMs * 1000;
    this.held.push(dueUs, item);
    if (dueUs < this.heldTimerDueUs) this.armHeldTimer();
  }

  /** (Re)arms the one timer for the earliest held response. */
  private armHeldTimer(): void {
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = null;
    this.heldTimerDueUs = this.held.nextDueUs();
    if (this.heldTimerDueUs === Infinity || this.stopped) return;
    const waitMs = Math.max(0, (this.heldTimerDueUs - realClock.nowUs()) / 1000);
    this.heldTimer = setTimeout(this.releaseHeld, Math.ceil(waitMs));
  }

  private readonly releaseHeld = (): void => {
    this.heldTimer = null;
    // setTimeout has 1 ms granularity: release what falls due within the next half millisecond too.
    this.held.popDue(realClock.nowUs() + 500, sendHeld);
    this.armHeldTimer();
  };

  private async closeSockets(): Promise<void> {
    for (const conn of this.connections) conn.destroy();
    this.connections.clear();
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = null;
    this.tcp = null;
    await Promise.all([
      udp ? new Promise<void>((resolve) => udp.close(() => resolve())).catch(() => undefined) : undefined,
      tcp?.listening ? new Promise<void>((resolve) => tcp.close(() => resolve())) : undefined,
    ]);
  }
}

function isKeepAlive(data: Buffer): boolean {
  if (data.length > 4) return false;
  for (let i = 0; i < data.length; i++) if (data[i] !== 13 && data[i] !== 10) return false;
  return true;
}

function sendHeld(h: Held): void {
  if (h.udp) sendUdp(h.udp, h.data, h.port, h.address);
  else if (h.conn && !h.conn.destroyed) h.conn.write(h.data);
}

function sendUdp(socket: UdpSocket, data: Buffer, port: number, address: string): void {
  try {
    socket.send(data, port, address);
  } catch {
    // socket closed while a delayed response was pending
  }
}
