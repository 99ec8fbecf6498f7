// A small raw SIP client for the Kamailio suite: one UDP socket, requests built by src/sip/builder,
// responses parsed by src/sip/parser and matched by branch, digest from src/sip/digest.
import { createSocket, type Socket } from 'node:dgram';
import { buildAuthorization, parseChallenge, type DigestChallenge } from '../../src/sip/digest.js';
import { getHeader } from '../../src/sip/headers.js';
import type { SipMessage } from '../../src/sip/message.js';
import { parseSipMessage } from '../../src/sip/parser.js';
import { newBranch, newCallId, newTag, randomHex } from '../../src/sip/random.js';
import { buildRequest } from '../../src/sip/builder.js';

export interface SendOptions {
  /** Answer this challenge (nc counts up per challenge). */
  challenge?: DigestChallenge;
  password?: string;
  expires?: number;
  /** Give up after this long (null result). */
  timeoutMs?: number;
}

export class RawSipClient {
  private readonly pending = new Map<string, (msg: SipMessage) => void>();
  private readonly nc = new Map<string, number>();
  private cseq = 1;
  private readonly callIds = new Map<string, string>();
  private readonly tags = new Map<string, string>();
  /** Requests sent and final responses received, by status, for reconciliation with Kamailio. */
  readonly sent: Record<string, number> = {};
  readonly received: Record<string, number> = {};

  private constructor(
    private readonly socket: Socket,
    private readonly port: number,
    private readonly host = '127.0.0.1',
  ) {
    socket.on('message', (data) => {
      const r = parseSipMessage(data);
      if (!r.ok || r.message.kind !== 'response' || r.message.status < 200) return;
      const done = this.pending.get(r.message.viaBranch);
      if (!done) return;
      this.pending.delete(r.message.viaBranch);
      this.received[r.message.status] = (this.received[r.message.status] ?? 0) + 1;
      done(r.message);
    });
  }

  static async open(port: number): Promise<RawSipClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new RawSipClient(socket, port);
  }

  close(): void {
    this.socket.close();
  }

  /** One request, no retransmission; the final response or null on timeout. */
  send(method: 'REGISTER' | 'OPTIONS', user: string, opts: SendOptions = {}): Promise<SipMessage | null> {
    const domain = this.host;
    const aor = `sip:${user}@${domain}`;
    const requestUri = method === 'REGISTER' ? `sip:${domain}` : aor;
    const branch = newBranch();
    const key = `${method}:${user}`;
    if (!this.callIds.has(key)) this.callIds.set(key, newCallId(domain));
    if (!this.tags.has(user)) this.tags.set(user, newTag());
    let authorization: { proxy: boolean; value: string } | undefined;
    if (opts.challenge) {
      const nc = (this.nc.get(opts.challenge.nonce) ?? 0) + 1;
      this.nc.set(opts.challenge.nonce, nc);
      const password = opts.password ?? `secret${user.slice(5)}`;
      authorization = { proxy: false, value: buildAuthorization(opts.challenge, user, password, method, requestUri, nc, randomHex(8)) };
    }
    const local = this.socket.address().port;
    const data = buildRequest({
      method,
      requestUri,
      viaProtocol: 'UDP',
      viaHost: '127.0.0.1',
      viaPort: local,
      branch,
      fromUri: aor,
      fromTag: this.tags.get(user)!,
      toUri: aor,
      callId: this.callIds.get(key)!,
      cseq: this.cseq++,
      contactUri: method === 'REGISTER' ? `sip:${user}@127.0.0.1:${local}` : undefined,
      expires: method === 'REGISTER' ? (opts.expires ?? 3600) : undefined,
      authorization,
      userAgent: 'sipstorm-kamailio-test',
    });
    this.sent[method] = (this.sent[method] ?? 0) + 1;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(branch);
        resolve(null);
      }, opts.timeoutMs ?? 2000);
      this.pending.set(branch, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      this.socket.send(data, this.port, this.host);
    });
  }

  /** REGISTER, and on 401 the digest retry: [first, second?] responses and the challenge used. */
  async register(user: string, opts: SendOptions = {}): Promise<{ first: SipMessage | null; final: SipMessage | null; challenge?: DigestChallenge }> {
    const first = await this.send('REGISTER', user, opts);
    if (first?.status !== 401) return { first, final: first };
    const challenge = challengeOf(first);
    if (!challenge) return { first, final: first };
    const final = await this.send('REGISTER', user, { ...opts, challenge });
    return { first, final, challenge };
  }
}

export function challengeOf(msg: SipMessage): DigestChallenge | undefined {
  const value = getHeader(msg, 'www-authenticate');
  return value ? (parseChallenge(value, false) ?? undefined) : undefined;
}
