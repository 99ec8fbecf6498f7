// Softphone agents (sip.js UserAgent + Registerer over the ws package) against the embedded trunk's WS
// and WSS listeners and against a raw WebSocket responder, all on loopback: digest handshakes counted
// on both sides, outcome classes, ids, the token step through a publish window with backoff, and the
// run path. Everything here crosses real sockets.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import fc from 'fast-check';
import { Core } from 'sip.js';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { toRunRequest } from '../src/cli/run-command.js';
import { UsageError } from '../src/cli/units.js';
import { executeRun } from '../src/run/execute.js';
import { identitiesFromTemplates } from '../src/run/identities.js';
import { runSoftphones } from '../src/run/softphone-run.js';
import type { RetrySpec } from '../src/scenario/types.js';
import { ACTION_CODE, type ArrivalPlan } from '../src/schedule/plan-types.js';
import { buildResponse } from '../src/sip/builder.js';
import { getHeader } from '../src/sip/headers.js';
import type { SipMessage } from '../src/sip/message.js';
import { parseSipMessage } from '../src/sip/parser.js';
import { SoftphoneFleet, type SoftphoneFleetOptions } from '../src/softphone/fleet.js';
import { sipJsBranch, softphoneIds } from '../src/softphone/ids.js';
import { classifyResponse } from '../src/softphone/outcome.js';
import { RecoveryTracker } from '../src/softphone/recovery.js';
import { fetchToken } from '../src/softphone/token.js';
import { compileClassMap } from '../src/shared/outcome.js';
import { startControlApi } from '../src/trunk/control-api.js';
import { EmbeddedTrunk, type TrunkStartOptions } from '../src/trunk/server.js';
import { TokenStore } from '../src/trunk/tokens.js';
import { runRequest } from './helpers/run-request.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Lab {
  trunk: EmbeddedTrunk;
  ws: string;
  wss: string;
  ca: string;
  tokenUrl: string;
}

async function startLab(extra: Partial<TrunkStartOptions> = {}): Promise<Lab> {
  const trunk = await EmbeddedTrunk.start({ port: 0, users: 50, minExpires: 1, transports: ['ws', 'wss'], ...extra });
  cleanup.push(() => trunk.stop());
  const api = await startControlApi(trunk, 0);
  cleanup.push(() => api.close());
  return {
    trunk,
    ws: `ws://127.0.0.1:${trunk.addresses.ws!.port}/`,
    wss: `wss://127.0.0.1:${trunk.addresses.wss!.port}/`,
    ca: readFileSync(trunk.tlsCertificate!.certPath, 'utf8'),
    tokenUrl: `http://127.0.0.1:${api.port}/token`,
  };
}

function fleetOf(count: number, opts: SoftphoneFleetOptions, first = 0, password = 'secret{n:4}'): SoftphoneFleet {
  const fleet = new SoftphoneFleet({ seed: 7 });
  const ids = identitiesFromTemplates(first + count, 'agent{n:4}', password, '127.0.0.1').slice(first);
  fleet.start(ids, opts);
  cleanup.push(() => fleet.stop({ unregister: false, drainMs: 2000 }));
  return fleet;
}

/** Registers every agent once (intended now) and waits for the answers. */
async function loginAll(fleet: SoftphoneFleet): Promise<void> {
  const now = fleet.clock.nowUs();
  for (let i = 0; i < fleet.size; i++) expect(fleet.register(i, now)).toBe(true);
  await fleet.whenIdle(8000);
  expect(fleet.busy).toBe(0);
}

