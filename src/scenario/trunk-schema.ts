// The embedded trunk's options in a scenario (`trunk:`) and in `trunk` hooks. Keys and value shapes
// follow src/trunk/config.ts (TrunkSwitches, the same shape as POST /config of the control API), so
// what this outputs can be handed to the trunk unchanged; values may use the friendly spellings
// (nonceTtlMs: 30s, rate: 5/s, lossRate: 1%) and come out as plain numbers.
import * as z from 'zod';
import { DIGEST_ALGORITHMS } from '../sip/digest.js';
import { allowlistEntryError } from '../trunk/allowlist.js';
import { applySwitches, DEFAULT_SWITCHES, pickSwitches } from '../trunk/config.js';
import { duration, int, rate, share } from './fields.js';

const retryAfterS = z.number().min(0, { error: 'must be >= 0 (seconds)' }).describe('Retry-After seconds on the answers over the limit');

/** Per-AOR token bucket. Defaults: burst max(1, ceil(rate)) like the serve flag, code 429. */
const aorLimit = z
  .strictObject({
    rate: rate('Requests per second per AOR'),
    burst: z.number().min(1, { error: 'must be >= 1' }).optional(),
    code: z.union([z.literal(429), z.literal(403), z.literal(503)], { error: 'expected 429, 403 or 503' }).default(429),
    retryAfterS: retryAfterS.optional(),
  })
  .transform((l) => ({ ...l, burst: l.burst ?? Math.max(1, Math.ceil(l.rate)) }));

/** Whole-trunk token bucket (answered 503 + Retry-After). Burst default as above. */
const globalLimit = z
  .strictObject({
    rate: rate('Requests per second for the whole trunk'),
    burst: z.number().min(1, { error: 'must be >= 1' }).optional(),
    retryAfterS: retryAfterS.optional(),
  })
  .transform((l) => ({ ...l, burst: l.burst ?? Math.max(1, Math.ceil(l.rate)) }));

/** Defaults: startMs 0 (from when it is set), mode forbidden, both methods. */
const publishWindow = z.strictObject({
  startMs: duration('Offset from trunk start (or from when the switch is set at run time)').default(0),
  lengthMs: duration('How long the window lasts', 0, true),
  mode: z.enum(['forbidden', 'stale-credentials']).default('forbidden'),
  methods: z.array(z.enum(['REGISTER', 'OPTIONS'])).min(1).default(['REGISTER', 'OPTIONS']),
});

/** An IPv4/IPv6 address, or a CIDR block of one (the trunk's own check). */
const ipOrCidr = z
  .string()
  .superRefine((entry, ctx) => {
    const why = allowlistEntryError(entry);
    if (why) ctx.issues.push({ code: 'custom', message: why, input: entry });
  })
  .describe('IP address or CIDR block, e.g. 10.0.0.0/8 or ::1');

/** TrunkSwitches; `null` turns a switch off (as on the control API). */
export const trunkSwitchShape = {
  auth: z.boolean().optional(),
  optionsAuth: z.boolean().optional(),
  algorithm: z.enum(DIGEST_ALGORITHMS as [string, ...string[]]).optional(),
  qop: z.boolean().optional(),
  nonceTtlMs: duration('Nonce lifetime', 0, true).optional(),
  minExpires: int('Shortest REGISTER Expires accepted (s)', 0).optional(),
  maxExpires: int('Longest REGISTER Expires granted (s)', 0).optional(),
  aorLimit: aorLimit.nullable().optional(),
  globalLimit: globalLimit.nullable().optional(),
  publishWindow: publishWindow.nullable().optional(),
  delay: z
    .strictObject({ fixedMs: duration('Added response delay').optional(), jitterMs: duration('Extra uniform random delay').optional() })
    .nullable()
    .optional(),
  lossRate: share('Fraction of requests silently dropped').optional(),
  maxConcurrentChallenges: int('Digest handshakes outstanding at most; over it 403 instead of a challenge (null = no limit)', 0).nullable().optional(),
  challengeTimeoutMs: duration('How long a handshake counts as outstanding', 0, true).optional(),
  allowlist: z
    .array(ipOrCidr)
    .min(1, { error: 'must list at least one address or CIDR (null turns it off)' })
    .nullable()
    .optional()
    .describe('Source addresses and CIDRs let in; others get 403 (null = everyone)'),
  tokenFault: z.enum(['unauthorized', 'throttled']).nullable().optional().describe('What POST /token answers during a publish window: 401, or 429 + Retry-After (null = tokens as usual)'),
  tokenTtlS: int('Token lifetime (s)', 1).optional(),
  tokenRetryAfterS: int('Retry-After of a throttled POST /token (s)', 0).optional(),
};

function withoutUndefined<T extends Record<string, unknown>>(obj: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

function checkExpires(s: { minExpires?: number; maxExpires?: number }, ctx: z.core.$RefinementCtx<unknown>): void {
  if (s.minExpires !== undefined && s.maxExpires !== undefined && s.maxExpires < s.minExpires)
    ctx.issues.push({ code: 'custom', message: 'must be >= minExpires', path: ['maxExpires'], input: s.maxExpires });
}

/** A trunk hook's switch set (switches only). */
export const trunkSwitches = z
  .strictObject(trunkSwitchShape)
  .superRefine(checkExpires)
  .transform(withoutUndefined)
  .describe('Trunk switches to set (the shape of POST /config; null turns one off)');

/** `trunk:` of a scenario: the switches plus the trunk's users, realm and seed. */
export const trunkOptions = z
  .strictObject({
    ...trunkSwitchShape,
    users: int('Accept agent0000/secret0000 .. for this many users', 1).optional(),
    realm: z.string().min(1).optional().describe('Digest realm (default: the host)'),
    seed: int('Seed of the loss and jitter draws', 0).optional(),
  })
  .superRefine(checkExpires)
  .transform((t, ctx) => {
    const options = withoutUndefined(t);
    // The trunk starts from its defaults plus these: let it judge the combination (e.g. maxExpires
    // below the default minExpires) exactly as it will at start-up.
    try {
      applySwitches(DEFAULT_SWITCHES, pickSwitches(options));
    } catch (err) {
      ctx.issues.push({ code: 'custom', message: (err as Error).message, input: t });
    }
    return options;
  })
  .describe('The embedded trunk (used when there is no target): its switches, users, realm, seed');
