// Every bundled scenario, run for real against the embedded trunk at a small scale (fewer agents,
// time compressed with the same shape), shows the effect its comment promises.
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/report/result.js';
import { executeScenario, prepareScenario } from '../src/run/scenario-run.js';
import { runSweep } from '../src/run/sweep.js';
import { loadScenario } from '../src/scenario/load.js';
import { scaleScenario } from '../src/scenario/scale.js';
import type { Scenario } from '../src/scenario/types.js';

const file = (name: string) => new URL(`../scenarios/${name}`, import.meta.url).pathname;

async function run(scenario: Scenario, agents: number): Promise<{ result: RunResult; trunk: any }> {
  const outcome = await executeScenario(prepareScenario(scenario, { agents }));
  return { result: outcome.result, trunk: outcome.trunkCounters };
}

const t0Ms = (r: RunResult) => r.marks!.find((m) => m.name === 'T0')!.tMs;
const phase = (r: RunResult, name: string) => r.phases!.find((p) => p.name === name)!;
/** Seconds of the timeline in which an operation ended with `cls`. */
const secondsWith = (r: RunResult, cls: 'forbidden' | 'throttled') => r.timeline.filter((t) => t.byClass[cls] > 0).map((t) => t.t);

describe('bundled scenarios against the embedded trunk', () => {
  it('friday-publish: 403s on REGISTER confined to the publish window, re-logins succeed, recovery measured', async () => {
    const scenario = scaleScenario(loadScenario(file('friday-publish.yaml')), 0.1);
    const { result: r, trunk } = await run(scenario, 60);
    const windowMs = 6000; // 60 s x 0.1
    const t0 = t0Ms(r);
    expect(r.hooks?.[0]).toMatchObject({ name: 'publish', ok: true });
    expect(Math.abs(r.hooks![0].startedMs - t0)).toBeLessThan(100);
    expect(r.methods.REGISTER.operations.byClass.forbidden).toBeGreaterThan(0);
    for (const s of secondsWith(r, 'forbidden')) {
      expect(s).toBeGreaterThanOrEqual(Math.floor(t0 / 1000));
      expect(s).toBeLessThanOrEqual(Math.ceil((t0 + windowMs) / 1000));
    }
    expect(phase(r, 'login').operations.byClass.ok).toBe(60);
    expect(phase(r, 'steady').operations.byClass.forbidden).toBe(0);
    expect(r.methods.OPTIONS.operations.byClass.forbidden).toBe(0);
    // 48 of the 60 agents log in again inside the window with a fresh challenge: those succeed.
    expect(phase(r, 'publish').operations.byClass.ok).toBeGreaterThanOrEqual(48);
    expect(r.attempts!.recoveryMs).not.toBeNull();
    expect(r.attempts!.recoveryMs!).toBeLessThan(windowMs + 2500);
    // The trunk answered exactly the 403s the run counted.
    expect(trunk.byMethodStatus['REGISTER 403']).toBe(r.methods.REGISTER.operations.byStatus['403']);
  }, 60_000);

  it('shift-swap-options: most swap-burst OPTIONS get 403 inside the window, none after it', async () => {
    const scenario = scaleScenario(loadScenario(file('shift-swap-options.yaml')), 0.2);
    const { result: r } = await run(scenario, 60);
    const swap = phase(r, 'swap').operations;
    expect(swap.attempted).toBe(60);
    expect(swap.byClass.forbidden / swap.attempted).toBeGreaterThan(0.6);
    expect(phase(r, 'after').operations.byClass.forbidden).toBe(0);
    expect(phase(r, 'after').operations.byClass.ok).toBe(phase(r, 'after').operations.attempted);
    expect(r.methods.REGISTER.operations.byClass.forbidden).toBe(0);
    const t0 = t0Ms(r);
    for (const s of secondsWith(r, 'forbidden')) expect(s).toBeLessThanOrEqual(Math.ceil((t0 + 4000) / 1000));
  }, 60_000);

  it('capacity-500-register: per-plateau failures and the knee of the step ramp', async () => {
    const loaded = loadScenario(file('capacity-500-register.yaml'));
    // Four 1.5 s plateaus: 250, 500, 750, 1000 logins/s = 500..2000 requests/s against a 1500/s trunk.
    const scenario: Scenario = { ...loaded, phases: loaded.phases.map((p) => (p.type === 'steps' ? { ...p, steps: 4, stepMs: 1500 } : p)) };
    const { result: r } = await run(scenario, 500);
    const knee = r.knees![0];
    expect(knee.phase).toBe('ramp');
    expect(knee.plateaus.map((p) => p.rate)).toEqual([250, 500, 750, 1000]);
    expect(knee.plateaus[0].failurePct).toBeLessThan(1);
    expect(knee.plateaus[3].failurePct).toBeGreaterThan(1);
    expect(knee.kneeRate).toBeGreaterThanOrEqual(250);
    expect(knee.kneeRate).toBeLessThanOrEqual(750);
    expect(knee.failedAtRate).toBe(knee.plateaus[knee.plateaus.findIndex((p) => p.failurePct > 1)].rate);
    expect(r.operations.byClass.overload).toBeGreaterThan(0);
  }, 60_000);

  it('throttle-sweep: 429 ~0 at and below the trunk limit, growing above it; recommendation below the limit', async () => {
    const sweep = await runSweep(shortSweep(loadScenario(file('throttle-sweep.yaml'))), {}, undefined);
    const byRate = new Map(sweep.rows.map((row) => [row.setting.perAgentRate, row]));
    expect(byRate.get(5)!.throttledPct).toBe(0);
    expect(byRate.get(20)!.throttledPct).toBeGreaterThan(20);
    expect(byRate.get(50)!.throttledPct).toBeGreaterThan(byRate.get(20)!.throttledPct);
    expect(sweep.recommendation.perAgentRate).toBe(5);
    expect(sweep.settings).toHaveLength(3);
    for (const s of sweep.settings) expect(s.operations.attempted).toBe(s.operations.byClass.ok + s.operations.byClass.throttled + s.operations.byClass.dropped);
  }, 90_000);

  it('throttle-sweep-403: the same limit answered 403 shows as forbidden, never as throttled', async () => {
    const sweep = await runSweep(shortSweep(loadScenario(file('throttle-sweep-403.yaml'))), {}, undefined);
    const at20 = sweep.rows.find((row) => row.setting.perAgentRate === 20)!;
    expect(at20.forbiddenPct).toBeGreaterThan(20);
    expect(at20.throttledPct).toBe(0);
    expect(sweep.recommendation.perAgentRate).toBe(5);
  }, 90_000);

  it('delayed-propagation: first attempts meet 403, backoff retries make them all succeed, at a measured delay', async () => {
    const scenario = scaleScenario(loadScenario(file('delayed-propagation.yaml')), 0.1);
    const { result: r } = await run(scenario, 60);
    const a = r.attempts!;
    expect(a.firstAttempt.byClass.forbidden).toBeGreaterThan(0);
    expect(a.retries).toBeGreaterThan(0);
    expect(a.eventual.byClass.forbidden).toBe(0);
    // Every request that went out eventually succeeded (an arrival the busy generator shed is counted dropped).
    expect(a.eventual.ok + a.eventual.byClass.dropped).toBe(a.eventual.attempted);
    // Recovery waits past the 6 s window (60 s x 0.1): that is the cost the backoff pays.
    expect(a.recoveryMs!).toBeGreaterThan(5000);
  }, 90_000);
});

