// TCP: the stream connection pool (stream-pool.ts) over node:net sockets, framed by Content-Length.
import { connect } from 'node:net';
import { framedSocketLink } from './socket-link.js';
import { advertisedHostFor, createStreamPool } from './stream-pool.js';
import type { TargetSpec, Transport, TransportEvents } from './transport.js';
import { resolveHost } from './udp.js';

export interface TcpTransportOptions {
  target: TargetSpec;
  connections: number;
  connectTimeoutMs?: number;
  /** Largest message the framer accepts (bytes). */
  maxMessageBytes?: number;
}

export async function createTcpTransport(opts: TcpTransportOptions, events: TransportEvents): Promise<Transport> {
  const { target } = opts;
  if (!Number.isInteger(opts.connections) || opts.connections < 1) {
    throw new Error(`tcp: connections must be a positive integer, got ${opts.connections}`);
  }
  const remote = await resolveHost(target.host);
  return createStreamPool(
    {
      protocol: 'tcp',
      viaProtocol: 'TCP',
      connections: opts.connections,
      connectTimeoutMs: opts.connectTimeoutMs,
      remote: { host: remote.address, port: target.port },
      localHost: await advertisedHostFor(target.host, remote),
      dial: (ev) =>
        framedSocketLink(
          connect({ host: remote.address, port: target.port, family: remote.family }),
          'connect',
          ev,
          (err) => err.code ?? err.message,
          opts.maxMessageBytes,
        ),
    },
    events,
  );
}
