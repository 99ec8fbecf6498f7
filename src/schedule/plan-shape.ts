// The shape of a plan for people: arrivals per second over the whole schedule, and per phase its
// span, count and peak rate. Pure; `sipstorm plan` prints it.
import type { ArrivalPlan } from './plan-types.js';
import type { PhaseType } from '../scenario/types.js';

export interface PhaseShape {
  name: string;
  type: PhaseType;
  startUs: number;
  endUs: number;
  arrivals: number;
  /** Most arrivals of this phase within any one second (a sliding window, so a 200 ms burst shows its full size). */
  peakPerSecond: number;
}

export interface PlanShape {
  /** perSecond[s] = arrivals with offset in [s, s+1) seconds from the start; covers the whole plan. */
  perSecond: number[];
  phases: PhaseShape[];
  total: number;
  totalUs: number;
  t0Us?: number;
}

const US_PER_S = 1e6;

export function describePlan(plan: ArrivalPlan): PlanShape {
  const n = plan.offsetsUs.length;
  const lastUs = n > 0 ? plan.offsetsUs[n - 1] : 0;
  // Whole seconds of the plan counted to the millisecond (a replay's end is its last row + 1 us),
  // and always through the last arrival.
  const seconds = Math.max(Math.ceil(Math.round(plan.totalUs / 1000) / 1000), n > 0 ? Math.floor(lastUs / US_PER_S) + 1 : 0);
  const perSecond = new Array<number>(seconds).fill(0);
  for (let i = 0; i < n; i++) perSecond[Math.floor(plan.offsetsUs[i] / US_PER_S)]++;

  // Sliding one-second window per phase over that phase's arrivals in time order (grouped by a
  // counting sort of indices: 4 bytes per arrival, no array per phase).
  const phaseCount = plan.phases.length;
  const firstOf = new Uint32Array(phaseCount + 1);
  for (let i = 0; i < n; i++) firstOf[plan.phaseOf[i] + 1]++;
  for (let p = 0; p < phaseCount; p++) firstOf[p + 1] += firstOf[p];
  const fill = firstOf.slice(0, phaseCount);
  const grouped = new Uint32Array(n);
  for (let i = 0; i < n; i++) grouped[fill[plan.phaseOf[i]]++] = i;
  const peaks = new Array<number>(phaseCount).fill(0);
  for (let p = 0; p < phaseCount; p++) {
    let lo = firstOf[p];
    for (let hi = firstOf[p]; hi < firstOf[p + 1]; hi++) {
      while (plan.offsetsUs[grouped[hi]] - plan.offsetsUs[grouped[lo]] >= US_PER_S) lo++;
      peaks[p] = Math.max(peaks[p], hi - lo + 1);
    }
  }

  const shape: PlanShape = {
    perSecond,
    phases: plan.phases.map((ph, p) => ({ ...ph, peakPerSecond: peaks[p] })),
    total: n,
    totalUs: plan.totalUs,
  };
  if (plan.t0Us !== undefined) shape.t0Us = plan.t0Us;
  return shape;
}

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * A one-line sparkline of `values`, at most `width` columns; each column shows the largest value of
 * the seconds it covers (so peaks survive the squeeze). Zero is a blank, anything above zero a bar.
 */
export function sparkline(values: readonly number[], width: number): { line: string; secondsPerColumn: number; max: number } {
  const secondsPerColumn = Math.max(1, Math.ceil(values.length / Math.max(1, width)));
  const columns: number[] = [];
  for (let i = 0; i < values.length; i += secondsPerColumn) {
    let m = 0;
    for (let j = i; j < Math.min(values.length, i + secondsPerColumn); j++) m = Math.max(m, values[j]);
    columns.push(m);
  }
  const max = columns.reduce((a, b) => Math.max(a, b), 0);
  const line = columns.map((v) => (v <= 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.ceil((v / max) * BARS.length) - 1)])).join('');
  return { line, secondsPerColumn, max };
}
