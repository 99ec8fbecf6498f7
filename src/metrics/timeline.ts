// Per-second time series: requests sent, operations completed, outcomes by class, and a coarse latency
// histogram per second for p50/p99. Bins are typed arrays that grow by doubling, so recording does not
// allocate; a second's histogram stays open in a small ring while it can still receive values and is
// then sealed into its compressed base64 form, keeping an hours-long run to a few hundred bytes a second.
import { OUTCOME_CLASSES, type OutcomeClass } from '../shared/outcome.js';
import { addEncoded, decodeHistogram, encodeHistogram, newCoarseHistogram, percentileMs, recordUs, type Histogram } from './histogram.js';

const NCLS = OUTCOME_CLASSES.length;
const DROPPED = OUTCOME_CLASSES.indexOf('dropped');
/** A week of seconds: a bound on memory if a clock misbehaves; later times land in the last bin. */
export const MAX_TIMELINE_SECONDS = 7 * 86_400;
/** Seconds whose histograms stay open; outcomes are binned by completion time so only the newest get values. */
const RING = 4;
/** Completions older than the open window are buffered and folded into their sealed bins in batches. */
const LATE_BATCH = 4096;

export interface TimelineBinSnapshot {
  /** Whole seconds since the recorder's start (the bin covers [t, t+1)). */
  t: number;
  /** Transactions started in this second (first transmissions, retransmissions excluded). */
  sent: number;
  retransmissions: number;
  /** Operations that ended in this second with anything but `dropped`. */
  completed: number;
  byClass: Record<OutcomeClass, number>;
  /** Coarse (2 digits) corrected-latency histogram of this second's completions; '' when none. */
  latency: string;
}

export class Timeline {
  private capacity = 64;
  private sent = new Float64Array(this.capacity);
  private retrans = new Float64Array(this.capacity);
  private byClass = new Float64Array(this.capacity * NCLS);
  private sealed: string[] = [];
  private readonly ringT = new Int32Array(RING).fill(-1);
  private readonly ringH: (Histogram | null)[] = new Array<Histogram | null>(RING).fill(null);
  /** Highest bin holding anything, -1 when empty. */
  private last = -1;
  private readonly lateT = new Float64Array(LATE_BATCH);
  private readonly lateV = new Float64Array(LATE_BATCH);
  private lateN = 0;

  constructor(readonly startUs: number) {}

  binOf(atUs: number): number {
    const t = Math.floor((atUs - this.startUs) / 1_000_000);
    return t < 0 ? 0 : t >= MAX_TIMELINE_SECONDS ? MAX_TIMELINE_SECONDS - 1 : t;
  }

  recordSent(atUs: number, retransmission: boolean): void {
    const t = this.binOf(atUs);
    this.ensure(t);
    if (retransmission) this.retrans[t]++;
    else this.sent[t]++;
  }

  /** `latencyUs` < 0: nothing to record (dropped). */
  recordOutcome(doneUs: number, classIndex: number, latencyUs: number): void {
    const t = this.binOf(doneUs);
    this.ensure(t);
    this.byClass[t * NCLS + classIndex]++;
    if (latencyUs < 0 || classIndex === DROPPED) return;
    const slot = t % RING;
    const open = this.ringT[slot];
    if (open === t) {
      recordUs(this.ringH[slot]!, latencyUs);
    } else if (open < t) {
      let h = this.ringH[slot];
      if (h === null) h = this.ringH[slot] = newCoarseHistogram();
      else this.seal(slot);
      this.ringT[slot] = t;
      recordUs(h, latencyUs);
    } else {
      // Older than the open window (an out-of-order caller): decoding a sealed bin per value would cost
      // ~100 us, so buffer and fold a batch at a time (one decode/encode per distinct second).
      this.lateT[this.lateN] = t;
      this.lateV[this.lateN] = latencyUs;
      if (++this.lateN === LATE_BATCH) this.foldLate();
    }
  }