const registerOps = (fleet: SoftphoneFleet) => fleet.metrics.snapshot().methods.REGISTER;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('softphone agents against the embedded trunk', () => {
  it('20 agents register over WS, then 20 over WSS (CA) and 5 over WSS (insecure): 401 then 200 each, on both sides', async () => {
    const lab = await startLab();
    const ws = fleetOf(20, { target: lab.ws, expires: 60 });
    await loginAll(ws);
    let ops = registerOps(ws);
    expect(ops.byClass.ok).toBe(20);
    expect(ops.responsesByStatus).toEqual({ '401': 20, '200': 20 });
    expect(ops.sent).toBe(40);
    expect(lab.trunk.counters().byMethodStatus).toEqual({ 'REGISTER 401': 20, 'REGISTER 200': 20 });
    expect(lab.trunk.bindings()).toBe(20);

    const wss = fleetOf(20, { target: lab.wss, expires: 60, socket: { ca: lab.ca } }, 20);
    await loginAll(wss);
    ops = registerOps(wss);
    expect(ops.byClass.ok).toBe(20);
    expect(ops.responsesByStatus).toEqual({ '401': 20, '200': 20 });
    const insecure = fleetOf(5, { target: lab.wss, expires: 60, socket: { insecure: true } }, 40);
    await loginAll(insecure);
    expect(registerOps(insecure).byClass.ok).toBe(5);
    expect(lab.trunk.counters().byMethodStatus).toEqual({ 'REGISTER 401': 45, 'REGISTER 200': 45 });
    expect(lab.trunk.bindings()).toBe(45);
    const c = wss.counters();
    expect(c.registered).toBe(20);
    expect(c.connects).toMatchObject({ ok: 20, failed: 0 });
    expect(c.connects.ms.count).toBe(20);

    // Unregistering: a REGISTER each (sip.js resends its last Authorization, still fresh: 200 at once).
    await ws.stop();
    expect(ws.counters().unregister).toEqual({ attempted: 20, ok: 20, failed: 0 });
    expect(lab.trunk.bindings()).toBe(25);
  });

  it('WSS without the CA fails the handshake: transport_error with the reason, nothing sent', async () => {
    const lab = await startLab();
    const fleet = fleetOf(3, { target: lab.wss, expires: 60, retry: null });
    await loginAll(fleet);
    const ops = registerOps(fleet);
    expect(ops.byClass.transport_error).toBe(3);
    expect(ops.sent).toBe(0);
    const c = fleet.counters();
    expect(c.connects.failed).toBe(3);
    expect(Object.keys(c.connects.byReason).join()).toMatch(/certificate/i);
    expect(lab.trunk.counters().received).toEqual({});
  });

  it('a wrong password: the trunk answers 403 (forbidden, as for the core agent); its token endpoint 401 (auth_failed)', async () => {
    const lab = await startLab();
    const sip = fleetOf(2, { target: lab.ws, expires: 60, retry: null }, 0, 'wrong{n:4}');
    await loginAll(sip);
    expect(registerOps(sip).byClass.forbidden).toBe(2);
    expect(registerOps(sip).responsesByStatus).toEqual({ '401': 2, '403': 2 });

    const token = fleetOf(2, { target: lab.ws, expires: 60, retry: null, tokenUrl: lab.tokenUrl }, 2, 'wrong{n:4}');
    await loginAll(token);
    const ops = registerOps(token);
    expect(ops.byClass.auth_failed).toBe(2);
    expect(ops.sent).toBe(0); // refused before any REGISTER
    expect(token.counters().token.byStatus).toEqual({ '401': 2 });
  });

  it('a challenge sip.js cannot answer (SHA-256: its digest is MD5 only) ends auth_failed', async () => {
    const lab = await startLab({ algorithm: 'SHA-256' });
    const fleet = fleetOf(2, { target: lab.ws, expires: 60, retry: null });
    await loginAll(fleet);
    const ops = registerOps(fleet);
    expect(ops.byClass.auth_failed).toBe(2);
    expect(ops.byStatus).toEqual({ '401': 2 });
    expect(ops.sent).toBe(2); // no second REGISTER: sip.js gave up on the challenge
  });

  it('a token user with a superseded token gets 401 after its credentials (auth_failed), then recovers with a fresh one', async () => {
    const lab = await startLab();
    const fleet = fleetOf(1, { target: lab.ws, expires: 60, tokenUrl: lab.tokenUrl, retry: null });
    await loginAll(fleet);
    // Someone else logs in as the same user: the agent's token is no longer the user's token.
    const other = await fetchToken(lab.tokenUrl, { user: 'agent0000', password: 'secret0000' });
    expect(other.ok).toBe(true);
    fleet.register(0, fleet.clock.nowUs());
    await fleet.whenIdle(5000);
    expect(registerOps(fleet).byClass).toMatchObject({ ok: 1, auth_failed: 1 });
    fleet.register(0, fleet.clock.nowUs()); // the 401 dropped the token: a new one is fetched first
    await fleet.whenIdle(5000);
    expect(registerOps(fleet).byClass).toMatchObject({ ok: 2, auth_failed: 1 });
    expect(fleet.counters().token.byStatus).toEqual({ '200': 2 });
  });
});

