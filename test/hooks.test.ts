import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HookRecord } from '../src/report/scenario-result.js';
import { tailOutput, OUTPUT_LIMIT_CHARS } from '../src/run/hook-shell.js';
import { HookRunner, type HookDeps } from '../src/run/hooks.js';
import type { HookAction, HookSpec } from '../src/scenario/types.js';
import { realClock } from '../src/shared/clock.js';
import { EmbeddedTrunk } from '../src/trunk/server.js';

interface LogEntry {
  level: 'info' | 'warn';
  obj: object;
  msg: string;
}

function hook(name: string, action: HookAction, offsetMs = 0, timeoutMs = 2000, from: 't0' | 'start' = 'start'): HookSpec {
  return { name, at: { from, offsetMs }, action, timeoutMs };
}

function deps(extra: Partial<HookDeps> = {}): HookDeps & { logs: LogEntry[] } {
  const logs: LogEntry[] = [];
  return {
    logs,
    log: { info: (obj, msg) => logs.push({ level: 'info', obj, msg }), warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }) },
    scheduleStartUs: realClock.nowUs(),
    clock: realClock,
    ...extra,
  };
}

/** Polls until the process is dead, up to `ms`. A zombie counts as dead: a container's PID 1 may never reap it. */
async function gone(pid: number, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    if (/\) Z /.test(stat)) return true;
  }
  return false;
}

/** Starts the runner, waits `ms` of real time, stops it, and returns the records by name. */
async function runFor(hooks: HookSpec[], d: HookDeps, ms: number): Promise<Map<string, HookRecord>> {
  const runner = new HookRunner(hooks, d);
  runner.start();
  await new Promise((r) => setTimeout(r, ms));
  await runner.stop();
  return new Map(runner.records().map((r) => [r.name, r]));
}

describe('HookRunner: shell', () => {
  it('records the exit code and output of `echo hi; exit 3`, run at its time', async () => {
    const d = deps();
    const records = await runFor([hook('fail', { kind: 'shell', command: 'echo hi; echo oops >&2; exit 3' }, 30)], d, 300);
    const r = records.get('fail')!;
    expect(r).toMatchObject({ kind: 'shell', atMs: 30, ok: false, exitCode: 3, error: 'exit code 3' });
    expect(r.output).toBe('hi\noops\n');
    expect(r.startedMs).toBeGreaterThanOrEqual(29);
    expect(r.startedMs).toBeLessThan(250);
    expect(r.endedMs).toBeGreaterThanOrEqual(r.startedMs);
    expect(d.logs).toEqual([expect.objectContaining({ level: 'warn', msg: 'hook failed' })]);
  });

  it('marks a zero exit ok', async () => {
    const records = await runFor([hook('good', { kind: 'shell', command: 'printf done' })], deps(), 200);
    expect(records.get('good')).toMatchObject({ ok: true, exitCode: 0, output: 'done' });
    expect(records.get('good')!.error).toBeUndefined();
  });

  it('kills a sleeping hook at its timeout (the whole process group)', async () => {
    const runner = new HookRunner([hook('sleepy', { kind: 'shell', command: 'sleep 5 & echo "child $!"; wait; echo never' }, 0, 60)], deps());
    const t0 = Date.now();
    runner.start();
    await runner.stop(); // waits for the running hook, which the timeout ends
    const took = Date.now() - t0;
    const [r] = runner.records();
    expect(r).toMatchObject({ name: 'sleepy', ok: false, error: 'timed out after 60 ms: killed (SIGTERM)' });
    expect(r.output).toMatch(/^child \d+\n$/);
    expect(r.exitCode).toBeUndefined();
    expect(r.endedMs - r.startedMs).toBeGreaterThanOrEqual(55);
    expect(took).toBeLessThan(1500);
    // `sleep` (the shell's child) went too, not only `sh`
    const pid = Number(/child (\d+)/.exec(r.output!)![1]);
    expect(await gone(pid, 1000)).toBe(true);
  });

  it('escalates to SIGKILL when the hook ignores SIGTERM', async () => {
    const d = deps({ killGraceMs: 100 });
    const runner = new HookRunner([hook('stubborn', { kind: 'shell', command: "trap '' TERM; sleep 5" }, 0, 50)], d);
    const t0 = Date.now();
    runner.start();
    await runner.stop();
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(runner.records()[0]).toMatchObject({ ok: false, error: 'timed out after 50 ms: killed (SIGKILL)' });
  });

  it('does not wait for a background child that keeps the output pipe open', async () => {
    const runner = new HookRunner([hook('daemon', { kind: 'shell', command: 'sleep 2 & echo started' }, 0, 5000)], deps());
    const t0 = Date.now();
    runner.start();
    await runner.stop();
    expect(Date.now() - t0).toBeLessThan(1200);
    expect(runner.records()[0]).toMatchObject({ ok: true, exitCode: 0, output: 'started\n' });
  });

  it('keeps only the last ~4 KB of a long output', async () => {
    const records = await runFor([hook('long', { kind: 'shell', command: 'seq 1 20000' })], deps(), 400);
    const out = records.get('long')!.output!;
    expect(out.length).toBeLessThanOrEqual(OUTPUT_LIMIT_CHARS + 1);
    expect(out.startsWith('…')).toBe(true);
    expect(out.endsWith('19999\n20000\n')).toBe(true);
    expect(out.slice(1).split('\n')[0]).toMatch(/^\d+$/); // starts on a whole line
  });

  it('redacts credentials from the recorded output and the logs', async () => {
    const d = deps();
    const cmd = "echo 'password=hunter2'; echo 'Authorization: Digest username=\"a\", nonce=\"n0nc3\", response=\"r3sp\"'; exit 1";
    const records = await runFor([hook('leaky', { kind: 'shell', command: cmd })], d, 200);
    const r = records.get('leaky')!;
    expect(r.output).toContain('password=[redacted]');
    for (const secret of ['hunter2', 'n0nc3', 'r3sp']) {
      expect(JSON.stringify(r)).not.toContain(secret);
      expect(JSON.stringify(d.logs)).not.toContain(secret);
    }
  });

  it('tailOutput drops a line the raw buffer cut into, so a cut cannot expose a secret', () => {
    const raw = `${'x'.repeat(100)} password=hunter2\n` + 'line\n'.repeat(5000);
    // as if the buffer had been cut just after "pass": the rest of that line must not survive
    const cut = raw.slice(raw.indexOf('word=hunter2'));
    expect(tailOutput(cut, true)).not.toContain('hunter2');
    expect(tailOutput('short\n', false)).toBe('short\n');
  });
});

