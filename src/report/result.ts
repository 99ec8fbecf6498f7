// The JSON result of a run (`--json FILE`): a public, versioned contract that CI pipelines parse. The
// names listed in issue 3 are fixed; everything else here is an addition. Pure: snapshot in, model out.
//
// `histograms` keys: `${method}.${class}.corrected` and `${method}.${class}.uncorrected` (e.g.
// "REGISTER.ok.corrected"), one flat string map so a consumer can decode any series with any HdrHistogram
// port. Together with `methods`, `timelineHistograms` and `generatorHistograms` a result carries its whole
// snapshot, which is how mergeRunResults combines shards with exact percentiles.
import { OUTCOME_CLASSES, type OutcomeClass } from '../shared/outcome.js';
import { decodeHistogram, newLatencyHistogram, percentileMs, summarize, type Histogram, type LatencySummary } from '../metrics/histogram.js';
import {
  addCounts,
  emptyClassCounts,
  emptyHistogramEncoded,
  mergeSnapshots,
  seriesKey,
  type MethodCounters,
  type MetricsSnapshot,
} from '../metrics/snapshot.js';

import type { ScenarioResultFields } from './scenario-result.js';

export type { LatencySummary } from '../metrics/histogram.js';

export interface LatencyPair {
  /** From the intended send time of the open-loop schedule (coordinated-omission corrected). */
  corrected: LatencySummary;
  /** From the actual first send. */
  uncorrected: LatencySummary;
}

export interface OperationsBlock {
  /** Always the sum of byClass, dropped included. */
  attempted: number;
  /** attempted - dropped: operations that were sent and ended in some outcome. */
  completed: number;
  byClass: Record<OutcomeClass, number>;
  byStatus: Record<string, number>;
  byReason: Record<string, number>;
  /** completed per second of the load phase (durationMs). */
  achievedRate: number;
  /** byClass.ok per second of the load phase. */
  okRate: number;
}

export interface TransactionsBlock {
  /** Requests put on the wire once each (digest retries included, retransmissions not). */
  sent: number;
  retransmissions: number;
  /** Every response received, provisional and 401/407 challenges included. */
  byStatus: Record<string, number>;
}

export interface MethodBlock {
  operations: OperationsBlock;
  transactions: TransactionsBlock;
  latencyMs: LatencyPair;
}

export interface SeriesEntry {
  method: string;
  class: OutcomeClass;
  count: number;
  latencyMs: LatencyPair;
}

export interface TimelineEntry {
  /** Seconds since the start of the run; the entry covers [t, t+1). */
  t: number;
  sent: number;
  retransmissions: number;
  completed: number;
  byClass: Record<OutcomeClass, number>;
  /** Corrected latency of the operations completed in this second (2 significant digits). */
  p50Ms: number;
  p99Ms: number;
}

export interface GeneratorBlock {
  cpuUserMs: number;
  cpuSystemMs: number;
  maxRssBytes: number;
  eventLoopLagP99Ms: number;
  sendLagP99Ms: number;
  sendLagMaxMs: number;
  /** (user + system CPU) / transactions sent, in microseconds. */
  cpuUsPerTransaction: number;
}

export interface RunConfig {
  agents: number;
  rate: number;
  method: string;
  transport: string;
  [key: string]: unknown;
}

export interface RunResult extends ScenarioResultFields {
  schemaVersion: 1;
  tool: { name: string; version: string };
  target: string;
  startedAt: string;
  durationMs: number;
  /** True when the run was stopped early (SIGINT); the figures cover what happened until then. */
  interrupted: boolean;
  config: RunConfig;
  operations: OperationsBlock;
  transactions: TransactionsBlock;
  /** Over every operation that was sent (all classes but dropped, which has no latency). */
  latencyMs: LatencyPair;
  /** One entry per method x class with at least one operation. */
  series: SeriesEntry[];
  timeline: TimelineEntry[];
  generator: GeneratorBlock;
  /** `${method}.${class}.corrected|uncorrected` -> compressed base64 HDR (microseconds). */
  histograms: Record<string, string>;
  methods: Record<string, MethodBlock>;
  /** Malformed datagrams not attributable to an operation, by kind. */
  malformed: Record<string, number>;
  /** Coarse corrected-latency histogram per timeline entry (same index), '' when empty. */
  timelineHistograms: string[];
  generatorHistograms: { sendLag: string; eventLoopLag: string };
  /** Engine-specific details (transport stats, unregister summary, ...), passed through. */
  extra: Record<string, unknown>;
}

