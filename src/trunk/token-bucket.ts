// Token bucket with an injected clock (pure: tests drive it with explicit times).
export class TokenBucket {
  private tokens: number;
  private lastUs: number;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    nowUs: number,
  ) {
    this.tokens = burst;
    this.lastUs = nowUs;
  }

  /** Takes one token if there is one. */
  take(nowUs: number): boolean {
    if (nowUs > this.lastUs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowUs - this.lastUs) * this.ratePerS) / 1e6);
      this.lastUs = nowUs;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}