describe('HookRunner: timing', () => {
  it('times hooks from T0 or the start, runs past ones at once, and records unreached ones as not run', async () => {
    const d = deps({ t0Us: 60_000 });
    const hooks = [
      hook('late', { kind: 'shell', command: 'true' }, 5_000),
      hook('before-t0', { kind: 'shell', command: 'true' }, -20, 2000, 't0'), // 40 ms after the start
      hook('long-before-t0', { kind: 'shell', command: 'true' }, -100, 2000, 't0'), // -40 ms: already past
      hook('at-start', { kind: 'shell', command: 'true' }, 0),
    ];
    const runner = new HookRunner(hooks, d);
    runner.start();
    await new Promise((r) => setTimeout(r, 400));
    await runner.stop();
    const records = runner.records();
    expect(records.map((r) => r.name)).toEqual(['long-before-t0', 'at-start', 'before-t0', 'late']);
    const [past, start, beforeT0, late] = records;
    expect(past).toMatchObject({ atMs: -40, ok: true });
    expect(past.startedMs).toBeLessThan(30);
    expect(start).toMatchObject({ atMs: 0, ok: true });
    expect(beforeT0).toMatchObject({ atMs: 40, ok: true });
    expect(beforeT0.startedMs).toBeGreaterThanOrEqual(39);
    expect(late).toMatchObject({ atMs: 5000, ok: false });
    expect(late.error).toMatch(/^not run: the run ended \d+(\.\d+)? ms before its time$/);
  });

  it('records a T0 hook as failed when the run has no T0', async () => {
    const runner = new HookRunner([hook('orphan', { kind: 'shell', command: 'true' }, 0, 1000, 't0')], deps());
    runner.start();
    await runner.stop();
    expect(runner.records()[0]).toMatchObject({ name: 'orphan', ok: false, error: 'hook "orphan" is timed from T0 but the scenario has no t0' });
  });

  it('stop() waits for a hook that is still running', async () => {
    const runner = new HookRunner([hook('slow', { kind: 'shell', command: 'sleep 0.15; echo finished' })], deps());
    runner.start();
    await runner.stop();
    expect(runner.records()[0]).toMatchObject({ ok: true, output: 'finished\n' });
    expect(runner.records()[0].endedMs).toBeGreaterThanOrEqual(140);
  });
});

