// What a run is asked to do (RunOptions), what it reports while it goes (ProgressSample), and the
// automatic I/O choices by rate. Split from engine.ts so the wiring there stays readable.
import type { ArrivalPlan } from '../schedule/plan-types.js';
import type { RetrySpec, ThrottleSpec } from '../scenario/types.js';
import type { Clock } from '../shared/clock.js';
import type { ClassMap, OutcomeClass } from '../shared/outcome.js';
import type { AgentIdentity } from '../sip/agent.js';
import type { TargetSpec } from '../transport/transport.js';
import type { TlsClientOptions } from '../transport/tls-options.js';
import type { SipTrace } from './sip-trace.js';

export type MethodMode = 'REGISTER' | 'OPTIONS' | 'auto';

export interface RunOptions {
  target: TargetSpec;
  identities: AgentIdentity[];
  rate: number;
  durationMs: number;
  /** REGISTER or OPTIONS for every arrival; `auto`: REGISTER when unregistered or due, else OPTIONS. */
  method: MethodMode;
  expires: number;
  t1Ms: number;
  t2Ms: number;
  t4Ms: number;
  /** UDP sockets in the pool / TCP connections; UDP default by I/O mode (src/transport/index.ts). */
  sockets?: number;
  bufferBytes?: number;
  unregister: boolean;
  classMap?: ClassMap;
  userAgent?: string;
  clock?: Clock;
  /** Aborting stops sending; the run still drains, unregisters and returns its (partial) result. */
  signal?: AbortSignal;
  /** Extra config echoed into the result. */
  configExtra?: Record<string, unknown>;
  /** UDP I/O: `batch` (native sendmmsg/recvmmsg, kernel receive timestamps) or `dgram` (node:dgram); default: batch when available. */
  io?: 'batch' | 'dgram';
  /** Batched I/O: the one loop's period in ms (sends are up to this late; the lag is measured). */
  tickMs?: number;
  /** tls/wss targets: CA file, --insecure, SNI. */
  tls?: TlsClientOptions;
  /** Scenario runs: the precomputed arrival plan replaces the constant rate (rate then only sizes the loop). */
  plan?: ArrivalPlan;
  throttle?: ThrottleSpec;
  retry?: RetrySpec;
  seed?: number;
  /** Called once the schedule has started (clock us): SUT hooks arm here. */
  onScheduleStart?: (scheduleStartUs: number) => void;
  /** --trace: the chosen agents' SIP messages (the CLI closes it). */
  trace?: SipTrace;
  /** Longest wait after the plan's last arrival for retries and transactions to end (default 64*T1 + 1 s, at least 10 s with a retry policy... see drainLimitMs()). */
  drainLimitMs?: number;
  /** UDP targets: ms of the same load against an in-process trunk before the clock starts (warm-up.ts); 0 = none. Default 400. */
  warmUpMs?: number;
}

export interface ProgressSample {
  elapsedMs: number;
  dispatched: number;
  outstanding: number;
  done: Record<OutcomeClass, number>;
  /** Final status codes so far ("403" -> n); absent from engines that do not count them (softphones). */
  byStatus?: Record<string, number>;
  /** Corrected p99 of the operations completed in the last whole second; null when none. */
  lastSecondP99Ms?: number | null;
}

export interface UnregisterSummary {
  attempted: number;
  ok: number;
  failed: number;
}

/**
 * Batched I/O's loop period when none is given: each wake-up costs 50-150 us of CPU on a VM (a 1 ms
 * timer alone burns ~5% of a core there), so several arrivals share one: about 8 per tick, 2..4 ms
 * (2 ms from 4000/s). The wait is measured as send lag and is part of the corrected latency;
 * `--tick 1` trades CPU for the finest schedule.
 */
export function autoTickMs(rate: number): number {
  return Math.min(4, Math.max(2, Math.floor(8000 / rate)));
}

/**
 * Batched I/O saves CPU where it matters (thousands/s) but reads responses only at the tick, so a
 * digest retry waits up to one tick to go out. Below 1000/s CPU is cheap: react at once with node:dgram.
 */
export function autoIo(rate: number): 'batch' | 'dgram' | undefined {
  return rate < 1000 ? 'dgram' : undefined;
}

