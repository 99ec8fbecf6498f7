// Latency figures the result carries only as encoded HDR histograms: the whole run's percentile curve
// (corrected vs uncorrected) and the per-second maximum. A histogram that does not decode is left out
// rather than failing the report: the counts tables still stand on their own.
import { decodeHistogram, newLatencyHistogram, percentileMs, type Histogram } from '../metrics/histogram.js';
import type { DistributionModel } from './model-types.js';

/** Beyond six nines a load test of this size has no data; the curve is flat at the max anyway. */
const MAX_NINES = 6;
const NINES_STEP = 0.05;

function tryDecode(encoded: unknown): Histogram | null {
  if (typeof encoded !== 'string' || encoded === '') return null;
  try {
    return decodeHistogram(encoded);
  } catch {
    return null;
  }
}

/** Adds every `${method}.${class}.${kind}` histogram of the result into one. */
export function sumHistograms(histograms: Readonly<Record<string, unknown>> | undefined, kind: 'corrected' | 'uncorrected'): Histogram {
  const sum = newLatencyHistogram();
  for (const [key, encoded] of Object.entries(histograms ?? {})) {
    if (!key.endsWith(`.${kind}`)) continue;
    const h = tryDecode(encoded);
    if (h) sum.add(h);
  }
  return sum;
}

/** x = nines: 0 (p0), 1 (p90), 2 (p99) ... up to log10(count), whose point is the max. */
export function ninesAxis(count: number): number[] {
  if (count <= 0) return [];
  const top = Math.min(MAX_NINES, Math.log10(count));
  const xs: number[] = [];
  for (let i = 0; i * NINES_STEP < top - 1e-9; i++) xs.push(Math.round(i * NINES_STEP * 100) / 100);
  xs.push(Math.round(top * 1000) / 1000);
  return xs;
}

export const percentileOfNines = (nines: number): number => 100 * (1 - 10 ** -nines);

export function distributionOf(histograms: Readonly<Record<string, unknown>> | undefined): DistributionModel {
  const corrected = sumHistograms(histograms, 'corrected');
  const uncorrected = sumHistograms(histograms, 'uncorrected');
  const count = corrected.totalCount;
  const nines = ninesAxis(count);
  const percentiles = nines.map((x, i) => (i === nines.length - 1 ? 100 : Math.round(percentileOfNines(x) * 10_000) / 10_000));
  return {
    count,
    nines,
    percentiles,
    correctedMs: percentiles.map((p) => percentileMs(corrected, p)),
    uncorrectedMs: percentiles.map((p) => percentileMs(uncorrected, p)),
  };
}

/** Max corrected latency of one timeline entry's histogram (null when empty, absent or corrupt). */
export function maxOfEncodedMs(encoded: unknown): number | null {
  const h = tryDecode(encoded);
  return h && h.totalCount > 0 ? percentileMs(h, 100) : null;
}
