// `sipstorm sweep`: one scenario, a grid of per-agent throttle rates (optionally crossed with named
// retry policies). Each setting is a full run against a fresh trunk state: the embedded trunk is
// started anew per run; against a real target the scenario's hooks (e.g. a Kamailio reset at +0s)
// run again for each setting.
import type { RunResult } from '../report/result.js';
import type { SweepResult } from '../report/scenario-result.js';
import { recommend, sweepRow } from '../report/sweep.js';
import { scaleScenario } from '../scenario/scale.js';
import type { RetrySpec, Scenario } from '../scenario/types.js';
import type { ExecuteHooks } from './execute.js';
import { executeScenario, prepareScenario, type ScenarioOverrides } from './scenario-run.js';

export interface SweepHooks extends ExecuteHooks {
  /** Before each setting's run: its index, count and name. */
  onSetting?: (index: number, count: number, name: string) => void;
}

export interface SweepPoint {
  name: string;
  perAgentRate: number;
  retry?: { name: string; retry: RetrySpec };
}

/** The grid in file units (rates as written, before any time scale). */
export function sweepPoints(scenario: Scenario): SweepPoint[] {
  const sweep = scenario.sweep;
  if (!sweep) throw new Error(`${scenario.file}: sweep: the scenario has no sweep block (sweep: { perAgentRates: [2/s, 5/s, 10/s] })`);
  const retries = sweep.retries ?? [undefined];
  const points: SweepPoint[] = [];
  for (const rate of sweep.perAgentRates) {
    for (const retry of retries) points.push({ name: `${trim(rate)}/s${retry ? ` + ${retry.name}` : ''}`, perAgentRate: rate, ...(retry ? { retry } : {}) });
  }
  return points;
}

/** The scenario for one point: its per-agent throttle (burst = rate, at least 1) and retry policy. */
export function scenarioForPoint(scenario: Scenario, point: SweepPoint): Scenario {
  const perAgent = scenario.throttle?.perAgent;
  return {
    ...scenario,
    throttle: {
      ...scenario.throttle,
      perAgent: { rate: point.perAgentRate, burst: Math.max(1, point.perAgentRate), whenEmpty: perAgent?.whenEmpty ?? 'delay' },
    },
    ...(point.retry ? { retry: point.retry.retry } : {}),
  };
}

export async function runSweep(scenario: Scenario, overrides: ScenarioOverrides, timeScale: number | undefined, hooks: SweepHooks = {}): Promise<SweepResult> {
  const points = sweepPoints(scenario);
  // Prepare every setting first: a bad plan fails before any load is sent.
  const prepared = points.map((p) => prepareScenario(scaleScenario(scenarioForPoint(scenario, p), timeScale ?? 1), overrides));
  const startedAt = new Date();
  const settings: RunResult[] = [];
  for (let i = 0; i < points.length; i++) {
    if (hooks.signal?.aborted) break;
    hooks.onSetting?.(i, points.length, points[i].name);
    const { result } = await executeScenario(prepared[i], hooks);
    result.setting = { name: points[i].name, perAgentRate: points[i].perAgentRate, ...(points[i].retry ? { retry: points[i].retry!.name } : {}) };
    settings.push(result);
  }
  const rows = settings.map((r) => sweepRow(r.setting!, r));
  return {
    schemaVersion: 1,
    kind: 'sweep',
    scenario: { name: scenario.name, file: scenario.file },
    startedAt: startedAt.toISOString(),
    rows,
    settings,
    recommendation: recommend(rows, scenario.sweep!.maxRejectRate),
  };
}

const trim = (n: number): string => String(Math.round(n * 1000) / 1000);
