// `sipstorm serve` listeners beyond UDP/TCP: --tls-port, --ws-port, --wss-port (each turns its
// transport on; 0 = any free port), --cert/--key (default: a lab certificate generated at start), and
// the lines that tell a user where each listener is and which CA file to trust.
import type { Argv } from 'yargs';
import type { EmbeddedTrunk } from '../trunk/server.js';
import { TRUNK_TRANSPORTS, type StreamListenerOptions, type TrunkTransport } from '../trunk/stream-listeners.js';
import { UsageError } from './units.js';

export function addListenerOptions<T>(y: Argv<T>) {
  return y
    .option('tls-port', { type: 'number', describe: 'SIP over TLS on this port (0 = any free port)' })
    .option('ws-port', { type: 'number', describe: 'SIP over WebSocket (RFC 7118, subprotocol sip) on this port' })
    .option('wss-port', { type: 'number', describe: 'SIP over secure WebSocket on this port' })
    .option('cert', { type: 'string', describe: 'TLS/WSS certificate (PEM); default: a self-signed lab certificate generated at start' })
    .option('key', { type: 'string', describe: 'Private key (PEM) of --cert' });
}

/** The listener part of the trunk options; `transports` is the --transports list (udp,tcp,tls,ws,wss). */
export function toListenerOptions(argv: Record<string, unknown>): StreamListenerOptions {
  const transports = String(argv.transports ?? 'udp,tcp').split(',').map((t) => t.trim()).filter((t) => t !== '');
  for (const t of transports) {
    if (!TRUNK_TRANSPORTS.includes(t as TrunkTransport)) throw new UsageError(`--transports: unknown transport "${t}" (udp, tcp, tls, ws, wss)`);
  }
  const port = (flag: string): number | undefined => {
    const v = argv[flag];
    if (v === undefined) return undefined;
    if (!(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535)) throw new UsageError(`--${flag} must be a port 0-65535, got ${String(v)}`);
    return v as number;
  };
  if ((argv.cert === undefined) !== (argv.key === undefined)) throw new UsageError('--cert and --key go together');
  const out: StreamListenerOptions = { transports: transports as TrunkTransport[] };
  const tlsPort = port('tls-port');
  const wsPort = port('ws-port');
  const wssPort = port('wss-port');
  if (tlsPort !== undefined) out.tlsPort = tlsPort;
  if (wsPort !== undefined) out.wsPort = wsPort;
  if (wssPort !== undefined) out.wssPort = wssPort;
  if (argv.cert !== undefined) {
    out.certFile = argv.cert as string;
    out.keyFile = argv.key as string;
  }
  return out;
}

/** `udp+tcp 127.0.0.1:5060, tls 127.0.0.1:5061, wss 127.0.0.1:8443` and, with TLS, the CA to trust. */
export function describeListeners(trunk: EmbeddedTrunk): string {
  const byAddress = new Map<string, string[]>();
  for (const t of TRUNK_TRANSPORTS) {
    const a = trunk.addresses[t];
    if (!a) continue;
    const key = `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
    byAddress.set(key, [...(byAddress.get(key) ?? []), t]);
  }
  let text = [...byAddress].map(([address, ts]) => `${ts.join('+')} ${address}`).join(', ');
  const cert = trunk.tlsCertificate;
  if (cert) text += `; TLS certificate ${cert.certPath}${cert.generated ? ' (self-signed, generated for this run: pass it to sipstorm run --ca, or use --insecure)' : ''}`;
  return text;
}