  /**
   * Corrected-latency percentile (ms) of the completions in second `t` while that second is still in
   * the open window (the live progress line asks for the second just ended); null when none or sealed.
   */
  percentileOfSecondMs(t: number, percentile: number): number | null {
    const slot = t % RING;
    const h = this.ringH[slot];
    if (t < 0 || this.ringT[slot] !== t || h === null || h.totalCount === 0) return null;
    return percentileMs(h, percentile);
  }

  /** Number of bins a snapshot will hold (0 .. last second with data). */
  get length(): number {
    return this.last + 1;
  }

  snapshot(): TimelineBinSnapshot[] {
    this.foldLate();
    const open: string[] = [];
    for (let slot = 0; slot < RING; slot++) {
      const t = this.ringT[slot];
      const h = this.ringH[slot];
      if (t >= 0 && h !== null && h.totalCount > 0) open[t] = encodeHistogram(h);
    }
    const bins: TimelineBinSnapshot[] = [];
    for (let t = 0; t <= this.last; t++) {
      const byClass = {} as Record<OutcomeClass, number>;
      let completed = 0;
      for (let c = 0; c < NCLS; c++) {
        const n = this.byClass[t * NCLS + c];
        byClass[OUTCOME_CLASSES[c]] = n;
        if (c !== DROPPED) completed += n;
      }
      const latency = open[t] !== undefined ? addEncoded([this.sealed[t] ?? '', open[t]]) : (this.sealed[t] ?? '');
      bins.push({ t, sent: this.sent[t], retransmissions: this.retrans[t], completed, byClass, latency });
    }
    return bins;
  }

  private seal(slot: number): void {
    const t = this.ringT[slot];
    const h = this.ringH[slot]!;
    if (t >= 0 && h.totalCount > 0) {
      const encoded = encodeHistogram(h);
      this.sealed[t] = this.sealed[t] ? addEncoded([this.sealed[t], encoded]) : encoded;
    }
    h.reset();
  }

  private foldLate(): void {
    if (this.lateN === 0) return;
    const byBin = new Map<number, Histogram>();
    for (let i = 0; i < this.lateN; i++) {
      const t = this.lateT[i];
      let h = byBin.get(t);
      if (h === undefined) {
        h = this.sealed[t] ? decodeHistogram(this.sealed[t]) : newCoarseHistogram();
        byBin.set(t, h);
      }
      recordUs(h, this.lateV[i]);
    }
    for (const [t, h] of byBin) this.sealed[t] = encodeHistogram(h);
    this.lateN = 0;
  }

  private ensure(t: number): void {
    if (t > this.last) this.last = t;
    if (t < this.capacity) return;
    let capacity = this.capacity;
    while (capacity <= t) capacity *= 2;
    this.sent = grow(this.sent, capacity);
    this.retrans = grow(this.retrans, capacity);
    this.byClass = grow(this.byClass, capacity * NCLS);
    this.capacity = capacity;
  }
}

function grow(a: Float64Array, length: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(length);
  b.set(a);
  return b;
}

/** Adds two timelines bin by bin, aligned on seconds since each one's start. */
export function mergeTimelines(a: readonly TimelineBinSnapshot[], b: readonly TimelineBinSnapshot[]): TimelineBinSnapshot[] {
  const n = Math.max(a.length, b.length);
  const out: TimelineBinSnapshot[] = [];
  for (let t = 0; t < n; t++) {
    const x = a[t];
    const y = b[t];
    if (!x || !y) {
      out.push(cloneBin((x ?? y)!, t));
      continue;
    }
    const byClass = {} as Record<OutcomeClass, number>;
    for (const cls of OUTCOME_CLASSES) byClass[cls] = (x.byClass[cls] ?? 0) + (y.byClass[cls] ?? 0);
    out.push({
      t,
      sent: x.sent + y.sent,
      retransmissions: x.retransmissions + y.retransmissions,
      completed: x.completed + y.completed,
      byClass,
      latency: addEncoded([x.latency, y.latency]),
    });
  }
  return out;
}

function cloneBin(bin: TimelineBinSnapshot, t: number): TimelineBinSnapshot {
  const byClass = {} as Record<OutcomeClass, number>;
  for (const cls of OUTCOME_CLASSES) byClass[cls] = bin.byClass[cls] ?? 0;
  return { ...bin, t, byClass };
}
