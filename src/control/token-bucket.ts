// Per-agent token buckets as GCRA (virtual scheduling): one number per agent, the theoretical arrival
// time (TAT) of its next conforming request. A request conforms when now >= TAT - tolerance, where
// tolerance = (burst - 1) * interval; taking a token moves TAT on by one interval. Taking a token that
// is not there yet reserves it: TAT still moves, and the caller is told how long to wait, so a second
// call during the wait gets the token after that one (a real client queueing behind its own limit).
// Hot path (per operation): no allocation, one Float64Array read and write.

/** Slack for float rounding of TAT sums (1 ns): far below any clock the engine uses. */
const ROUNDING_SLACK_US = 1e-3;

export class AgentBuckets {
  /** Theoretical arrival time of each agent's next conforming request, clock microseconds. */
  private readonly tat: Float64Array;
  /** Microseconds between tokens (1e6 / rate). */
  readonly intervalUs: number;
  /** How far ahead of TAT a request may come and still conform ((burst - 1) intervals). */
  readonly toleranceUs: number;

  constructor(
    readonly agents: number,
    readonly ratePerS: number,
    readonly burst: number,
    startUs: number,
  ) {
    if (!Number.isInteger(agents) || agents < 0) throw new RangeError(`throttle: agent count must be a whole number >= 0 (got ${agents})`);
    if (!(ratePerS > 0) || !Number.isFinite(ratePerS)) throw new RangeError(`throttle.perAgent.rate must be a positive number (got ${ratePerS})`);
    if (!(burst >= 1) || !Number.isFinite(burst)) throw new RangeError(`throttle.perAgent.burst must be a number >= 1 (got ${burst})`);
    if (!Number.isFinite(startUs)) throw new RangeError(`throttle: start time must be finite (got ${startUs})`);
    this.intervalUs = 1e6 / ratePerS;
    this.toleranceUs = (burst - 1) * this.intervalUs;
    // TAT = start: every bucket is full at the start.
    this.tat = new Float64Array(agents).fill(startUs);
  }

  /**
   * Takes the agent's next token: 0 when it was there now, else the whole microseconds until it comes
   * (the token is reserved for the caller, who should delay the operation by that much).
   */
  take(agent: number, nowUs: number): number {
    this.check(agent);
    const tat = this.tat[agent] > nowUs ? this.tat[agent] : nowUs;
    this.tat[agent] = tat + this.intervalUs;
    return waitUntil(tat - this.toleranceUs, nowUs);
  }

  /** Takes a token only if one is there now (for `drop`): true when taken, false (nothing reserved) otherwise. */
  tryTake(agent: number, nowUs: number): boolean {
    this.check(agent);
    const tat = this.tat[agent] > nowUs ? this.tat[agent] : nowUs;
    if (tat - this.toleranceUs - nowUs > ROUNDING_SLACK_US) return false;
    this.tat[agent] = tat + this.intervalUs;
    return true;
  }

  /** Microseconds until the agent's next token (0: one is there now), reserving nothing. */
  peek(agent: number, nowUs: number): number {
    this.check(agent);
    const tat = this.tat[agent] > nowUs ? this.tat[agent] : nowUs;
    return waitUntil(tat - this.toleranceUs, nowUs);
  }

  private check(agent: number): void {
    // A bad index would read undefined and poison TAT with NaN: fail loudly instead.
    if (!(agent >= 0 && agent < this.agents) || (agent | 0) !== agent) throw new RangeError(`throttle: agent ${agent} out of range 0..${this.agents - 1}`);
  }
}

/**
 * The wait until `dueUs`, rounded so the grant lands on the whole microsecond at or after the due
 * time. Rounding the absolute time (not each wait) keeps consecutive grants at least one interval
 * apart: rounding waits separately could bring two grants up to 1 us closer than the rate allows.
 */
function waitUntil(dueUs: number, nowUs: number): number {
  return dueUs - nowUs <= ROUNDING_SLACK_US ? 0 : Math.ceil(dueUs - ROUNDING_SLACK_US) - nowUs;
}
