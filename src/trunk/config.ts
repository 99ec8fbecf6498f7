// Options of the embedded simulated trunk and their defaults. The run-time switches (TrunkSwitches)
// can be changed while it runs, through configure() or the HTTP control API.
import { defaultCredentials } from '../shared/credentials.js';
import type { Clock } from '../shared/clock.js';
import { DIGEST_ALGORITHMS, type DigestAlgorithm } from '../sip/digest.js';
import { allowlistEntryError } from './allowlist.js';

export type TrunkMethod = 'REGISTER' | 'OPTIONS';

export interface AorLimit {
  rate: number;
  burst: number;
  code: 429 | 403 | 503;
  retryAfterS?: number;
}

export interface GlobalLimit {
  rate: number;
  burst: number;
  retryAfterS?: number;
}

export interface PublishWindow {
  /** Offset from trunk start, or from the moment the window is set at run time. */
  startMs: number;
  lengthMs: number;
  /**
   * `forbidden`: 403 to the methods; `stale-credentials`: an Authorization with a nonce issued before
   * the window start gets 403 until the agent takes a fresh challenge.
   */
  mode: 'forbidden' | 'stale-credentials';
  methods: TrunkMethod[];
}

export interface TrunkSwitches {
  auth?: boolean;
  /** Challenge OPTIONS too (off by default: trunks answer keep-alive OPTIONS without auth). */
  optionsAuth?: boolean;
  algorithm?: DigestAlgorithm;
  qop?: boolean;
  nonceTtlMs?: number;
  minExpires?: number;
  maxExpires?: number;
  aorLimit?: AorLimit | null;
  globalLimit?: GlobalLimit | null;
  publishWindow?: PublishWindow | null;
  delay?: { fixedMs?: number; jitterMs?: number } | null;
  lossRate?: number;
  /**
   * Digest handshakes outstanding at once (from our 401 until the same Call-ID comes back with an
   * Authorization, or challengeTimeoutMs passes); over it an unauthenticated request gets
   * 403 "Forbidden (concurrent auth limit)" instead of a challenge. null = no limit.
   */
  maxConcurrentChallenges?: number | null;
  challengeTimeoutMs?: number;
  /** Source addresses and CIDRs (IPv4/IPv6) let in; any other source gets 403 "IP whitelist". null = everyone. */
  allowlist?: string[] | null;
  /**
   * POST /token during the publish window (tokens.ts): 'unauthorized' -> 401, 'throttled' -> 429 +
   * Retry-After (tokenRetryAfterS), null -> tokens as usual. Tokens issued before a window's start are
   * invalid from that start on whatever this says.
   */
  tokenFault?: 'unauthorized' | 'throttled' | null;
  /** Lifetime of a token (s). */
  tokenTtlS?: number;
  tokenRetryAfterS?: number;
}

export interface TrunkOptions extends TrunkSwitches {
  /** Default 127.0.0.1; '::1' for IPv6. */
  host?: string;
  /** 0 = any free port (UDP and TCP then share the one UDP got). */
  port: number;
  /** Default both, on the same port. */
  transports?: ('udp' | 'tcp')[];
  /** Accepts the default credentials agent0000/secret0000 .. for this many users. */
  users: number;
  /** Overrides `users`. */
  credentials?: { user: string; password: string }[];
  /** Digest realm; default: host. */
  realm?: string;
  /** Seed of the loss and jitter draws (reproducible faults). */
  seed?: number;
  clock?: Clock;
}

export interface ResolvedSwitches {
  auth: boolean;
  optionsAuth: boolean;
  algorithm: DigestAlgorithm;
  qop: boolean;
  nonceTtlMs: number;
  minExpires: number;
  maxExpires: number;
  aorLimit: AorLimit | null;
  globalLimit: GlobalLimit | null;
  publishWindow: PublishWindow | null;
  delay: { fixedMs: number; jitterMs: number } | null;
  lossRate: number;
  maxConcurrentChallenges: number | null;
  challengeTimeoutMs: number;
  allowlist: string[] | null;
  tokenFault: 'unauthorized' | 'throttled' | null;
  tokenTtlS: number;
  tokenRetryAfterS: number;
}

export const DEFAULT_SWITCHES: ResolvedSwitches = {
  auth: true,
  optionsAuth: false,
  algorithm: 'MD5',
  qop: true,
  nonceTtlMs: 30_000,
  minExpires: 60,
  maxExpires: 86_400,
  aorLimit: null,
  globalLimit: null,
  publishWindow: null,
  delay: null,
  lossRate: 0,
  maxConcurrentChallenges: null,
  // T2 (RFC 3261: 4 s): a challenge not answered by then is taken as abandoned.
  challengeTimeoutMs: 4_000,
  allowlist: null,
  tokenFault: null,
  tokenTtlS: 3600,
  tokenRetryAfterS: 1,
};

const SWITCH_KEYS = Object.keys(DEFAULT_SWITCHES) as (keyof ResolvedSwitches)[];

