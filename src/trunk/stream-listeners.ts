// The embedded trunk's listeners beside UDP/TCP: which ones run on which ports, the certificate they
// share (given files, or a lab certificate generated at start), and the TLS listener itself (SIP over
// TLS is TCP's framing on a TLSSocket, so the trunk's TCP connection handler serves it unchanged).
import { readFileSync } from 'node:fs';
import type { Server as NetServer, Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { writeLabCertificate } from './self-signed.js';

export type TrunkTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
export const TRUNK_TRANSPORTS: readonly TrunkTransport[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

export interface StreamListenerOptions {
  /** Default udp and tcp on `port`, plus every transport whose port is given below. */
  transports?: TrunkTransport[];
  /** Ports of their own (0 = ephemeral). */
  tlsPort?: number;
  wsPort?: number;
  wssPort?: number;
  /** PEM files for TLS and WSS; default: a lab certificate generated at start (removed at stop). */
  certFile?: string;
  keyFile?: string;
}

export interface TrunkCertificate {
  /** The certificate; also what a client trusts with `--ca`. */
  certPath: string;
  keyPath: string;
  /** True when generated at start for this trunk (then deleted when it stops). */
  generated: boolean;
  cert: string;
  key: string;
  remove(): void;
}

/** The transports to listen on, each with its port (udp/tcp share `port`). Throws on a bad combination. */
export function plannedListeners(port: number, opts: StreamListenerOptions): Map<TrunkTransport, number> {
  const own: Record<'tls' | 'ws' | 'wss', number | undefined> = { tls: opts.tlsPort, ws: opts.wsPort, wss: opts.wssPort };
  const chosen = new Set<TrunkTransport>(opts.transports ?? ['udp', 'tcp']);
  for (const [t, p] of Object.entries(own)) if (p !== undefined) chosen.add(t as TrunkTransport);
  if (chosen.size === 0) throw new Error('trunk transports: at least one of udp, tcp, tls, ws, wss');
  for (const t of chosen) if (!TRUNK_TRANSPORTS.includes(t)) throw new Error(`trunk transports: unknown "${t}" (udp, tcp, tls, ws, wss)`);
  const out = new Map<TrunkTransport, number>();
  for (const t of TRUNK_TRANSPORTS) {
    if (!chosen.has(t)) continue;
    const p = t === 'udp' || t === 'tcp' ? port : (own[t] ?? 0);
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`trunk ${t} port must be 0-65535, got ${p}`);
    out.set(t, p);
  }
  const fixed = [...out].filter(([t, p]) => t !== 'udp' && p !== 0).map(([, p]) => p);
  if (new Set(fixed).size !== fixed.length) throw new Error('trunk tcp, tls, ws and wss need different ports');
  return out;
}

/** The given PEM files, or a fresh lab certificate for `host` when none is given. */
export function loadCertificate(host: string, opts: StreamListenerOptions): TrunkCertificate {
  if ((opts.certFile === undefined) !== (opts.keyFile === undefined)) throw new Error('certFile and keyFile go together');
  if (opts.certFile !== undefined && opts.keyFile !== undefined) {
    const read = (path: string, what: string): string => {
      try {
        return readFileSync(path, 'utf8');
      } catch (err) {
        throw new Error(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`);
      }
    };
    return { certPath: opts.certFile, keyPath: opts.keyFile, generated: false, cert: read(opts.certFile, 'certificate'), key: read(opts.keyFile, 'key'), remove: () => undefined };
  }
  const files = writeLabCertificate({ hosts: host === '0.0.0.0' || host === '::' ? [] : [host] });
  return { certPath: files.certPath, keyPath: files.keyPath, generated: true, cert: files.certPem, key: files.keyPem, remove: files.remove };
}

/** SIP over TLS: every accepted (handshaken) connection goes to the trunk's stream handler. */
export async function listenTls(host: string, port: number, cert: TrunkCertificate, onConnection: (conn: Socket) => void): Promise<TlsServer> {
  const server = createTlsServer({ cert: cert.cert, key: cert.key, minVersion: 'TLSv1.2' }, onConnection);
  // A client that fails its handshake (an untrusted certificate) is its problem, not the trunk's.
  server.on('tlsClientError', () => undefined);
  await listen(server, host, port);
  return server;
}

/** listen() as a promise that rejects on EADDRINUSE and friends. */
export function listen(server: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

export function closeServer(server: NetServer | null): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}
