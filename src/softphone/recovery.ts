// Time to recover per agent: from an agent's first failed REGISTER (after its last success, or since
// the start) to its next 200 OK REGISTER. One histogram entry per recovery; agents still failing at
// the end are counted apart. Pure: times are passed in (clock microseconds).
import { encodeHistogram, newLatencyHistogram, recordUs, summarize, type Histogram, type LatencySummary } from '../metrics/histogram.js';

export interface RecoverySummary {
  /** Recoveries recorded (an agent that failed and recovered twice counts twice). */
  recovered: number;
  /** Agents failing at the end (first failure seen, no 200 since). */
  stillFailing: number;
  /** Time to recover, ms. */
  recoveryMs: LatencySummary;
  /** The same as a compressed base64 HDR histogram of microseconds (mergeable across processes). */
  histogram: string;
}

export class RecoveryTracker {
  /** First failure time per agent since its last success; -1 while healthy. */
  private readonly failedSinceUs: Float64Array;
  private readonly histogram: Histogram = newLatencyHistogram();

  constructor(agents: number) {
    this.failedSinceUs = new Float64Array(agents).fill(-1);
  }

  /** One finished REGISTER (not an unregistration, not a dropped arrival). */
  record(agent: number, ok: boolean, doneUs: number): void {
    const since = this.failedSinceUs[agent];
    if (ok) {
      if (since >= 0) {
        recordUs(this.histogram, doneUs - since);
        this.failedSinceUs[agent] = -1;
      }
    } else if (since < 0) {
      this.failedSinceUs[agent] = doneUs;
    }
  }

  /** Whether the agent has failed since its last success. */
  failing(agent: number): boolean {
    return this.failedSinceUs[agent] >= 0;
  }

  summary(): RecoverySummary {
    let stillFailing = 0;
    for (const since of this.failedSinceUs) if (since >= 0) stillFailing++;
    return { recovered: this.histogram.totalCount, stillFailing, recoveryMs: summarize(this.histogram), histogram: encodeHistogram(this.histogram) };
  }
}
