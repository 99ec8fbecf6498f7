// The trunk's decisions with a fake clock: nonces, the publish window, limits, expiry.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/shared/clock.js';
import { Registrar } from '../src/trunk/registrar.js';
import { TokenBucket } from '../src/trunk/token-bucket.js';
import { buildRequest } from '../src/sip/builder.js';
import { parseSipMessage } from '../src/sip/parser.js';
import { buildAuthorization, parseChallenge } from '../src/sip/digest.js';
import { getHeader } from '../src/sip/headers.js';
import { defaultCredentials } from '../src/shared/credentials.js';
import type { TrunkSwitches } from '../src/trunk/config.js';
import type { SipMessage } from '../src/sip/message.js';

const SOURCE = { host: '127.0.0.1', port: 5999 };
let branchNo = 0;

function setup(switches: TrunkSwitches = {}) {
  const clock = new FakeClock(1_000_000);
  const creds = new Map(defaultCredentials(5).map((c) => [c.user, c.password]));
  const registrar = new Registrar(clock, creds, 'lab', switches);
  let cseq = 0;
  const send = (opts: { method?: 'REGISTER' | 'OPTIONS'; user?: string; password?: string; auth?: SipMessage; expires?: number; branch?: string } = {}) => {
    const method = opts.method ?? 'REGISTER';
    const user = opts.user ?? 'agent0001';
    const uri = method === 'REGISTER' ? 'sip:lab' : `sip:${user}@lab`;
    let authorization;
    if (opts.auth) {
      const challenge = parseChallenge(getHeader(opts.auth, 'www-authenticate')!, false)!;
      authorization = { proxy: false, value: buildAuthorization(challenge, user, opts.password ?? `secret${user.slice(5)}`, method, uri, 1, 'cn') };
    }
    const data = buildRequest({
      method, requestUri: uri, viaProtocol: 'UDP', viaHost: '127.0.0.1', viaPort: 5999, branch: opts.branch ?? `z9hG4bK${++branchNo}`,
      fromUri: `sip:${user}@lab`, fromTag: 't', toUri: `sip:${user}@lab`, callId: `c-${user}`, cseq: ++cseq,
      contactUri: method === 'REGISTER' ? `sip:${user}@127.0.0.1:5999` : undefined, expires: method === 'REGISTER' ? (opts.expires ?? 120) : undefined,
      authorization, userAgent: 't',
    });
    const parsed = parseSipMessage(data);
    if (!parsed.ok) throw new Error(parsed.detail);
    const decision = registrar.handle(parsed.message, SOURCE);
    if (!decision.response) return null;
    const res = parseSipMessage(decision.response);
    if (!res.ok) throw new Error(res.detail);
    return res.message;
  };
  const login = (user = 'agent0001') => {
    const challenge = send({ user })!;
    expect(challenge.status).toBe(401);
    return { challenge, ok: send({ user, auth: challenge })! };
  };
  return { clock, registrar, send, login };
}

