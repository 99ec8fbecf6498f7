// The WebSocket sip.js gets in Node: the `ws` package's client, bound to one fleet's TLS options.
//
// sip.js 0.21's web transport calls `new WebSocket(server, "sip")` on the global object: it was written
// for browsers. Node 20 has no global WebSocket (22 has undici's, which takes no TLS options). So each
// fleet builds one subclass of ws.WebSocket with its options baked in (CA / insecure / SNI for wss,
// no permessage-deflate), and the transport (transport.ts) puts it on globalThis only for the
// synchronous moment sip.js constructs its socket. No global TLS setting (NODE_TLS_REJECT_UNAUTHORIZED,
// tls.DEFAULT_*) is ever touched: `insecure` is this fleet's rejectUnauthorized: false and nothing else.
import { WebSocket as WsWebSocket, type ClientOptions } from 'ws';

/** RFC 7118: the WebSocket subprotocol for SIP. */
export const SIP_SUBPROTOCOL = 'sip';

export interface SocketOptions {
  /** PEM CA certificate(s) trusted for wss (e.g. the lab certificate of the embedded trunk). */
  ca?: string | Buffer | (string | Buffer)[];
  /** wss: accept any certificate (self-signed lab servers). Only this fleet's sockets. */
  insecure?: boolean;
  /** TLS SNI name when it differs from the URL host. */
  servername?: string;
  /** WebSocket opening handshake limit (ms). */
  handshakeTimeoutMs?: number;
  /**
   * permessage-deflate. Off by default: browsers offer it, but each compressing connection keeps zlib
   * state (tens of KB), which would dominate memory per agent; SIP REGISTERs are small.
   */
  perMessageDeflate?: boolean;
}

/** A ws client that remembers why it failed (sip.js only learns "closed, code 1006"). */
export interface SipWebSocket extends WsWebSocket {
  failure?: string;
}

export type WebSocketClass = new (url: string, protocols?: string | string[]) => SipWebSocket;

/** A ws.WebSocket subclass that always asks for the `sip` subprotocol and uses these TLS options. */
export function webSocketClass(opts: SocketOptions = {}): WebSocketClass {
  // ws hands its options to tls.connect, so `servername` (missing from its typings) sets SNI.
  const clientOptions: ClientOptions & { servername?: string } = {
    perMessageDeflate: opts.perMessageDeflate ?? false,
    handshakeTimeout: opts.handshakeTimeoutMs ?? 10_000,
  };
  if (opts.ca !== undefined) clientOptions.ca = opts.ca;
  if (opts.insecure) clientOptions.rejectUnauthorized = false;
  if (opts.servername !== undefined) clientOptions.servername = opts.servername;
  return class extends WsWebSocket implements SipWebSocket {
    failure?: string;
    constructor(url: string, protocols?: string | string[]) {
      // ws refuses the connection when the server does not select the subprotocol (RFC 7118 5.1).
      super(url, protocols ?? SIP_SUBPROTOCOL, clientOptions);
      this.once('error', (err: Error & { code?: string }) => {
        this.failure = err.code ? `${err.code} ${err.message}` : err.message;
      });
    }
  };
}

/**
 * Runs `construct` (which must create its socket synchronously, as sip.js's connect() does) with
 * `cls` as the global WebSocket, then puts back whatever was there (or nothing).
 */
export function withGlobalWebSocket<T>(cls: WebSocketClass, construct: () => T): T {
  const g = globalThis as { WebSocket?: unknown };
  const had = Object.prototype.hasOwnProperty.call(g, 'WebSocket');
  const saved = g.WebSocket;
  g.WebSocket = cls;
  try {
    return construct();
  } finally {
    if (had) g.WebSocket = saved;
    else delete g.WebSocket;
  }
}
