// Short-lived login tokens of the embedded trunk (the WebRTC softphone's token step). POST /token trades
// a user's credentials for a token; the token is then accepted as that user's SIP digest password
// while it is valid. No clock or socket here: times are passed in.
//
// The publish: every token issued before the start of a publish window is invalid from that start on
// (in any window mode, also after the window ends); a REGISTER authenticated with one gets 401 with a
// fresh challenge, so the client learns to fetch a new token. During the window POST /token answers
// per the `tokenFault` switch: 'unauthorized' -> 401, 'throttled' -> 429 + Retry-After, null -> tokens
// as usual. For softphones, put the window on OPTIONS only (they send none; the trunk also takes
// `methods: []`): one on REGISTER acts on the SIP side too (sip.js resends its last Authorization on
// every re-REGISTER, which a stale-credentials window answers 403 and a forbidden one 403 anyway).
import { randomBytes } from 'node:crypto';

export type TokenFault = 'unauthorized' | 'throttled' | null;

interface IssuedToken {
  token: string;
  issuedUs: number;
  expiresUs: number;
}

export type TokenAnswer =
  | { status: 200; token: string; expiresInS: number }
  | { status: 401; error: string }
  | { status: 429; error: string; retryAfterS: number };

/** What a digest made with some secret says about the user's token. */
export type TokenCheck = 'valid' | 'refused' | 'none';

export interface TokenPolicy {
  ttlS: number;
  fault: TokenFault;
  retryAfterS: number;
}

export class TokenStore {
  /** The latest token per user (a new one replaces the old: one softphone per user). */
  private readonly tokens = new Map<string, IssuedToken>();
  /** Tokens issued before this (us) are revoked: the start of the latest publish window that began. */
  private revokedBeforeUs = -Infinity;

  /**
   * Notes a publish window starting at `startUs` (Infinity: none). Once `nowUs` reaches it, every token
   * issued before it is revoked for good. Called on every check, and before the window switch changes.
   */
  noteWindow(startUs: number, nowUs: number): void {
    if (nowUs >= startUs && startUs > this.revokedBeforeUs) this.revokedBeforeUs = startUs;
  }

  /**
   * POST /token. `password` must be the user's configured password (never a token). `windowActive`:
   * the publish window is on now, so `policy.fault` decides the answer.
   */
  issue(user: string, password: string, expected: string | undefined, nowUs: number, windowActive: boolean, policy: TokenPolicy): TokenAnswer {
    if (expected === undefined || password !== expected) return { status: 401, error: 'invalid credentials' };
    if (windowActive && policy.fault === 'unauthorized') return { status: 401, error: 'tokens are invalidated during the publish window' };
    if (windowActive && policy.fault === 'throttled') return { status: 429, error: 'token service throttled', retryAfterS: policy.retryAfterS };
    const token = randomBytes(16).toString('hex');
    this.tokens.set(user, { token, issuedUs: nowUs, expiresUs: nowUs + policy.ttlS * 1e6 });
    return { status: 200, token, expiresInS: policy.ttlS };
  }

  /**
   * A REGISTER whose digest did not match the password: does it match the user's token? `matches`
   * computes the digest with a candidate secret. `none`: the user never had a token (so a wrong
   * password stays 403); `refused`: the user logs in with tokens but this one is not (or no longer) valid.
   */
  check(user: string, matches: (secret: string) => boolean, nowUs: number): TokenCheck {
    const entry = this.tokens.get(user);
    if (!entry) return 'none';
    const valid = nowUs < entry.expiresUs && entry.issuedUs >= this.revokedBeforeUs;
    return valid && matches(entry.token) ? 'valid' : 'refused';
  }

  /** Forgets every token (a fresh trunk for the next sweep step). */
  clear(): void {
    this.tokens.clear();
    this.revokedBeforeUs = -Infinity;
  }

  get size(): number {
    return this.tokens.size;
  }
}
