// `sipstorm run` with --threshold / --prometheus / --trace: exit codes a pipeline relies on, checks that
// run before any load, and live metrics from the CLI process itself.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/report/result.js';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sipstorm-extras-'));
const run = (duration: string) => ['run', '--agents', '10', '--rate', '50/s', '--duration', duration, '--method', 'OPTIONS'];
const short = run('1s');

describe('sipstorm run --threshold', () => {
  it('all passed: exit 0, outcomes in the JSON', async () => {
    const json = join(dir, 'pass.json');
    const r = await runCli([...short, '--json', json, '--threshold', 'p99<10s', '--threshold', 'rate(ok)>=0.99', '--threshold', 'count(403)==0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('thresholds: all 3 passed');
    const result = JSON.parse(readFileSync(json, 'utf8')) as RunResult;
    expect(result.thresholds).toEqual([
      { expression: 'p99<10s', ok: true, actual: result.latencyMs.corrected.p99, limit: 10_000 },
      { expression: 'rate(ok)>=0.99', ok: true, actual: 1, limit: 0.99 },
      { expression: 'count(403)==0', ok: true, actual: 0, limit: 0 },
    ]);
  });

  it('one failed: exit 3, listed on stderr, the result still written', async () => {
    const json = join(dir, 'fail.json');
    const r = await runCli([...short, '--json', json, '--threshold', 'p99<1us', '--threshold', 'count(200)==50', '--threshold', 'p99{phase=publish}<1s']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/thresholds: 2 of 3 failed\n {2}FAIL p99<1us: actual [\d.]+ ms, limit 0.001 ms\n {2}FAIL p99\{phase=publish\}<1s: no phase "publish": the result has no phases/);
    expect(JSON.parse(readFileSync(json, 'utf8')).thresholds.map((t: { ok: boolean }) => t.ok)).toEqual([false, true, false]);
  });

  it('bad syntax: exit 2 before any load is sent', async () => {
    const started = Date.now();
    const r = await runCli([...run('30s'), '--threshold', 'p99<<2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('threshold "p99<<2": column 5: expected a number');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('sipstorm run --prometheus / --trace flags', () => {
  it('serves /metrics from the CLI while the run goes', async () => {
    const bodies: string[] = [];
    let polling: Promise<void> | null = null;
    let exited = false;
    const r = await runCli([...run('2s'), '--prometheus', '0'], {
      onSpawn: (child) => {
        let err = '';
        child.on('exit', () => (exited = true));
        child.stderr!.on('data', (d) => {
          err += d;
          const m = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(err);
          if (!m || polling) return;
          // Scrape every 250 ms while the process lives (bounded: 40 tries).
          polling = (async () => {
            for (let i = 0; i < 40 && !exited; i++) {
              await new Promise((done) => setTimeout(done, 250));
              const body = await fetch(m[1]).then((res) => res.text()).catch(() => '');
              if (body) bodies.push(body);
            }
          })();
        });
      },
    });
    await polling;
    expect(r.code, r.stderr).toBe(0);
    const okCounts = bodies.map((b) => Number(/sipstorm_operations_total\{method="OPTIONS",class="ok"\} (\d+)/.exec(b)?.[1] ?? 0));
    // Scraped mid-run: some scrape saw part of the 100 operations, and the counts never went down.
    expect(okCounts.some((n) => n > 0 && n < 100)).toBe(true);
    for (let i = 1; i < okCounts.length; i++) expect(okCounts[i]).toBeGreaterThanOrEqual(okCounts[i - 1]);
    const body = bodies[bodies.length - 1];
    expect(body).toMatch(/sipstorm_transactions_sent_total\{method="OPTIONS"\} \d+/);
  });

  it('refuses bad combinations with exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--trace', join(dir, 't.txt')], /--trace needs --trace-agents NAMES or --trace-sample SHARE/],
      [['--trace-agents', 'agent0001'], /--trace-agents and --trace-sample need --trace FILE/],
      [['--trace', join(dir, 't.txt'), '--trace-sample', '300%'], /--trace-sample: expected a share of agents like 5%/],
      [['--trace', join(dir, 'no', 'such', 'dir', 't.txt'), '--trace-sample', '5%'], /--trace: cannot write .*ENOENT/],
      [['--prometheus', '70000'], /--prometheus must be a port 0..65535/],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli([...short, ...flags]);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
