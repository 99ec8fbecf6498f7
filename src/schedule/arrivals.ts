// Open-loop arrival sources. Each arrival k has an intended time computed from the start (never
// chained from the previous send), so a late send cannot shift the rest of the schedule (wrk2, k6).

export interface ArrivalSource {
  /** Total arrivals; the run ends after the last one is dispatched. */
  readonly total: number;
  /** Intended time of arrival k, microseconds after the schedule start. Non-decreasing in k. */
  offsetUs(k: number): number;
  /** How many arrivals are due at `elapsedUs` after the start (the first index not yet due). */
  dueCount(elapsedUs: number): number;
}

/** `rate` arrivals per second for `durationMs`. */
export class ConstantRate implements ArrivalSource {
  readonly total: number;
  private readonly intervalUs: number;

  constructor(readonly rate: number, readonly durationMs: number) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`rate must be a positive number, got ${rate}`);
    if (!(durationMs > 0) || !Number.isFinite(durationMs)) throw new Error(`duration must be positive, got ${durationMs}`);
    this.intervalUs = 1e6 / rate;
    this.total = Math.max(1, Math.floor((rate * durationMs) / 1000));
  }

  offsetUs(k: number): number {
    return Math.round(k * this.intervalUs);
  }

  dueCount(elapsedUs: number): number {
    if (elapsedUs < 0) return 0;
    // Estimate, then settle against offsetUs itself so the two can never disagree by rounding.
    let due = Math.floor(elapsedUs / this.intervalUs) + 1;
    if (due > this.total) due = this.total;
    while (due > 0 && this.offsetUs(due - 1) > elapsedUs) due--;
    while (due < this.total && this.offsetUs(due) <= elapsedUs) due++;
    return due;
  }
}

/** A precomputed, sorted list of offsets (phases, bursts and replays compile to this). */
export class PlannedArrivals implements ArrivalSource {
  readonly total: number;

  constructor(private readonly offsets: Float64Array) {
    for (let i = 1; i < offsets.length; i++) {
      if (offsets[i] < offsets[i - 1]) throw new Error('planned arrivals must be sorted by time');
    }
    this.total = offsets.length;
  }

  offsetUs(k: number): number {
    return this.offsets[k];
  }

  dueCount(elapsedUs: number): number {
    // Binary search for the first offset strictly after elapsedUs.
    let lo = 0;
    let hi = this.total;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid] <= elapsedUs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
