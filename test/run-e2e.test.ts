// sipstorm's engine against `sipstorm serve`'s trunk over real loopback sockets: every outcome class
// forced by a switch, exact counts, reconciled with the trunk's own counters.
import { afterEach, describe, expect, it } from 'vitest';
import { RunEngine, type RunOptions } from '../src/run/engine.js';
import { identitiesFromTemplates } from '../src/run/identities.js';
import { EmbeddedTrunk } from '../src/trunk/server.js';
import type { TrunkOptions } from '../src/trunk/config.js';
import { buildResponse } from '../src/sip/builder.js';
import { OUTCOME_CLASSES } from '../src/shared/outcome.js';
import type { RunResult } from '../src/report/result.js';
import { startRawResponder, type RawResponder } from './helpers/raw-responder.js';
import { udpBatchUnavailableReason } from '../src/transport/native.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function trunk(opts: Partial<TrunkOptions> = {}): Promise<EmbeddedTrunk> {
  const t = await EmbeddedTrunk.start({ port: 0, users: 50, minExpires: 1, ...opts });
  cleanups.push(() => t.stop());
  return t;
}

function options(port: number, overrides: Partial<RunOptions> & { agents?: number; password?: string } = {}): RunOptions {
  const { agents = 10, password = 'secret{n:4}', ...rest } = overrides;
  return {
    target: { protocol: 'udp', host: '127.0.0.1', port, text: `udp:127.0.0.1:${port}` },
    identities: identitiesFromTemplates(agents, 'agent{n:4}', password, '127.0.0.1'),
    rate: 200,
    durationMs: 500,
    method: 'REGISTER',
    expires: 60,
    t1Ms: 50,
    t2Ms: 400,
    t4Ms: 100,
    sockets: 2,
    unregister: false,
    ...rest,
  };
}

function sumClasses(r: RunResult): number {
  return OUTCOME_CLASSES.reduce((sum, cls) => sum + r.operations.byClass[cls], 0);
}

function expectInvariants(r: RunResult): void {
  expect(sumClasses(r)).toBe(r.operations.attempted);
  expect(r.operations.completed).toBe(r.operations.attempted - r.operations.byClass.dropped);
}

/**
 * The trunk counts per transaction (a retransmission it absorbs is not a new request): its received
 * requests equal what we sent, and its answers by status equal the responses we got.
 */
function expectReconciled(r: RunResult, t: EmbeddedTrunk): void {
  const c = t.counters();
  expect(r.transactions.retransmissions).toBe(0);
  const received = Object.values(c.received).reduce((a, b) => a + b, 0);
  expect(received).toBe(r.transactions.sent);
  for (const [status, n] of Object.entries(r.transactions.byStatus)) expect(c.answered[status] ?? 0).toBe(n);
}