export interface RunMeta {
  tool: { name: string; version: string };
  target: string;
  startedAt: Date;
  durationMs: number;
  config: RunConfig;
  /** eventLoopLagP99Ms, when given, wins over the snapshot's eventLoopLag histogram (e.g. from perf_hooks). */
  generator: { cpuUserMs: number; cpuSystemMs: number; maxRssBytes: number; eventLoopLagP99Ms?: number };
  interrupted?: boolean;
  extra?: Record<string, unknown>;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const histKey = (method: string, cls: OutcomeClass, kind: 'corrected' | 'uncorrected'): string => `${seriesKey(method, cls)}.${kind}`;

function operationsBlock(counters: readonly MethodCounters[], seconds: number): OperationsBlock {
  const byClass = emptyClassCounts();
  const byStatus: Record<string, number> = {};
  const byReason: Record<string, number> = {};
  for (const c of counters) {
    addCounts(byClass, c.byClass);
    addCounts(byStatus, c.byStatus);
    addCounts(byReason, c.byReason);
  }
  let attempted = 0;
  for (const cls of OUTCOME_CLASSES) attempted += byClass[cls];
  const completed = attempted - byClass.dropped;
  return {
    attempted,
    completed,
    byClass,
    byStatus,
    byReason,
    achievedRate: seconds > 0 ? round3(completed / seconds) : 0,
    okRate: seconds > 0 ? round3(byClass.ok / seconds) : 0,
  };
}

function transactionsBlock(counters: readonly MethodCounters[]): TransactionsBlock {
  const out: TransactionsBlock = { sent: 0, retransmissions: 0, byStatus: {} };
  for (const c of counters) {
    out.sent += c.sent;
    out.retransmissions += c.retransmissions;
    addCounts(out.byStatus, c.responsesByStatus);
  }
  return out;
}

const pair = (corrected: Histogram, uncorrected: Histogram): LatencyPair => ({ corrected: summarize(corrected), uncorrected: summarize(uncorrected) });

export function buildRunResult(snapshot: MetricsSnapshot, meta: RunMeta): RunResult {
  const seconds = meta.durationMs / 1000;
  const methodNames = Object.keys(snapshot.methods);
  const allCounters = methodNames.map((m) => snapshot.methods[m]);
  const totalCorrected = newLatencyHistogram();
  const totalUncorrected = newLatencyHistogram();
  const series: SeriesEntry[] = [];
  const histograms: Record<string, string> = {};
  const methods: Record<string, MethodBlock> = {};

  for (const method of methodNames) {
    const counters = snapshot.methods[method];
    const corrected = newLatencyHistogram();
    const uncorrected = newLatencyHistogram();
    for (const cls of OUTCOME_CLASSES) {
      const count = counters.byClass[cls] ?? 0;
      if (count === 0) continue;
      const encoded = snapshot.histograms[seriesKey(method, cls)] ?? { corrected: emptyHistogramEncoded(), uncorrected: emptyHistogramEncoded() };
      const c = decodeHistogram(encoded.corrected);
      const u = decodeHistogram(encoded.uncorrected);
      corrected.add(c);
      uncorrected.add(u);
      series.push({ method, class: cls, count, latencyMs: pair(c, u) });
      histograms[histKey(method, cls, 'corrected')] = encoded.corrected;
      histograms[histKey(method, cls, 'uncorrected')] = encoded.uncorrected;
    }
    totalCorrected.add(corrected);
    totalUncorrected.add(uncorrected);
    methods[method] = { operations: operationsBlock([counters], seconds), transactions: transactionsBlock([counters]), latencyMs: pair(corrected, uncorrected) };
  }

  const timeline: TimelineEntry[] = snapshot.timeline.map((bin) => {
    const h = bin.latency === '' ? null : decodeHistogram(bin.latency);
    return {
      t: bin.t,
      sent: bin.sent,
      retransmissions: bin.retransmissions,
      completed: bin.completed,
      byClass: { ...emptyClassCounts(), ...bin.byClass },
      p50Ms: h ? percentileMs(h, 50) : 0,
      p99Ms: h ? percentileMs(h, 99) : 0,
    };
  });

  const transactions = transactionsBlock(allCounters);
  const sendLag = decodeHistogram(snapshot.sendLag);
  const loopLag = decodeHistogram(snapshot.eventLoopLag);
  const cpuMs = meta.generator.cpuUserMs + meta.generator.cpuSystemMs;
  return {
    schemaVersion: 1,
    tool: { name: meta.tool.name, version: meta.tool.version },
    target: meta.target,
    startedAt: meta.startedAt.toISOString(),
    durationMs: round3(meta.durationMs),
    interrupted: meta.interrupted ?? false,
    config: { ...meta.config },
    operations: operationsBlock(allCounters, seconds),
    transactions,
    latencyMs: pair(totalCorrected, totalUncorrected),
    series,
    timeline,
    generator: {
      cpuUserMs: round3(meta.generator.cpuUserMs),
      cpuSystemMs: round3(meta.generator.cpuSystemMs),
      maxRssBytes: meta.generator.maxRssBytes,
      eventLoopLagP99Ms: round3(meta.generator.eventLoopLagP99Ms ?? percentileMs(loopLag, 99)),
      sendLagP99Ms: percentileMs(sendLag, 99),
      sendLagMaxMs: percentileMs(sendLag, 100),
      cpuUsPerTransaction: transactions.sent > 0 ? round3((cpuMs * 1000) / transactions.sent) : 0,
    },
    histograms,
    methods,
    malformed: { ...snapshot.malformed },
    timelineHistograms: snapshot.timeline.map((bin) => bin.latency),
    generatorHistograms: { sendLag: snapshot.sendLag, eventLoopLag: snapshot.eventLoopLag },
    extra: { ...meta.extra },
  };
}

/** Recovers the snapshot a result was built from (startUs is not kept: 0). */
export function snapshotFromResult(r: RunResult): MetricsSnapshot {
  const empty = emptyHistogramEncoded();
  const methods: Record<string, MethodCounters> = {};
  for (const [name, block] of Object.entries(r.methods)) {
    methods[name] = {
      byClass: { ...emptyClassCounts(), ...block.operations.byClass },
      byStatus: { ...block.operations.byStatus },
      byReason: { ...block.operations.byReason },
      sent: block.transactions.sent,
      retransmissions: block.transactions.retransmissions,
      responsesByStatus: { ...block.transactions.byStatus },
    };
  }
  const histograms: MetricsSnapshot['histograms'] = {};
  for (const s of r.series) {
    histograms[seriesKey(s.method, s.class)] = {
      corrected: r.histograms[histKey(s.method, s.class, 'corrected')] ?? empty,
      uncorrected: r.histograms[histKey(s.method, s.class, 'uncorrected')] ?? empty,
    };
  }
  return {
    version: 1,
    startUs: 0,
    methods,
    histograms,
    timeline: r.timeline.map((e, i) => ({
      t: e.t,
      sent: e.sent,
      retransmissions: e.retransmissions ?? 0,
      completed: e.completed,
      byClass: { ...emptyClassCounts(), ...e.byClass },
      latency: r.timelineHistograms?.[i] ?? '',
    })),
    sendLag: r.generatorHistograms?.sendLag ?? empty,
    eventLoopLag: r.generatorHistograms?.eventLoopLag ?? empty,
    malformed: { ...r.malformed },
  };
}

/**
 * Combines two results (shards of one load run side by side) exactly: counters add and percentiles come
 * from the added histograms. Timelines align on seconds since each start. Meta: earliest start, longest
 * duration, CPU added, peak RSS of the larger, agents and rate added (each shard drove its share),
 * event-loop lag p99 the worse of the two when it came from outside the histograms.
 */
export function mergeRunResults(a: RunResult, b: RunResult): RunResult {
  const merged = mergeSnapshots(snapshotFromResult(a), snapshotFromResult(b));
  const loopLagEmpty = merged.eventLoopLag === emptyHistogramEncoded();
  const startedAt = Date.parse(a.startedAt) <= Date.parse(b.startedAt) ? a.startedAt : b.startedAt;
  const config: RunConfig = { ...b.config, ...a.config };
  if (typeof a.config.agents === 'number' && typeof b.config.agents === 'number') config.agents = a.config.agents + b.config.agents;
  if (typeof a.config.rate === 'number' && typeof b.config.rate === 'number') config.rate = a.config.rate + b.config.rate;
  config.shards = shardCount(a) + shardCount(b);
  return buildRunResult(merged, {
    tool: a.tool,
    target: a.target === b.target ? a.target : `${a.target},${b.target}`,
    startedAt: new Date(startedAt),
    durationMs: Math.max(a.durationMs, b.durationMs),
    config,
    generator: {
      cpuUserMs: a.generator.cpuUserMs + b.generator.cpuUserMs,
      cpuSystemMs: a.generator.cpuSystemMs + b.generator.cpuSystemMs,
      maxRssBytes: Math.max(a.generator.maxRssBytes, b.generator.maxRssBytes),
      eventLoopLagP99Ms: loopLagEmpty ? Math.max(a.generator.eventLoopLagP99Ms, b.generator.eventLoopLagP99Ms) : undefined,
    },
    interrupted: a.interrupted || b.interrupted,
    extra: addNumbersDeep(a.extra ?? {}, b.extra ?? {}),
  });
}

function shardCount(r: RunResult): number {
  return typeof r.config.shards === 'number' ? r.config.shards : 1;
}

/** Numbers add, nested objects merge recursively, anything else keeps the first value. */
function addNumbersDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...b, ...a };
  for (const key of Object.keys(a)) {
    const x = a[key];
    const y = b[key];
    if (typeof x === 'number' && typeof y === 'number') out[key] = x + y;
    else if (isPlainObject(x) && isPlainObject(y)) out[key] = addNumbersDeep(x, y);
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
