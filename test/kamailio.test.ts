// The bundled Kamailio (docker/kamailio/kamailio.cfg) run natively on loopback: start/stop by PID,
// OPTIONS, REGISTER with digest, every fault switch producing its answer, switches changed while it
// runs over JSON-RPC (and through the CLI behind scripts/kamailio.sh), its own counters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeader } from '../src/sip/headers.js';
import { KamailioServer, isKamailioPid, type KamailioInstanceInfo } from '../src/kamailio/server.js';
import { decodeSwitches, parseSwitchArgs, switchWrites } from '../src/kamailio/switches.js';
import { diffStats, toKamailioStats } from '../src/kamailio/stats.js';
import { runKamailioCli } from '../src/kamailio/cli.js';
import { freeKamailioPort, kamailioAvailable } from './helpers/kamailio-available.js';
import { challengeOf, RawSipClient } from './helpers/kamailio-client.js';
import { hasTool } from './helpers/tools.js';

const HAVE_KAMAILIO = kamailioAvailable();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe('Kamailio switches and counters (pure)', () => {
  it('parses set arguments in the words of sipstorm serve', () => {
    expect(parseSwitchArgs(['aor-limit', '5/s', 'aor_code', '403', '--retry-after', '2'])).toEqual({
      aorLimit: { rate: 5, burst: 5, code: 403, retryAfterS: 2 },
    });
    expect(parseSwitchArgs(['--global-limit=2000/s:100', 'retry-after', '1', '--no-auth', 'loss', '0.25'])).toEqual({
      globalLimit: { rate: 2000, burst: 100, retryAfterS: 1 },
      auth: false,
      lossRate: 0.25,
    });
    expect(parseSwitchArgs(['publish-start', '0s', 'publish-mode', 'stale-credentials', 'publish-methods', 'register'])).toEqual({
      publishWindow: { startMs: 0, lengthMs: 30_000, mode: 'stale-credentials', methods: ['REGISTER'] },
    });
    expect(parseSwitchArgs(['aor-limit', 'off', 'publish', 'off', 'delay', '0'])).toEqual({ aorLimit: null, publishWindow: null, delay: null });
    expect(parseSwitchArgs(['delay', '20ms', 'jitter', '5ms'])).toEqual({ delay: { fixedMs: 20, jitterMs: 5 } });
    expect(() => parseSwitchArgs(['aor-limit-code', '429'])).toThrow(/goes with aor-limit/);
    expect(() => parseSwitchArgs(['bogus', '1'])).toThrow(/unknown switch "bogus"/);
    expect(() => parseSwitchArgs(['aor-limit', '5/s', 'aor-limit-code', '500'])).toThrow(/429, 403 or 503/);
  });

  it('writes disabling keys first and enabling keys last, and decodes back', () => {
    const t0 = 1_700_000_000;
    const now = t0 * 1000 + 12_345;
    const { writes, flush } = switchWrites(
      {
        aorLimit: { rate: 2.5, burst: 3, code: 503, retryAfterS: 4 },
        publishWindow: { startMs: 1000, lengthMs: 5000, mode: 'stale-credentials', methods: ['OPTIONS'] },
        delay: { fixedMs: 20 },
      },
      t0,
      now,
    );
    const keys = writes.map(([k]) => k);
    expect(keys.indexOf('aor_rate_m')).toBe(0); // off first
    expect(keys.lastIndexOf('aor_rate_m')).toBeGreaterThan(keys.indexOf('aor_code'));
    expect(keys.lastIndexOf('pub_mode')).toBeGreaterThan(keys.indexOf('pub_start_ms'));
    expect(flush).toEqual(['aor_tok', 'aor_ts']);
    const table: Record<string, number> = { t0, auth: 1, users: 10 };
    for (const [k, v] of writes) table[k] = v;
    expect(table.pub_start_ms).toBe(13_345);
    expect(table.pub_start_s).toBe(t0 + 13);
    expect(decodeSwitches(table)).toMatchObject({
      aorLimit: { rate: 2.5, burst: 3, code: 503, retryAfterS: 4 },
      publishWindow: { startEpochMs: now + 1000, endEpochMs: now + 6000, mode: 'stale-credentials', methods: ['OPTIONS'] },
      delay: { fixedMs: 20, jitterMs: 0 },
    });
    expect(() => switchWrites({ nonceTtlMs: 1000 }, t0, now)).toThrow(/module parameter/);
    expect(() => switchWrites({ aorLimit: { rate: 5, burst: 1_000_000, code: 429 } }, t0, now)).toThrow(/burst/);
  });

  it('without kamailio: fails in CI, otherwise skips with one line saying how to install it', () => {
    const lines: string[] = [];
    expect(() => kamailioAvailable(() => null, { CI: 'true' }, (l) => lines.push(l))).toThrow(/required in CI.*apt-get install kamailio kamailio-websocket-modules kamailio-tls-modules/);
    expect(kamailioAvailable(() => null, {}, (l) => lines.push(l))).toBe(false);
    expect(lines).toEqual(['skipping Kamailio tests: kamailio is not installed (apt-get install kamailio kamailio-websocket-modules kamailio-tls-modules)']);
    expect(kamailioAvailable(() => '/usr/sbin/kamailio', { CI: 'true' }, (l) => lines.push(l))).toBe(true);
  });

  it('types the statistics and diffs two snapshots', () => {
    const a = toKamailioStats({ 'core:rcv_requests_register': 2, 'core:rcv_requests_options': 1, 'script:rpl_401': 1, 'script:rpl_200': 2, 'usrloc:registered_users': 1 });
    const b = toKamailioStats({ 'core:rcv_requests_register': 5, 'core:rcv_requests_options': 1, 'script:rpl_401': 2, 'script:rpl_200': 3, 'script:rpl_429': 1, 'usrloc:registered_users': 2 });
    expect(a.received).toEqual({ REGISTER: 2, OPTIONS: 1 });
    expect(diffStats(a, b)).toMatchObject({ received: { REGISTER: 3, OPTIONS: 0 }, answered: { '401': 1, '200': 1, '429': 1 }, registeredUsers: 2 });
  });
});

