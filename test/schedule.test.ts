import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConstantRate, PlannedArrivals } from '../src/schedule/arrivals.js';
import { Dispatcher } from '../src/schedule/dispatcher.js';
import { FakeClock } from '../src/shared/clock.js';

describe('ConstantRate', () => {
  it('computes the total from rate and duration', () => {
    expect(new ConstantRate(1000, 30_000).total).toBe(30_000);
    expect(new ConstantRate(3, 1000).total).toBe(3);
  });

  it('rejects a non-positive rate or duration', () => {
    expect(() => new ConstantRate(0, 1000)).toThrow(/rate/);
    expect(() => new ConstantRate(10, -1)).toThrow(/duration/);
  });

  it('dueCount agrees with offsetUs for every arrival (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50_000 }), fc.integer({ min: 1, max: 20_000 }), (rate, durationMs) => {
        const source = new ConstantRate(rate, durationMs);
        const step = Math.max(1, Math.floor(source.total / 50));
        for (let k = 0; k < source.total; k += step) {
          const at = source.offsetUs(k);
          if (source.dueCount(at) <= k) return false; // arrival k is due at its own time
          if (at > 0 && source.dueCount(at - 1) > k) return false; // and not a microsecond before
        }
        return source.dueCount(Number.MAX_SAFE_INTEGER) === source.total;
      }),
      { numRuns: 200 },
    );
  });
});

describe('PlannedArrivals', () => {
  it('finds due arrivals by binary search, ties included', () => {
    const plan = new PlannedArrivals(Float64Array.from([0, 10, 10, 10, 50]));
    expect(plan.dueCount(-1)).toBe(0);
    expect(plan.dueCount(0)).toBe(1);
    expect(plan.dueCount(9)).toBe(1);
    expect(plan.dueCount(10)).toBe(4);
    expect(plan.dueCount(1_000)).toBe(5);
  });

  it('rejects an unsorted plan', () => {
    expect(() => new PlannedArrivals(Float64Array.from([5, 1]))).toThrow(/sorted/);
  });
});

describe('Dispatcher (fake clock)', () => {
  it('dispatches each batch against absolute deadlines, never chaining delays', () => {
    const clock = new FakeClock(1_000_000);
    const seen: { k: number; intended: number; now: number }[] = [];
    const dispatcher = new Dispatcher({
      clock,
      source: new ConstantRate(1000, 10), // 10 arrivals, 1 ms apart
      target: { dispatch: (k, intended, now) => seen.push({ k, intended, now }) },
    });
    (dispatcher as unknown as { startUs: number }).startUs = clock.nowUs();
    expect(dispatcher.step(clock.nowUs())).toBe(1000);
    expect(seen.map((s) => s.k)).toEqual([0]);
    // A stall of 5.5 ms: the late batch keeps its original intended times.
    clock.advanceUs(5_500);
    const wait = dispatcher.step(clock.nowUs());
    expect(seen.map((s) => s.k)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen[5].intended).toBe(1_005_000);
    expect(seen[5].now - seen[5].intended).toBe(500);
    expect(wait).toBe(500);
    clock.advanceUs(10_000);
    expect(dispatcher.step(clock.nowUs())).toBe(-1);
    expect(seen).toHaveLength(10);
    expect(seen.map((s) => s.intended)).toEqual(Array.from({ length: 10 }, (_, k) => 1_000_000 + k * 1000));
  });

  it('stop() prevents further dispatch and resolves done', async () => {
    const clock = new FakeClock();
    let count = 0;
    const dispatcher = new Dispatcher({ clock, source: new ConstantRate(100, 1000), target: { dispatch: () => count++ } });
    dispatcher.stop();
    await dispatcher.done;
    clock.advanceMs(2000);
    dispatcher.step(clock.nowUs());
    expect(count).toBe(0);
  });
});
