// The portable form of a recorder's state: plain JSON, histograms as compressed base64 HDR. Workers and
// shards send these to one place, where mergeSnapshots combines them exactly (counts add, histograms add
// bucket by bucket, timelines add by second).
import { OUTCOME_CLASSES, type OutcomeClass } from '../shared/outcome.js';
import { addEncoded, encodeHistogram, newLatencyHistogram } from './histogram.js';
import { mergeTimelines, type TimelineBinSnapshot } from './timeline.js';

export type { TimelineBinSnapshot } from './timeline.js';

/** Series key: `${method}.${class}`, e.g. "REGISTER.ok". */
export function seriesKey(method: string, cls: OutcomeClass): string {
  return `${method}.${cls}`;
}

export interface MethodCounters {
  /** Operations by outcome class: every class present, zeros included; the sum is `attempted`. */
  byClass: Record<OutcomeClass, number>;
  /** Final status of each operation that got one (no entry for timeouts, drops, transport errors). */
  byStatus: Record<string, number>;
  /** Same, keyed "403 Forbidden" (status, space, reason phrase as received). */
  byReason: Record<string, number>;
  /** Transactions started (each request on the wire once: digest retries count, retransmissions do not). */
  sent: number;
  /** Extra copies sent by Timer E. */
  retransmissions: number;
  /** Every response received for this method, provisional and challenges included. */
  responsesByStatus: Record<string, number>;
}

export interface SeriesHistograms {
  /** From the intended (open-loop) send time. */
  corrected: string;
  /** From the first actual send; operations never sent are absent from it. */
  uncorrected: string;
}

export interface MetricsSnapshot {
  version: 1;
  /** The recorder's clock origin (us); timeline bin t covers [startUs + t s, startUs + t+1 s). */
  startUs: number;
  methods: Record<string, MethodCounters>;
  /** Keyed by seriesKey; every series with at least one operation (dropped-only series hold empty histograms). */
  histograms: Record<string, SeriesHistograms>;
  /** Dense: one bin per second from 0 to the last second with data. */
  timeline: TimelineBinSnapshot[];
  /** Actual send minus intended send of each dispatched operation. */
  sendLag: string;
  eventLoopLag: string;
  /** Malformed datagrams that could not be tied to an operation, by kind. */
  malformed: Record<string, number>;
}

export function emptyClassCounts(): Record<OutcomeClass, number> {
  const out = {} as Record<OutcomeClass, number>;
  for (const cls of OUTCOME_CLASSES) out[cls] = 0;
  return out;
}

export function emptyMethodCounters(): MethodCounters {
  return { byClass: emptyClassCounts(), byStatus: {}, byReason: {}, sent: 0, retransmissions: 0, responsesByStatus: {} };
}

let emptyEncoded: string | undefined;
/** The encoding of an empty full-precision histogram (computed once). */
export function emptyHistogramEncoded(): string {
  return (emptyEncoded ??= encodeHistogram(newLatencyHistogram()));
}

/** Adds `from` into `into` key by key. */
export function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): Record<string, number> {
  for (const key of Object.keys(from)) into[key] = (into[key] ?? 0) + from[key];
  return into;
}

function mergeMethodCounters(a: MethodCounters | undefined, b: MethodCounters | undefined): MethodCounters {
  const out = emptyMethodCounters();
  for (const m of [a, b]) {
    if (!m) continue;
    addCounts(out.byClass, m.byClass);
    addCounts(out.byStatus, m.byStatus);
    addCounts(out.byReason, m.byReason);
    addCounts(out.responsesByStatus, m.responsesByStatus);
    out.sent += m.sent;
    out.retransmissions += m.retransmissions;
  }
  return out;
}

/** Adds encoded histograms, skipping the empty encoding so the common one-sided case copies the string. */
function addHist(a: string | undefined, b: string | undefined): string {
  const empty = emptyHistogramEncoded();
  const parts = [a, b].filter((s): s is string => s !== undefined && s !== '' && s !== empty);
  return parts.length === 0 ? empty : addEncoded(parts);
}

/**
 * Exact merge. Timelines are aligned by seconds since each snapshot's own start (shards and workers
 * start together; their clock origins need not match), and the result keeps `a.startUs`.
 */
export function mergeSnapshots(a: MetricsSnapshot, b: MetricsSnapshot): MetricsSnapshot {
  const methods: Record<string, MethodCounters> = {};
  for (const name of new Set([...Object.keys(a.methods), ...Object.keys(b.methods)])) {
    methods[name] = mergeMethodCounters(a.methods[name], b.methods[name]);
  }
  const histograms: Record<string, SeriesHistograms> = {};
  for (const key of new Set([...Object.keys(a.histograms), ...Object.keys(b.histograms)])) {
    const x = a.histograms[key];
    const y = b.histograms[key];
    histograms[key] = { corrected: addHist(x?.corrected, y?.corrected), uncorrected: addHist(x?.uncorrected, y?.uncorrected) };
  }
  return {
    version: 1,
    startUs: a.startUs,
    methods,
    histograms,
    timeline: mergeTimelines(a.timeline, b.timeline),
    sendLag: addHist(a.sendLag, b.sendLag),
    eventLoopLag: addHist(a.eventLoopLag, b.eventLoopLag),
    malformed: addCounts(addCounts({}, a.malformed), b.malformed),
  };
}

/** Merges any number of snapshots (e.g. one per worker); throws on an empty list. */
export function mergeAllSnapshots(snapshots: readonly MetricsSnapshot[]): MetricsSnapshot {
  if (snapshots.length === 0) throw new Error('mergeAllSnapshots needs at least one snapshot');
  return snapshots.reduce((acc, s) => mergeSnapshots(acc, s));
}