describe('embedded trunk registrar', () => {
  it('challenges, accepts the digest, stores and removes the binding', () => {
    const { registrar, send, login } = setup();
    const { challenge, ok } = login();
    expect(ok.status).toBe(200);
    expect(getHeader(ok, 'contact')).toBe('<sip:agent0001@127.0.0.1:5999>;expires=120');
    expect(registrar.bindingCount()).toBe(1);
    expect(send({ auth: challenge, expires: 0 })!.status).toBe(200);
    expect(registrar.bindingCount()).toBe(0);
  });

  it('wrong password -> 403, unknown user -> 404', () => {
    const { send } = setup();
    const challenge = send()!;
    expect(send({ auth: challenge, password: 'nope' })!.status).toBe(403);
    expect(send({ user: 'stranger' })!.status).toBe(404);
  });

  it('an expired nonce gets 401 stale=true', () => {
    const { clock, send, login } = setup({ nonceTtlMs: 10_000 });
    const { challenge } = login();
    clock.advanceMs(10_001);
    const res = send({ auth: challenge })!;
    expect(res.status).toBe(401);
    expect(parseChallenge(getHeader(res, 'www-authenticate')!, false)!.stale).toBe(true);
  });

  it('423 with Min-Expires below the minimum', () => {
    const { send } = setup({ minExpires: 300 });
    const challenge = send({ expires: 300 })!;
    const res = send({ auth: challenge, expires: 60 })!;
    expect(res.status).toBe(423);
    expect(getHeader(res, 'min-expires')).toBe('300');
  });

  it('publish window, forbidden mode: 403 only inside the window and only for its methods', () => {
    const { clock, send, login } = setup({ publishWindow: { startMs: 5_000, lengthMs: 10_000, mode: 'forbidden', methods: ['REGISTER'] } });
    const { challenge } = login();
    clock.advanceMs(5_000);
    expect(send({ auth: challenge })!.status).toBe(403);
    expect(send({ method: 'OPTIONS' })!.status).toBe(200);
    clock.advanceMs(10_000);
    expect(send({ auth: challenge })!.status).toBe(200);
  });

  it('publish window, stale-credentials mode: old nonces 403 until a fresh challenge is taken', () => {
    const { clock, send, login } = setup({ publishWindow: { startMs: 1_000, lengthMs: 20_000, mode: 'stale-credentials', methods: ['REGISTER'] } });
    const { challenge: before } = login();
    clock.advanceMs(2_000);
    expect(send({ auth: before })!.status).toBe(403);
    const fresh = send()!; // no Authorization: a new challenge
    expect(fresh.status).toBe(401);
    expect(send({ auth: fresh })!.status).toBe(200);
    clock.advanceMs(20_000);
    expect(send({ auth: fresh })!.status).toBe(200);
  });

  it('per-AOR token bucket: burst, then the configured code with Retry-After, then refill', () => {
    const { clock, send } = setup({ auth: false, aorLimit: { rate: 2, burst: 3, code: 429, retryAfterS: 2 } });
    const statuses = Array.from({ length: 5 }, () => send({ method: 'OPTIONS' })!.status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = send({ method: 'OPTIONS' })!;
    expect(getHeader(limited, 'retry-after')).toBe('2');
    expect(send({ method: 'OPTIONS', user: 'agent0002' })!.status).toBe(200); // per AOR
    clock.advanceMs(500);
    expect(send({ method: 'OPTIONS' })!.status).toBe(200);
  });

  it('global limit -> 503 with Retry-After', () => {
    const { send } = setup({ globalLimit: { rate: 1, burst: 2, retryAfterS: 5 } });
    expect([0, 1, 2].map(() => send({ method: 'OPTIONS' })!.status)).toEqual([200, 200, 503]);
  });

  it('a retransmission is answered from the cache and counted once', () => {
    const { registrar, send } = setup();
    const a = send({ method: 'OPTIONS', branch: 'z9hG4bKsame' })!;
    const b = send({ method: 'OPTIONS', branch: 'z9hG4bKsame' })!;
    expect(b.status).toBe(a.status);
    const c = registrar.counters.snapshot(0);
    expect(c.received.OPTIONS).toBe(1);
    expect(c.retransmissionsAbsorbed).toBe(1);
  });

  it('switches change at run time and validate their input', () => {
    const { registrar, send } = setup();
    registrar.configure({ publishWindow: { startMs: 0, lengthMs: 1000, mode: 'forbidden', methods: ['OPTIONS'] } });
    expect(send({ method: 'OPTIONS' })!.status).toBe(403);
    registrar.configure({ publishWindow: null });
    expect(send({ method: 'OPTIONS' })!.status).toBe(200);
    expect(() => registrar.configure({ lossRate: 2 })).toThrow(/lossRate/);
  });
});

describe('TokenBucket', () => {
  it('refills at the rate up to the burst', () => {
    const b = new TokenBucket(10, 2, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([true, true, false]);
    expect(b.take(100_000)).toBe(true); // 0.1 s -> one token
    expect(b.take(100_000)).toBe(false);
    expect([b.take(10_000_000), b.take(10_000_000), b.take(10_000_000)]).toEqual([true, true, false]);
  });
});
