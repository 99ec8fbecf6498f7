// `sipstorm plan` as users call it, on the fixtures in test/fixtures/plan (built CLI: npm run build).
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers/cli.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/plan/${name}`, import.meta.url));

interface PlanJson {
  name: string;
  total: number;
  totalMs: number;
  t0Ms?: number;
  t0At?: string;
  startAt?: string;
  phases: { name: string; type: string; startMs: number; endMs: number; arrivals: number; peakPerSecond: number }[];
  perSecond: number[];
}

async function planJson(args: string[]): Promise<PlanJson> {
  const r = await runCli(['plan', ...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PlanJson;
}

describe('sipstorm plan', () => {
  it('prints each phase, T0 and an arrivals-per-second sparkline', async () => {
    const r = await runCli(['plan', fixture('lab.yaml')]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const row = (name: string) => lines.find((l) => l.startsWith(`${name} `))?.split(/\s+/);
    expect(lines[0]).toMatch(/^plan-lab \(.*lab\.yaml\): 40 agents, seed 42$/);
    expect(row('phase')).toEqual(['phase', 'type', 'start', 'end', 'arrivals', 'peak/s']);
    expect(row('warm')).toEqual(['warm', 'constant', '0s', '3s', '30', '10']);
    expect(row('ramp-up')?.slice(0, 5)).toEqual(['ramp-up', 'ramp', '3s', '7s', '40']);
    expect(row('publish')?.slice(0, 5)).toEqual(['publish', 'burst', '10s', '12s', '40']);
    expect(row('incident')).toEqual(['incident', 'replay', '12s', '13s', '3', '2']);
    expect(row('tail')?.slice(0, 4)).toEqual(['tail', 'poisson', '13s', '15s']);
    expect(r.stdout).toContain('T0: 10s after the start');
    // One column per second over 15 s; the idle gap before T0 (7..10 s) is blank.
    const spark = lines.find((l) => l.startsWith('|'));
    expect(spark).toHaveLength(17);
    expect(spark!.slice(8, 11)).toBe('   ');
    expect(spark![11]).toBe('█');
    expect(lines[lines.indexOf(spark!) + 1]).toBe(`0s${' '.repeat(12)}15s`);
    expect(lines[lines.indexOf(spark!) + 2]).toBe(`${' '.repeat(11)}^ T0`);
  });

  it('--json: per-second counts that add up to the phases, the same for the same seed', async () => {
    const plan = await planJson([fixture('lab.yaml')]);
    expect(plan.perSecond).toHaveLength(15);
    const sum = plan.perSecond.reduce((a, b) => a + b, 0);
    expect(sum).toBe(plan.total);
    expect(plan.phases.reduce((a, p) => a + p.arrivals, 0)).toBe(plan.total);
    expect(plan.perSecond.slice(0, 3)).toEqual([10, 10, 10]);
    expect(plan.perSecond.slice(7, 10)).toEqual([0, 0, 0]);
    // The custom CDF puts 75% of the 40 agents in the window's first half second.
    expect(plan.perSecond[10]).toBeGreaterThanOrEqual(26);
    // The replay: rows at 0, 250 and 1000 ms after 12 s (offsets halved).
    expect(plan.phases.find((p) => p.name === 'incident')).toMatchObject({ startMs: 12_000, arrivals: 3 });
    expect(plan.t0Ms).toBe(10_000);
    expect(await planJson([fixture('lab.yaml')])).toEqual(plan);
  });

  it('wall-clock T0: the next Friday 16:00 Chicago the run can reach, started 40 s before', async () => {
    const before = await planJson([fixture('wallclock.yaml'), '--now', '2026-10-30T15:00:00-05:00']);
    expect(before.t0Ms).toBe(40_000);
    expect(before.t0At).toBe('2026-10-30T21:00:00.000Z');
    expect(before.startAt).toBe('2026-10-30T20:59:20.000Z');
    // 30 s before T0 the 40 s lead-in no longer fits: next Friday, after DST ended (16:00 CST).
    const late = await planJson([fixture('wallclock.yaml'), '--now', '2026-10-30T15:59:30-05:00']);
    expect(late.t0At).toBe('2026-11-06T22:00:00.000Z');
    expect(late.startAt).toBe('2026-11-06T21:59:20.000Z');
    const text = await runCli(['plan', fixture('wallclock.yaml'), '--now', '2026-10-30T15:00:00-05:00']);
    expect(text.stdout).toContain('T0 at "Fri 16:00" America/Chicago: Fri 2026-10-30 16:00:00 CDT (2026-10-30T21:00:00.000Z)');
    expect(text.stdout).toContain('run starts Fri 2026-10-30 15:59:20 CDT (2026-10-30T20:59:20.000Z)');
  });

  it('bad input exits 2 with a message naming the file, phase or line', async () => {
    const late = await runCli(['plan', fixture('late-t0.yaml')]);
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/late-t0\.yaml: phase "publish": starts at T0 \(5\.000s\) but the phases before it end at 8\.000s/);
    const replay = await runCli(['plan', fixture('bad-replay.yaml')]);
    expect(replay.code).toBe(2);
    expect(replay.stderr).toMatch(/bad-replay\.csv:3: action: unknown action "invite"/);
    const missing = await runCli(['plan', fixture('missing.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing\.yaml: cannot read the scenario file \(ENOENT\)/);
    expect(missing.stdout).toBe('');
  });
});
