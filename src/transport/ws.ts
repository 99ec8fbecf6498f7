// SIP over WebSocket (RFC 7118), plain (ws:) or over TLS (wss:): the stream connection pool with the
// `ws` package as the link. One connection per agent by default (what softphones do), subprotocol
// `sip`, one SIP message per WebSocket message sent as a text frame (what browsers send), so no
// Content-Length framing; an incoming message is parsed whole like a datagram (a Content-Length in it
// is honoured by the parser as for UDP). Ready once upgraded; a refused upgrade names the status
// (`connect failed: ws: 404 Not Found`), a failed TLS check the certificate problem.
import { isIP, type Socket } from 'node:net';
import WebSocket from 'ws';
import { advertisedHostFor, createStreamPool, type LinkEvents, type StreamLink } from './stream-pool.js';
import { tlsConnectionOptions, tlsErrorName, type TlsClientOptions } from './tls-options.js';
import type { TargetSpec, Transport, TransportEvents } from './transport.js';
import { resolveHost } from './udp.js';

export interface WsTransportOptions {
  target: TargetSpec;
  connections: number;
  connectTimeoutMs?: number;
  /** wss: CA, --insecure, SNI; `servername` is also the HTTP Host of the upgrade (ws and wss). */
  tls?: TlsClientOptions;
  maxMessageBytes?: number;
}

const MAX_MESSAGE_BYTES = 64 * 1024;
/** Text frames, as browsers send SIP (one options object, not one per send). */
const TEXT_FRAME = { binary: false } as const;

export async function createWsTransport(opts: WsTransportOptions, events: TransportEvents): Promise<Transport> {
  const { target } = opts;
  const secure = target.protocol === 'wss';
  if (!secure && target.protocol !== 'ws') throw new Error(`ws transport for a ${target.protocol} target`);
  const tlsOptions = secure ? tlsConnectionOptions(opts.tls, target.host) : {};
  const remote = await resolveHost(target.host);
  const hostPart = remote.family === 6 ? `[${remote.address}]` : remote.address;
  const url = `${secure ? 'wss' : 'ws'}://${hostPart}:${target.port}${target.path ?? '/'}`;
  // Virtual hosting: the upgrade names the server as the user did, not by the address it resolved to.
  const name = opts.tls?.servername ?? (isIP(target.host) === 0 ? target.host : undefined);
  const clientOptions = {
    ...tlsOptions,
    perMessageDeflate: false,
    maxPayload: opts.maxMessageBytes ?? MAX_MESSAGE_BYTES,
    family: remote.family,
    ...(name !== undefined ? { headers: { host: `${name}:${target.port}` } } : {}),
  } as WebSocket.ClientOptions;
  return createStreamPool(
    {
      protocol: secure ? 'wss' : 'ws',
      viaProtocol: secure ? 'WSS' : 'WS',
      connections: opts.connections,
      connectTimeoutMs: opts.connectTimeoutMs,
      remote: { host: remote.address, port: target.port },
      localHost: await advertisedHostFor(target.host, remote),
      dial: (ev) => wsLink(new WebSocket(url, ['sip'], clientOptions), secure, ev),
    },
    events,
  );
}

function wsLink(ws: WebSocket, secure: boolean, ev: LinkEvents): StreamLink {
  let socket: Socket | null = null;
  let ready = false;
  ws.on('upgrade', (res) => {
    socket = res.socket as Socket;
  });
  ws.on('open', () => {
    ready = true;
    ev.ready({ host: socket?.localAddress ?? '', port: socket?.localPort ?? 0 });
  });
  ws.on('unexpected-response', (_req, res) => {
    ev.error(`ws: ${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd());
    res.resume();
    ws.terminate();
  });
  ws.on('message', (data: Buffer, _isBinary: boolean) => {
    if (isKeepAlive(data)) return; // RFC 5626 CRLF keep-alive: not a message
    ev.message(data);
  });
  ws.on('error', (err: NodeJS.ErrnoException) => ev.error(ready ? wsErrorName(err, false) : wsErrorName(err, secure)));
  ws.on('close', (code: number, reason: Buffer) => {
    // 1000 normal, 1005 no status, 1006 gone without a close frame: "closed by peer" says it all.
    if (ready && code !== 1000 && code !== 1005 && code !== 1006) ev.error(`ws: close ${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}`);
    ev.close();
  });
  return {
    write: (data) => ws.send(data, TEXT_FRAME),
    cork: () => socket?.cork(),
    uncork: () => socket?.uncork(),
    end: () => ws.close(1000),
    destroy: () => ws.terminate(),
  };
}

/** System errors by code; certificate and TLS protocol errors as `tls: ...`; the rest as `ws: ...`. */
function wsErrorName(err: NodeJS.ErrnoException, handshakingTls: boolean): string {
  if (err.syscall !== undefined && err.code) return err.code;
  if (handshakingTls && err.code !== undefined && !err.code.startsWith('WS_ERR')) return tlsErrorName(err);
  return `ws: ${err.message}`;
}

function isKeepAlive(data: Buffer): boolean {
  if (data.length > 4) return false;
  for (let i = 0; i < data.length; i++) if (data[i] !== 13 && data[i] !== 10) return false;
  return true;
}
