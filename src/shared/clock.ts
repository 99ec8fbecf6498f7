// Time comes through this interface so planning, throttles, timers and metrics can be tested
// with a fake clock instead of real sleeps.

export interface Clock {
  /** Monotonic microseconds (integer). */
  nowUs(): number;
}

const origin = process.hrtime.bigint();

/** Monotonic clock from process.hrtime, microseconds since module load. */
export const realClock: Clock = {
  nowUs: () => Number((process.hrtime.bigint() - origin) / 1000n),
};

/** Manually advanced clock for tests. */
export class FakeClock implements Clock {
  constructor(private us = 0) {}
  nowUs(): number {
    return this.us;
  }
  advanceUs(deltaUs: number): void {
    if (deltaUs < 0) throw new Error('FakeClock cannot go backwards');
    this.us += Math.round(deltaUs);
  }
  advanceMs(deltaMs: number): void {
    this.advanceUs(deltaMs * 1000);
  }
  setUs(us: number): void {
    if (us < this.us) throw new Error('FakeClock cannot go backwards');
    this.us = us;
  }
}
