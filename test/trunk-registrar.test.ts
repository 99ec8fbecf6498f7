// The trunk's decisions with a fake clock: nonces, the publish window, limits, expiry.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/shared/clock.js';
import { Registrar, userOf } from '../src/trunk/registrar.js';
import { DelayQueue } from '../src/trunk/delay-queue.js';
import { Faults } from '../src/trunk/faults.js';
import { applySwitches, DEFAULT_SWITCHES } from '../src/trunk/config.js';
import { TokenBucket } from '../src/trunk/token-bucket.js';
import { buildRequest } from '../src/sip/builder.js';
import { parseSipMessage } from '../src/sip/parser.js';
import { buildAuthorization, parseChallenge } from '../src/sip/digest.js';
import { getHeader } from '../src/sip/headers.js';
import { defaultCredentials, expandTemplate } from '../src/shared/credentials.js';
import type { TrunkSwitches } from '../src/trunk/config.js';
import type { SipMessage } from '../src/sip/message.js';

const SOURCE = { host: '127.0.0.1', port: 5999 };
let branchNo = 0;

function setup(switches: TrunkSwitches = {}) {
  const clock = new FakeClock(1_000_000);
  const creds = new Map(defaultCredentials(5).map((c) => [c.user, c.password]));
  const registrar = new Registrar(clock, creds, 'lab', switches);
  let cseq = 0;
  const send = (opts: { method?: 'REGISTER' | 'OPTIONS'; user?: string; password?: string; auth?: SipMessage; expires?: number; branch?: string; reliable?: boolean } = {}) => {
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
    const response = registrar.handle(parsed.message, SOURCE, opts.reliable);
    if (!response) return null;
    const res = parseSipMessage(response);
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

describe('embedded trunk registrar: more', () => {
  it('stale-credentials also refuses an old nonce on a method that is not challenged', () => {
    const { clock, send, login } = setup({ publishWindow: { startMs: 1_000, lengthMs: 5_000, mode: 'stale-credentials', methods: ['OPTIONS'] } });
    const { challenge } = login();
    expect(send({ method: 'OPTIONS', auth: challenge })!.status).toBe(200); // before the window
    clock.advanceMs(1_000);
    expect(send({ method: 'OPTIONS', auth: challenge })!.status).toBe(403);
    expect(send({ method: 'OPTIONS' })!.status).toBe(200); // no Authorization: not affected
    expect(send({ auth: challenge })!.status).toBe(200); // REGISTER is not in the window's methods
    clock.advanceMs(5_000);
    expect(send({ method: 'OPTIONS', auth: challenge })!.status).toBe(200);
  });

  it('limits answer before authentication, with the configured code and Retry-After', () => {
    for (const code of [403, 503] as const) {
      const { send } = setup({ aorLimit: { rate: 1, burst: 1, code, retryAfterS: 7 } });
      expect(send()!.status).toBe(401);
      const limited = send()!;
      expect(limited.status).toBe(code);
      expect(limited.reason).toBe(code === 403 ? 'Forbidden' : 'Service Unavailable');
      expect(getHeader(limited, 'retry-after')).toBe('7');
    }
  });

  it('loss drops a seeded share, counted exactly; a retransmission of a dropped request is the same transaction', () => {
    const { registrar, send } = setup({ auth: false, lossRate: 0.5 });
    let silent = 0;
    for (let i = 0; i < 400; i++) if (send({ method: 'OPTIONS', branch: `z9hG4bKloss${i}` }) === null) silent++;
    expect(silent).toBeGreaterThan(140);
    expect(silent).toBeLessThan(260);
    let c = registrar.counters.snapshot(0);
    expect(c).toMatchObject({ received: { OPTIONS: 400 }, answered: { 200: 400 - silent }, byMethodStatus: { 'OPTIONS 200': 400 - silent }, dropped: silent });
    // Retransmit every request until each has been answered once: no new transactions counted.
    let answeredLate = 0;
    for (let round = 0; round < 20; round++)
      for (let i = 0; i < 400; i++) if (send({ method: 'OPTIONS', branch: `z9hG4bKloss${i}` }) !== null) answeredLate++;
    c = registrar.counters.snapshot(0);
    expect(c.received.OPTIONS).toBe(400);
    expect(c.answered['200']).toBe(400);
    expect(c.retransmissionsAbsorbed).toBe(answeredLate - silent);
  });

  it('the same seed gives the same losses', () => {
    const pattern = () => {
      const { send } = setup({ auth: false, lossRate: 0.3 });
      return Array.from({ length: 50 }, () => (send({ method: 'OPTIONS' }) === null ? 'x' : '.')).join('');
    };
    expect(pattern()).toBe(pattern());
  });

  it('delay: a retransmission does not overtake the held answer, and gets the same bytes after it', () => {
    const { clock, registrar } = setup({ auth: false, delay: { fixedMs: 20, jitterMs: 10 } });
    const req = parseSipMessage(
      buildRequest({ method: 'OPTIONS', requestUri: 'sip:agent0001@lab', viaProtocol: 'UDP', viaHost: '127.0.0.1', viaPort: 5999, branch: 'z9hG4bKdelay', fromUri: 'sip:agent0001@lab', fromTag: 't', toUri: 'sip:agent0001@lab', callId: 'c', cseq: 1, userAgent: 't' }),
    );
    if (!req.ok) throw new Error('fixture');
    const first = registrar.handle(req.message, SOURCE)!;
    expect(registrar.lastDelayMs).toBeGreaterThanOrEqual(20);
    expect(registrar.lastDelayMs).toBeLessThanOrEqual(30);
    expect(registrar.handle(req.message, SOURCE)).toBeNull();
    clock.advanceMs(31);
    expect(registrar.handle(req.message, SOURCE)).toEqual(first);
    expect(registrar.lastDelayMs).toBe(0);
    expect(registrar.counters.snapshot(0)).toMatchObject({ received: { OPTIONS: 1 }, retransmissionsAbsorbed: 2 });
  });

  it('over TCP (reliable) the same branch is a new request: no response cache', () => {
    const { registrar, send } = setup({ auth: false });
    send({ method: 'OPTIONS', branch: 'z9hG4bKtcp', reliable: true });
    send({ method: 'OPTIONS', branch: 'z9hG4bKtcp', reliable: true });
    expect(registrar.counters.snapshot(0)).toMatchObject({ received: { OPTIONS: 2 }, retransmissionsAbsorbed: 0 });
  });

  it('bindings expire; Expires: 0 removes; maxExpires caps the grant', () => {
    const { clock, registrar, send, login } = setup({ maxExpires: 100, nonceTtlMs: 1_000_000 });
    const { ok, challenge } = login();
    expect(getHeader(ok, 'expires')).toBe('100');
    expect(registrar.bindingCount()).toBe(1);
    clock.advanceMs(100_001);
    expect(registrar.bindingCount()).toBe(0);
    expect(send({ auth: challenge })!.status).toBe(200);
    expect(registrar.bindingCount()).toBe(1);
  });

  it('a bad run-time patch throws and changes nothing', () => {
    const { registrar } = setup();
    const before = registrar.config;
    expect(() => registrar.configure({ lossrate: 0.5 } as never)).toThrow(/unknown trunk switch "lossrate"/);
    expect(() => registrar.configure({ lossRate: '0.5' } as never)).toThrow(/lossRate/);
    expect(() => registrar.configure({ algorithm: 'SHA-1' } as never)).toThrow(/algorithm/);
    expect(() => registrar.configure({ aorLimit: { rate: 0, burst: 1, code: 429 } })).toThrow(/aorLimit/);
    expect(registrar.config).toBe(before);
    expect(applySwitches(DEFAULT_SWITCHES, { delay: { fixedMs: 5 } }).delay).toEqual({ fixedMs: 5, jitterMs: 0 });
  });

  it('userOf never throws on a stray %', () => {
    expect(userOf('<sip:ag%ZZ@lab>')).toBe('ag%ZZ');
    expect(userOf('<sip:a%40b@lab>;tag=1')).toBe('a@b');
    expect(userOf('sip:lab')).toBeUndefined();
  });

  it('userOf reads the user of the URI in <...>, any scheme case, and nothing else', () => {
    expect(userOf('"sip:fake@x" <sip:agent0001@lab>;tag=9')).toBe('agent0001');
    expect(userOf('<SIPS:agent0002@lab:5061>')).toBe('agent0002');
    expect(userOf('sip:agent0003@lab;transport=tcp')).toBe('agent0003');
    expect(userOf('  <sip:agent0004@lab>')).toBe('agent0004');
    expect(userOf('<sip:lab;user=phone>')).toBeUndefined();
    expect(userOf('<sip:lab?x=a@b>')).toBeUndefined();
    expect(userOf('<tel:+15551234>')).toBeUndefined();
    expect(userOf('sip:@lab')).toBeUndefined();
    expect(userOf('')).toBeUndefined();
  });
});

describe('Faults', () => {
  it('a window set at run time counts from that moment', () => {
    const switches = applySwitches(DEFAULT_SWITCHES, {});
    const faults = new Faults(switches, 0);
    const patch = { publishWindow: { startMs: 1_000, lengthMs: 2_000, mode: 'forbidden' as const, methods: ['REGISTER' as const] } };
    faults.update(applySwitches(switches, patch), patch, 10_000_000);
    expect(faults.activeWindow(10_999_999)).toBeNull();
    expect(faults.activeWindow(11_000_000)).not.toBeNull();
    expect(faults.activeWindow(12_999_999)).not.toBeNull();
    expect(faults.activeWindow(13_000_000)).toBeNull();
  });

  it('global limit: burst then 503 with Retry-After, refilled at the rate', () => {
    const faults = new Faults(applySwitches(DEFAULT_SWITCHES, { globalLimit: { rate: 10, burst: 2, retryAfterS: 1 } }), 0);
    expect([faults.globalLimit(0), faults.globalLimit(0)]).toEqual([null, null]);
    expect(faults.globalLimit(0)).toEqual([503, 'Service Unavailable', ['Retry-After: 1']]);
    expect(faults.globalLimit(100_000)).toBeNull();
  });
});

describe('DelayQueue', () => {
  it('releases by due time, ties in arrival order, only what is due', () => {
    const q = new DelayQueue<string>();
    const dues = [50, 10, 30, 10, 70, 20, 30];
    dues.forEach((d, i) => q.push(d, `${d}:${i}`));
    expect(q.nextDueUs()).toBe(10);
    const out: string[] = [];
    expect(q.popDue(30, (x) => out.push(x))).toBe(5);
    expect(out).toEqual(['10:1', '10:3', '20:5', '30:2', '30:6']);
    expect(q.nextDueUs()).toBe(50);
    q.popDue(1000, (x) => out.push(x));
    expect(out.slice(5)).toEqual(['50:0', '70:4']);
    expect(q.size).toBe(0);
    expect(q.nextDueUs()).toBe(Infinity);
  });

  it('keeps heap order over many random pushes', () => {
    const q = new DelayQueue<number>();
    let x = 7;
    for (let i = 0; i < 1000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      q.push(x % 5000, x % 5000);
    }
    const out: number[] = [];
    q.popDue(5000, (v) => out.push(v));
    expect(out).toHaveLength(1000);
    for (let i = 1; i < out.length; i++) expect(out[i]).toBeGreaterThanOrEqual(out[i - 1]);
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

describe('default credentials', () => {
  it('zero-pads to the width, wider past it', () => {
    expect(expandTemplate('agent{n:4}', 7)).toBe('agent0007');
    expect(expandTemplate('agent{n:4}', 12345)).toBe('agent12345');
    expect(expandTemplate('u{n}-{n:2}', 3)).toBe('u3-03');
    expect(expandTemplate('plain', 3)).toBe('plain');
    const creds = defaultCredentials(10_001);
    expect(creds[0]).toEqual({ user: 'agent0000', password: 'secret0000' });
    expect(creds[10_000]).toEqual({ user: 'agent10000', password: 'secret10000' });
  });
});
