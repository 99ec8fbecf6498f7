// Latency histograms: a thin layer over hdr-histogram-js (JS implementation, Float64 counts so merged
// shards cannot overflow a bucket). Values are integer microseconds, 1 us .. 1 hour, 3 significant digits.
import { decodeFromCompressedBase64, encodeIntoCompressedBase64, Float64Histogram, type JsHistogram } from 'hdr-histogram-js';

export type Histogram = JsHistogram;

/** One hour: anything longer is clamped (a SIP transaction ends by Timer F long before). */
export const LATENCY_MAX_US = 3_600_000_000;

/**
 * The library's countsArrayIndex uses Math.log2 and Math.pow (~95 ns per record); every value we record
 * is an integer below 2^32, so the same index comes from Math.clz32 and shifts (~12 ns, measured on
 * these machines). test/metrics.test.ts checks it against the library's own computation.
 */
class FastHistogram extends Float64Histogram {
  private readonly shiftBase: number;
  private readonly halfMagnitude: number;
  private readonly halfCount: number;
  private readonly unitShift: number;

  constructor(lowest: number, highest: number, digits: number) {
    super(lowest, highest, digits);
    this.halfMagnitude = this.subBucketHalfCountMagnitude;
    this.halfCount = this.subBucketHalfCount;
    this.unitShift = this.unitMagnitude;
    // floor(log2(v)) == 31 - clz32(v) for 1 <= v < 2^32.
    this.shiftBase = 31 - this.subBucketHalfCountMagnitude - this.unitMagnitude;
  }

  override countsArrayIndex(value: number): number {
    // Only a foreign histogram with a wider range, added in, can bring values past 32 bits.
    if (value > 0xffffffff) return super.countsArrayIndex(value);
    let bucket = this.shiftBase - Math.clz32(value);
    if (bucket < 0) bucket = 0;
    const sub = value >>> (bucket + this.unitShift);
    return ((bucket + 1) << this.halfMagnitude) + sub - this.halfCount;
  }
}

/** The reference index computation, for the test that pins FastHistogram to the library. */
export function libraryCountsArrayIndex(h: Histogram, value: number): number {
  return Object.getPrototypeOf(FastHistogram.prototype).countsArrayIndex.call(h, value) as number;
}

function makeHistogram(lowest: number, highest: number, digits: number): Histogram {
  const h = new FastHistogram(lowest, highest, digits);
  h.autoResize = false; // values are clamped instead, so recording never throws
  return h;
}

/** Full-precision latency histogram (3 significant digits). */
export function newLatencyHistogram(): Histogram {
  return makeHistogram(1, LATENCY_MAX_US, 3);
}

/** Low-precision histogram for per-second timeline bins (2 digits: ~27 KB while open, far less encoded). */
export function newCoarseHistogram(): Histogram {
  return makeHistogram(1, LATENCY_MAX_US, 2);
}

/** Records one value, clamped to [0, LATENCY_MAX_US] and rounded to an integer. Never throws. */
export function recordUs(h: Histogram, us: number): void {
  // `!(us > 0)` also catches NaN.
  const v = !(us > 0) ? 0 : us >= LATENCY_MAX_US ? LATENCY_MAX_US : Math.round(us);
  h.recordValue(v);
}

/** Compressed base64 (HdrHistogram V2 format: readable by the Java/Go/Rust ports too). */
export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

/**
 * Decodes into a fresh recordable histogram with the encoded precision. An empty string is an empty
 * full-precision histogram. Throws on corrupt input (callers decode snapshots, never the hot path).
 */
export function decodeHistogram(s: string): Histogram {
  if (s === '') return newLatencyHistogram();
  const decoded = decodeFromCompressedBase64(s, 64) as JsHistogram;
  const h = makeHistogram(decoded.lowestDiscernibleValue, Math.max(decoded.highestTrackableValue, LATENCY_MAX_US), decoded.numberOfSignificantValueDigits);
  h.add(decoded);
  return h;
}

/** Adds encoded histograms; '' entries are skipped. Returns '' when all are ''. */
export function addEncoded(parts: readonly string[]): string {
  const present = parts.filter((p) => p !== '');
  if (present.length === 0) return '';
  if (present.length === 1) return present[0];
  const sum = decodeHistogram(present[0]);
  for (let i = 1; i < present.length; i++) sum.add(decodeFromCompressedBase64(present[i], 64) as JsHistogram);
  return encodeHistogram(sum);
}

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

const usToMs = (us: number): number => Math.round(us) / 1000;

export const EMPTY_SUMMARY: Readonly<LatencySummary> = Object.freeze({ count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });

/**
 * Milliseconds with 3 decimals (integer microseconds / 1000), zeros when empty. Every figure is a
 * function of the bucket counts alone (min = lowest equivalent value of the first bucket, max = highest
 * equivalent of the last), so a merged histogram summarizes exactly like one recorded in one place.
 */
export function summarize(h: Histogram): LatencySummary {
  const count = h.totalCount;
  if (count === 0) return { ...EMPTY_SUMMARY };
  return {
    count,
    min: usToMs(h.getValueAtPercentile(0)),
    mean: usToMs(meanUs(h)),
    p50: usToMs(h.getValueAtPercentile(50)),
    p90: usToMs(h.getValueAtPercentile(90)),
    p99: usToMs(h.getValueAtPercentile(99)),
    p999: usToMs(h.getValueAtPercentile(99.9)),
    max: usToMs(h.getValueAtPercentile(100)),
  };
}

/**
 * Visits every non-empty bucket of `h` in ascending order with its lowest equivalent value, width and
 * count, over the counts array (no iterator objects), up to index `end` (exclusive; default all). The
 * index -> value arithmetic is JsHistogram.valueFromIndex inlined.
 */
export function forEachBucket(h: Histogram, visit: (lowestUs: number, widthUs: number, count: number) => void, end = h.countsArrayLength): void {
  const halfCount = h.subBucketHalfCount;
  const halfMagnitude = h.subBucketHalfCountMagnitude;
  const unit = h.unitMagnitude;
  for (let i = 0; i < end; i++) {
    const n = h.getCountAtIndex(i);
    if (n === 0) continue;
    let bucket = (i >> halfMagnitude) - 1;
    let sub = (i & (halfCount - 1)) + halfCount;
    if (bucket < 0) {
      sub -= halfCount;
      bucket = 0;
    }
    const width = 2 ** (bucket + unit);
    visit(sub * width, width, n);
  }
}

/**
 * The library's `mean` walks a general-purpose iterator (~6 ms for a 3-digit histogram). This is the
 * same sum (median equivalent value x count, in ascending order) over the buckets; the tests check it
 * equals the library's figure exactly.
 */
export function meanUs(h: Histogram): number {
  const count = h.totalCount;
  if (count === 0) return 0;
  let total = 0;
  forEachBucket(h, (lowest, width, n) => {
    total += (lowest + Math.floor(width / 2)) * n;
  });
  return total / count;
}

/** One percentile in ms (3 decimals), 0 when empty. */
export function percentileMs(h: Histogram, percentile: number): number {
  return h.totalCount === 0 ? 0 : usToMs(h.getValueAtPercentile(percentile));
}
