// The hot-path recorder: one call per operation outcome and per request on the wire. Series live in flat
// slots (index = methodIndex * OUTCOME_CLASSES.length + classIndex) holding typed-array counters and
// lazily created histograms, so a call does a few array writes and two histogram records and allocates
// nothing (the first outcome of a series allocates its histograms once).
import { OUTCOME_CLASSES, outcomeIndex, type OutcomeClass } from '../shared/outcome.js';
import { encodeHistogram, newLatencyHistogram, recordUs, type Histogram } from './histogram.js';
import { cumulativeBuckets, type BucketCounts, type LiveCounts } from './live-view.js';
import { emptyHistogramEncoded, emptyMethodCounters, seriesKey, type MetricsSnapshot } from './snapshot.js';
import { Timeline } from './timeline.js';

const NCLS = OUTCOME_CLASSES.length;
const DROPPED = OUTCOME_CLASSES.indexOf('dropped');
const MALFORMED = OUTCOME_CLASSES.indexOf('malformed');
/** Status codes 0..699 get array slots; anything else (a broken peer) goes to a map. */
const STATUS_SLOTS = 700;

export interface MetricsRecorderOptions {
  /** Clock origin of the timeline, in the same microseconds as the recorded times. */
  startUs: number;
  /** Methods known up front (others are added on first sight). */
  methods?: readonly string[];
}

export class MetricsRecorder {
  readonly startUs: number;
  private methods: string[] = [];
  /** Outcomes per series. */
  private seriesCount = new Float64Array(0);
  private corrected: (Histogram | null)[] = [];
  private uncorrected: (Histogram | null)[] = [];
  /** Final status per operation: methodIndex * STATUS_SLOTS + status. */
  private finalStatus = new Float64Array(0);
  /** Responses on the wire: methodIndex * STATUS_SLOTS + status. */
  private responses = new Float64Array(0);
  /** Out-of-range status codes, keyed `${methodIndex}:${status}` (cold path). */
  private oddStatus = new Map<string, number>();
  private oddResponses = new Map<string, number>();
  /** Reason phrase counts per (method, status) slot, created on first use. */
  private reasons: (Map<string, number> | undefined)[] = [];
  /**
   * Per slot, the phrase seen last and how many of its occurrences are not in `reasons` yet: each
   * response's phrase is a fresh string, and a Map lookup hashes it every time (~1 % of the
   * generator's CPU at 2,000/s); comparing with the last one is a length check and a short compare.
   */
  private lastReason: (string | undefined)[] = [];
  private lastReasonPending = new Float64Array(0);
  private sent = new Float64Array(0);
  private retrans = new Float64Array(0);
  private readonly sendLag = newLatencyHistogram();
  private readonly eventLoopLag = newLatencyHistogram();
  private readonly malformed = new Map<string, number>();
  private readonly timeline: Timeline;

  constructor(opts: MetricsRecorderOptions) {
    this.startUs = opts.startUs;
    this.timeline = new Timeline(opts.startUs);
    for (const m of opts.methods ?? ['REGISTER', 'OPTIONS']) this.methodIndex(m);
  }

  /**
   * One operation's outcome. Corrected latency = doneUs - intendedUs; uncorrected = doneUs - sentUs,
   * skipped when the operation was never sent (sentUs < 0). Dropped operations count in byClass only.
   */
  recordOutcome(method: string, cls: OutcomeClass, status: number, reason: string, intendedUs: number, sentUs: number, doneUs: number): void {
    const m = this.methodIndex(method);
    const known = outcomeIndex(cls);
    const c = known >= 0 ? known : MALFORMED;
    const s = m * NCLS + c;
    this.seriesCount[s]++;
    if (status > 0) {
      if (status < STATUS_SLOTS) {
        const slot = m * STATUS_SLOTS + status;
        this.finalStatus[slot]++;
        if (reason === this.lastReason[slot]) this.lastReasonPending[slot]++;
        else {
          this.foldReason(slot);
          this.lastReason[slot] = reason;
          this.lastReasonPending[slot] = 1;
        }
      } else {
        bump(this.oddStatus, `${m}:${status}:${reason}`);
      }
    }
    if (c === DROPPED) {
      this.timeline.recordOutcome(doneUs, c, -1);
      return;
    }
    const correctedUs = doneUs - intendedUs;
    recordUs(this.corrected[s] ?? this.createSeries(s), correctedUs);
    if (sentUs >= 0) recordUs(this.uncorrected[s]!, doneUs - sentUs);
    this.timeline.recordOutcome(doneUs, c, correctedUs);
  }