describe('the token step through a publish window', () => {
  const backoff: RetrySpec = { policy: { kind: 'exponential', baseMs: 100, capMs: 400 }, on: ['auth_failed', 'throttled'], maxAttempts: 40, honourRetryAfter: true };

  it('the publish revokes every token: 401 on REGISTER, token refused during the window, full-jitter backoff, every agent recovers', async () => {
    const lab = await startLab();
    const agents = 20;
    const fleet = fleetOf(agents, { target: lab.ws, expires: 2, refreshFraction: 0.5, tokenUrl: lab.tokenUrl, retry: backoff });
    await loginAll(fleet);
    expect(registerOps(fleet).byClass.ok).toBe(agents);
    const publishUs = fleet.clock.nowUs();
    // T0: a window on OPTIONS only (softphones send none), so only the token side acts.
    lab.trunk.configure({ publishWindow: { startMs: 0, lengthMs: 1500, mode: 'forbidden', methods: ['OPTIONS'] }, tokenFault: 'unauthorized' });
    await sleep(3800);
    const windowEndUs = publishUs + 1_500_000;
    const c = fleet.counters();
    const ops = registerOps(fleet);
    // Each agent's refresh after T0 met a revoked token: exactly one REGISTER 401 per agent.
    expect(ops.byStatus['401']).toBe(agents);
    expect(c.token.byStatus['401']).toBeGreaterThan(0); // refused during the window, retried with backoff
    expect(c.token.byStatus['401']).toBeLessThan(agents * 15);
    // One recovery per failed agent, all back, none before the window closed.
    expect(c.recovery.recovered).toBe(agents);
    expect(c.recovery.stillFailing).toBe(0);
    expect(c.registered).toBe(agents);
    expect(lab.trunk.bindings()).toBe(agents);
    const firstFailureLatestUs = publishUs + 1_000_000 + 300_000; // refreshes are due 1 s after the logins
    expect(c.recovery.recoveryMs.min).toBeGreaterThanOrEqual((windowEndUs - firstFailureLatestUs) / 1000 - 5);
    expect(c.recovery.recoveryMs.max).toBeLessThan(1500 + 400 + 500);
    expect(c.recovery.histogram).toMatch(/^HIST/);
  });

  it('429 + Retry-After from /token is honoured over a shorter backoff', async () => {
    const lab = await startLab();
    const agents = 8;
    const quick: RetrySpec = { ...backoff, policy: { kind: 'exponential', baseMs: 20, capMs: 50 } };
    const fleet = fleetOf(agents, { target: lab.ws, expires: 60, tokenUrl: lab.tokenUrl, retry: quick });
    lab.trunk.configure({ publishWindow: { startMs: 0, lengthMs: 1000, mode: 'forbidden', methods: ['OPTIONS'] }, tokenFault: 'throttled', tokenRetryAfterS: 2 });
    const now = fleet.clock.nowUs();
    for (let i = 0; i < agents; i++) fleet.register(i, now);
    await sleep(3000);
    const c = fleet.counters();
    // One 429 each: the next try waited the full 2 s (the backoff alone says <= 50 ms), past the 1 s window.
    expect(c.token.byStatus).toEqual({ '429': agents, '200': agents });
    expect(registerOps(fleet).byClass).toMatchObject({ throttled: agents, ok: agents });
    expect(c.recovery.recovered).toBe(agents);
    expect(c.recovery.recoveryMs.min).toBeGreaterThanOrEqual(2000);
  });
});