describe('sipstorm run against the embedded trunk (UDP loopback)', () => {
  it('REGISTER with digest: every operation ok, first one per agent challenged, counts reconcile', async () => {
    const t = await trunk();
    const r = await new RunEngine(options(t.address.port, { agents: 10, unregister: true })).run();
    expectInvariants(r);
    expect(r.operations.attempted).toBe(100);
    expect(r.operations.byClass.ok).toBe(100);
    // One 401 per agent: later refreshes reuse the nonce pre-emptively.
    expect(r.transactions.byStatus['401']).toBe(10);
    expect(r.transactions.byStatus['200']).toBe(110); // 100 operations + 10 unregistrations
    expect(r.transactions.retransmissions).toBe(0);
    expect(r.latencyMs.corrected.count).toBe(100);
    expect(r.latencyMs.corrected.p50).toBeGreaterThan(0);
    expect(r.extra.unregister).toEqual({ attempted: 10, ok: 10, failed: 0 });
    expect(t.bindings()).toBe(0);
    expectReconciled(r, t);
  });

  for (const algorithm of ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256', 'SHA-512-256-sess'] as const) {
    it(`digest ${algorithm} against the trunk`, async () => {
      const t = await trunk({ algorithm });
      const r = await new RunEngine(options(t.address.port, { agents: 3, rate: 60, durationMs: 100 })).run();
      expect(r.operations.byClass.ok).toBe(6);
      expect(r.transactions.byStatus['401']).toBe(3);
    });
  }

  it('a TCP connection per agent, framing over a real stream', async () => {
    const t = await trunk();
    const r = await new RunEngine({
      ...options(t.address.port, { agents: 4, method: 'OPTIONS' }),
      target: { protocol: 'tcp', host: '127.0.0.1', port: t.address.port, text: `tcp:127.0.0.1:${t.address.port}` },
      sockets: 4,
    }).run();
    expectInvariants(r);
    expect(r.operations.byClass.ok).toBe(100);
    expectReconciled(r, t);
  });

  it('OPTIONS: 200 from the same identities', async () => {
    const t = await trunk();
    const r = await new RunEngine(options(t.address.port, { method: 'OPTIONS' })).run();
    expectInvariants(r);
    expect(r.operations.byClass.ok).toBe(100);
    expect(r.transactions.sent).toBe(100);
    expectReconciled(r, t);
  });

  it('wrong password -> forbidden (403)', async () => {
    const t = await trunk();
    const r = await new RunEngine(options(t.address.port, { password: 'wrong{n:4}' })).run();
    expectInvariants(r);
    expect(r.operations.byClass.forbidden).toBe(100);
    expect(r.operations.byReason['403 Forbidden']).toBe(100);
    expectReconciled(r, t);
  });

  it('per-AOR limit answered 429 -> throttled, exact against the trunk', async () => {
    const t = await trunk({ aorLimit: { rate: 1, burst: 2, code: 429, retryAfterS: 2 } });
    const r = await new RunEngine(options(t.address.port, { agents: 5, rate: 100, durationMs: 500 })).run();
    expectInvariants(r);
    expect(r.operations.byClass.throttled).toBeGreaterThan(0);
    expect(r.operations.byClass.ok + r.operations.byClass.throttled).toBe(50);
    expect(r.operations.byStatus['429']).toBe(r.operations.byClass.throttled);
    expectReconciled(r, t);
  });

  it('per-AOR limit answered 403 is forbidden; a class map can call it throttled', async () => {
    const t = await trunk({ aorLimit: { rate: 1, burst: 1, code: 403 } });
    const r = await new RunEngine(options(t.address.port, { agents: 5, classMap: { 403: 'throttled' } })).run();
    expectInvariants(r);
    expect(r.operations.byClass.forbidden).toBe(0);
    expect(r.operations.byClass.throttled).toBeGreaterThan(0);
    expect(r.operations.byStatus['403']).toBe(r.operations.byClass.throttled);
  });

  it('global limit -> overload (503)', async () => {
    const t = await trunk({ globalLimit: { rate: 5, burst: 5, retryAfterS: 1 } });
    const r = await new RunEngine(options(t.address.port, { method: 'OPTIONS' })).run();
    expectInvariants(r);
    expect(r.operations.byClass.overload).toBeGreaterThan(80);
    expect(r.operations.byClass.ok + r.operations.byClass.overload).toBe(100);
    expectReconciled(r, t);
  });

  it('publish window (forbidden mode) -> 403 to REGISTER inside the window only', async () => {
    const t = await trunk({ publishWindow: { startMs: 0, lengthMs: 60_000, mode: 'forbidden', methods: ['REGISTER'] } });
    const reg = await new RunEngine(options(t.address.port, { durationMs: 200 })).run();
    expect(reg.operations.byClass.forbidden).toBe(reg.operations.attempted);
    const opt = await new RunEngine(options(t.address.port, { method: 'OPTIONS', durationMs: 200 })).run();
    expect(opt.operations.byClass.ok).toBe(opt.operations.attempted);
  });

  it('unknown users -> client_error (404)', async () => {
    const t = await trunk({ users: 2 });
    const r = await new RunEngine(options(t.address.port, { agents: 4, durationMs: 100 })).run();
    expectInvariants(r);
    expect(r.operations.byClass.client_error).toBe(10);
    expect(r.operations.byClass.ok).toBe(10);
  });

  it('total loss -> timeout after Timer F with retransmissions counted', async () => {
    const t = await trunk({ lossRate: 1 });
    const r = await new RunEngine(options(t.address.port, { agents: 2, rate: 10, durationMs: 200, t1Ms: 20, t2Ms: 80 })).run();
    expectInvariants(r);
    expect(r.operations.byClass.timeout).toBe(2);
    // Timer E over 64*T1 = 1280 ms: 20, 40, 80, 80, ... -> 1 + 16 sends per transaction.
    expect(r.transactions.retransmissions).toBeGreaterThanOrEqual(2 * 14);
    // `sent` counts transactions (requests), retransmissions apart.
    expect(r.transactions.sent).toBe(2);
  });

  it('a busy agent drops the arrival instead of queueing it', async () => {
    const t = await trunk({ delay: { fixedMs: 300 } });
    const r = await new RunEngine(options(t.address.port, { agents: 1, rate: 50, durationMs: 400, method: 'OPTIONS' })).run();
    expectInvariants(r);
    expect(r.operations.attempted).toBe(20);
    // Each operation holds the agent ~300 ms, so only 2 of the 20 arrivals (at 0 and ~300 ms) find it free.
    expect(r.operations.byClass.dropped).toBeGreaterThanOrEqual(16);
    expect(r.latencyMs.uncorrected.min).toBeGreaterThanOrEqual(290); // HDR bucket edge below 300
    expect(r.operations.byClass.ok).toBe(20 - r.operations.byClass.dropped);
    // Corrected latency includes the schedule slip; the uncorrected does not.
    expect(r.latencyMs.corrected.max).toBeGreaterThanOrEqual(r.latencyMs.uncorrected.max);
  });
});

