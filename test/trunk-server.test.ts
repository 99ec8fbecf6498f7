// The embedded trunk over real loopback sockets, driven by a tiny raw client (dgram / net + the SIP
// builder), with a FakeClock for everything time-dependent so nothing sleeps except the delay check.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/shared/clock.js';
import { buildRequest } from '../src/sip/builder.js';
import { buildAuthorization, DIGEST_ALGORITHMS, parseChallenge, type DigestChallenge } from '../src/sip/digest.js';
import { getHeader } from '../src/sip/headers.js';
import type { SipMessage } from '../src/sip/message.js';
import { parseSipMessage } from '../src/sip/parser.js';
import { StreamFramer } from '../src/transport/framing.js';
import { startControlApi } from '../src/trunk/control-api.js';
import { EmbeddedTrunk, type TrunkStartOptions } from '../src/trunk/server.js';
import type { UdpIo } from '../src/trunk/udp-listener.js';

// Every UDP test runs against both listeners: batched (native recvmmsg/sendmmsg) and node:dgram.
let udpIo: UdpIo = 'batch';

let branchNo = 0;

/** A raw UDP client: sends request text, resolves with the response whose top Via branch matches. */
class RawUdp {
  readonly socket: UdpSocket;
  readonly received: SipMessage[] = [];
  private readonly waiting = new Map<string, (m: SipMessage) => void>();
  private cseq = 0;

  constructor(
    private readonly trunk: EmbeddedTrunk,
    type: 'udp4' | 'udp6' = 'udp4',
  ) {
    this.socket = createSocket(type);
    this.socket.on('message', (data) => {
      const parsed = parseSipMessage(data);
      if (!parsed.ok) throw new Error(`trunk sent an unparsable message: ${parsed.detail}`);
      this.received.push(parsed.message);
      this.waiting.get(parsed.message.viaBranch)?.(parsed.message);
      this.waiting.delete(parsed.message.viaBranch);
    });
  }

  async bind(host = '127.0.0.1'): Promise<this> {
    await new Promise<void>((resolve) => this.socket.bind(0, host, resolve));
    return this;
  }

  build(o: { method?: 'REGISTER' | 'OPTIONS'; user?: string; challenge?: DigestChallenge; password?: string; expires?: number; branch?: string; uri?: string }): { data: Buffer; branch: string } {
    const method = o.method ?? 'REGISTER';
    const user = o.user ?? 'agent0001';
    const host = this.trunk.address.host;
    const uri = o.uri ?? (method === 'REGISTER' ? `sip:${host}` : `sip:${user}@${host}`);
    const branch = o.branch ?? `z9hG4bKt${++branchNo}`;
    const authorization = o.challenge ? { proxy: false, value: buildAuthorization(o.challenge, user, o.password ?? `secret${user.slice(5)}`, method, uri, 1, 'abc') } : undefined;
    const { address, port } = this.socket.address();
    const data = buildRequest({
      method, requestUri: uri, viaProtocol: 'UDP', viaHost: address, viaPort: port, branch,
      fromUri: `sip:${user}@${host}`, fromTag: 'ft', toUri: `sip:${user}@${host}`, callId: `call-${user}`, cseq: ++this.cseq,
      contactUri: method === 'REGISTER' ? `sip:${user}@${address}:${port}` : undefined,
      expires: method === 'REGISTER' ? (o.expires ?? 300) : undefined, authorization, userAgent: 'raw-test',
    });
    return { data, branch };
  }

  send(data: Buffer | string): void {
    this.socket.send(data, this.trunk.address.port, this.trunk.address.host);
  }

  request(o: Parameters<RawUdp['build']>[0] = {}): Promise<SipMessage> {
    const { data, branch } = this.build(o);
    const answer = this.answerTo(branch);
    this.send(data);
    return answer;
  }