/** The sweep at test scale: 3 rates, a 2 s load phase. */
function shortSweep(s: Scenario): Scenario {
  return {
    ...s,
    phases: s.phases.map((p) => (p.type === 'constant' ? { ...p, durationMs: 2000 } : p.type === 'burst' ? { ...p, windowMs: 500 } : p)),
    sweep: { ...s.sweep!, perAgentRates: [5, 20, 50] },
  };
}

describe('bundled softphone scenario against the embedded trunk', () => {
  it('webrtc-softphone-publish: 401s confined to the window, every softphone recovers, recovery distribution reported', async () => {
    const scenario = scaleScenario(loadScenario(file('webrtc-softphone-publish.yaml')), 0.1);
    const { result: r } = await run(scenario, 30);
    const t0 = t0Ms(r);
    const windowMs = 3000; // 30 s x 0.1
    expect(r.target).toMatch(/^wss:/);
    expect(r.operations.byReason['401 Unauthorized']).toBe(30);
    const failing = r.timeline.filter((t) => t.byClass.auth_failed > 0).map((t) => t.t);
    expect(failing.length).toBeGreaterThan(0);
    for (const s of failing) {
      expect(s).toBeGreaterThanOrEqual(Math.floor(t0 / 1000));
      expect(s).toBeLessThanOrEqual(Math.ceil((t0 + windowMs) / 1000) + 1);
    }
    const recovery = (r.extra.softphone as { recovery: { recovered: number; stillFailing: number; recoveryMs: { count: number; max: number } } }).recovery;
    expect(recovery).toMatchObject({ recovered: 30, stillFailing: 0 });
    expect(recovery.recoveryMs.count).toBe(30);
    expect(recovery.recoveryMs.max).toBeLessThan(windowMs + 10_000);
  }, 90_000);
});