describe('outcome classes a trunk does not give (raw responder)', () => {
  async function responder(answer: Parameters<typeof startRawResponder>[0]): Promise<RawResponder> {
    const r = await startRawResponder(answer);
    cleanups.push(() => r.close());
    return r;
  }

  it('a challenge to every attempt, never stale -> auth_failed after one retry', async () => {
    let n = 0;
    const raw = await responder((req) =>
      buildResponse(req, 401, 'Unauthorized', { extraHeaders: [`WWW-Authenticate: Digest realm="x", nonce="n${n++}", algorithm=MD5, qop="auth"`] }),
    );
    const r = await new RunEngine(options(raw.port, { agents: 2, rate: 20, durationMs: 100 })).run();
    expectInvariants(r);
    expect(r.operations.byClass.auth_failed).toBe(2);
    expect(r.transactions.sent).toBe(4);
    // The retry keeps Call-ID and From tag and bumps CSeq by one.
    const [a, b] = raw.requests.filter((m) => m.callId === raw.requests[0].callId);
    expect(b.cseq).toBe(a.cseq + 1);
  });

  it('stale=true earns exactly one more silent retry', async () => {
    let n = 0;
    const raw = await responder((req) => {
      n++;
      if (n === 3) return buildResponse(req, 200, 'OK');
      return buildResponse(req, 401, 'Unauthorized', {
        extraHeaders: [`WWW-Authenticate: Digest realm="x", nonce="n${n}", algorithm=MD5, qop="auth"${n === 2 ? ', stale=true' : ''}`],
      });
    });
    const r = await new RunEngine(options(raw.port, { agents: 1, rate: 10, durationMs: 100 })).run();
    expect(r.operations.byClass.ok).toBe(1);
    expect(raw.requests).toHaveLength(3);
    expect(raw.requests.map((m) => m.cseq)).toEqual([1, 2, 3]);
  });

  it('500 -> server_error, 600 -> global_error, garbage with our branch -> malformed', async () => {
    let n = 0;
    const raw = await responder((req) => {
      const k = n++ % 3;
      if (k === 0) return buildResponse(req, 500, 'Server Internal Error');
      if (k === 1) return buildResponse(req, 603, 'Decline');
      return Buffer.from(`SIP/2.0 abc Broken\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=${req.viaBranch}\r\nCSeq: ${req.cseq} ${req.method}\r\n\r\n`);
    });
    const r = await new RunEngine(options(raw.port, { agents: 3, rate: 30, durationMs: 100, method: 'OPTIONS' })).run();
    expectInvariants(r);
    expect(r.operations.byClass.server_error).toBe(1);
    expect(r.operations.byClass.global_error).toBe(1);
    expect(r.operations.byClass.malformed).toBe(1);
  });

  it('423 -> one retry with Min-Expires', async () => {
    const raw = await responder((req) => {
      const expires = /Expires: (\d+)/i.exec(req.headers.map((h) => `${h.name}: ${h.value}`).join('\n'))?.[1];
      if (Number(expires) < 120) return buildResponse(req, 423, 'Interval Too Brief', { extraHeaders: ['Min-Expires: 120'] });
      return buildResponse(req, 200, 'OK', { extraHeaders: ['Expires: 120'] });
    });
    const r = await new RunEngine(options(raw.port, { agents: 1, rate: 10, durationMs: 100 })).run();
    expect(r.operations.byClass.ok).toBe(1);
    expect(raw.requests).toHaveLength(2);
  });

  it('TCP to a closed port -> transport_error', async () => {
    const raw = await responder(() => null); // a bound UDP port: nothing listens on TCP there
    const r = await new RunEngine({
      ...options(raw.port, { agents: 2, rate: 20, durationMs: 100 }),
      target: { protocol: 'tcp', host: '127.0.0.1', port: raw.port, text: `tcp:127.0.0.1:${raw.port}` },
    }).run();
    expectInvariants(r);
    expect(r.operations.byClass.transport_error).toBe(2);
  });
});

