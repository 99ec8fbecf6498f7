// A scenario file becomes a run: command-line overrides on top of the file, the arrival plan computed
// before anything starts, a wait for a wall-clock T0 when the scenario names one, then the same
// execution path as `sipstorm run` (embedded trunk when no target, probe, engine), with SUT hooks
// armed at the schedule start.
import type { RunResult } from '../report/result.js';
import type { PhaseSpec, Scenario } from '../scenario/types.js';
import { ScenarioError } from '../scenario/load.js';
import { plateauName } from '../report/knee.js';
import { nextWallClock } from '../schedule/anchor.js';
import type { ArrivalPlan } from '../schedule/plan-types.js';
import { buildPlan } from '../schedule/plan.js';
import type { ClassMap } from '../shared/outcome.js';
import type { TrunkOptions } from '../trunk/config.js';
import { parseTarget } from '../transport/target.js';
import { executeRun, type ExecuteHooks, type RunOutcome, type RunRequest } from './execute.js';
import { DEFAULT_PASSWORD_TEMPLATE, DEFAULT_USER_TEMPLATE } from './identities.js';

/** Command-line flags that override the file (undefined = not given). */
export type ScenarioOverrides = Partial<Omit<RunRequest, 'rate' | 'durationMs' | 'method' | 'scenario' | 'trunk'>>;

export interface ScenarioRun {
  request: RunRequest;
  plan: ArrivalPlan;
  /** Wall-clock moment the schedule must start (T0 minus the phases before it), when T0 is a wall-clock time. */
  startAt?: Date;
}

/** Resolves overrides and the plan; throws (a ScenarioError/PlanError with file and field) before anything starts. */
export function prepareScenario(scenario: Scenario, overrides: ScenarioOverrides = {}, now = new Date()): ScenarioRun {
  const agents = overrides.agents ?? scenario.agents.count;
  if ((overrides.agentKind ?? scenario.agents.kind) === 'softphone' && scenario.throttle?.perAgent) {
    // sip.js paces its own REGISTERs (refresh timer, our backoff): the per-agent bucket drives the core agents only.
    throw new ScenarioError([{ file: scenario.file, line: 1, column: 1, path: 'throttle.perAgent', message: 'applies to core agents only; use throttle.concurrency and retry: for softphones' }]);
  }
  const stepPhases = scenario.phases.filter((p) => p.type === 'steps').map((p) => p.name);
  const plan = buildPlan({ ...scenario, phases: expandSteps(scenario.phases), agents: { ...scenario.agents, count: agents } });
  const t = scenario.transport;
  const request: RunRequest = {
    target: scenario.target !== undefined ? parseTarget(scenario.target) : undefined,
    agents,
    rate: peakRate(plan),
    durationMs: Math.max(1, plan.totalUs / 1000),
    method: 'auto',
    expires: scenario.agents.expires,
    userTemplate: scenario.agents.userTemplate ?? DEFAULT_USER_TEMPLATE,
    passwordTemplate: scenario.agents.passwordTemplate ?? DEFAULT_PASSWORD_TEMPLATE,
    credentialsFile: scenario.agents.credentials,
    domain: scenario.agents.domain,
    t1Ms: t.t1Ms ?? 500,
    t2Ms: t.t2Ms ?? 4000,
    t4Ms: t.t4Ms ?? 5000,
    sockets: t.sockets,
    connections: t.connections,
    io: t.io,
    tickMs: t.tickMs,
    unregister: scenario.unregister,
    classMap: scenario.classMap as ClassMap | undefined,
    userAgent: scenario.agents.userAgent,
    trunk: scenario.trunk as Partial<TrunkOptions> | undefined,
    ...(scenario.agents.kind ? { agentKind: scenario.agents.kind } : {}),
    ...(scenario.agents.tokenUrl ? { tokenUrl: scenario.agents.tokenUrl } : {}),
    ...(t.ca || t.insecure || t.sni ? { tls: { ...(t.ca ? { caFile: t.ca } : {}), ...(t.insecure ? { insecure: true } : {}), ...(t.sni ? { servername: t.sni } : {}) } } : {}),
    ...definedOnly(overrides),
    scenario: {
      plan,
      throttle: scenario.throttle,
      retry: scenario.retry,
      seed: scenario.seed,
      hooks: scenario.hooks,
      meta: { name: scenario.name, file: scenario.file, description: scenario.description },
      stepPhases,
    },
  };
  const t0 = scenario.t0;
  // The next T0 that leaves room for the phases before it (as `sipstorm plan` shows it).
  const leadMs = (plan.t0Us ?? 0) / 1000;
  const startAt = t0 && 'at' in t0 ? new Date(nextWallClock(t0.at, t0.tz, new Date(now.getTime() + leadMs)).getTime() - leadMs) : undefined;
  return { request, plan, startAt };
}

/** Runs a prepared scenario; waits for a wall-clock start first (SIGINT ends the wait with nothing measured). */
export async function executeScenario(prepared: ScenarioRun, hooks: ExecuteHooks & { onWait?: (startAt: Date) => void } = {}): Promise<RunOutcome> {
  if (prepared.startAt && prepared.startAt.getTime() > Date.now()) {
    hooks.onWait?.(prepared.startAt);
    await waitUntil(prepared.startAt, hooks.signal);
    if (hooks.signal?.aborted) throw new Error('interrupted while waiting for the scenario start; nothing was measured');
  }
  return executeRun(prepared.request, hooks);
}

/**
 * A step ramp runs as one constant sub-phase per plateau ("ramp@250/s"), so every plateau's outcomes
 * are counted exactly by arrival and the knee can be read off the phase blocks.
 */
export function expandSteps(phases: readonly PhaseSpec[]): PhaseSpec[] {
  return phases.flatMap((p): PhaseSpec[] => {
    if (p.type !== 'steps') return [p];
    return Array.from({ length: p.steps }, (_, i) => {
      const rate = p.fromRate + i * p.stepRate;
      const { steps: _n, stepMs: _s, fromRate: _f, stepRate: _r, type: _t, ...common } = p;
      return rate > 0
        ? ({ ...common, type: 'constant', name: plateauName(p.name, rate), durationMs: p.stepMs, rate, ...(i > 0 ? { anchor: undefined } : {}) } as PhaseSpec)
        : ({ name: plateauName(p.name, 0), type: 'idle', durationMs: p.stepMs } as PhaseSpec);
    });
  });
}

/** The busiest second of the plan: sizes the I/O loop as a constant run at that rate would. */
export function peakRate(plan: ArrivalPlan): number {
  const counts = new Map<number, number>();
  let peak = 0;
  for (const offset of plan.offsetsUs) {
    const s = Math.floor(offset / 1e6);
    const n = (counts.get(s) ?? 0) + 1;
    counts.set(s, n);
    if (n > peak) peak = n;
  }
  return Math.max(1, peak);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function waitUntil(at: Date, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // setTimeout caps at ~24.8 days; a week's wait is re-armed in steps.
    const step = () => {
      const left = at.getTime() - Date.now();
      if (left <= 0 || signal?.aborted) return done();
      timer = setTimeout(step, Math.min(left, 3_600_000));
    };
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    signal?.addEventListener('abort', done, { once: true });
    step();
  });
}

export type { RunResult };
