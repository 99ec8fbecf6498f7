// The validated, normalised scenario every other module reads: durations in ms, rates per second,
// names resolved. The YAML file (src/scenario/schema.ts) accepts friendlier spellings ("30s", "10/s",
// "80%") and turns them into this. Pure types: schedule/, control/ and run/ import them.
import type { OutcomeClass } from '../shared/outcome.js';

/** What an arrival makes its agent do. `auto`: REGISTER when unregistered or due for refresh, else OPTIONS. */
export type AgentAction = 'login' | 'refresh' | 'options' | 'unregister' | 'auto';
export const AGENT_ACTIONS: readonly AgentAction[] = ['login', 'refresh', 'options', 'unregister', 'auto'];

/** Which agents a phase draws from: all, the first `share` of them, or an index range [from, to). */
export interface AgentSelection {
  /** 0..1 share of the agents (the first ones, by index). Default 1. */
  share?: number;
  from?: number;
  to?: number;
}

export type JitterSpec =
  | { kind: 'uniform' }
  /** Normal around the window's middle; sigma as a share of the window (default 1/6), clipped to it. */
  | { kind: 'normal'; sigma?: number }
  /** Exponential from the window start; mean as a share of the window (default 1/4), clipped to it. */
  | { kind: 'exponential'; mean?: number }
  /** Piecewise-linear CDF over the window: points [x (0..1 of the window), F(x) (0..1)], both non-decreasing. */
  | { kind: 'cdf'; points: [number, number][] };

interface PhaseBase {
  name: string;
  /** Start this phase at the scenario's T0 instead of right after the previous one. */
  anchor?: 't0';
  /** Default per type: `auto` for constant/ramp/poisson, `login` for burst. */
  action?: AgentAction;
  agents?: AgentSelection;
  /** Seed for the phase's random draws (poisson gaps, burst jitter, agent choice); default from the scenario seed. */
  seed?: number;
}

export interface ConstantPhase extends PhaseBase {
  type: 'constant';
  durationMs: number;
  rate: number;
}
export interface RampPhase extends PhaseBase {
  type: 'ramp';
  durationMs: number;
  fromRate: number;
  toRate: number;
}
/** Step ramp (capacity search): `steps` plateaus of `stepMs`, rate from `fromRate` up by `stepRate`. */
export interface StepPhase extends PhaseBase {
  type: 'steps';
  fromRate: number;
  stepRate: number;
  steps: number;
  stepMs: number;
}
export interface PoissonPhase extends PhaseBase {
  type: 'poisson';
  durationMs: number;
  rate: number;
}
/** Each selected agent acts once within `windowMs`, at a time drawn from `jitter`. */
export interface BurstPhase extends PhaseBase {
  type: 'burst';
  windowMs: number;
  jitter: JitterSpec;
}
/** Rows `offset_ms,agent,action` of a real incident; offsets divided by `compression`. */
export interface ReplayPhase extends PhaseBase {
  type: 'replay';
  /** Resolved relative to the scenario file. */
  file: string;
  compression: number;
}
export interface IdlePhase extends PhaseBase {
  type: 'idle';
  durationMs: number;
}

export type PhaseSpec = ConstantPhase | RampPhase | StepPhase | PoissonPhase | BurstPhase | ReplayPhase | IdlePhase;
export type PhaseType = PhaseSpec['type'];

/** T0, the publish moment: `offsetMs` after the start (lab), or the next wall-clock `at` in `tz`. */
export type T0Spec = { offsetMs: number } | { at: string; tz: string };

export interface PerAgentThrottle {
  /** Requests per second per agent (token refill). */
  rate: number;
  /** Bucket size; default max(1, rate). */
  burst: number;
  /** When the bucket is empty: `delay` the operation until a token comes (a real client), or `drop` it (counted). */
  whenEmpty: 'delay' | 'drop';
}

export interface ConcurrencyCap {
  /** Operations in flight at most. */
  limit: number;
  /** When full: `queue` (up to `queueLimit`, then drop) or `drop` at once. Both count what they drop. */
  whenFull: 'queue' | 'drop';
  queueLimit: number;
}