/** The switch fields of full trunk options (host, port, users... left out). */
export function pickSwitches(opts: TrunkSwitches): TrunkSwitches {
  const out: Record<string, unknown> = {};
  for (const key of SWITCH_KEYS) if (opts[key] !== undefined) out[key] = opts[key];
  return out as TrunkSwitches;
}

/**
 * Applies a patch; `null` turns a switch off, `undefined` leaves it. Throws (and changes nothing) on
 * an unknown key or a value out of range, so a typo sent to the control API is an error, not a no-op.
 */
export function applySwitches(base: ResolvedSwitches, patch: TrunkSwitches): ResolvedSwitches {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new Error('trunk switches must be a JSON object');
  const next: ResolvedSwitches = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (!(SWITCH_KEYS as string[]).includes(key)) throw new Error(`unknown trunk switch "${key}" (${SWITCH_KEYS.join(', ')})`);
    if (value === undefined) continue;
    (next as unknown as Record<string, unknown>)[key] = value;
  }
  if (next.delay) next.delay = { fixedMs: next.delay.fixedMs ?? 0, jitterMs: next.delay.jitterMs ?? 0 };
  if (Array.isArray(next.allowlist)) next.allowlist = [...next.allowlist]; // our own copy: the matcher is compiled from it
  validate(next);
  return next;
}

function validate(s: ResolvedSwitches): void {
  const bad = (what: string) => {
    throw new Error(`trunk switch ${what}`);
  };
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  for (const key of ['auth', 'optionsAuth', 'qop'] as const) if (typeof s[key] !== 'boolean') bad(`${key} must be true or false`);
  if (!DIGEST_ALGORITHMS.includes(s.algorithm)) bad(`algorithm must be one of ${DIGEST_ALGORITHMS.join(', ')}`);
  if (!(num(s.lossRate) && s.lossRate >= 0 && s.lossRate <= 1)) bad('lossRate must be within 0..1');
  for (const [name, limit] of [['aorLimit', s.aorLimit], ['globalLimit', s.globalLimit]] as const) {
    if (limit === null) continue;
    if (typeof limit !== 'object' || !(num(limit.rate) && limit.rate > 0 && num(limit.burst) && limit.burst >= 1)) bad(`${name} needs rate > 0 and burst >= 1`);
    if (limit.retryAfterS !== undefined && !(num(limit.retryAfterS) && limit.retryAfterS >= 0)) bad(`${name}.retryAfterS must be >= 0`);
  }
  if (s.aorLimit && ![429, 403, 503].includes(s.aorLimit.code)) bad('aorLimit.code must be 429, 403 or 503');
  if (s.publishWindow) {
    const w = s.publishWindow;
    if (!(num(w.startMs) && w.startMs >= 0 && num(w.lengthMs) && w.lengthMs > 0)) bad('publishWindow needs startMs >= 0 and lengthMs > 0');
    if (w.mode !== 'forbidden' && w.mode !== 'stale-credentials') bad('publishWindow.mode must be forbidden or stale-credentials');
    if (!Array.isArray(w.methods) || w.methods.some((m) => m !== 'REGISTER' && m !== 'OPTIONS')) bad('publishWindow.methods must list REGISTER and/or OPTIONS');
  }
  if (s.delay && !(num(s.delay.fixedMs) && s.delay.fixedMs >= 0 && num(s.delay.jitterMs) && s.delay.jitterMs >= 0)) bad('delay needs fixedMs >= 0 and jitterMs >= 0');
  if (!(num(s.nonceTtlMs) && s.nonceTtlMs > 0)) bad('nonceTtlMs must be > 0');
  const max = s.maxConcurrentChallenges;
  if (max !== null && !(Number.isInteger(max) && max >= 0)) bad('maxConcurrentChallenges must be an integer >= 0 (null = no limit)');
  if (!(num(s.challengeTimeoutMs) && s.challengeTimeoutMs > 0)) bad('challengeTimeoutMs must be > 0');
  if (s.tokenFault !== null && s.tokenFault !== 'unauthorized' && s.tokenFault !== 'throttled') bad('tokenFault must be unauthorized, throttled or null');
  if (!(num(s.tokenTtlS) && s.tokenTtlS > 0)) bad('tokenTtlS must be > 0');
  if (!(num(s.tokenRetryAfterS) && s.tokenRetryAfterS >= 0)) bad('tokenRetryAfterS must be >= 0');
  if (s.allowlist !== null) {
    if (!Array.isArray(s.allowlist) || s.allowlist.length === 0) bad('allowlist must list at least one address or CIDR (null turns it off)');
    for (const entry of s.allowlist) {
      const why = allowlistEntryError(entry);
      if (why) bad(`allowlist: ${why}`);
    }
  }
  if (!(num(s.minExpires) && num(s.maxExpires) && s.minExpires >= 0 && s.maxExpires >= s.minExpires)) bad('minExpires/maxExpires out of order');
}

export function resolveCredentials(opts: TrunkOptions): Map<string, string> {
  const list = opts.credentials ?? defaultCredentials(opts.users);
  return new Map(list.map((c) => [c.user, c.password]));
}
