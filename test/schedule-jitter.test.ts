import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  cdfInverse,
  exponentialInverse,
  jitterInverse,
  normalCdf,
  normalInverse,
  normalQuantile,
  seededUniform,
  uniformInverse,
  type InverseCdf,
} from '../src/schedule/jitter.js';

const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

/** Valid CDF points: sorted x and F in [0,1]. */
const pointsArb = fc
  .array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 8 })
  .map((pts) => {
    const xs = pts.map((p) => p[0]).sort((a, b) => a - b);
    const fs = pts.map((p) => p[1]).sort((a, b) => a - b);
    return xs.map((x, i) => [x, fs[i]] as [number, number]);
  })
  .filter((pts) => pts[pts.length - 1][0] < 1 || pts[pts.length - 1][1] === 1);

/** The forward CDF of the piecewise-linear points, with (0,0) and (1,1) implied. */
function cdfOf(points: [number, number][]): (x: number) => number {
  const pts: [number, number][] = [[0, 0], ...points, [1, 1]];
  return (x) => {
    let f = 0;
    for (let i = 0; i + 1 < pts.length; i++) {
      const [x0, f0] = pts[i];
      const [x1, f1] = pts[i + 1];
      if (x >= x1) f = Math.max(f, f1);
      else if (x > x0) f = Math.max(f, f0 + ((x - x0) / (x1 - x0)) * (f1 - f0));
      else if (x === x0) f = Math.max(f, f0);
    }
    return f;
  };
}

const inverses: [string, fc.Arbitrary<InverseCdf>][] = [
  ['uniform', fc.constant(uniformInverse())],
  ['normal', fc.double({ min: 0.001, max: 5, noNaN: true }).map((s) => normalInverse(s))],
  ['exponential', fc.double({ min: 0.001, max: 10, noNaN: true }).map((m) => exponentialInverse(m))],
  ['cdf', pointsArb.map((p) => cdfInverse(p))],
];

describe('inverse CDFs', () => {
  for (const [name, arb] of inverses) {
    it(`${name}: maps [0,1) into [0,1), non-decreasing (property)`, () => {
      fc.assert(
        fc.property(arb, unit, unit, (inv, a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const x = inv(lo);
          const y = inv(hi);
          return x >= 0 && x < 1 && y >= 0 && y < 1 && x <= y + 1e-12;
        }),
        { numRuns: 500 },
      );
    });
  }

  it('uniform is the identity', () => {
    expect(uniformInverse()(0.25)).toBe(0.25);
  });

  it('normal: symmetric around the middle; sigma places 1-sigma quantiles (truncation negligible at sigma 0.1)', () => {
    const inv = normalInverse(0.1);
    expect(inv(0.5)).toBeCloseTo(0.5, 6);
    expect(inv(normalCdf(1))).toBeCloseTo(0.6, 4);
    expect(inv(normalCdf(-1))).toBeCloseTo(0.4, 4);
    fc.assert(fc.property(fc.double({ min: 0.001, max: 0.999, noNaN: true }), (u) => Math.abs(inv(u) + inv(1 - u) - 1) < 1e-6));
  });

  it('normal with a wide sigma is truncated, not clipped: no pile-up at the edges', () => {
    const inv = normalInverse(1);
    expect(inv(0)).toBeLessThan(1e-6);
    expect(inv(0.001)).toBeGreaterThan(0.0005); // clipping would put a ~31% mass at exactly 0
  });

  it('exponential: F^-1 inverts the truncated exponential CDF (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 10, noNaN: true }), unit, (mean, u) => {
        const x = exponentialInverse(mean)(u);
        const F = (1 - Math.exp(-x / mean)) / (1 - Math.exp(-1 / mean));
        return Math.abs(F - u) < 1e-9;
      }),
    );
    // Default mean 1/4: half the arrivals within the first ~16% of the window.
    expect(exponentialInverse()(0.5)).toBeCloseTo(-0.25 * Math.log(1 - 0.5 * (1 - Math.exp(-4))), 12);
  });

  it('cdf: F^-1(u) is where F crosses u (property)', () => {
    fc.assert(
      fc.property(pointsArb, unit, (points, u) => {
        const x = cdfInverse(points)(u);
        const F = cdfOf(points);
        // u lies between F a nanowindow before and after x: holds at jumps, and on steep segments
        // (where one ulp of x is a visible step of F) without a loose tolerance on F.
        return F(Math.min(1, x + 1e-9)) >= u - 1e-12 && F(Math.max(0, x - 1e-9)) <= u + 1e-12;
      }),
      { numRuns: 500 },
    );
  });

  it('cdf: an atom at x = 0 puts that share at the window start', () => {
    const inv = cdfInverse([[0, 0.3], [1, 1]]);
    expect(inv(0.1)).toBe(0);
    expect(inv(0.29)).toBe(0);
    expect(inv(0.65)).toBeCloseTo(0.5, 12);
  });

  it('cdf: bad points are errors naming the point', () => {
    expect(() => cdfInverse([[0.5, 0.6], [0.4, 0.7]])).toThrow(/point 1 \[0\.4, 0\.7\] goes back/);
    expect(() => cdfInverse([[0.5, 0.6], [0.6, 0.5]])).toThrow(/point 1/);
    expect(() => cdfInverse([[1.5, 0.6]])).toThrow(/point 0 \[1\.5, 0\.6\] must have x and F\(x\) within 0\.\.1/);
    expect(() => cdfInverse([[0.5, 0.5], [1, 0.9]])).toThrow(/F\(1\) must be 1/);
  });

  it('jitterInverse picks the distribution of the spec', () => {
    expect(jitterInverse({ kind: 'uniform' })(0.3)).toBe(0.3);
    expect(jitterInverse({ kind: 'normal' })(0.5)).toBeCloseTo(0.5, 6);
    expect(jitterInverse({ kind: 'exponential', mean: 0.1 })(0.5)).toBeCloseTo(exponentialInverse(0.1)(0.5), 12);
    expect(jitterInverse({ kind: 'cdf', points: [[0.5, 1]] })(0.5)).toBeCloseTo(0.25, 12);
    expect(() => jitterInverse({ kind: 'normal', sigma: 0 })).toThrow(/sigma must be a positive share/);
  });
});

describe('normal helpers', () => {
  it('normalQuantile inverts normalCdf (property)', () => {
    fc.assert(fc.property(fc.double({ min: -6, max: 6, noNaN: true }), (z) => Math.abs(normalQuantile(normalCdf(z)) - z) < 1e-4 * Math.max(1, Math.abs(z) ** 3)));
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
  });
});

describe('seededUniform', () => {
  it('same seed, same draws; values in [0,1); neighbouring seeds start apart', () => {
    const a = seededUniform(1);
    const b = seededUniform(1);
    const c = seededUniform(2);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / 1000 - 0.5)).toBeLessThan(0.05);
    // Raw xorshift32 seeded with 1 or 2 starts with tiny draws; the mixed seed does not.
    const firsts = Array.from({ length: 20 }, (_, s) => seededUniform(s)());
    expect(Math.min(...firsts)).toBeGreaterThan(0.0001);
    expect(new Set(firsts).size).toBe(20);
    expect(c()).not.toBe(seededUniform(1)());
  });

  it('a salt gives an independent stream from the same seed', () => {
    expect(seededUniform(5, 1)()).not.toBe(seededUniform(5, 2)());
    expect(seededUniform(5, 1)()).toBe(seededUniform(5, 1)());
  });
});
