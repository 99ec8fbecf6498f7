// Outstanding digest handshakes, for the maxConcurrentChallenges switch (a legacy PBX that refuses
// concurrent auth attempts). A handshake opens with our 401 and closes when the same dialog comes
// back with an Authorization, or expires after the timeout. No timer: one Map in insertion order
// (a re-opened key moves to the back), so the oldest entries are the first to expire and a lazy
// sweep from the front stops at the first live one.
export class ChallengeLimit {
  /** key (Call-ID) -> expiry (us), oldest first. */
  private readonly open = new Map<string, number>();

  constructor(
    readonly max: number,
    private readonly timeoutUs: number,
  ) {}

  /** Handshakes outstanding at `nowUs`. */
  outstanding(nowUs: number): number {
    this.sweep(nowUs);
    return this.open.size;
  }

  /** May `key` get a challenge now? Yes when it already holds a slot (a repeat) or one is free. */
  admits(key: string, nowUs: number): boolean {
    this.sweep(nowUs);
    return this.open.size < this.max || this.open.has(key);
  }

  /** A challenge went out to `key`: its slot runs until `nowUs` + timeout. */
  opened(key: string, nowUs: number): void {
    this.open.delete(key);
    this.open.set(key, nowUs + this.timeoutUs);
  }

  /** `key` came back with an Authorization: its handshake is over. */
  closed(key: string): void {
    this.open.delete(key);
  }

  private sweep(nowUs: number): void {
    for (const [key, expiresUs] of this.open) {
      if (expiresUs > nowUs) return;
      this.open.delete(key);
    }
  }
}
