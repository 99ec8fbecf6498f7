// The bundled Kamailio's TLS, WS and WSS listeners: which ports (given, or free ones), the lab
// certificate and tls.cfg written into the instance's temp directory (gone when it stops), and the
// command-line listeners and defines docker/kamailio/kamailio.cfg reads (TLS_CFG, WS_PORT, WSS_PORT).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeLabCertificate } from '../trunk/self-signed.js';

export interface KamailioStreamPorts {
  /** SIP over TLS; 0 = a free port; absent = none. */
  tlsPort?: number;
  /** SIP over WebSocket (a TCP listener that accepts upgrades). */
  wsPort?: number;
  /** SIP over secure WebSocket. */
  wssPort?: number;
}

export interface KamailioStreamInfo {
  tlsPort?: number;
  wsPort?: number;
  wssPort?: number;
  /** The self-signed certificate (PEM) TLS and WSS clients trust (`sipstorm run --ca`). */
  caPath?: string;
}

/** The tls module's own config: our certificate, no client certificates asked for or checked. */
export function tlsConfig(certPath: string, keyPath: string): string {
  return [
    '# written by sipstorm for this instance (src/kamailio/stream-listeners.ts)',
    '[server:default]',
    'method = TLSv1.2+',
    'verify_certificate = no',
    'require_certificate = no',
    `private_key = ${keyPath}`,
    `certificate = ${certPath}`,
    '',
    '[client:default]',
    'method = TLSv1.2+',
    'verify_certificate = no',
    'require_certificate = no',
    '',
  ].join('\n');
}

/**
 * Resolves the ports (0 -> a free one from `freePort`), writes the certificate and tls.cfg into `dir`
 * when TLS or WSS is asked for, and returns Kamailio's extra arguments.
 */
export async function prepareStreamListeners(
  ports: KamailioStreamPorts,
  host: string,
  dir: string,
  freePort: (host: string) => Promise<number>,
  assertFree: (host: string, port: number) => Promise<void>,
): Promise<{ args: string[]; info: KamailioStreamInfo }> {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const info: KamailioStreamInfo = {};
  const resolve = async (port: number | undefined, flag: string): Promise<number | undefined> => {
    if (port === undefined) return undefined;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag} must be a port 0-65535, got ${port}`);
    if (port === 0) return freePort(host);
    await assertFree(host, port);
    return port;
  };
  info.tlsPort = await resolve(ports.tlsPort, 'tlsPort');
  info.wsPort = await resolve(ports.wsPort, 'wsPort');
  info.wssPort = await resolve(ports.wssPort, 'wssPort');
  const chosen = [info.tlsPort, info.wsPort, info.wssPort].filter((p): p is number => p !== undefined);
  if (new Set(chosen).size !== chosen.length) throw new Error(`kamailio TLS, WS and WSS need different ports, got ${chosen.join(', ')}`);
  const args: string[] = [];
  if (info.tlsPort !== undefined || info.wssPort !== undefined) {
    const cert = writeLabCertificate({ hosts: [host] }, dir);
    const cfg = join(dir, 'tls.cfg');
    writeFileSync(cfg, tlsConfig(cert.certPath, cert.keyPath));
    info.caPath = cert.certPath;
    // A quoted define is a string token in the config (modparam("tls", "config", TLS_CFG)).
    args.push('-A', `TLS_CFG="${cfg}"`);
  }
  if (info.tlsPort !== undefined) args.push('-l', `tls:${hostPart}:${info.tlsPort}`);
  if (info.wsPort !== undefined) args.push('-l', `tcp:${hostPart}:${info.wsPort}`, '-A', `WS_PORT=${info.wsPort}`);
  if (info.wssPort !== undefined) args.push('-l', `tls:${hostPart}:${info.wssPort}`, '-A', `WSS_PORT=${info.wssPort}`);
  for (const key of ['tlsPort', 'wsPort', 'wssPort'] as const) if (info[key] === undefined) delete info[key];
  return { args, info };
}
