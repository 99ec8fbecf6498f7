// The embedded simulated trunk on real sockets: UDP and TCP on the same port, and optionally TLS, WS
// and WSS on ports of their own (stream-listeners.ts, ws-listener.ts). Responses go back to the
// datagram's source address and port (rport: RFC 3581), or over the connection the request came on.
// Hot path per datagram: parse, decide, build, send; no closure, timer or promise per request. Delayed
// responses wait in one heap served by a single timer.
import { createServer, type Server, type Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { WebSocket } from 'ws';
import { realClock } from '../shared/clock.js';
import { parseSipMessage } from '../sip/parser.js';
import { StreamFramer } from '../transport/framing.js';
import { pickSwitches, resolveCredentials, type ResolvedSwitches, type TrunkOptions, type TrunkSwitches } from './config.js';
import type { TrunkCounters } from './counters.js';
import { DelayQueue } from './delay-queue.js';
import { Registrar } from './registrar.js';
import type { TokenAnswer } from './tokens.js';
import {
  closeServer, listenTls, loadCertificate, plannedListeners, type StreamListenerOptions, type TrunkCertificate, type TrunkTransport,
} from './stream-listeners.js';
import { listenUdp, type UdpIo, type UdpListener } from './udp-listener.js';
import { sendWs, WsListener, type WsSource } from './ws-listener.js';

export type { TrunkTransport } from './stream-listeners.js';

/**
 * TrunkOptions with the listeners beyond UDP/TCP (tls, ws, wss) and their certificate, and how UDP is
 * read: `udpIo` 'batch' (native recvmmsg/sendmmsg), 'dgram', or undefined (batch when the addon loads).
 */
export type TrunkStartOptions = Omit<TrunkOptions, 'transports'> & StreamListenerOptions & { udpIo?: UdpIo };

/** An ephemeral UDP port may be taken for TCP by someone else: try a few fresh ones. */
const EPHEMERAL_ATTEMPTS = 8;

interface Held {
  data: Buffer;
  udp: UdpListener | null;
  conn: Socket | null;
  ws: WebSocket | null;
  port: number;
  address: string;
}

export class EmbeddedTrunk {
  private udp: UdpListener | null = null;
  private tcp: Server | null = null;
  private tls: TlsServer | null = null;
  private ws: WsListener | null = null;
  private wss: WsListener | null = null;
  private certificate: TrunkCertificate | null = null;
  private readonly connections = new Set<Socket>();
  private readonly held = new DelayQueue<Held>();
  private heldTimer: NodeJS.Timeout | null = null;
  private heldTimerDueUs = Infinity;
  private stopped = false;
  /** The UDP/TCP address (port 0 when neither runs). */
  readonly address: { host: string; port: number };
  /** Every bound listener, by transport. */
  readonly addresses: Partial<Record<TrunkTransport, { host: string; port: number }>> = {};

  private constructor(
    private readonly registrar: Registrar,
    host: string,
  ) {
    this.address = { host, port: 0 };
  }

  static async start(opts: TrunkStartOptions): Promise<EmbeddedTrunk> {
    const host = opts.host ?? '127.0.0.1';
    const planned = plannedListeners(opts.port, opts);
    const { transports: _listeners, ...base } = opts; // TrunkOptions knows udp/tcp only
    const registrar = new Registrar(opts.clock ?? realClock, resolveCredentials(base), opts.realm ?? host, pickSwitches(base), opts.seed);
    const trunk = new EmbeddedTrunk(registrar, host);
    if (planned.has('tls') || planned.has('wss')) trunk.certificate = loadCertificate(host, opts);
    const attempts = opts.port === 0 && planned.has('udp') && planned.has('tcp') ? EPHEMERAL_ATTEMPTS : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        await trunk.listen(host, planned, opts.udpIo);
        return trunk;
      } catch (err) {
        await trunk.closeSockets();
        if (attempt >= attempts || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
          trunk.certificate?.remove();
          throw err;
        }
      }
    }
  }

  /** The certificate of the TLS/WSS listeners (its path is the CA file clients trust), or null. */
  get tlsCertificate(): { certPath: string; generated: boolean } | null {
    const c = this.certificate;
    return c ? { certPath: c.certPath, generated: c.generated } : null;
  }

  /** Closes every TCP, TLS and WebSocket connection at once (a server restart, as clients see it); returns how many. */
  dropConnections(): number {
    let n = this.connections.size;
    for (const conn of this.connections) conn.destroy();
    this.connections.clear();
    n += this.ws?.dropConnections() ?? 0;
    n += this.wss?.dropConnections() ?? 0;
    return n;
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

  /** POST /token (token-api.ts): a login token for the user's credentials, or 401 / 429 during the publish window. */
  issueToken(user: string, password: string): TokenAnswer {
    return this.registrar.issueToken(user, password);
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
    this.certificate?.remove();
  }

  /** How the UDP listener reads and writes ('batch' or 'dgram'), or null without UDP. */
  get udpIo(): UdpIo | null {
    return this.udp?.io ?? null;
  }

  private async listen(host: string, planned: Map<TrunkTransport, number>, udpIo: UdpIo | undefined): Promise<void> {
    let port = planned.get('udp') ?? planned.get('tcp') ?? 0;
    if (planned.has('udp')) {
      this.udp = await listenUdp(host, port, udpIo, this.answerDatagram);
      port = this.udp.port;
    }
    if (planned.has('tcp')) {
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
    if (planned.has('udp') || planned.has('tcp')) this.address.port = port;
    if (planned.has('udp')) this.addresses.udp = { host, port };
    if (planned.has('tcp')) this.addresses.tcp = { host, port };
    const cert = this.certificate;
    if (planned.has('tls') && cert) {
      this.tls = await listenTls(host, planned.get('tls') ?? 0, cert, (conn) => this.onConnection(conn, host));
      this.addresses.tls = { host, port: (this.tls.address() as { port: number }).port };
    }
    const onWs = (ws: WebSocket, data: Buffer, source: WsSource): void => this.onWsMessage(ws, data, source);
    if (planned.has('ws')) {
      this.ws = await WsListener.start(host, planned.get('ws') ?? 0, null, onWs);
      this.addresses.ws = { host, port: this.ws.port };
    }
    if (planned.has('wss') && cert) {
      this.wss = await WsListener.start(host, planned.get('wss') ?? 0, cert, onWs);
      this.addresses.wss = { host, port: this.wss.port };
    }
  }

  /** One WebSocket message = one SIP message (RFC 7118), answered on the same connection. */
  private onWsMessage(ws: WebSocket, data: Buffer, source: WsSource): void {
    if (isKeepAlive(data)) return;
    const parsed = parseSipMessage(data);
    if (!parsed.ok || parsed.message.kind !== 'request') {
      this.registrar.counters.malformed++;
      return;
    }
    const response = this.registrar.handle(parsed.message, source, true);
    if (!response) return;
    const delayMs = this.registrar.lastDelayMs;
    if (delayMs > 0) this.hold(delayMs, { data: response, udp: null, conn: null, ws, port: 0, address: '' });
    else sendWs(ws, response);
  }

  /** One UDP request: the response to send now, or null (none, or held back for a delay). */
  private readonly answerDatagram = (data: Buffer, address: string, port: number): Buffer | null => {
    if (isKeepAlive(data)) return null; // CRLF keep-alive (RFC 5626 4.4.1): not a request
    const parsed = parseSipMessage(data);
    if (!parsed.ok || parsed.message.kind !== 'request') {
      this.registrar.counters.malformed++;
      return null;
    }
    const response = this.registrar.handle(parsed.message, { host: address, port });
    if (!response) return null;
    const delayMs = this.registrar.lastDelayMs;
    if (delayMs === 0) return response;
    this.hold(delayMs, { data: response, udp: this.udp, conn: null, ws: null, port, address });
    return null;
  };

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
        if (delayMs > 0) this.hold(delayMs, { data: response, udp: null, conn, ws: null, port: 0, address: '' });
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
    const { tcp, tls, ws, wss } = this;
    this.udp = null;
    this.tcp = null;
    this.tls = null;
    this.ws = null;
    this.wss = null;
    await Promise.all([
      udp?.close(),
      closeServer(tcp),
      closeServer(tls),
      ws?.close(),
      wss?.close(),
    ]);
  }
}

function isKeepAlive(data: Buffer): boolean {
  if (data.length > 4) return false;
  for (let i = 0; i < data.length; i++) if (data[i] !== 13 && data[i] !== 10) return false;
  return true;
}

function sendHeld(h: Held): void {
  if (h.udp) h.udp.sendTo(h.data, h.port, h.address);
  else if (h.conn && !h.conn.destroyed) h.conn.write(h.data);
  else if (h.ws) sendWs(h.ws, h.data);
}
