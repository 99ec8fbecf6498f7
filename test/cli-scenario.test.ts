// `sipstorm run FILE` / `sweep FILE` through the built CLI: overrides, bad input exits 2 naming the
// file and line, a scenario's thresholds decide the exit code, the JSON carries the scenario blocks.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sipstorm-cli-scenario-'));
const SMALL = `# a small publish: 10 agents log in, T0 at 1 s, OPTIONS refused 403 for 1 s
name: small-publish
agents: { count: 10, expires: 30 }
t0: { offset: 1s }
phases:
  - { name: login, type: burst, window: 500ms }
  - { name: checks, type: constant, anchor: t0, rate: 20/s, duration: 2s, action: options }
hooks:
  - { name: publish, at: T0, trunk: { publishWindow: { lengthMs: 1s, mode: forbidden, methods: [OPTIONS] } } }
trunk: { minExpires: 1 }
thresholds:
  - rate(forbidden){phase=login}==0
`;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('sipstorm run FILE', () => {
  it('runs the scenario against an embedded trunk; --agents overrides the file; the JSON has phases, marks, hooks, thresholds', async () => {
    const json = join(dir, 'small.json');
    const r = await runCli(['run', file('small.yaml', SMALL), '--agents', '6', '--quiet', '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/scenario: small-publish/);
    expect(r.stdout).toMatch(/hook publish \(trunk\) at [\d.]+ s: ok/);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.config.agents).toBe(6);
    expect(result.phases.map((p: { name: string }) => p.name)).toEqual(['login', 'checks']);
    expect(result.phases[0].operations.byClass.ok).toBe(6);
    expect(result.phases[1].operations.byClass.forbidden).toBeGreaterThan(0);
    expect(result.marks.some((m: { name: string }) => m.name === 'T0')).toBe(true);
    expect(result.thresholds).toEqual([expect.objectContaining({ expression: 'rate(forbidden){phase=login}==0', ok: true })]);
  }, 30_000);

  it("a failed threshold from the file exits 3 (the run itself completed)", async () => {
    const r = await runCli(['run', file('strict.yaml', SMALL.replace('rate(forbidden){phase=login}==0', 'rate(forbidden){phase=checks}==0')), '--agents', '4', '--quiet']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/rate\(forbidden\)\{phase=checks\}==0/);
  }, 30_000);

  it('a malformed scenario exits 2 naming file:line:column and the field, before any load', async () => {
    const bad = file('bad.yaml', SMALL.replace('rate: 20/s', 'rate: 20/x').replace('window: 500ms', 'window: 500ms, colour: red'));
    const r = await runCli(['run', bad, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:6:`);
    expect(r.stderr).toMatch(/phases\[0\].*colour/);
    expect(r.stderr).toMatch(/phases\[1\]\.rate/);
    expect(r.stdout).toBe('');
  });

  it('flags that belong to the file are refused; --time-scale must be positive', async () => {
    const path = file('ok.yaml', SMALL);
    const rate = await runCli(['run', path, '--rate', '10/s']);
    expect(rate.code).toBe(2);
    expect(rate.stderr).toMatch(/--rate does not apply to a scenario run/);
    const scale = await runCli(['run', path, '--time-scale', '0']);
    expect(scale.code).toBe(2);
    expect(scale.stderr).toMatch(/--time-scale must be > 0/);
  });

  it('sweep FILE prints one row per setting and a recommendation', async () => {
    const sweep = `name: tiny-sweep
agents: { count: 4, expires: 30 }
phases:
  - { name: login, type: burst, window: 300ms }
  - { name: load, type: constant, rate: 200/s, duration: 1s, action: options }
trunk: { minExpires: 1, aorLimit: { rate: 10/s, burst: 10, code: 429 } }
sweep: { perAgentRates: [5/s, 50/s], maxRejectRate: 1% }
`;
    const json = join(dir, 'sweep.json');
    const r = await runCli(['sweep', file('sweep.yaml', sweep), '--quiet', '--json', json], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^5\/s\s/m);
    expect(r.stdout).toMatch(/^50\/s\s/m);
    expect(r.stdout).toMatch(/recommendation: 5\/s per agent/);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.kind).toBe('sweep');
    expect(result.settings).toHaveLength(2);
    expect(result.rows[1].throttledPct).toBeGreaterThan(10);
  }, 60_000);
});
