import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentBuckets } from '../src/control/token-bucket.js';
import { FakeClock } from '../src/shared/clock.js';

/** Rates from slow (one every few seconds) to fast, fractional ones included. */
const rateArb = fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.double({ min: 0.2, max: 500, noNaN: true }));

type Call = { agent: number; gapUs: number; mode: 'take' | 'tryTake' };

/**
 * Checks the bucket bound on one agent's grant times: any window [g_i, g_j] holds at most
 * burst + rate*T. Grants land on whole microseconds (rounded up from the exact due time), so two of
 * them can be up to 1 us closer than 1/rate: T is taken 1 us wider.
 */
function assertWithinBound(grants: number[], rate: number, burst: number): void {
  const sorted = [...grants].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) {
      const count = j - i + 1;
      const bound = burst + (rate * (sorted[j] - sorted[i] + 1)) / 1e6;
      if (count > bound + 1e-6) throw new Error(`${count} grants in ${sorted[j] - sorted[i]} us > ${bound} (rate ${rate}, burst ${burst})`);
    }
  }
}

describe('AgentBuckets', () => {
  it('grants a full burst at the start, then reserves the next tokens one interval apart', () => {
    const clock = new FakeClock(5_000_000);
    const buckets = new AgentBuckets(2, 10, 3, clock.nowUs());
    expect([0, 1, 2].map(() => buckets.take(0, clock.nowUs()))).toEqual([0, 0, 0]);
    // empty now: the 4th token comes in 100 ms, and a second caller queues behind it
    expect(buckets.take(0, clock.nowUs())).toBe(100_000);
    expect(buckets.take(0, clock.nowUs())).toBe(200_000);
    clock.advanceMs(100);
    expect(buckets.take(0, clock.nowUs())).toBe(200_000); // behind the two reserved ones
    // the other agent is untouched
    expect(buckets.take(1, clock.nowUs())).toBe(0);
  });

  it('refills at the rate up to the burst, no further', () => {
    const clock = new FakeClock(0);
    const buckets = new AgentBuckets(1, 4, 2, 0);
    buckets.take(0, 0);
    buckets.take(0, 0);
    expect(buckets.peek(0, 0)).toBe(250_000);
    clock.advanceMs(250);
    expect(buckets.take(0, clock.nowUs())).toBe(0);
    expect(buckets.peek(0, clock.nowUs())).toBe(250_000);
    clock.advanceMs(10_000); // a long idle refills only `burst` tokens
    expect(buckets.take(0, clock.nowUs())).toBe(0);
    expect(buckets.take(0, clock.nowUs())).toBe(0);
    expect(buckets.take(0, clock.nowUs())).toBe(250_000);
  });

  it('peek and a refused tryTake reserve nothing', () => {
    const buckets = new AgentBuckets(1, 2, 1, 0);
    expect(buckets.tryTake(0, 0)).toBe(true);
    expect(buckets.peek(0, 0)).toBe(500_000);
    expect(buckets.peek(0, 0)).toBe(500_000);
    expect(buckets.tryTake(0, 100_000)).toBe(false);
    expect(buckets.tryTake(0, 100_000)).toBe(false);
    expect(buckets.peek(0, 100_000)).toBe(400_000);
    expect(buckets.tryTake(0, 500_000)).toBe(true);
  });

  it('rounds waits up to whole microseconds (a caller never goes early)', () => {
    const buckets = new AgentBuckets(1, 3, 1, 0); // interval 333333.33 us
    expect(buckets.take(0, 0)).toBe(0);
    expect(buckets.take(0, 0)).toBe(333_334);
    expect(buckets.take(0, 0)).toBe(666_667);
  });

  it('rejects bad settings and out-of-range agents with a clear error', () => {
    expect(() => new AgentBuckets(3, 0, 1, 0)).toThrow(/rate/);
    expect(() => new AgentBuckets(3, 5, 0.5, 0)).toThrow(/burst/);
    expect(() => new AgentBuckets(-1, 5, 1, 0)).toThrow(/agent count/);
    const buckets = new AgentBuckets(3, 5, 1, 0);
    expect(() => buckets.take(3, 0)).toThrow(/agent 3 out of range/);
    expect(() => buckets.peek(-1, 0)).toThrow(/out of range/);
    expect(() => buckets.tryTake(1.5, 0)).toThrow(/out of range/);
  });

  it('never grants more than burst + rate*T in any window of length T, whatever the calls (property)', () => {
    const call: fc.Arbitrary<Call> = fc.record({
      agent: fc.integer({ min: 0, max: 2 }),
      // mostly bunched calls (the interesting case), sometimes long gaps
      gapUs: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 50_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 5_000_000 }) }),
      mode: fc.constantFrom('take' as const, 'take' as const, 'tryTake' as const),
    });
    fc.assert(
      fc.property(rateArb, fc.double({ min: 1, max: 20, noNaN: true }), fc.integer({ min: 0, max: 1e12 }), fc.array(call, { maxLength: 150 }), (rate, burst, startUs, calls) => {
        const clock = new FakeClock(startUs);
        const buckets = new AgentBuckets(3, rate, burst, startUs);
        const grants: number[][] = [[], [], []];
        for (const c of calls) {
          clock.advanceUs(c.gapUs);
          const now = clock.nowUs();
          if (c.mode === 'take') {
            const wait = buckets.take(c.agent, now);
            expect(Number.isInteger(wait) && wait >= 0).toBe(true);
            grants[c.agent].push(now + wait);
          } else if (buckets.tryTake(c.agent, now)) {
            grants[c.agent].push(now);
          }
        }
        for (const g of grants) assertWithinBound(g, rate, burst);
      }),
      { numRuns: 300 },
    );
  });

  it('gives every call 0 when calls are spaced at least 1/rate apart (property)', () => {
    fc.assert(
      fc.property(rateArb, fc.double({ min: 1, max: 20, noNaN: true }), fc.integer({ min: 0, max: 1e12 }), fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 100 }), (rate, burst, startUs, extras) => {
        const clock = new FakeClock(startUs);
        const buckets = new AgentBuckets(1, rate, burst, startUs);
        const spacing = Math.ceil(1e6 / rate);
        for (const extra of extras) {
          expect(buckets.take(0, clock.nowUs())).toBe(0);
          clock.advanceUs(spacing + extra);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('delays a queue of callers to exactly one interval apart once the burst is spent (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 50 }), (rate, burst, queue) => {
        const buckets = new AgentBuckets(1, rate, burst, 0);
        for (let k = 0; k < burst; k++) expect(buckets.take(0, 0)).toBe(0);
        for (let k = 1; k <= queue; k++) expect(buckets.take(0, 0)).toBe(Math.ceil((k * 1e6) / rate - 1e-9));
      }),
      { numRuns: 200 },
    );
  });
});
