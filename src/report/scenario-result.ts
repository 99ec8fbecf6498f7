// Result fields a scenario run adds to the JSON result (all optional in RunResult, so plain `run`
// results stay as they were), and the `sweep` result file. Public contract: add, never rename.
import type { OutcomeClass } from '../shared/outcome.js';
import type { KneeBlock } from './knee.js';
import type { LatencyPair, OperationsBlock, RunResult, SeriesEntry } from './result.js';

/** One phase of the arrival plan: the operations whose arrival belonged to it (retries included). */
export interface PhaseBlock {
  name: string;
  type: string;
  /** Planned span, ms since the run start (the timeline's origin). */
  startMs: number;
  endMs: number;
  plannedArrivals: number;
  operations: OperationsBlock;
  latencyMs: LatencyPair;
  series: SeriesEntry[];
  /** Same keys as RunResult.histograms: phases merge exactly across generators. */
  histograms: Record<string, string>;
}

/** A named moment: phase starts, T0 (the publish), hook times. */
export interface MarkEntry {
  name: string;
  /** ms since the run start (the timeline's t is in seconds from the same origin). */
  tMs: number;
}

/** What a SUT hook did, for the timeline. */
export interface HookRecord {
  name: string;
  kind: 'shell' | 'trunk' | 'kamailio';
  /** Intended time, ms since the run start (the timeline's origin). */
  atMs: number;
  startedMs: number;
  endedMs: number;
  ok: boolean;
  /** Shell exit status. */
  exitCode?: number;
  /** Output or response body, trimmed to a few KB, credentials redacted. */
  output?: string;
  error?: string;
}

/** First attempts versus the eventual result once retries are counted. */
export interface AttemptsBlock {
  /** Logical requests from the plan (first attempts), by final class of the first attempt. */
  firstAttempt: { attempted: number; ok: number; byClass: Record<OutcomeClass, number> };
  /** The same logical requests after their retries: ok if any attempt succeeded. */
  eventual: { attempted: number; ok: number; byClass: Record<OutcomeClass, number> };
  /** Retry operations sent (each is also counted in `operations`). */
  retries: number;
  /** ms from the schedule start (the first planned arrival's origin) until every agent had a binding at once (null: never). */
  timeToAllRegisteredMs: number | null;
  /** ms from T0 until every agent had a binding again after the first failure at or after T0 (null: never, or no failure). */
  recoveryMs: number | null;
}

export interface ThrottleBlock {
  perAgent?: { rate: number; burst: number; whenEmpty: 'delay' | 'drop' };
  concurrency?: { limit: number; whenFull: 'queue' | 'drop'; queueLimit: number };
  /** Operations held back by the per-agent bucket, and how long (p99, ms). */
  delayed: number;
  delayP99Ms: number;
  /** Operations the throttle dropped (counted as class `dropped` too). */
  dropped: number;
  /** Highest concurrency-queue depth seen. */
  maxQueue: number;
}

/** RunResult fields a scenario run fills (see RunResult). */
export interface ScenarioResultFields {
  scenario?: { name: string; file: string; description?: string };
  phases?: PhaseBlock[];
  marks?: MarkEntry[];
  hooks?: HookRecord[];
  attempts?: AttemptsBlock;
  throttle?: ThrottleBlock;
  /** Step ramps: per plateau failure share and the knee (see src/report/knee.ts). */
  knees?: KneeBlock[];
  /** In a sweep block: the setting this run used. */
  setting?: SweepSetting;
  /** `--threshold` / the scenario's `thresholds:`, evaluated against this result (src/report/thresholds.ts). */
  thresholds?: ThresholdOutcome[];
}

/**
 * One evaluated threshold. Units: latency metrics in ms, rate() a fraction 0..1, count() an integer.
 * `actual` is null when there was nothing to measure (no operations, an unknown phase): then ok is false.
 */
export interface ThresholdOutcome {
  expression: string;
  ok: boolean;
  actual: number | null;
  limit: number;
  /** Why it could not be evaluated (unknown phase or method, no data). */
  error?: string;
}

export interface SweepSetting {
  /** e.g. "10/s" or "10/s + backoff". */
  name: string;
  perAgentRate: number;
  retry?: string;
}

export interface SweepRow {
  setting: SweepSetting;
  attempted: number;
  forbiddenPct: number;
  throttledPct: number;
  overloadPct: number;
  timeoutPct: number;
  p50Ms: number;
  p99Ms: number;
  timeToAllRegisteredMs: number | null;
  /** Arrivals the throttle (or a busy agent) shed, % of attempted. */
  droppedPct: number;
  /** Successful operations per second. */
  okRate: number;
}

/** `sipstorm sweep --json`: one RunResult per setting (same schema as `run`), plus the table and the pick. */
export interface SweepResult {
  schemaVersion: 1;
  kind: 'sweep';
  scenario: { name: string; file: string };
  startedAt: string;
  rows: SweepRow[];
  settings: RunResult[];
  recommendation: { perAgentRate: number | null; retry?: string; maxRejectRate: number; reason: string };
}
