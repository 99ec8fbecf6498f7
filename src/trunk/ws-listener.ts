// SIP over WebSocket (RFC 7118) for the embedded trunk, plain (ws) or over TLS (wss): an HTTP(S)
// server whose upgrades carry the `sip` subprotocol. One SIP message per WebSocket message, so each
// message is handled like a datagram; answers go back as text frames on the same connection (what
// browsers and Kamailio send). Any path is accepted; a handshake without the `sip` subprotocol gets
// 400, a plain HTTP request 426.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { WebSocketServer, type WebSocket } from 'ws';
import { closeServer, listen, type TrunkCertificate } from './stream-listeners.js';

/** The largest SIP message accepted in one WebSocket message (the stream framer's limit). */
const MAX_MESSAGE_BYTES = 64 * 1024;

export interface WsSource {
  host: string;
  port: number;
}

export type WsMessageHandler = (ws: WebSocket, data: Buffer, source: WsSource) => void;

/** Offers include `sip` (Sec-WebSocket-Protocol is a comma list, case-sensitive tokens). */
function offersSip(req: IncomingMessage): boolean {
  const header = req.headers['sec-websocket-protocol'];
  return header !== undefined && header.split(',').some((p) => p.trim() === 'sip');
}

export class WsListener {
  private constructor(
    private readonly http: HttpServer,
    private readonly wss: WebSocketServer,
    readonly secure: boolean,
    readonly port: number,
  ) {}

  static async start(host: string, port: number, cert: TrunkCertificate | null, onMessage: WsMessageHandler): Promise<WsListener> {
    const http = cert ? createHttpsServer({ cert: cert.cert, key: cert.key, minVersion: 'TLSv1.2' }) : createHttpServer();
    http.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
      res.end('SIP over WebSocket: upgrade with Sec-WebSocket-Protocol: sip\n');
    });
    http.on('tlsClientError', () => undefined);
    http.on('clientError', (_err, socket) => socket.destroy());
    const wss = new WebSocketServer({
      server: http,
      maxPayload: MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      verifyClient: (info, done) => (offersSip(info.req) ? done(true) : done(false, 400, 'SIP subprotocol required')),
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
    });
    wss.on('connection', (ws, req) => {
      const source: WsSource = { host: req.socket.remoteAddress ?? host, port: req.socket.remotePort ?? 0 };
      ws.on('message', (data, isBinary) => {
        void isBinary; // text and binary frames both carry SIP (RFC 7118 5.2)
        onMessage(ws, toBuffer(data), source);
      });
      ws.on('error', () => undefined); // an oversized or broken frame closes it; nothing to answer
    });
    wss.on('error', () => undefined);
    const bound = await listen(http, host, port);
    return new WsListener(http, wss, cert !== null, bound);
  }

  /** Open WebSocket connections. */
  get clients(): number {
    return this.wss.clients.size;
  }

  /** Closes every open WebSocket at once (no closing handshake), as a crashed server would; returns how many. */
  dropConnections(): number {
    const n = this.wss.clients.size;
    for (const ws of this.wss.clients) ws.terminate();
    return n;
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await closeServer(this.http);
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Sends one SIP message as a text frame (never throws: a closed socket just drops it). */
export function sendWs(ws: WebSocket, data: Buffer): void {
  if (ws.readyState !== 1 /* OPEN */) return;
  ws.send(data, { binary: false });
}
