// Options of the embedded simulated trunk and their defaults. The run-time switches (TrunkSwitches)
// can be changed while it runs, through configure() or the HTTP control API.
import { defaultCredentials } from '../shared/credentials.js';
import type { Clock } from '../shared/clock.js';
import type { DigestAlgorithm } from '../sip/digest.js';

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
  /** `forbidden`: 403 to the methods; `stale-credentials`: nonces issued before the window start get 403. */
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
}

export interface TrunkOptions extends TrunkSwitches {
  host?: string;
  port: number;
  transports?: ('udp' | 'tcp')[];
  users: number;
  credentials?: { user: string; password: string }[];
  realm?: string;
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
};

/** Applies a patch; `null` turns a switch off, `undefined` leaves it. Validates ranges. */
export function applySwitches(base: ResolvedSwitches, patch: TrunkSwitches): ResolvedSwitches {
  const next: ResolvedSwitches = { ...base };
  for (const [key, value] of Object.entries(patch) as [keyof TrunkSwitches, unknown][]) {
    if (value === undefined || !(key in DEFAULT_SWITCHES)) continue;
    (next as unknown as Record<string, unknown>)[key] = value;
  }
  if (next.delay) next.delay = { fixedMs: next.delay.fixedMs ?? 0, jitterMs: next.delay.jitterMs ?? 0 };
  validate(next);
  return next;
}

function validate(s: ResolvedSwitches): void {
  const bad = (what: string) => {
    throw new Error(`trunk switch ${what}`);
  };
  if (!(s.lossRate >= 0 && s.lossRate <= 1)) bad(`lossRate must be within 0..1`);
  for (const [name, limit] of [['aorLimit', s.aorLimit], ['globalLimit', s.globalLimit]] as const) {
    if (limit && !(limit.rate > 0 && limit.burst >= 1)) bad(`${name} needs rate > 0 and burst >= 1`);
  }
  if (s.aorLimit && ![429, 403, 503].includes(s.aorLimit.code)) bad('aorLimit.code must be 429, 403 or 503');
  if (s.publishWindow) {
    const w = s.publishWindow;
    if (!(w.startMs >= 0 && w.lengthMs > 0)) bad('publishWindow needs startMs >= 0 and lengthMs > 0');
    if (w.mode !== 'forbidden' && w.mode !== 'stale-credentials') bad('publishWindow.mode must be forbidden or stale-credentials');
    if (!Array.isArray(w.methods) || w.methods.some((m) => m !== 'REGISTER' && m !== 'OPTIONS')) bad('publishWindow.methods must list REGISTER and/or OPTIONS');
  }
  if (!(s.nonceTtlMs > 0)) bad('nonceTtlMs must be > 0');
  if (!(s.minExpires >= 0 && s.maxExpires >= s.minExpires)) bad('minExpires/maxExpires out of order');
}

export function resolveCredentials(opts: TrunkOptions): Map<string, string> {
  const list = opts.credentials ?? defaultCredentials(opts.users);
  return new Map(list.map((c) => [c.user, c.password]));
}