describe('HookRunner: trunk', () => {
  let trunk: EmbeddedTrunk;
  beforeAll(async () => {
    trunk = await EmbeddedTrunk.start({ port: 0, users: 2 });
  });
  afterAll(async () => {
    await trunk.stop();
  });

  it("changes a running embedded trunk's switches", async () => {
    expect(trunk.config().lossRate).toBe(0);
    expect(trunk.config().aorLimit).toBeNull();
    const switches = { lossRate: 0.25, aorLimit: { rate: 5, burst: 5, code: 429, retryAfterS: 2 } };
    const records = await runFor([hook('throttle-on', { kind: 'trunk', switches }, 20)], deps({ trunk }), 150);
    expect(records.get('throttle-on')).toMatchObject({ kind: 'trunk', ok: true, atMs: 20 });
    expect(trunk.config().lossRate).toBe(0.25);
    expect(trunk.config().aorLimit).toEqual({ rate: 5, burst: 5, code: 429, retryAfterS: 2 });
    // and back off again, as a scenario does after the publish
    await runFor([hook('throttle-off', { kind: 'trunk', switches: { lossRate: 0, aorLimit: null } })], deps({ trunk }), 50);
    expect(trunk.config().lossRate).toBe(0);
    expect(trunk.config().aorLimit).toBeNull();
  });

  it('records a bad switch as a failure and changes nothing', async () => {
    const records = await runFor([hook('typo', { kind: 'trunk', switches: { lossRat: 0.5 } })], deps({ trunk }), 50);
    expect(records.get('typo')).toMatchObject({ ok: false });
    expect(records.get('typo')!.error).toMatch(/unknown trunk switch "lossRat"/);
    expect(trunk.config().lossRate).toBe(0);
  });

  it('fails clearly when there is no embedded trunk (a real target)', async () => {
    const records = await runFor([hook('no-trunk', { kind: 'trunk', switches: { lossRate: 0.5 } })], deps(), 50);
    expect(records.get('no-trunk')).toMatchObject({ ok: false });
    expect(records.get('no-trunk')!.error).toMatch(/needs the embedded trunk.*use a shell or kamailio hook/);
  });
});

describe('HookRunner: kamailio JSON-RPC', () => {
  let server: Server;
  let url: string;
  const received: { method: string; params: unknown[] }[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const doc = JSON.parse(body) as { method: string; params: unknown[]; id: number };
        received.push({ method: doc.method, params: doc.params });
        if (doc.method === 'slow.method') return; // never answers
        const reply =
          doc.method === 'htable.seti'
            ? { jsonrpc: '2.0', result: { applied: doc.params }, id: doc.id }
            : doc.method === 'leaky.method'
              ? { jsonrpc: '2.0', result: { user: 'admin', password: 'hunter2' }, id: doc.id }
              : { jsonrpc: '2.0', error: { code: -32601, message: 'Method Not Found' }, id: doc.id };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/RPC`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('calls the method with its params and records the answer', async () => {
    const records = await runFor([hook('limit', { kind: 'kamailio', method: 'htable.seti', params: ['limits', 'register', 5] })], deps({ kamailioUrl: url }), 150);
    expect(received).toContainEqual({ method: 'htable.seti', params: ['limits', 'register', 5] });
    expect(records.get('limit')).toMatchObject({ kind: 'kamailio', ok: true, output: '{"applied":["limits","register",5]}' });
  });

  it("uses the hook's own url over the default, and records RPC errors", async () => {
    const records = await runFor([hook('bad', { kind: 'kamailio', method: 'no.such', params: [], url })], deps({ kamailioUrl: 'http://127.0.0.1:1/RPC' }), 150);
    expect(records.get('bad')).toMatchObject({ ok: false, error: 'no.such: Method Not Found' });
  });

  it('times out a call that gets no answer', async () => {
    const runner = new HookRunner([hook('hung', { kind: 'kamailio', method: 'slow.method', params: [] }, 0, 80)], deps({ kamailioUrl: url }));
    runner.start();
    await runner.stop();
    const [r] = runner.records();
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/slow\.method: no answer/);
    expect(r.endedMs - r.startedMs).toBeLessThan(1000);
  });

  it('redacts credentials in the answer', async () => {
    const records = await runFor([hook('leaky', { kind: 'kamailio', method: 'leaky.method', params: [] })], deps({ kamailioUrl: url }), 150);
    expect(records.get('leaky')!.output).toBe('{"user":"admin","password":"[redacted]"}');
  });

  it('fails clearly without any url, and when nothing listens', async () => {
    const records = await runFor(
      [hook('nourl', { kind: 'kamailio', method: 'core.uptime', params: [] }), hook('refused', { kind: 'kamailio', method: 'core.uptime', params: [], url: 'http://127.0.0.1:1/RPC' })],
      deps(),
      200,
    );
    expect(records.get('nourl')!.error).toMatch(/has no url/);
    expect(records.get('refused')).toMatchObject({ ok: false });
    expect(records.get('refused')!.error).toMatch(/core\.uptime: http:\/\/127\.0\.0\.1:1\/RPC: connect ECONNREFUSED/);
  });
});
