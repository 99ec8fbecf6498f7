// The embedded simulated trunk on real sockets: UDP and TCP on the same port. Responses go back to
// the datagram's source (rport) or over the connection the request came on.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { realClock } from '../shared/clock.js';
import { parseSipMessage } from '../sip/parser.js';
import { StreamFramer } from '../transport/framing.js';
import { resolveCredentials, type ResolvedSwitches, type TrunkOptions, type TrunkSwitches } from './config.js';
import type { TrunkCounters } from './counters.js';
import { Registrar } from './registrar.js';

const UDP_BUFFER_BYTES = 8 * 1024 * 1024;

export class EmbeddedTrunk {
  private constructor(
    private readonly registrar: Registrar,
    private readonly udp: UdpSocket | null,
    private readonly tcp: Server | null,
    readonly address: { host: string; port: number },
    private readonly connections: Set<Socket>,
  ) {}

  static async start(opts: TrunkOptions): Promise<EmbeddedTrunk> {
    const host = opts.host ?? '127.0.0.1';
    const transports = opts.transports ?? ['udp', 'tcp'];
    const clock = opts.clock ?? realClock;
    const realm = opts.realm ?? host;
    const registrar = new Registrar(clock, resolveCredentials(opts), realm, opts, opts.seed);
    const ipv6 = host.includes(':');
    const connections = new Set<Socket>();

    let udp: UdpSocket | null = null;
    let port = opts.port;
    if (transports.includes('udp')) {
      const socket = createSocket({ type: ipv6 ? 'udp6' : 'udp4', recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      port = socket.address().port;
      socket.on('message', (data, rinfo) => {
        const parsed = parseSipMessage(data);
        if (!parsed.ok || parsed.message.kind !== 'request') {
          registrar.counters.malformed++;
          return;
        }
        const decision = registrar.handle(parsed.message, { host: rinfo.address, port: rinfo.port });
        if (!decision.response) return;
        if (decision.delayMs > 0) setTimeout(sendUdp, decision.delayMs, socket, decision.response, rinfo.port, rinfo.address);
        else sendUdp(socket, decision.response, rinfo.port, rinfo.address);
      });
      socket.on('error', () => undefined); // ICMP errors for departed clients: nothing to do
      udp = socket;
    }

    let tcp: Server | null = null;
    if (transports.includes('tcp')) {
      const server = createServer((conn) => {
        conn.setNoDelay(true);
        connections.add(conn);
        const framer = new StreamFramer();
        let framingErrors = 0;
        const source = { host: conn.remoteAddress ?? host, port: conn.remotePort ?? 0 };
        conn.on('data', (chunk) => {
          framer.push(chunk);
          for (let message = framer.next(); message; message = framer.next()) {
            const parsed = parseSipMessage(message);
            if (!parsed.ok || parsed.message.kind !== 'request') {
              registrar.counters.malformed++;
              continue;
            }
            const decision = registrar.handle(parsed.message, source);
            if (!decision.response) continue;
            if (decision.delayMs > 0) setTimeout(writeTcp, decision.delayMs, conn, decision.response);
            else writeTcp(conn, decision.response);
          }
          // The framer resynchronises on garbage by itself; only count it.
          if (framer.errors > framingErrors) {
            registrar.counters.malformed += framer.errors - framingErrors;
            framingErrors = framer.errors;
          }
        });
        conn.on('error', () => undefined);
        conn.on('close', () => connections.delete(conn));
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      port = (server.address() as { port: number }).port;
      tcp = server;
    }
    return new EmbeddedTrunk(registrar, udp, tcp, { host, port }, connections);
  }

  counters(): TrunkCounters {
    return this.registrar.counters.snapshot(this.registrar.bindingCount());
  }

  /** Zeroes counters and forgets bindings and limiter state. */
  resetCounters(): void {
    this.registrar.reset();
  }

  configure(patch: TrunkSwitches): void {
    this.registrar.configure(patch);
  }

  config(): ResolvedSwitches {
    return this.registrar.config;
  }

  bindings(): number {
    return this.registrar.bindingCount();
  }

  async stop(): Promise<void> {
    for (const conn of this.connections) conn.destroy();
    await Promise.all([
      this.udp ? new Promise<void>((resolve) => this.udp!.close(() => resolve())) : undefined,
      this.tcp ? new Promise<void>((resolve) => this.tcp!.close(() => resolve())) : undefined,
    ]);
  }
}

function sendUdp(socket: UdpSocket, data: Buffer, port: number, address: string): void {
  try {
    socket.send(data, port, address);
  } catch {
    // socket closed while a delayed response was pending
  }
}

function writeTcp(conn: Socket, data: Buffer): void {
  if (!conn.destroyed) conn.write(data);
}
