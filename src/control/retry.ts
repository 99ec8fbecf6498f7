// Retry policy: whether a failed attempt is tried again, and after how long. Pure; the randomness is
// injected (the engine passes a seeded draw) so runs are reproducible and tests exact.
import type { RetryOn, RetrySpec } from '../scenario/types.js';
import type { OutcomeClass } from '../shared/outcome.js';

/**
 * Whether to try again after attempt number `attempt` (1 = the first) ended in `cls`. Never with
 * policy `none`, never once maxAttempts (which counts every attempt, the first included) are used up.
 */
export function shouldRetry(spec: RetrySpec, cls: OutcomeClass, attempt: number): boolean {
  if (spec.policy.kind === 'none' || attempt >= spec.maxAttempts) return false;
  // `on` is a handful of names: a linear scan beats building a set, and allocates nothing.
  const on = spec.on;
  for (let i = 0; i < on.length; i++) if (on[i] === (cls as RetryOn)) return true;
  return false;
}

/**
 * Whole microseconds to wait before the retry that follows failed attempt `attempt` (1 = the first).
 * fixed: delayMs. exponential: full jitter, random(0, min(capMs, baseMs * 2^(attempt-1))).
 * With honourRetryAfter and a Retry-After (seconds) on the response: at least that.
 * `none` never retries (shouldRetry says no); asked anyway, its own delay is 0.
 */
export function retryDelayUs(spec: RetrySpec, attempt: number, retryAfterS: number | undefined, random01: () => number): number {
  const policy = spec.policy;
  let delayUs = 0;
  if (policy.kind === 'fixed') {
    delayUs = Math.round(policy.delayMs * 1000);
  } else if (policy.kind === 'exponential') {
    const ceilingUs = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt - 1, 1023)) * 1000;
    // (the exponent stops at 1023 so 2^n stays finite and a zero base never gives 0 * Infinity = NaN)
    // random01 is in [0, 1); the clamp keeps a sloppy source (returning 1) inside the bound.
    const r = random01();
    delayUs = Math.floor((r < 0 ? 0 : r > 1 ? 1 : r) * ceilingUs);
  }
  if (spec.honourRetryAfter && retryAfterS !== undefined && retryAfterS > 0 && Number.isFinite(retryAfterS)) {
    const afterUs = Math.ceil(retryAfterS * 1e6);
    if (afterUs > delayUs) delayUs = afterUs;
  }
  return delayUs;
}