export interface ThrottleSpec {
  perAgent?: PerAgentThrottle;
  concurrency?: ConcurrencyCap;
}

export type RetryOn = 'forbidden' | 'throttled' | 'overload' | 'timeout' | 'transport_error' | 'auth_failed';

export type RetryPolicySpec =
  | { kind: 'none' }
  | { kind: 'fixed'; delayMs: number }
  /** Full jitter: delay = random(0, min(capMs, baseMs * 2^(attempt-1))). */
  | { kind: 'exponential'; baseMs: number; capMs: number };

export interface RetrySpec {
  policy: RetryPolicySpec;
  /** Classes that trigger a retry; default forbidden, throttled, overload, timeout. */
  on: RetryOn[];
  /** Attempts in all, the first included (>= 1). */
  maxAttempts: number;
  /** Wait at least the response's Retry-After when it has one. */
  honourRetryAfter: boolean;
}

/** A SUT hook: something done to the system under test at a mark. */
export type HookAction =
  | { kind: 'shell'; command: string }
  /** PATCH-like switch set on the embedded trunk (same shape as POST /config of its control API). */
  | { kind: 'trunk'; switches: Record<string, unknown> }
  /** Kamailio JSON-RPC over its HTTP endpoint (the bundled kamailio.cfg); `url` defaults to the one sipstorm started. */
  | { kind: 'kamailio'; method: string; params: unknown[]; url?: string };

export interface HookSpec {
  name: string;
  /** Offset from T0 (may be negative) or from the run start. */
  at: { from: 't0' | 'start'; offsetMs: number };
  action: HookAction;
  timeoutMs: number;
}

export interface AgentsSpec {
  count: number;
  userTemplate?: string;
  passwordTemplate?: string;
  /** CSV `user,password[,domain]`, resolved relative to the scenario file. */
  credentials?: string;
  domain?: string;
  expires: number;
  userAgent?: string;
  /** `core` (sipstorm's own UDP/TCP/TLS/WS agents, default) or `softphone` (sip.js over ws/wss). */
  kind?: 'core' | 'softphone';
  /** Softphones: fetch a token before each login (`embedded` = the embedded trunk's POST /token). */
  tokenUrl?: string;
}

export interface TransportSpec {
  sockets?: number;
  connections?: number;
  io?: 'batch' | 'dgram';
  tickMs?: number;
  t1Ms?: number;
  t2Ms?: number;
  t4Ms?: number;
  /** tls/wss targets: a CA file to trust (relative to the scenario file), skip checks, SNI name. */
  ca?: string;
  insecure?: boolean;
  sni?: string;
}

/** Sweep grid: each setting runs the scenario against a fresh trunk state. */
export interface SweepSpec {
  /** Per-agent rates (req/s) to try; each overrides throttle.perAgent.rate (and burst = rate). */
  perAgentRates: number[];
  /** Optional retry policies to cross with the rates (named). */
  retries?: { name: string; retry: RetrySpec }[];
  /** The recommendation: the highest rate whose (403 + 429) share stays below this. Default 0.01. */
  maxRejectRate: number;
}

export interface Scenario {
  /** The file it came from (for messages and relative paths). */
  file: string;
  name: string;
  description?: string;
  /** e.g. udp:127.0.0.1:5080; none -> the embedded trunk with `trunk` switches. */
  target?: string;
  transport: TransportSpec;
  agents: AgentsSpec;
  classMap?: Record<number, OutcomeClass>;
  t0?: T0Spec;
  phases: PhaseSpec[];
  throttle?: ThrottleSpec;
  retry?: RetrySpec;
  hooks: HookSpec[];
  /** Embedded-trunk options (TrunkOptions switch fields, plus users/realm...), passed through as given. */
  trunk?: Record<string, unknown>;
  /** Reserved for the reports issue: threshold expressions. */
  thresholds?: string[];
  sweep?: SweepSpec;
  /** Run-level seed for every random draw (reproducible plans). */
  seed: number;
  /** Unregister every agent at the end (default true). */
  unregister: boolean;
}