/** A WebSocket registrar stand-in that records each request and answers what `answer` says (null: silence). */
async function rawWsRegistrar(answer: (req: SipMessage) => { status: number; reason: string; headers?: string[] } | null) {
  const requests: { text: string; msg: SipMessage }[] = [];
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (p) => (p.has('sip') ? 'sip' : false) });
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      const text = data.toString();
      const parsed = parseSipMessage(Buffer.from(text));
      if (!parsed.ok || parsed.message.kind !== 'request') return;
      requests.push({ text, msg: parsed.message });
      const a = answer(parsed.message);
      if (a) socket.send(buildResponse(parsed.message, a.status, a.reason, { toTag: 'rt1', extraHeaders: a.headers }).toString());
    });
  });
  await new Promise((r) => server.once('listening', r));
  cleanup.push(() => new Promise((r) => server.close(r)));
  return { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}/`, requests };
}

describe('what the registrar sees, and outcome classes', () => {
  it('a browser-like REGISTER: Via WS with a .invalid host and a 96-bit branch, Contact ;transport=ws, our Call-ID and tags, distinct per agent', async () => {
    const reg = await rawWsRegistrar(() => ({ status: 403, reason: 'Forbidden' }));
    const fleet = fleetOf(20, { target: reg.url, expires: 300, retry: null });
    await loginAll(fleet);
    expect(registerOps(fleet).byClass.forbidden).toBe(20);
    expect(reg.requests).toHaveLength(20);
    const first = reg.requests[0];
    expect(first.text.startsWith('REGISTER sip:127.0.0.1 SIP/2.0\r\n')).toBe(true);
    expect(getHeader(first.msg, 'via')).toMatch(/^SIP\/2\.0\/WS [0-9a-f]{12}\.invalid;branch=z9hG4bK[0-9a-f]{24}$/);
    expect(getHeader(first.msg, 'contact')).toMatch(/^<sip:[0-9a-f]{12}@[0-9a-f]{12}\.invalid;transport=ws>;expires=300$/);
    expect(getHeader(first.msg, 'call-id')).toMatch(/^[0-9a-f]{32}@[0-9a-f]{12}\.invalid$/);
    const distinct = (name: string) => new Set(reg.requests.map((r) => getHeader(r.msg, name))).size;
    for (const name of ['call-id', 'from', 'via', 'contact']) expect(distinct(name)).toBe(20);
  });

  it('429 / 503 / 500 map to throttled / overload / server_error; a silent registrar to timeout (Timer F); nobody listening to transport_error', async () => {
    const codes = [
      [429, 'Too Many Requests', 'throttled'],
      [503, 'Service Unavailable', 'overload'],
      [500, 'Server Internal Error', 'server_error'],
    ] as const;
    let n = 0;
    const reg = await rawWsRegistrar(() => {
      const [status, reason] = codes[n++ % codes.length];
      return { status, reason, headers: ['Retry-After: 3'] };
    });
    const fleet = fleetOf(3, { target: reg.url, expires: 60, retry: null });
    for (let i = 0; i < 3; i++) {
      fleet.register(i, fleet.clock.nowUs());
      await fleet.whenIdle(3000); // one at a time, so the codes go in order
    }
    expect(registerOps(fleet).byClass).toMatchObject({ throttled: 1, overload: 1, server_error: 1 });
    expect(registerOps(fleet).byStatus).toEqual({ '429': 1, '503': 1, '500': 1 });

    // sip.js's Timer F is a constant of its Timers object (32 s); shortened here to keep the test short.
    const timers = Core.Timers as { TIMER_F: number };
    const saved = timers.TIMER_F;
    timers.TIMER_F = 300;
    cleanup.push(() => void (timers.TIMER_F = saved));
    const silent = await rawWsRegistrar(() => null);
    const quiet = fleetOf(2, { target: silent.url, expires: 60, retry: null });
    await loginAll(quiet);
    expect(registerOps(quiet).byClass.timeout).toBe(2);
    expect(registerOps(quiet).sent).toBe(2);

    const closed = await freePort();
    const nobody = fleetOf(2, { target: `ws://127.0.0.1:${closed}/`, expires: 60, retry: null });
    await loginAll(nobody);
    expect(registerOps(nobody).byClass.transport_error).toBe(2);
    expect(Object.keys(nobody.counters().connects.byReason).join()).toMatch(/ECONNREFUSED/);
  });

  it("sip.js's made-up 408 / 503 (no wire text) are timeout / transport_error; a real 401 after credentials auth_failed", () => {
    const classify = compileClassMap();
    const fake = (statusCode: number, data?: string) => ({ statusCode, reasonPhrase: 'x', data, getHeader: () => undefined });
    expect(classifyResponse(fake(408), classify).cls).toBe('timeout');
    expect(classifyResponse(fake(503), classify)).toMatchObject({ cls: 'transport_error', status: 0 });
    expect(classifyResponse(fake(503, 'SIP/2.0 503 x\r\n'), classify)).toMatchObject({ cls: 'overload', status: 503 });
    expect(classifyResponse(fake(401, 'SIP/2.0 401 x\r\n'), classify).cls).toBe('auth_failed');
  });
});

