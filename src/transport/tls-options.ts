// Client-side TLS settings shared by the tls and wss transports: which CA to trust (`--ca`), whether
// to check at all (`--insecure`, for self-signed lab servers), and the SNI name (`--sni`).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';

export interface TlsClientOptions {
  /** PEM file(s) with the certificate(s) to trust instead of the system store. */
  caFile?: string;
  /** Skip certificate and host name checks (rejectUnauthorized: false). */
  insecure?: boolean;
  /** Server name for SNI and the certificate check; default: the target host when it is a name. */
  servername?: string;
}

/** node:tls options for a target: `hostName` is the target as the user wrote it (a name or an IP). */
export function tlsConnectionOptions(opts: TlsClientOptions | undefined, hostName: string): ConnectionOptions {
  const out: ConnectionOptions = { minVersion: 'TLSv1.2' };
  if (opts?.caFile !== undefined) {
    try {
      out.ca = readFileSync(opts.caFile);
    } catch (err) {
      throw new Error(`--ca ${opts.caFile}: cannot read it (${(err as Error).message})`);
    }
    if (!out.ca.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) throw new Error(`--ca ${opts.caFile}: no PEM certificate in it`);
  }
  if (opts?.insecure) out.rejectUnauthorized = false;
  // SNI carries names only (RFC 6066 3); for an IP target the certificate is checked against the IP.
  const name = opts?.servername ?? (isIP(hostName) === 0 ? hostName : undefined);
  if (name !== undefined) out.servername = name;
  return out;
}

/** A handshake failure in words: `tls: self-signed certificate`; system errors keep their code. */
export function tlsErrorName(err: NodeJS.ErrnoException): string {
  if (err.syscall !== undefined && err.code) return err.code;
  return `tls: ${err.message}`;
}

/**
 * The options with SNI defaulting to `host` when it is a name: call it before the target is resolved
 * to an address (the run resolves once, up front), so the name is not lost.
 */
export function withServerName(opts: TlsClientOptions | undefined, host: string | undefined): TlsClientOptions | undefined {
  if (opts?.servername !== undefined || host === undefined || isIP(host) !== 0) return opts;
  return { ...opts, servername: host };
}
