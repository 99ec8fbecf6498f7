// Time compression of a scenario (`--time-scale F`): every duration times F and every rate divided by
// F, so the same arrivals, bursts, windows, throttles and trunk limits keep their relations while the
// run takes F times as long. The demo and the test suite run the bundled scenarios this way.
// Binding lifetimes and Retry-After are whole seconds on the wire: they are rounded (at least 1 s).
import type { PhaseSpec, RetrySpec, Scenario } from './types.js';

export function scaleScenario(s: Scenario, factor: number): Scenario {
  if (!(factor > 0) || !Number.isFinite(factor)) throw new Error(`time scale must be > 0, got ${factor}`);
  if (factor === 1) return s;
  const t = (ms: number) => ms * factor;
  const r = (perS: number) => perS / factor;
  const seconds = (v: number) => Math.max(1, Math.round(v * factor));
  return {
    ...s,
    agents: { ...s.agents, expires: seconds(s.agents.expires) },
    transport: s.transport,
    ...(s.t0 ? { t0: 'offsetMs' in s.t0 ? { offsetMs: t(s.t0.offsetMs) } : s.t0 } : {}),
    phases: s.phases.map((p) => scalePhase(p, factor)),
    ...(s.throttle
      ? {
          throttle: {
            ...(s.throttle.perAgent ? { perAgent: { ...s.throttle.perAgent, rate: r(s.throttle.perAgent.rate) } } : {}),
            ...(s.throttle.concurrency ? { concurrency: s.throttle.concurrency } : {}),
          },
        }
      : {}),
    ...(s.retry ? { retry: scaleRetry(s.retry, factor) } : {}),
    hooks: s.hooks.map((h) => ({
      ...h,
      at: { ...h.at, offsetMs: t(h.at.offsetMs) },
      action: h.action.kind === 'trunk' ? { kind: 'trunk', switches: scaleTrunk(h.action.switches, factor) } : h.action,
    })),
    ...(s.trunk ? { trunk: scaleTrunk(s.trunk, factor) } : {}),
    ...(s.sweep ? { sweep: { ...s.sweep, perAgentRates: s.sweep.perAgentRates.map(r), retries: s.sweep.retries?.map((x) => ({ ...x, retry: scaleRetry(x.retry, factor) })) } } : {}),
  };
}

function scalePhase(p: PhaseSpec, f: number): PhaseSpec {
  switch (p.type) {
    case 'constant':
    case 'poisson':
      return { ...p, durationMs: p.durationMs * f, rate: p.rate / f };
    case 'ramp':
      return { ...p, durationMs: p.durationMs * f, fromRate: p.fromRate / f, toRate: p.toRate / f };
    case 'steps':
      return { ...p, stepMs: p.stepMs * f, fromRate: p.fromRate / f, stepRate: p.stepRate / f };
    case 'burst':
      return { ...p, windowMs: p.windowMs * f };
    case 'replay':
      return { ...p, compression: p.compression / f };
    case 'idle':
      return { ...p, durationMs: p.durationMs * f };
  }
}

function scaleRetry(retry: RetrySpec, f: number): RetrySpec {
  const policy = retry.policy;
  if (policy.kind === 'fixed') return { ...retry, policy: { kind: 'fixed', delayMs: policy.delayMs * f } };
  if (policy.kind === 'exponential') return { ...retry, policy: { kind: 'exponential', baseMs: policy.baseMs * f, capMs: policy.capMs * f } };
  return retry;
}

type Limit = { rate: number; burst?: number; retryAfterS?: number };

/** Trunk options/switches: windows, delays and TTLs in time, limits in rate, lifetimes in whole seconds. */
function scaleTrunk(trunk: Record<string, unknown>, f: number): Record<string, unknown> {
  const out: Record<string, unknown> = { ...trunk };
  const limit = (l: Limit | null | undefined) =>
    l ? { ...l, rate: l.rate / f, ...(l.retryAfterS !== undefined ? { retryAfterS: Math.max(1, Math.round(l.retryAfterS * f)) } : {}) } : l;
  if (trunk.aorLimit !== undefined) out.aorLimit = limit(trunk.aorLimit as Limit | null);
  if (trunk.globalLimit !== undefined) out.globalLimit = limit(trunk.globalLimit as Limit | null);
  const w = trunk.publishWindow as { startMs?: number; lengthMs: number } | null | undefined;
  if (w) out.publishWindow = { ...w, ...(w.startMs !== undefined ? { startMs: w.startMs * f } : {}), lengthMs: w.lengthMs * f };
  const d = trunk.delay as { fixedMs?: number; jitterMs?: number } | null | undefined;
  if (d) out.delay = { ...(d.fixedMs !== undefined ? { fixedMs: d.fixedMs * f } : {}), ...(d.jitterMs !== undefined ? { jitterMs: d.jitterMs * f } : {}) };
  if (typeof trunk.nonceTtlMs === 'number') out.nonceTtlMs = trunk.nonceTtlMs * f;
  if (typeof trunk.challengeTimeoutMs === 'number') out.challengeTimeoutMs = trunk.challengeTimeoutMs * f;
  if (typeof trunk.minExpires === 'number') out.minExpires = Math.max(1, Math.round(trunk.minExpires * f));
  if (typeof trunk.maxExpires === 'number') out.maxExpires = Math.max(1, Math.round(trunk.maxExpires * f));
  return out;
}