describe.skipIf(!HAVE_KAMAILIO)('bundled Kamailio on loopback', () => {
  let kam: KamailioServer;
  let sip: RawSipClient;
  let port: number;

  beforeAll(async () => {
    port = await freeKamailioPort();
    kam = await KamailioServer.start({ port, users: 20, sharedMemoryMb: 256, children: 2 });
    sip = await RawSipClient.open(port);
  });

  afterAll(async () => {
    sip?.close();
    await kam?.stop();
    if (kam) expect(isKamailioPid(kam.pid, kam.info.dir)).toBe(false);
  });

  it('answers OPTIONS: 200 to a ping and a known AOR, 404 to an unknown one', async () => {
    expect(kam.isRunning()).toBe(true);
    expect((await sip.send('OPTIONS', 'agent0003'))?.status).toBe(200);
    expect((await sip.send('OPTIONS', 'agent0020'))?.status).toBe(404); // users 0..19
    expect((await sip.send('OPTIONS', 'agent3'))?.status).toBe(404); // not zero-padded
  });

  it('registers with digest: 401 then 200 with the binding; wrong password 403; short Expires 423', async () => {
    const r = await sip.register('agent0001');
    expect(r.first?.status).toBe(401);
    expect(r.challenge?.qop).toEqual(['auth']);
    expect(r.final?.status).toBe(200);
    expect(getHeader(r.final!, 'contact')).toMatch(/agent0001@127\.0\.0\.1:\d+.*expires=3600/);
    // nonce reuse (pre-emptive Authorization) is accepted
    expect((await sip.send('REGISTER', 'agent0001', { challenge: r.challenge }))?.status).toBe(200);
    expect((await sip.register('agent0002', { password: 'nope' })).final?.status).toBe(403);
    const brief = await sip.send('REGISTER', 'agent0001', { challenge: r.challenge, expires: 30 });
    expect(brief?.status).toBe(423);
    expect(getHeader(brief!, 'min-expires')).toBe('60');
    expect((await kam.stats()).registeredUsers).toBeGreaterThanOrEqual(1);
  });

  it('per-AOR limit answers 429, 403 or 503 with Retry-After, switched at run time', async () => {
    await kam.set({ aorLimit: { rate: 1, burst: 2, code: 429, retryAfterS: 2 } });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await sip.send('OPTIONS', 'agent0004'))?.status ?? 0);
    expect(codes).toEqual([200, 200, 429]);
    const limited = await sip.send('OPTIONS', 'agent0004');
    expect(limited?.status).toBe(429);
    expect(getHeader(limited!, 'retry-after')).toBe('2');
    expect((await sip.send('OPTIONS', 'agent0005'))?.status).toBe(200); // another AOR has its own bucket
    await kam.set({ aorLimit: { rate: 1, burst: 1, code: 403 } });
    expect((await sip.send('OPTIONS', 'agent0006'))?.status).toBe(200);
    const forbidden = await sip.send('OPTIONS', 'agent0006');
    expect(forbidden?.status).toBe(403);
    expect(getHeader(forbidden!, 'retry-after')).toBeUndefined();
    await kam.set({ aorLimit: { rate: 1, burst: 1, code: 503, retryAfterS: 7 } });
    expect((await sip.send('OPTIONS', 'agent0006'))?.status).toBe(200); // a new limit starts full
    const overload = await sip.send('OPTIONS', 'agent0006');
    expect([overload?.status, getHeader(overload!, 'retry-after')]).toEqual([503, '7']);
    await kam.set({ aorLimit: null });
    expect((await sip.send('OPTIONS', 'agent0006'))?.status).toBe(200);
    expect((await kam.switches()).aorLimit).toBeNull();
  });

  it('global limit answers 503 + Retry-After across AORs', async () => {
    await kam.set({ globalLimit: { rate: 1, burst: 3, retryAfterS: 1 } });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await sip.send('OPTIONS', `agent000${i}`))?.status ?? 0);
    expect(codes).toEqual([200, 200, 200, 503, 503]);
    const last = await sip.send('OPTIONS', 'agent0009');
    expect(getHeader(last!, 'retry-after')).toBe('1');
    await kam.set({ globalLimit: null });
    expect((await sip.send('OPTIONS', 'agent0009'))?.status).toBe(200);
  });

  it('publish window, forbidden mode: 403 to the listed methods only, while it lasts', async () => {
    await kam.set({ publishWindow: { startMs: 0, lengthMs: 60_000, mode: 'forbidden', methods: ['REGISTER'] } });
    expect((await sip.send('REGISTER', 'agent0007'))?.status).toBe(403);
    expect((await sip.send('OPTIONS', 'agent0007'))?.status).toBe(200);
    await kam.set({ publishWindow: { startMs: 0, lengthMs: 60_000, mode: 'forbidden', methods: ['REGISTER', 'OPTIONS'] } });
    expect((await sip.send('OPTIONS', 'agent0007'))?.status).toBe(403);
    await kam.set({ publishWindow: { startMs: 0, lengthMs: 300, mode: 'forbidden', methods: ['OPTIONS'] } });
    expect((await sip.send('OPTIONS', 'agent0007'))?.status).toBe(403);
    await sleep(350); // the window closed by itself
    expect((await sip.send('OPTIONS', 'agent0007'))?.status).toBe(200);
    await kam.set({ publishWindow: null });
  });

  it('publish window, stale-credentials mode: a nonce from before the window gets 403 until a fresh challenge', async () => {
    const before = await sip.register('agent0008');
    expect(before.final?.status).toBe(200);
    // Kamailio nonces carry their issue time in whole seconds: let one pass before the window opens.
    await sleep(1100 - (Date.now() % 1000));
    await kam.set({ publishWindow: { startMs: 0, lengthMs: 60_000, mode: 'stale-credentials', methods: ['REGISTER'] } });
    expect((await sip.send('REGISTER', 'agent0008', { challenge: before.challenge }))?.status).toBe(403);
    // A nonce Kamailio never issued has no issue time: a plain new challenge, as outside the window.
    expect((await sip.send('REGISTER', 'agent0008', { challenge: { ...before.challenge!, nonce: 'bogus' } }))?.status).toBe(401);
    const fresh = await sip.register('agent0008');
    expect([fresh.first?.status, fresh.final?.status]).toEqual([401, 200]);
    expect(fresh.challenge?.nonce).not.toBe(before.challenge?.nonce);
    expect((await sip.send('REGISTER', 'agent0008', { challenge: fresh.challenge }))?.status).toBe(200);
    await kam.set({ publishWindow: null });
    expect((await sip.send('REGISTER', 'agent0008', { challenge: before.challenge }))?.status).toBe(200);
  });

  it('delay holds answers without blocking, loss drops them, auth off accepts without a challenge', async () => {
    await kam.set({ delay: { fixedMs: 300, jitterMs: 0 } });
    const counted = await kam.stats();
    const t = Date.now();
    const answers = await Promise.all([
      sip.send('OPTIONS', 'agent0010'),
      sip.send('OPTIONS', 'agent0011'),
      sip.send('OPTIONS', 'agent0012'),
      sip.send('OPTIONS', 'agent0099'),
      sip.register('agent0012'),
    ]);
    const took = Date.now() - t;
    expect(answers.slice(0, 4).map((a) => (a && 'status' in a ? a.status : 0))).toEqual([200, 200, 200, 404]);
    expect(took).toBeGreaterThanOrEqual(580); // the REGISTER pair waits twice
    expect(took).toBeLessThan(1500); // concurrent, not 6 x 300 ms
    // Delayed answers go out through tm: still counted by exact code.
    expect(diffStats(counted, await kam.stats()).answered).toEqual({ '200': 4, '401': 1, '404': 1 });
    await kam.set({ delay: null, lossRate: 1 });
    const before = await kam.stats();
    expect(await sip.send('OPTIONS', 'agent0010', { timeoutMs: 300 })).toBeNull();
    expect((await kam.stats()).dropped).toBe(before.dropped + 1);
    await kam.set({ lossRate: 0, auth: false });
    expect((await sip.send('REGISTER', 'agent0013'))?.status).toBe(200);
    await kam.set({ auth: true });
    expect((await sip.send('REGISTER', 'agent0013'))?.status).toBe(401);
  });

  it('its own counters equal what the client sent and received, by method and status', async () => {
    const before = await kam.stats();
    const sent = { ...sip.sent };
    const got = { ...sip.received };
    await kam.set({ aorLimit: { rate: 1, burst: 1, code: 429 } });
    await sip.register('agent0014'); // 401, then 429: the retry finds the one token spent
    await sip.send('OPTIONS', 'agent0014'); // 429: the same From user's bucket
    await sip.send('OPTIONS', 'agent0015'); // 200
    await sip.send('OPTIONS', 'agent0015'); // 429
    await kam.set({ aorLimit: null });
    const d = diffStats(before, await kam.stats());
    const delta = (now: Record<string, number>, then: Record<string, number>) =>
      Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (then[k] ?? 0)]).filter(([, v]) => v !== 0));
    expect(d.received).toEqual({ REGISTER: 2, OPTIONS: 3 });
    expect(delta(sip.sent, sent)).toEqual({ REGISTER: 2, OPTIONS: 3 });
    expect(d.answered).toEqual(delta(sip.received, got));
    expect(d.answered).toEqual({ '401': 1, '429': 3, '200': 1 });
  });

  it.skipIf(!hasTool('sipp', 'apt-get install sip-tester'))('SIPp registers with digest against it, and Kamailio counts what SIPp did', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipstorm-kamailio-sipp-'));
    try {
      const users = join(dir, 'users.csv');
      const names = Array.from({ length: 20 }, (_, i) => `agent${String(i).padStart(4, '0')}`);
      // field1 is the whole [authentication ...] keyword, as test/sipp/register-digest.xml expects.
      writeFileSync(users, `SEQUENTIAL\n${names.map((n) => `${n};[authentication username=${n} password=secret${n.slice(5)}]`).join('\n')}\n`);
      const before = await kam.stats();
      const scenario = new URL('./sipp/register-digest.xml', import.meta.url).pathname;
      const args = [`127.0.0.1:${port}`, '-sf', scenario, '-inf', users, '-m', '20', '-r', '50', '-timeout', '8s', '-nostdin', '-i', '127.0.0.1'];
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn('sipp', args, { stdio: 'ignore', cwd: dir });
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.on('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect(code).toBe(0); // SIPp exits 0 only when every call succeeded
      const d = diffStats(before, await kam.stats());
      expect(d.received.REGISTER).toBe(40);
      expect(d.answered).toEqual({ '401': 20, '200': 20 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CLI (scripts/kamailio.sh) sets, reads and reports the same instance', async () => {
    const lines: string[] = [];
    const rpc = ['--rpc', kam.info.rpcUrl];
    expect(await runKamailioCli(['set', ...rpc, 'aor-limit', '1/s:1', 'aor-limit-code', '503', 'retry-after', '3'], (l) => lines.push(l))).toBe(0);
    expect(JSON.parse(lines.pop()!).aorLimit).toEqual({ rate: 1, burst: 1, code: 503, retryAfterS: 3 });
    await sip.send('OPTIONS', 'agent0016');
    expect((await sip.send('OPTIONS', 'agent0016'))?.status).toBe(503);
    expect(await runKamailioCli(['set', ...rpc, 'aor-limit', 'off'], (l) => lines.push(l))).toBe(0);
    expect(await runKamailioCli(['stats', ...rpc], (l) => lines.push(l))).toBe(0);
    const stats = JSON.parse(lines.pop()!);
    expect(stats.answered['503']).toBeGreaterThanOrEqual(2);
    expect(stats.received.OPTIONS).toBeGreaterThan(0);
    expect(await runKamailioCli(['set', ...rpc, 'nonsense', '1'], () => undefined)).toBe(2);
  });
});

describe.skipIf(!HAVE_KAMAILIO)('Kamailio lifecycle through the CLI', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'sipstorm-kamailio-state-'));
  let info: KamailioInstanceInfo | undefined;

  afterAll(async () => {
    // Never leave one running, even if an assertion failed half-way.
    if (info && isKamailioPid(info.pid, info.dir)) await KamailioServer.attach(info).stop();
    delete process.env.SIPSTORM_KAMAILIO_STATE_DIR;
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('start waits until it answers, status reports it, stop ends it by PID and cleans up', async () => {
    process.env.SIPSTORM_KAMAILIO_STATE_DIR = stateDir;
    const lines: string[] = [];
    const out = (l: string) => lines.push(l);
    const port = await freeKamailioPort();
    expect(await runKamailioCli(['start', '--port', String(port), '--users', '5', '--memory', '128', '--children', '1'], out)).toBe(0);
    info = JSON.parse(readFileSync(join(stateDir, `${port}.json`), 'utf8')) as KamailioInstanceInfo;
    expect(lines[0]).toContain(`pid ${info.pid}`);
    expect(isKamailioPid(info.pid, info.dir)).toBe(true);
    const sip = await RawSipClient.open(port);
    try {
      const r = await sip.send('REGISTER', 'agent0004');
      expect(r?.status).toBe(401);
      expect(challengeOf(r!)?.realm).toBe('127.0.0.1');
    } finally {
      sip.close();
    }
    expect(await runKamailioCli(['status'], out)).toBe(0);
    expect(JSON.parse(lines.pop()!).running).toBe(true);
    expect(await runKamailioCli(['start', '--port', String(port)], out)).toBe(1); // already running
    expect(await runKamailioCli(['stop'], out)).toBe(0);
    expect(isKamailioPid(info.pid, info.dir)).toBe(false);
    expect(existsSync(info.dir)).toBe(false);
    expect(existsSync(join(stateDir, `${port}.json`))).toBe(false);
  });

  it('refuses a busy port, and a start that fails reports the reason from its log', async () => {
    const port = await freeKamailioPort();
    const other = await KamailioServer.start({ port, users: 1, sharedMemoryMb: 64, children: 1 });
    try {
      await expect(KamailioServer.start({ port, users: 1, sharedMemoryMb: 64, children: 1 })).rejects.toThrow(new RegExp(`port ${port} .* in use`));
      // Its control port taken: Kamailio itself fails to bind and exits.
      const second = await freeKamailioPort({ taken: [port] });
      await expect(KamailioServer.start({ port: second, controlPort: other.info.controlPort, users: 1, sharedMemoryMb: 64, children: 1 })).rejects.toThrow(
        /exited during start[\s\S]*kamailio log[\s\S]*in use/,
      );
    } finally {
      await other.stop();
    }
  });
});
