// One SIP agent on its own loopback socket (UDP, or a TCP connection), for trunk tests that need many
// distinct agents and a chosen source address (127.0.0.2, ::1...): its own user, Call-ID and CSeq,
// REGISTER / OPTIONS with or without a digest answer, each resolved with the matching response.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { buildRequest } from '../../src/sip/builder.js';
import { buildAuthorization, parseChallenge } from '../../src/sip/digest.js';
import { getHeader } from '../../src/sip/headers.js';
import type { SipMessage } from '../../src/sip/message.js';
import { parseSipMessage } from '../../src/sip/parser.js';
import { StreamFramer } from '../../src/transport/framing.js';

let agentNo = 0;

export interface RawAgentOptions {
  /** Source address to bind (default 127.0.0.1, or ::1 for an IPv6 target). */
  bind?: string;
  protocol?: 'udp' | 'tcp';
  /** Default agentNNNN's default password (secretNNNN). */
  password?: string;
  timeoutMs?: number;
}

export class RawAgent {
  private readonly waiting = new Map<string, (m: SipMessage) => void>();
  private cseq = 0;
  private branchNo = 0;
  private readonly id = ++agentNo;
  readonly callId = `raw-${process.pid}-${this.id}`;

  private constructor(
    private readonly target: { host: string; port: number },
    readonly user: string,
    private readonly opts: RawAgentOptions,
    private readonly udp: UdpSocket | null,
    private readonly tcp: TcpSocket | null,
  ) {
    const deliver = (data: Buffer) => {
      const parsed = parseSipMessage(data);
      if (!parsed.ok) return;
      this.waiting.get(parsed.message.viaBranch)?.(parsed.message);
      this.waiting.delete(parsed.message.viaBranch);
    };
    udp?.on('message', deliver);
    if (tcp) {
      const framer = new StreamFramer();
      tcp.on('data', (chunk: Buffer) => {
        framer.push(chunk);
        for (let m = framer.next(); m; m = framer.next()) deliver(m);
      });
      tcp.on('error', () => undefined);
    }
  }

  static async open(target: { host: string; port: number }, user: string, opts: RawAgentOptions = {}): Promise<RawAgent> {
    const v6 = target.host.includes(':');
    const bind = opts.bind ?? (v6 ? '::1' : '127.0.0.1');
    if (opts.protocol === 'tcp') {
      const conn = connect({ host: target.host, port: target.port, localAddress: bind });
      await new Promise<void>((resolve, reject) => {
        conn.once('connect', () => resolve());
        conn.once('error', reject);
      });
      return new RawAgent(target, user, opts, null, conn);
    }
    const socket = createSocket(v6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => socket.bind(0, bind, resolve));
    return new RawAgent(target, user, opts, socket, null);
  }

  /** REGISTER (or OPTIONS to the user's AOR); with `challenge` (a 401 we got), answers its digest. */
  request(o: { method?: 'REGISTER' | 'OPTIONS'; challenge?: SipMessage } = {}): Promise<SipMessage> {
    const method = o.method ?? 'REGISTER';
    const host = this.target.host.includes(':') ? `[${this.target.host}]` : this.target.host;
    const uri = method === 'REGISTER' ? `sip:${host}` : `sip:${this.user}@${host}`;
    let authorization;
    if (o.challenge) {
      const challenge = parseChallenge(getHeader(o.challenge, 'www-authenticate') ?? '', false);
      if (!challenge) throw new Error(`not a challenge: ${o.challenge.status} ${o.challenge.reason}`);
      const password = this.opts.password ?? `secret${this.user.slice(5)}`;
      authorization = { proxy: false, value: buildAuthorization(challenge, this.user, password, method, uri, 1, `cn${this.id}`) };
    }
    const local = this.udp ? this.udp.address() : { address: this.tcp!.localAddress!, port: this.tcp!.localPort! };
    const branch = `z9hG4bKraw${this.id}x${++this.branchNo}`;
    const data = buildRequest({
      method, requestUri: uri, viaProtocol: this.udp ? 'UDP' : 'TCP', viaHost: local.address, viaPort: local.port, branch,
      fromUri: `sip:${this.user}@${host}`, fromTag: `f${this.id}`, toUri: `sip:${this.user}@${host}`, callId: this.callId, cseq: ++this.cseq,
      contactUri: method === 'REGISTER' ? `sip:${this.user}@${local.address.includes(':') ? `[${local.address}]` : local.address}:${local.port}` : undefined,
      expires: method === 'REGISTER' ? 300 : undefined, authorization, userAgent: 'raw-agent',
    });
    const answer = new Promise<SipMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(branch);
        reject(new Error(`${this.user}: no answer to ${method} ${branch}`));
      }, this.opts.timeoutMs ?? 2000);
      this.waiting.set(branch, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
    if (this.udp) this.udp.send(data, this.target.port, this.target.host);
    else this.tcp!.write(data);
    return answer;
  }

  close(): void {
    this.udp?.close();
    this.tcp?.destroy();
  }
}

/** Opens one agent per user (agent0000..), all on `bind`. */
export function openAgents(target: { host: string; port: number }, count: number, opts: RawAgentOptions = {}, first = 0): Promise<RawAgent[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => RawAgent.open(target, `agent${String(first + i).padStart(4, '0')}`, opts)));
}
