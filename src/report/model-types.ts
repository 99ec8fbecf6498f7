// The report model: everything the HTML, CSV and any other renderer shows, computed once from a run or
// sweep result (src/report/model.ts). Renderers read only this, so every view tells the same story.
// Plain JSON (no Maps, no typed arrays): the HTML page embeds it as-is and draws its charts from it.
import type { OutcomeClass } from '../shared/outcome.js';
import type { KneeBlock } from './knee.js';
import type { AttemptsBlock, ThrottleBlock } from './scenario-result.js';
import type { LatencyPair } from './result.js';

export const REPORT_MODEL_SCHEMA = 'sipstorm-report/1';

export interface ReportModel {
  schema: typeof REPORT_MODEL_SCHEMA;
  kind: 'run' | 'sweep';
  title: string;
  tool: string;
  startedAt: string;
  /** Present for a sweep: the table, the chart data and the pick. */
  sweep?: SweepModel;
  /** One for a run; one per setting for a sweep (same order as sweep.rows). */
  runs: RunModel[];
}

export interface RunModel {
  /** DOM-safe id: "run" or "setting-N". */
  id: string;
  name: string;
  target: string;
  startedAt: string;
  durationMs: number;
  interrupted: boolean;
  scenario?: { name: string; file: string; description?: string };
  totals: TotalsModel;
  methods: BreakdownRow[];
  phases: PhaseRow[];
  timeline: TimelineModel;
  distribution: DistributionModel;
  marks: MarkModel[];
  hooks: HookModel[];
  thresholds: ThresholdModel[];
  generator: GeneratorModel;
  attempts?: AttemptsBlock;
  /** Present when the run has a T0 and attempts: how the agents came back after the publish. */
  recovery?: RecoveryModel;
  throttle?: ThrottleBlock;
  /** Step ramps: failure share per plateau and the knee (as the result has them). */
  knees: KneeBlock[];
  /** Flattened config (dotted keys), values as text. */
  config: [string, string][];
  /** Flattened `extra` (engine details: transport stats, unregister summary...). */
  details: [string, string][];
}

export interface RecoveryModel {
  t0Ms: number;
  /** recovered: every agent registered again (ms after T0); never: failures around or after T0 and no
   * recovery; no-failure: nothing failed from T0's second on (recoveryMs is null for both of the last two). */
  state: 'recovered' | 'never' | 'no-failure';
  ms: number | null;
}

/** One final outcome line: an exact status code with its reason phrase, or a class with no response. */
export interface StatusRow {
  /** "403", or "" for outcomes without a final response (timeout, dropped...). */
  code: string;
  /** The reason phrase as received, or the class name when there was no response. */
  reason: string;
  count: number;
  /** Of attempted operations. */
  pct: number;
}

export interface TotalsModel {
  attempted: number;
  completed: number;
  achievedRate: number;
  okRate: number;
  /** Every class, in OUTCOME_CLASSES order (zeros included). */
  classes: { name: OutcomeClass; count: number; pct: number }[];
  /** Exact final statuses, most frequent first, then outcomes without a response. */
  statuses: StatusRow[];
  transactions: { sent: number; retransmissions: number; responses: { code: string; count: number }[] };
  latencyMs: LatencyPair;
}

/** A per-method or per-phase line: 403/429/503 are exact codes, ok/timeout/dropped are classes. */
export interface BreakdownRow {
  name: string;
  attempted: number;
  ok: number;
  s403: number;
  s429: number;
  s503: number;
  timeout: number;
  dropped: number;
  /** attempted minus the columns above. */
  other: number;
  okPct: number;
  pct403: number;
  pct429: number;
  achievedRate: number;
  p50Ms: number;
  p99Ms: number;
  p99UncorrectedMs: number;
}

export interface PhaseRow extends BreakdownRow {
  type: string;
  startMs: number;
  endMs: number;
  plannedArrivals: number;
}

/** Dense per-second series: index i covers [t[i], t[i]+1) seconds since the schedule start. */
export interface TimelineModel {
  t: number[];
  sent: number[];
  retransmissions: number[];
  completed: number[];
  byClass: Record<OutcomeClass, number[]>;
  /** Classes with at least one operation (the charts draw these; the CSV has every class). */
  classesPresent: OutcomeClass[];
  /** Corrected latency of the operations completed that second; null when none completed. */
  p50Ms: (number | null)[];
  p99Ms: (number | null)[];
  /** From timelineHistograms when the result has them, else null. */
  maxMs: (number | null)[];
}

/** Percentile curves of the whole run: x = "nines" (-log10(1 - p/100)), so 90% -> 1, 99% -> 2. */
export interface DistributionModel {
  count: number;
  nines: number[];
  percentiles: number[];
  correctedMs: number[];
  uncorrectedMs: number[];
}

export type MarkKind = 'publish' | 'phase' | 'hook' | 'mark';

export interface MarkModel {
  name: string;
  kind: MarkKind;
  /** ms since the schedule start (same origin as the timeline). */
  tMs: number;
}

export interface HookModel {
  name: string;
  kind: string;
  atMs: number;
  startedMs: number;
  endedMs: number;
  ok: boolean;
  exitCode?: number;
  error?: string;
  output?: string;
}

export interface ThresholdModel {
  expression: string;
  ok: boolean;
  /** As text ("" when there was nothing to measure). */
  actual: string;
  limit: string;
  /** Why it could not be evaluated. */
  error?: string;
}

export interface GeneratorModel {
  cpuUserMs: number;
  cpuSystemMs: number;
  /** (user + system) / wall time of the run: 100 = one core busy all the time. */
  cpuPctOfCore: number;
  maxRssMb: number;
  eventLoopLagP99Ms: number;
  sendLagP99Ms: number;
  sendLagMaxMs: number;
  cpuUsPerTransaction: number;
  /** UDP receive-buffer drops during the run (host-wide RcvbufErrors), when the result carries them. */
  rcvbufErrors?: number;
  /** Most client transactions in flight at once, when the run noted it. */
  outstandingPeak?: number;
  /** Signs the generator, not the target, was the limit (src/report/saturation.ts), plus any the run recorded. */
  warnings: string[];
}

export interface SweepRowModel {
  name: string;
  perAgentRate: number;
  retry?: string;
  attempted: number;
  forbiddenPct: number;
  throttledPct: number;
  overloadPct: number;
  timeoutPct: number;
  droppedPct: number;
  okRate: number;
  p50Ms: number;
  p99Ms: number;
  timeToAllRegisteredMs: number | null;
  recommended: boolean;
}

export interface SweepModel {
  scenario: { name: string; file: string };
  rows: SweepRowModel[];
  /** maxRejectRate is a fraction (0.01 = 1 %), as in the sweep result. */
  recommendation: { perAgentRate: number | null; retry?: string; maxRejectRate: number; reason: string };
  /** Thresholds evaluated on the sweep as a whole (each setting's own are on its RunModel). */
  thresholds: ThresholdModel[];
}