  /** Every request put on the wire (a retransmission is the same transaction sent again). */
  recordSent(method: string, atUs: number, retransmission: boolean): void {
    const m = this.methodIndex(method);
    if (retransmission) this.retrans[m]++;
    else this.sent[m]++;
    this.timeline.recordSent(atUs, retransmission);
  }

  /** Every response received, provisional and challenges included. */
  recordResponse(method: string, status: number): void {
    const m = this.methodIndex(method);
    if (status >= 0 && status < STATUS_SLOTS) this.responses[m * STATUS_SLOTS + status]++;
    else bump(this.oddResponses, `${m}:${status}`);
  }

  /** Actual send minus intended send (>= 0; negatives are clamped to 0). */
  recordSendLag(lagUs: number): void {
    recordUs(this.sendLag, lagUs);
  }

  recordEventLoopLag(lagUs: number): void {
    recordUs(this.eventLoopLag, lagUs);
  }

  /** A malformed datagram that could not be attributed to an operation. */
  recordMalformed(kind: string): void {
    bump(this.malformed, kind);
  }

  /** Operations recorded so far (every class, dropped included). */
  get attempted(): number {
    let n = 0;
    for (let i = 0; i < this.seriesCount.length; i++) n += this.seriesCount[i];
    return n;
  }