describe('binding refresh', () => {
  it('refreshes each binding at 80% of the granted lifetime, on time', async () => {
    const t = await trunk({ minExpires: 1 });
    // 4 agents log in in the first 40 ms; then only OPTIONS-free idle time: the refreshes come from the agents.
    const r = await new RunEngine(options(t.address.port, { agents: 4, rate: 100, durationMs: 2_600, expires: 1, method: 'auto' })).run();
    expectInvariants(r);
    const register = r.methods.REGISTER.operations;
    // Logins plus a refresh every 0.8 s per agent (3 in 2.6 s), give or take one at the edges.
    expect(register.byClass.ok).toBeGreaterThanOrEqual(4 + 4 * 2);
    expect(register.byClass.ok).toBeLessThanOrEqual(4 + 4 * 4);
    // Timed by the agents' own timers (checked every 10 ms), not by a slow sweep.
    expect(r.methods.REGISTER.latencyMs.corrected.p99).toBeLessThan(30);
  });
});

// The addon is optional for users (no compiler -> node:dgram); test/udp-batch.test.ts fails CI when it did not build.
const NATIVE_UNAVAILABLE = udpBatchUnavailableReason();
if (NATIVE_UNAVAILABLE) console.log(`skipping batched-I/O runs: native addon not built (${NATIVE_UNAVAILABLE}); npm run build:native`);

describe.skipIf(NATIVE_UNAVAILABLE !== undefined)('batched native UDP I/O (sendmmsg/recvmmsg, one loop per tick)', () => {
  it('REGISTER with digest reconciles exactly, latencies from kernel receive times', async () => {
    const t = await trunk();
    const r = await new RunEngine({ ...options(t.address.port, { agents: 10, unregister: true }), io: 'batch', tickMs: 2 }).run();
    expect(r.config.io).toBe('batch');
    expectInvariants(r);
    expect(r.operations.byClass.ok).toBe(100);
    expect(r.transactions.byStatus['401']).toBe(10);
    expect(r.extra.unregister).toEqual({ attempted: 10, ok: 10, failed: 0 });
    expect(r.latencyMs.uncorrected.min).toBeGreaterThan(0);
    expectReconciled(r, t);
  });

  it('total loss -> timeouts with Timer E retransmissions through the batched loop', async () => {
    const t = await trunk({ lossRate: 1 });
    const r = await new RunEngine({ ...options(t.address.port, { agents: 2, rate: 10, durationMs: 200, t1Ms: 20, t2Ms: 80 }), io: 'batch' }).run();
    expect(r.operations.byClass.timeout).toBe(2);
    expect(r.transactions.retransmissions).toBeGreaterThanOrEqual(2 * 14);
  });
});