describe('ids and bookkeeping', () => {
  it('500 generated identities: distinct Call-IDs, tags, Via hosts, Contact users, instance ids; branches from the crypto pool', () => {
    const ids = Array.from({ length: 500 }, () => softphoneIds());
    for (const key of ['callId', 'fromTag', 'viaHost', 'contactName', 'instanceId'] as const) expect(new Set(ids.map((i) => i[key])).size).toBe(500);
    const branches = Array.from({ length: 500 }, () => sipJsBranch());
    expect(new Set(branches).size).toBe(500);
    for (const b of branches) expect(b).toMatch(/^z9hG4bK[0-9a-f]{24}$/);
    expect(() => sipJsBranch('CANCEL')).toThrow(/CANCEL/);
  });

  it('recovery tracker: one entry per failure run that ends in a success; the rest are still failing (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(4), fc.boolean()), { maxLength: 60 }), (events) => {
        const tracker = new RecoveryTracker(5);
        const failing = new Array(5).fill(false);
        let expected = 0;
        events.forEach(([agent, ok], t) => {
          tracker.record(agent, ok, (t + 1) * 1000);
          if (ok && failing[agent]) expected++;
          failing[agent] = !ok;
        });
        const s = tracker.summary();
        expect(s.recovered).toBe(expected);
        expect(s.stillFailing).toBe(failing.filter(Boolean).length);
      }),
      { numRuns: 200 },
    );
  });

  it('token store: a token is the password only while valid; a window start revokes the ones issued before it (property)', () => {
    const policy = { ttlS: 10, fault: null, retryAfterS: 1 };
    fc.assert(
      fc.property(fc.nat(5_000_000), fc.nat(5_000_000), fc.nat(12_000_000), (issueUs, windowUs, checkGapUs) => {
        const store = new TokenStore();
        const answer = store.issue('u', 'p', 'p', issueUs, false, policy);
        if (answer.status !== 200) throw new Error('expected a token');
        const checkUs = Math.max(issueUs, windowUs) + checkGapUs;
        store.noteWindow(windowUs, checkUs);
        const valid = checkUs < issueUs + 10e6 && issueUs >= windowUs;
        expect(store.check('u', (secret) => secret === answer.token, checkUs)).toBe(valid ? 'valid' : 'refused');
        expect(store.check('u', () => false, checkUs)).toBe('refused');
        expect(store.check('nobody', () => true, checkUs)).toBe('none');
      }),
      { numRuns: 300 },
    );
    const store = new TokenStore();
    expect(store.issue('u', 'bad', 'p', 0, false, policy).status).toBe(401);
    expect(store.issue('u', 'p', 'p', 0, true, { ...policy, fault: 'unauthorized' }).status).toBe(401);
    expect(store.issue('u', 'p', 'p', 0, true, { ...policy, fault: 'throttled', retryAfterS: 4 })).toEqual({ status: 429, error: 'token service throttled', retryAfterS: 4 });
  });
});

