// The trunk's fault switches as pure decisions (time passed in, seeded randomness): the source
// allowlist, per-AOR and global token buckets, the publish window, the concurrent-challenge limit,
// loss and added delay. The registrar asks these before it does any SIP work, so a flood of limited
// requests costs little.
import { xorshift } from '../shared/seeded-random.js';
import type { PublishWindow, ResolvedSwitches, TrunkSwitches } from './config.js';
import { TokenBucket } from './token-bucket.js';
import { AllowList } from './allowlist.js';
import { ChallengeLimit } from './challenge-limit.js';

/** Status, reason phrase and extra header lines of an answer. Shared, never mutated. */
export type Verdict = readonly [status: number, reason: string, headers: string[]];

const REASONS: Record<number, string> = { 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' };
// The reason phrases the incident tickets show, so a run's byReason tells which switch answered.
const NOT_ALLOWLISTED: Verdict = [403, 'IP whitelist', []];
const CONCURRENT_AUTH: Verdict = [403, 'Forbidden (concurrent auth limit)', []];

export class Faults {
  private readonly random: () => number;
  private aorBuckets = new Map<string, TokenBucket>();
  private globalBucket: TokenBucket | null = null;
  /** When the publish window's startMs counts from: trunk start, or the moment it was (re)configured. */
  private windowAnchorUs: number;
  // Answers prebuilt when the switches change, so a limited request allocates nothing for them.
  private aorVerdict: Verdict | null = null;
  private globalVerdict: Verdict | null = null;
  private allowList: AllowList | null = null;
  private handshakes: ChallengeLimit | null = null;

  constructor(
    private switches: ResolvedSwitches,
    nowUs: number,
    seed = 1,
  ) {
    this.random = xorshift(seed);
    this.windowAnchorUs = nowUs;
    this.allowList = switches.allowlist ? new AllowList(switches.allowlist) : null;
    this.resetLimits(nowUs);
  }

  /** New switches in force from `nowUs`: a new window is anchored now; changed limits start full. */
  update(switches: ResolvedSwitches, patch: TrunkSwitches, nowUs: number): void {
    this.switches = switches;
    if (patch.publishWindow !== undefined) this.windowAnchorUs = nowUs;
    if (patch.allowlist !== undefined) this.allowList = switches.allowlist ? new AllowList(switches.allowlist) : null;
    const handshakesChanged = patch.maxConcurrentChallenges !== undefined || patch.challengeTimeoutMs !== undefined;
    if (patch.aorLimit !== undefined || patch.globalLimit !== undefined || handshakesChanged) this.resetLimits(nowUs);
  }

  /** Forgets limiter state (every bucket full again, no handshake outstanding). */
  resetLimits(nowUs: number): void {
    const s = this.switches;
    this.handshakes = s.maxConcurrentChallenges !== null ? new ChallengeLimit(s.maxConcurrentChallenges, s.challengeTimeoutMs * 1000) : null;
    this.aorBuckets = new Map();
    this.globalBucket = s.globalLimit ? new TokenBucket(s.globalLimit.rate, s.globalLimit.burst, nowUs) : null;
    this.globalVerdict = s.globalLimit ? [503, REASONS[503], retryAfter(s.globalLimit.retryAfterS)] : null;
    this.aorVerdict = s.aorLimit ? [s.aorLimit.code, REASONS[s.aorLimit.code], retryAfter(s.aorLimit.retryAfterS)] : null;
  }

  /** The loss switch: true = drop this request silently. Draws from the seeded generator only when on. */
  lose(): boolean {
    const rate = this.switches.lossRate;
    return rate > 0 && this.random() < rate;
  }

  /** Added delay for one response (fixed + uniform jitter), 0 when the switch is off. */
  delayMs(): number {
    const d = this.switches.delay;
    if (!d) return 0;
    return d.fixedMs + (d.jitterMs > 0 ? this.random() * d.jitterMs : 0);
  }

  /** 503 + Retry-After when the whole trunk is over its rate, else null (a token is taken). */
  globalLimit(nowUs: number): Verdict | null {
    return this.globalBucket && !this.globalBucket.take(nowUs) ? this.globalVerdict : null;
  }

  /** The configured code + Retry-After when this AOR is over its rate, else null (a token is taken). */
  aorLimit(aor: string, nowUs: number): Verdict | null {
    const limit = this.switches.aorLimit;
    if (!limit) return null;
    let bucket = this.aorBuckets.get(aor);
    if (!bucket) this.aorBuckets.set(aor, (bucket = new TokenBucket(limit.rate, limit.burst, nowUs)));
    return bucket.take(nowUs) ? null : this.aorVerdict;
  }

  /** 403 "IP whitelist" when an allowlist is set and `host` is not on it, else null. */
  allowlist(host: string): Verdict | null {
    return this.allowList === null || this.allowList.allows(host) ? null : NOT_ALLOWLISTED;
  }

  /**
   * 403 "Forbidden (concurrent auth limit)" when a new handshake for `key` (Call-ID) would exceed
   * maxConcurrentChallenges, else null (the caller then challenges and reports challengeSent).
   */
  challengeLimit(key: string, nowUs: number): Verdict | null {
    return this.handshakes === null || this.handshakes.admits(key, nowUs) ? null : CONCURRENT_AUTH;
  }

  /** A 401 went out to `key`: a handshake is outstanding until it answers or times out. */
  challengeSent(key: string, nowUs: number): void {
    this.handshakes?.opened(key, nowUs);
  }

  /** `key` came back with an Authorization: its handshake no longer counts. */
  challengeAnswered(key: string): void {
    this.handshakes?.closed(key);
  }

  /** The publish window if `nowUs` falls inside it. */
  activeWindow(nowUs: number): PublishWindow | null {
    const w = this.switches.publishWindow;
    if (!w) return null;
    const start = this.windowStartUs();
    return nowUs >= start && nowUs < start + w.lengthMs * 1000 ? w : null;
  }

  windowStartUs(): number {
    return this.windowAnchorUs + (this.switches.publishWindow?.startMs ?? 0) * 1000;
  }
}

function retryAfter(seconds: number | undefined): string[] {
  return seconds !== undefined ? [`Retry-After: ${seconds}`] : [];
}
