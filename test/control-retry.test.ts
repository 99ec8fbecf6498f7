import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retryDelayUs, shouldRetry } from '../src/control/retry.js';
import type { RetryOn, RetryPolicySpec, RetrySpec } from '../src/scenario/types.js';
import { OUTCOME_CLASSES, type OutcomeClass } from '../src/shared/outcome.js';
import { xorshift } from '../src/shared/seeded-random.js';

const RETRY_ON: RetryOn[] = ['forbidden', 'throttled', 'overload', 'timeout', 'transport_error', 'auth_failed'];

const policyArb: fc.Arbitrary<RetryPolicySpec> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('fixed' as const), delayMs: fc.integer({ min: 0, max: 60_000 }) }),
  fc.record({ kind: fc.constant('exponential' as const), baseMs: fc.integer({ min: 0, max: 5_000 }), capMs: fc.integer({ min: 0, max: 120_000 }) }),
);

const specArb: fc.Arbitrary<RetrySpec> = fc.record({
  policy: policyArb,
  on: fc.subarray(RETRY_ON),
  maxAttempts: fc.integer({ min: 1, max: 10 }),
  honourRetryAfter: fc.boolean(),
});

const classArb = fc.constantFrom(...OUTCOME_CLASSES);
/** random01 draws in [0, 1), the edges included. */
const drawArb = fc.oneof(fc.constant(0), fc.constant(1 - Number.EPSILON), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }));

function spec(policy: RetryPolicySpec, extra: Partial<RetrySpec> = {}): RetrySpec {
  return { policy, on: ['forbidden', 'throttled', 'overload', 'timeout'], maxAttempts: 3, honourRetryAfter: true, ...extra };
}

describe('shouldRetry', () => {
  it('retries the listed classes until maxAttempts (which counts the first attempt)', () => {
    const s = spec({ kind: 'fixed', delayMs: 100 });
    expect(shouldRetry(s, 'throttled', 1)).toBe(true);
    expect(shouldRetry(s, 'throttled', 2)).toBe(true);
    expect(shouldRetry(s, 'throttled', 3)).toBe(false);
    expect(shouldRetry(s, 'ok', 1)).toBe(false);
    expect(shouldRetry(s, 'auth_failed', 1)).toBe(false); // not in `on`
    expect(shouldRetry(spec({ kind: 'fixed', delayMs: 1 }, { maxAttempts: 1 }), 'timeout', 1)).toBe(false);
  });

  it('never retries with policy none, never past maxAttempts, and retries exactly the `on` classes otherwise (property)', () => {
    fc.assert(
      fc.property(specArb, classArb, (s, cls: OutcomeClass) => {
        let attempts = 1;
        while (shouldRetry(s, cls, attempts)) {
          attempts++;
          if (attempts > 1000) throw new Error('runaway retries');
        }
        const retriable = s.policy.kind !== 'none' && (s.on as string[]).includes(cls);
        expect(attempts).toBeLessThanOrEqual(s.maxAttempts);
        expect(attempts).toBe(retriable ? s.maxAttempts : 1);
      }),
      { numRuns: 500 },
    );
  });
});

describe('retryDelayUs', () => {
  it('fixed: the delay; exponential: full jitter under min(cap, base*2^(attempt-1))', () => {
    expect(retryDelayUs(spec({ kind: 'fixed', delayMs: 250 }), 1, undefined, () => 0.9)).toBe(250_000);
    const exp = spec({ kind: 'exponential', baseMs: 100, capMs: 1000 });
    expect(retryDelayUs(exp, 1, undefined, () => 0.5)).toBe(50_000);
    expect(retryDelayUs(exp, 3, undefined, () => 0.5)).toBe(200_000);
    expect(retryDelayUs(exp, 5, undefined, () => 0.5)).toBe(500_000); // 1600 ms capped at 1000
    expect(retryDelayUs(exp, 60, undefined, () => 0)).toBe(0);
    expect(retryDelayUs(spec({ kind: 'none' }), 1, 5, () => 0.5)).toBe(5_000_000);
  });

  it('honours Retry-After as a floor only when asked', () => {
    const fixed = spec({ kind: 'fixed', delayMs: 1000 });
    expect(retryDelayUs(fixed, 1, 3, () => 0)).toBe(3_000_000);
    expect(retryDelayUs(fixed, 1, 0.5, () => 0)).toBe(1_000_000); // the policy's delay is longer already
    expect(retryDelayUs({ ...fixed, honourRetryAfter: false }, 1, 3, () => 0)).toBe(1_000_000);
  });

  it('spreads exponential delays over the whole window (full jitter, mean near half the ceiling)', () => {
    const exp = spec({ kind: 'exponential', baseMs: 50, capMs: 10_000 });
    const random = xorshift(42);
    const n = 4000;
    let sum = 0;
    let min = Infinity;
    let max = 0;
    for (let k = 0; k < n; k++) {
      const d = retryDelayUs(exp, 4, undefined, random); // ceiling 400 ms
      sum += d;
      min = Math.min(min, d);
      max = Math.max(max, d);
    }
    expect(sum / n / 400_000).toBeGreaterThan(0.45);
    expect(sum / n / 400_000).toBeLessThan(0.55);
    expect(min).toBeLessThan(10_000);
    expect(max).toBeGreaterThan(390_000);
  });

  it('stays within the policy bounds, respects the cap and honours Retry-After (property)', () => {
    fc.assert(
      fc.property(specArb, fc.integer({ min: 1, max: 2000 }), fc.option(fc.double({ min: 0, max: 3600, noNaN: true }), { nil: undefined }), drawArb, (s, attempt, retryAfterS, draw) => {
        const d = retryDelayUs(s, attempt, retryAfterS, () => draw);
        expect(Number.isInteger(d) && d >= 0).toBe(true);
        const floorUs = s.honourRetryAfter && retryAfterS !== undefined ? Math.ceil(retryAfterS * 1e6) : 0;
        expect(d).toBeGreaterThanOrEqual(floorUs);
        const p = s.policy;
        const policyMaxUs = p.kind === 'fixed' ? p.delayMs * 1000 : p.kind === 'exponential' ? Math.min(p.capMs, p.baseMs * 2 ** Math.min(attempt - 1, 1023)) * 1000 : 0;
        expect(d).toBeLessThanOrEqual(Math.max(policyMaxUs, floorUs));
        if (p.kind === 'exponential') expect(d).toBeLessThanOrEqual(Math.max(p.capMs * 1000, floorUs));
        if (p.kind === 'fixed') expect(d).toBe(Math.max(p.delayMs * 1000, floorUs));
        // same attempt, same draw: same delay (reproducible runs)
        expect(retryDelayUs(s, attempt, retryAfterS, () => draw)).toBe(d);
      }),
      { numRuns: 1000 },
    );
  });

  it('grows the exponential ceiling with the attempt until the cap (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 30 }), (baseMs, capMs, attempt) => {
        const s = spec({ kind: 'exponential', baseMs, capMs }, { honourRetryAfter: false });
        const top = (a: number) => retryDelayUs(s, a, undefined, () => 1 - Number.EPSILON);
        expect(top(attempt + 1)).toBeGreaterThanOrEqual(top(attempt));
        expect(top(attempt)).toBeLessThanOrEqual(capMs * 1000);
      }),
      { numRuns: 300 },
    );
  });
});
