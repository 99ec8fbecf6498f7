// What a live reader (the Prometheus endpoint, a dashboard) sees of a recorder while the run goes:
// plain counters and cumulative latency buckets, computed at read time by walking the recorder's typed
// arrays and histograms, so recording pays nothing for it.
import type { OutcomeClass } from '../shared/outcome.js';
import { forEachBucket, type Histogram } from './histogram.js';

export interface LiveCounts {
  /** Every method x class with at least one operation. */
  operations: { method: string; cls: OutcomeClass; count: number }[];
  /** Every response on the wire, by method and status (provisional and challenges included). */
  responses: { method: string; status: string; count: number }[];
  /** Per method, zeros included. */
  sent: { method: string; count: number }[];
  retransmissions: { method: string; count: number }[];
  /** Corrected latency per method with operations: counts of values <= each bound (cumulative). */
  latency: { method: string; cumulative: number[]; count: number; sumUs: number }[];
  /** Upper bounds (us) the cumulative counts refer to. */
  boundsUs: readonly number[];
  sendLagP99Us: number;
}

export interface BucketCounts {
  /** cumulative[i] = values whose bucket lies wholly at or below boundsUs[i]. */
  cumulative: number[];
  count: number;
  /** Sum of bucket midpoints x counts (the histogram's own mean x count). */
  sumUs: number;
}

/**
 * Cumulative counts at fixed bounds over an HDR histogram, one pass over its counts array (no iterator
 * objects). A value is placed by its bucket's lowest equivalent value, so a bound can be off by the
 * histogram's precision (0.1 % at 3 digits); the index -> value arithmetic is JsHistogram's.
 */
export function cumulativeBuckets(h: Histogram, boundsUs: readonly number[], into: BucketCounts = { cumulative: [], count: 0, sumUs: 0 }): BucketCounts {
  const cumulative = into.cumulative;
  for (let b = 0; b < boundsUs.length; b++) cumulative[b] = cumulative[b] ?? 0;
  if (h.totalCount === 0) return into;
  // Nothing lies above the largest recorded value (about a third of the array for latencies up to
  // Timer F): stop there. A histogram that does not track its max (maxValue 0) is scanned whole.
  const end = h.maxValue > 0 ? Math.min(h.countsArrayLength, h.countsArrayIndex(h.maxValue) + 1) : h.countsArrayLength;
  let count = 0;
  let sum = 0;
  forEachBucket(
    h,
    (lowest, width, n) => {
      count += n;
      sum += (lowest + Math.floor(width / 2)) * n;
      for (let b = boundsUs.length - 1; b >= 0 && lowest <= boundsUs[b]; b--) cumulative[b] += n;
    },
    end,
  );
  into.count += count;
  into.sumUs += sum;
  return into;
}