describe('the run path', () => {
  it('executeRun with agentKind softphone: embedded trunk over WSS, token step, result reconciles with the trunk', async () => {
    const out = await executeRun(runRequest({ rate: 20, expires: 60, sockets: 4, agentKind: 'softphone', tokenUrl: 'embedded' }));
    const r = out.result;
    expect(r.config).toMatchObject({ agentKind: 'softphone', transport: 'wss', tokenStep: true, agents: 10 });
    expect(r.operations.attempted).toBe(20);
    expect(r.operations.byClass.ok + r.operations.byClass.dropped).toBe(20);
    expect(r.operations.byClass.ok).toBeGreaterThanOrEqual(10);
    const trunk = out.trunkCounters as { received: Record<string, number>; byMethodStatus: Record<string, number> };
    // Every request on the wire (unregistrations included) reached the trunk, every answer came back.
    expect(r.transactions.sent).toBe(trunk.received.REGISTER);
    expect(r.transactions.byStatus['200']).toBe(trunk.byMethodStatus['REGISTER 200']);
    expect(r.transactions.byStatus['401']).toBe(trunk.byMethodStatus['REGISTER 401']);
    const soft = r.extra.softphone as { token: { ok: number }; recovery: { recovered: number; histogram: string }; unregister: { ok: number } };
    expect(soft.token.ok).toBe(10);
    expect(soft.unregister.ok).toBe(10);
    expect(soft.recovery).toMatchObject({ recovered: 0 });
  });

  it('a login burst through runSoftphones: every agent once, spread over the window', async () => {
    const lab = await startLab();
    const result = await runSoftphones({
      url: lab.ws, identities: identitiesFromTemplates(12, 'agent{n:4}', 'secret{n:4}', '127.0.0.1'),
      load: { kind: 'burst', windowMs: 300, holdMs: 100 }, expires: 60, unregister: false,
    });
    expect(result.operations.byClass.ok).toBe(12);
    expect(result.extra.plannedArrivals).toBe(12);
    expect(lab.trunk.bindings()).toBe(12);
  });

  it("a scenario plan: each arrival's agent and action (unregister included), held to the plan's end", async () => {
    const lab = await startLab();
    const plan: ArrivalPlan = {
      offsetsUs: Float64Array.from([0, 0, 0, 200_000, 250_000]),
      agents: Int32Array.from([0, 1, 2, 1, 2]),
      actions: Uint8Array.from([ACTION_CODE.login, ACTION_CODE.login, ACTION_CODE.login, ACTION_CODE.unregister, ACTION_CODE.refresh]),
      phaseOf: new Uint16Array(5),
      phases: [{ name: 'p', type: 'constant', startUs: 0, endUs: 900_000, arrivals: 5 }],
      marks: [],
      totalUs: 900_000,
    };
    const t0 = performance.now();
    const result = await runSoftphones({
      url: lab.ws, identities: identitiesFromTemplates(3, 'agent{n:4}', 'secret{n:4}', '127.0.0.1'), load: { kind: 'plan', plan, holdMs: 0 }, expires: 60, unregister: false,
    });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(900);
    expect(result.operations.byClass.ok).toBe(4); // three logins and one refresh; the unregistration is not a load operation
    expect((result.extra.softphone as { unregister: unknown }).unregister).toEqual({ attempted: 1, ok: 1, failed: 0 });
    expect(lab.trunk.bindings()).toBe(2);
  });

  it('flags: --token-url only with softphones, softphones only over ws/wss', () => {
    const base = { $0: 'sipstorm', _: [] } as unknown as Parameters<typeof toRunRequest>[0];
    expect(toRunRequest({ ...base, 'agent-kind': 'softphone', 'token-url': 'embedded' })).toMatchObject({ agentKind: 'softphone', tokenUrl: 'embedded' });
    expect(() => toRunRequest({ ...base, 'token-url': 'http://127.0.0.1:1/token' })).toThrow(UsageError);
    expect(() => toRunRequest({ ...base, 'agent-kind': 'softphone', target: 'udp:127.0.0.1:5060' })).toThrow(/ws: or wss:/);
    expect(() => toRunRequest({ ...base, 'agent-kind': 'softphone', 'token-url': 'ftp://x' })).toThrow(/http\(s\) URL/);
    expect(() => toRunRequest({ ...base, 'agent-kind': 'softphone', target: 'ws:127.0.0.1:8080/', 'token-url': 'embedded' })).toThrow(/embedded trunk/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