  answerTo(branch: string, timeoutMs = 2000): Promise<SipMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${branch}`)), timeoutMs);
      this.waiting.set(branch, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}

function challengeOf(res: SipMessage): DigestChallenge {
  expect(res.status).toBe(401);
  return parseChallenge(getHeader(res, 'www-authenticate')!, false)!;
}

async function withTrunk(opts: Partial<TrunkStartOptions>, fn: (trunk: EmbeddedTrunk, client: RawUdp, clock: FakeClock) => Promise<void>): Promise<void> {
  const clock = new FakeClock(5_000_000);
  const trunk = await EmbeddedTrunk.start({ port: 0, users: 20, clock, udpIo, ...opts });
  expect(trunk.udpIo).toBe(udpIo);
  const client = await new RawUdp(trunk).bind();
  try {
    await fn(trunk, client, clock);
  } finally {
    client.close();
    await trunk.stop();
  }
}

describe.each(['batch', 'dgram'] as const)('embedded trunk over UDP (%s)', (io) => {
  beforeAll(() => {
    udpIo = io;
  });

  it('challenges and accepts the digest for every algorithm; unregister removes the binding', async () => {
    await withTrunk({}, async (trunk, client) => {
      for (const algorithm of DIGEST_ALGORITHMS) {
        trunk.configure({ algorithm });
        const challenge = challengeOf(await client.request());
        expect(challenge).toMatchObject({ algorithm, qop: ['auth'], stale: false, realm: '127.0.0.1' });
        const ok = await client.request({ challenge });
        expect(ok.status).toBe(200);
        const { port } = client.socket.address();
        expect(getHeader(ok, 'contact')).toBe(`<sip:agent0001@127.0.0.1:${port}>;expires=300`);
        expect(getHeader(ok, 'date')).toMatch(/GMT$/);
        expect(getHeader(ok, 'via')).toContain(`;rport=${port};received=127.0.0.1`);
        expect(getHeader(ok, 'to')).toMatch(/;tag=[0-9a-f]{16}$/);
        expect(trunk.bindings()).toBe(1);
        expect((await client.request({ challenge, expires: 0 })).status).toBe(200);
        expect(trunk.bindings()).toBe(0);
      }
      expect(trunk.counters().byMethodStatus).toEqual({ 'REGISTER 401': 6, 'REGISTER 200': 12 });
    });
  });

  it('wrong password 403, unknown user 404, expired nonce 401 stale=true, short Expires 423 + Min-Expires', async () => {
    await withTrunk({ nonceTtlMs: 10_000, minExpires: 120 }, async (_trunk, client, clock) => {
      const challenge = challengeOf(await client.request());
      expect((await client.request({ challenge, password: 'wrong' })).status).toBe(403);
      const unknown = await client.request({ user: 'nobody' });
      expect([unknown.status, unknown.reason]).toEqual([404, 'Not Found']);
      const brief = await client.request({ challenge, expires: 60 });
      expect([brief.status, brief.reason, getHeader(brief, 'min-expires')]).toEqual([423, 'Interval Too Brief', '120']);
      clock.advanceMs(10_001);
      const stale = challengeOf(await client.request({ challenge }));
      expect(stale.stale).toBe(true);
      expect((await client.request({ challenge: stale })).status).toBe(200);
    });
  });

  it('OPTIONS: 200 with Allow/Accept/Supported to a known AOR without a challenge, 404 to an unknown one; 405 for other methods', async () => {
    await withTrunk({}, async (trunk, client) => {
      const ok = await client.request({ method: 'OPTIONS' });
      expect(ok.status).toBe(200);
      expect(getHeader(ok, 'allow')).toBe('REGISTER, OPTIONS');
      expect(getHeader(ok, 'accept')).toBe('application/sdp');
      expect(getHeader(ok, 'supported')).toBeDefined();
      expect((await client.request({ method: 'OPTIONS', user: 'nobody' })).status).toBe(404);
      expect((await client.request({ method: 'OPTIONS', uri: 'sip:127.0.0.1' })).status).toBe(200); // keep-alive to the trunk itself
      trunk.configure({ optionsAuth: true });
      expect((await client.request({ method: 'OPTIONS' })).status).toBe(401);
      const { data, branch } = client.build({ method: 'OPTIONS' });
      const answer = client.answerTo(branch);
      client.send(data.toString('latin1').replace(/OPTIONS/g, 'INVITE'));
      expect((await answer).status).toBe(405);
    });
  });

  it('per-AOR limit: the configured code with Retry-After exactly after the burst; global limit 503', async () => {
    await withTrunk({ auth: false, aorLimit: { rate: 1, burst: 3, code: 429, retryAfterS: 2 } }, async (trunk, client, clock) => {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await client.request({ method: 'OPTIONS' })).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const limited = await client.request({ method: 'OPTIONS' });
      expect([limited.reason, getHeader(limited, 'retry-after')]).toEqual(['Too Many Requests', '2']);
      expect((await client.request({ method: 'OPTIONS', user: 'agent0002' })).status).toBe(200);
      for (const code of [403, 503] as const) {
        trunk.configure({ aorLimit: { rate: 1, burst: 1, code, retryAfterS: 9 } }); // new limit: buckets start full
        expect((await client.request()).status).toBe(200);
        const r = await client.request();
        expect([r.status, getHeader(r, 'retry-after')]).toEqual([code, '9']);
      }
      clock.advanceMs(1000);
      expect((await client.request()).status).toBe(200);
      trunk.configure({ aorLimit: null, globalLimit: { rate: 100, burst: 2, retryAfterS: 1 } });
      const global = [];
      for (let i = 0; i < 3; i++) global.push(await client.request({ method: 'OPTIONS', user: `agent000${i + 3}` }));
      expect(global.map((m) => m.status)).toEqual([200, 200, 503]);
      expect(getHeader(global[2], 'retry-after')).toBe('1');
    });
  });

  it('publish window: forbidden for its methods only, then stale-credentials until a fresh challenge', async () => {
    const window = { startMs: 1_000, lengthMs: 5_000, mode: 'forbidden' as const, methods: ['REGISTER' as const] };
    await withTrunk({ publishWindow: window, nonceTtlMs: 60_000 }, async (trunk, client, clock) => {
      const challenge = challengeOf(await client.request());
      expect((await client.request({ challenge })).status).toBe(200);
      clock.advanceMs(1_000);
      expect((await client.request({ challenge })).status).toBe(403);
      expect((await client.request({ method: 'OPTIONS' })).status).toBe(200);
      clock.advanceMs(5_000);
      expect((await client.request({ challenge })).status).toBe(200);

      trunk.configure({ publishWindow: { ...window, startMs: 500, mode: 'stale-credentials' } }); // anchored now
      clock.advanceMs(499);
      expect((await client.request({ challenge })).status).toBe(200);
      clock.advanceMs(1);
      expect((await client.request({ challenge })).status).toBe(403);
      const fresh = challengeOf(await client.request());
      expect((await client.request({ challenge: fresh })).status).toBe(200);
      expect((await client.request({ challenge })).status).toBe(403); // the old nonce stays refused in the window
    });
  });

  it('a retransmission gets the same answer, counted once; loss drops a seeded share; counters reconcile exactly', async () => {
    await withTrunk({ auth: false }, async (trunk, client) => {
      const { data, branch } = client.build({ method: 'OPTIONS' });
      const first = client.answerTo(branch);
      client.send(data);
      const a = await first;
      const second = client.answerTo(branch);
      client.send(data);
      const b = await second;
      expect(getHeader(b, 'to')).toBe(getHeader(a, 'to')); // same To tag: the cached response
      trunk.configure({ lossRate: 0.5 });
      for (let i = 0; i < 100; i++) client.send(client.build({ method: 'OPTIONS', branch: `z9hG4bKloss${i}` }).data);
      client.send('not sip\r\n\r\n');
      client.send('\r\n\r\n'); // keep-alive: ignored, not malformed
      // Wait (bounded) until the trunk has read the batch, then a sentinel with loss off.
      for (let i = 0; i < 200 && (trunk.counters().received.OPTIONS ?? 0) < 101; i++) await new Promise((r) => setTimeout(r, 5));
      trunk.configure({ lossRate: 0 });
      await client.request({ method: 'OPTIONS' });
      const c = trunk.counters();
      const answeredLoss = client.received.filter((m) => m.viaBranch.startsWith('z9hG4bKloss')).length;
      expect(c.dropped).toBe(100 - answeredLoss);
      expect(c.dropped).toBeGreaterThan(25);
      expect(c.dropped).toBeLessThan(75);
      expect(c).toEqual({
        received: { OPTIONS: 102 },
        answered: { 200: 102 - c.dropped },
        byMethodStatus: { 'OPTIONS 200': 102 - c.dropped },
        dropped: c.dropped,
        malformed: 1,
        retransmissionsAbsorbed: 1,
        bindings: 0,
      });
      expect(client.received).toHaveLength(103 - c.dropped);
      trunk.resetCounters();
      expect(trunk.counters()).toMatchObject({ received: {}, answered: {}, dropped: 0, malformed: 0 });
    });
  });

  it('delay holds every answer at least the configured time', async () => {
    await withTrunk({ auth: false, delay: { fixedMs: 40, jitterMs: 20 } }, async (_trunk, client) => {
      const t0 = performance.now();
      const answers = await Promise.all(Array.from({ length: 20 }, () => client.request({ method: 'OPTIONS' })));
      const elapsed = performance.now() - t0;
      expect(answers.every((m) => m.status === 200)).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(39);
      expect(elapsed).toBeLessThan(1000);
    });
  });

  it('a burst from several clients: every request answered once, to the socket that sent it', async () => {
    await withTrunk({ auth: false }, async (trunk) => {
      const clients = await Promise.all([0, 1, 2].map(() => new RawUdp(trunk).bind()));
      try {
        const answers = await Promise.all(
          clients.flatMap((client, c) =>
            Array.from({ length: 150 }, (_, i) => {
              const { data, branch } = client.build({ method: 'OPTIONS', user: `agent${String(c * 5 + (i % 5)).padStart(4, '0')}` });
              const answer = client.answerTo(branch, 5000);
              client.send(data);
              return answer;
            }),
          ),
        );
        expect(answers.filter((m) => m.status === 200)).toHaveLength(450);
        // Each client saw exactly its own 150 answers (a wrong address would land on another socket).
        expect(clients.map((c) => c.received.length)).toEqual([150, 150, 150]);
        expect(trunk.counters().received).toEqual({ OPTIONS: 450 });
      } finally {
        for (const c of clients) c.close();
      }
    });
  });

  it('a 40 KB request is read whole and answered', async () => {
    await withTrunk({ auth: false }, async (trunk, client) => {
      const { data, branch } = client.build({ method: 'OPTIONS' });
      const body = 'x'.repeat(40_000);
      const text = data.toString('latin1').replace('Content-Length: 0\r\n', `Content-Type: text/plain\r\nContent-Length: ${body.length}\r\n`) + body;
      expect(text).toContain('Content-Length: 40000\r\n');
      const answer = client.answerTo(branch);
      client.send(Buffer.from(text, 'latin1'));
      expect((await answer).status).toBe(200);
      expect(trunk.counters().malformed).toBe(0);
    });
  });

  it('IPv6: answers on ::1', async () => {
    const trunk = await EmbeddedTrunk.start({ host: '::1', port: 0, users: 2, auth: false, udpIo });
    const client = await new RawUdp(trunk, 'udp6').bind('::1');
    try {
      const res = await client.request({ method: 'OPTIONS', user: 'agent0000' });
      expect(res.status).toBe(200);
      expect(getHeader(res, 'via')).toContain('received=::1');
    } finally {
      client.close();
      await trunk.stop();
    }
  });
});

describe('embedded trunk over TCP', () => {
  it('answers two requests in one write and one split across writes, on the same connection', async () => {
    const trunk = await EmbeddedTrunk.start({ port: 0, users: 5, auth: false });
    const conn = connect(trunk.address.port, '127.0.0.1');
    await new Promise<void>((resolve) => conn.once('connect', () => resolve()));
    const framer = new StreamFramer();
    const got: SipMessage[] = [];
    const three = new Promise<void>((resolve) => {
      conn.on('data', (chunk: Buffer) => {
        framer.push(chunk);
        for (let m = framer.next(); m; m = framer.next()) {
          const parsed = parseSipMessage(m);
          if (parsed.ok) got.push(parsed.message);
          if (got.length === 3) resolve();
        }
      });
    });
    const req = (i: number, method: 'OPTIONS' | 'REGISTER') =>
      buildRequest({
        method, requestUri: method === 'OPTIONS' ? `sip:agent000${i}@127.0.0.1` : 'sip:127.0.0.1', viaProtocol: 'TCP', viaHost: '127.0.0.1', viaPort: conn.localPort!,
        branch: `z9hG4bKtcp${i}`, fromUri: `sip:agent000${i}@127.0.0.1`, fromTag: 'f', toUri: `sip:agent000${i}@127.0.0.1`, callId: `tcp${i}`, cseq: 1,
        contactUri: method === 'REGISTER' ? `sip:agent000${i}@127.0.0.1:${conn.localPort};transport=tcp` : undefined, expires: method === 'REGISTER' ? 300 : undefined,
        userAgent: 'raw-test',
      });
    try {
      conn.write(Buffer.concat([req(1, 'OPTIONS'), req(2, 'REGISTER')]));
      const third = req(3, 'OPTIONS');
      conn.write(third.subarray(0, 40));
      await new Promise((r) => setTimeout(r, 20));
      conn.write(third.subarray(40));
      await three;
      expect(got.map((m) => [m.viaBranch, m.status])).toEqual([['z9hG4bKtcp1', 200], ['z9hG4bKtcp2', 200], ['z9hG4bKtcp3', 200]]);
      expect(trunk.counters()).toMatchObject({ received: { OPTIONS: 2, REGISTER: 1 }, malformed: 0, bindings: 1 });
    } finally {
      conn.destroy();
      await trunk.stop();
    }
  });
});

describe('control API', () => {
  let trunk: EmbeddedTrunk;
  let api: { port: number; close(): Promise<void> };
  beforeAll(async () => {
    trunk = await EmbeddedTrunk.start({ port: 0, users: 5, auth: false, transports: ['udp'] });
    api = await startControlApi(trunk, 0);
  });
  afterAll(async () => {
    await api.close();
    await trunk.stop();
  });
  const http = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${api.port}${path}`, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('changes a switch at run time, reports config and counters, resets', async () => {
    const client = await new RawUdp(trunk).bind();
    try {
      expect((await client.request({ method: 'OPTIONS' })).status).toBe(200);
      const set = await http('POST', '/config', { publishWindow: { startMs: 0, lengthMs: 60_000, mode: 'forbidden', methods: ['OPTIONS'] } });
      expect(set.status).toBe(200);
      expect(set.json.publishWindow).toMatchObject({ mode: 'forbidden' });
      expect((await client.request({ method: 'OPTIONS' })).status).toBe(403);
      expect((await http('GET', '/config')).json.publishWindow).toMatchObject({ methods: ['OPTIONS'] });
      expect((await http('GET', '/counters')).json).toMatchObject({ received: { OPTIONS: 2 }, byMethodStatus: { 'OPTIONS 200': 1, 'OPTIONS 403': 1 } });
      expect(await http('POST', '/config', { publishWindow: null })).toMatchObject({ status: 200, json: { publishWindow: null } });
      expect((await client.request({ method: 'OPTIONS' })).status).toBe(200);
      expect(await http('POST', '/reset')).toEqual({ status: 200, json: { reset: true } });
      expect((await http('GET', '/counters')).json).toMatchObject({ received: {}, answered: {} });
    } finally {
      client.close();
    }
  });

  it('refuses bad patches with 400 and changes nothing; unknown paths 404; loopback only', async () => {
    const before = (await http('GET', '/config')).json;
    expect(await http('POST', '/config', '{not json')).toMatchObject({ status: 400 });
    expect(await http('POST', '/config', { lossRate: 3 })).toMatchObject({ status: 400, json: { error: expect.stringMatching(/lossRate/) } });
    expect(await http('POST', '/config', { typo: 1 })).toMatchObject({ status: 400, json: { error: expect.stringMatching(/unknown trunk switch/) } });
    expect((await http('GET', '/config')).json).toEqual(before);
    expect((await http('GET', '/nope')).status).toBe(404);
    await expect(startControlApi(trunk, 0, '0.0.0.0')).rejects.toThrow(/loopback/);
  });
});