  /**
   * The counters as they stand, for a live reader (Prometheus scrape): walks the typed arrays and the
   * corrected histograms (cumulative counts at `boundsUs`). Costs only the reader; recording is untouched.
   */
  /** Final status codes of the operations so far, every method ("403" -> n), read from the counters at call time. */
  finalStatusCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let slot = 0; slot < this.finalStatus.length; slot++) {
      const n = this.finalStatus[slot];
      if (n > 0) {
        const status = String(slot % STATUS_SLOTS);
        out[status] = (out[status] ?? 0) + n;
      }
    }
    for (const [key, n] of this.oddStatus) {
      const status = key.split(':')[1];
      out[status] = (out[status] ?? 0) + n;
    }
    return out;
  }

  /** Corrected p99 (ms) of the operations completed in the last whole second before `nowUs`; null when none. */
  lastSecondP99Ms(nowUs: number): number | null {
    return this.timeline.percentileOfSecondMs(this.timeline.binOf(nowUs) - 1, 99);
  }

  liveCounts(boundsUs: readonly number[]): LiveCounts {
    const out: LiveCounts = { operations: [], responses: [], sent: [], retransmissions: [], latency: [], boundsUs, sendLagP99Us: 0 };
    this.methods.forEach((method, m) => {
      out.sent.push({ method, count: this.sent[m] });
      out.retransmissions.push({ method, count: this.retrans[m] });
      let latency: BucketCounts | null = null;
      for (let c = 0; c < NCLS; c++) {
        const n = this.seriesCount[m * NCLS + c];
        if (n === 0) continue;
        out.operations.push({ method, cls: OUTCOME_CLASSES[c], count: n });
        const h = this.corrected[m * NCLS + c];
        if (h) latency = cumulativeBuckets(h, boundsUs, latency ?? undefined);
      }
      if (latency) out.latency.push({ method, ...latency });
      for (let status = 0; status < STATUS_SLOTS; status++) {
        const n = this.responses[m * STATUS_SLOTS + status];
        if (n > 0) out.responses.push({ method, status: String(status), count: n });
      }
    });
    for (const [key, n] of this.oddResponses) {
      const [mi, status] = key.split(':');
      out.responses.push({ method: this.methods[Number(mi)], status, count: n });
    }
    out.sendLagP99Us = this.sendLag.totalCount === 0 ? 0 : this.sendLag.getValueAtPercentile(99);
    return out;
  }

  snapshot(): MetricsSnapshot {
    const snap: MetricsSnapshot = {
      version: 1,
      startUs: this.startUs,
      methods: {},
      histograms: {},
      timeline: this.timeline.snapshot(),
      sendLag: encodeHistogram(this.sendLag),
      eventLoopLag: encodeHistogram(this.eventLoopLag),
      malformed: Object.fromEntries(this.malformed),
    };
    const empty = emptyHistogramEncoded();
    this.methods.forEach((method, m) => {
      const counters = emptyMethodCounters();
      for (let c = 0; c < NCLS; c++) {
        const s = m * NCLS + c;
        const n = this.seriesCount[s];
        counters.byClass[OUTCOME_CLASSES[c]] = n;
        if (n === 0) continue;
        const corrected = this.corrected[s];
        snap.histograms[seriesKey(method, OUTCOME_CLASSES[c])] = {
          corrected: corrected ? encodeHistogram(corrected) : empty,
          uncorrected: this.uncorrected[s] ? encodeHistogram(this.uncorrected[s]!) : empty,
        };
      }
      for (let status = 1; status < STATUS_SLOTS; status++) {
        const slot = m * STATUS_SLOTS + status;
        if (this.finalStatus[slot] > 0) {
          counters.byStatus[status] = this.finalStatus[slot];
          this.foldReason(slot);
          for (const [reason, n] of this.reasons[slot]!) addTo(counters.byReason, reasonKey(status, reason), n);
        }
        if (this.responses[slot] > 0) counters.responsesByStatus[status] = this.responses[slot];
      }
      if (this.responses[m * STATUS_SLOTS] > 0) counters.responsesByStatus['0'] = this.responses[m * STATUS_SLOTS];
      for (const [key, n] of this.oddStatus) {
        const [mi, status, ...rest] = key.split(':');
        if (Number(mi) !== m) continue;
        addTo(counters.byStatus, status, n);
        addTo(counters.byReason, reasonKey(Number(status), rest.join(':')), n);
      }
      for (const [key, n] of this.oddResponses) {
        const [mi, status] = key.split(':');
        if (Number(mi) === m) addTo(counters.responsesByStatus, status, n);
      }
      counters.sent = this.sent[m];
      counters.retransmissions = this.retrans[m];
      snap.methods[method] = counters;
    });
    return snap;
  }

  private createSeries(s: number): Histogram {
    const h = newLatencyHistogram();
    this.corrected[s] = h;
    this.uncorrected[s] = newLatencyHistogram();
    return h;
  }

  private methodIndex(method: string): number {
    const methods = this.methods;
    for (let i = 0; i < methods.length; i++) if (methods[i] === method) return i;
    return this.addMethod(method);
  }

  /** Moves the slot's pending count of its last phrase into `reasons`. */
  private foldReason(slot: number): void {
    const last = this.lastReason[slot];
    const n = this.lastReasonPending[slot];
    if (last === undefined || n === 0) return;
    let map = this.reasons[slot];
    if (map === undefined) map = this.reasons[slot] = new Map();
    map.set(last, (map.get(last) ?? 0) + n);
    this.lastReasonPending[slot] = 0;
  }

  private addMethod(method: string): number {
    const m = this.methods.length;
    this.methods.push(method);
    const n = this.methods.length;
    this.seriesCount = grow(this.seriesCount, n * NCLS);
    this.finalStatus = grow(this.finalStatus, n * STATUS_SLOTS);
    this.responses = grow(this.responses, n * STATUS_SLOTS);
    this.lastReasonPending = grow(this.lastReasonPending, n * STATUS_SLOTS);
    this.sent = grow(this.sent, n);
    this.retrans = grow(this.retrans, n);
    for (let i = 0; i < NCLS; i++) {
      this.corrected.push(null);
      this.uncorrected.push(null);
    }
    return m;
  }
}

/** "403 Forbidden"; just "403" when the response had no reason phrase. */
export function reasonKey(status: number, reason: string): string {
  return reason === '' ? String(status) : `${status} ${reason}`;
}

function addTo(counts: Record<string, number>, key: string, n: number): void {
  counts[key] = (counts[key] ?? 0) + n;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function grow(a: Float64Array, length: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(length);
  b.set(a);
  return b;
}
