// SIP over TLS: the stream connection pool over node:tls sockets, framed by Content-Length like TCP.
// Ready once the handshake (certificate check included) is done; a failed check ends the slot's
// waiting operations as transport errors naming it (`connect failed: tls: self-signed certificate`).
import { connect } from 'node:tls';
import { framedSocketLink } from './socket-link.js';
import { advertisedHostFor, createStreamPool } from './stream-pool.js';
import { tlsConnectionOptions, tlsErrorName, type TlsClientOptions } from './tls-options.js';
import type { TargetSpec, Transport, TransportEvents } from './transport.js';
import { resolveHost } from './udp.js';

export interface TlsTransportOptions {
  target: TargetSpec;
  connections: number;
  connectTimeoutMs?: number;
  tls?: TlsClientOptions;
  maxMessageBytes?: number;
}

export async function createTlsTransport(opts: TlsTransportOptions, events: TransportEvents): Promise<Transport> {
  const { target } = opts;
  const tlsOptions = tlsConnectionOptions(opts.tls, target.host);
  const remote = await resolveHost(target.host);
  return createStreamPool(
    {
      protocol: 'tls',
      viaProtocol: 'TLS',
      connections: opts.connections,
      connectTimeoutMs: opts.connectTimeoutMs,
      remote: { host: remote.address, port: target.port },
      localHost: await advertisedHostFor(target.host, remote),
      dial: (ev) =>
        framedSocketLink(
          connect({ ...tlsOptions, host: remote.address, port: target.port }),
          'secureConnect',
          ev,
          (err, ready) => (ready ? (err.code ?? err.message) : tlsErrorName(err)),
          opts.maxMessageBytes,
        ),
    },
    events,
  );
}
