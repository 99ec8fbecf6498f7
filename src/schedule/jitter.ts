// Burst jitter: where in its window each agent acts. Every distribution is an inverse CDF from
// [0,1) onto [0,1) of the window, so a seeded uniform draw u gives the position window * F^-1(u)
// and the same seed gives the same burst. Pure; no Math.random.
import type { JitterSpec } from '../scenario/types.js';
import { xorshift } from '../shared/seeded-random.js';

/** A uniform draw in [0, 1). */
export type Uniform = () => number;
/** Inverse CDF over the window: u in [0,1) -> position in [0,1). */
export type InverseCdf = (u: number) => number;

/** Largest double below 1: keeps every position strictly inside the half-open window. */
const BELOW_ONE = 1 - Number.EPSILON / 2;

/** murmur3's finaliser: spreads small or neighbouring seeds (1, 2, 3...) over all 32 bits. */
export function mixSeed(seed: number, salt = 0): number {
  let h = (Math.trunc(seed) ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0 || 1;
}

/** Seeded uniform source: xorshift32 with a mixed seed, first draws discarded (they track the seed). */
export function seededUniform(seed: number, salt = 0): Uniform {
  const next = xorshift(mixSeed(seed, salt));
  for (let i = 0; i < 4; i++) next();
  // xorshift32 never yields 0, so shift down by one step to cover [0, 1).
  return () => next() - 1 / 0x100000000;
}

export function uniformInverse(): InverseCdf {
  return (u) => clamp01(u);
}

/** Normal around the middle with `sigma` (share of the window), truncated to [0,1): no pile-up at the edges. */
export function normalInverse(sigma = 1 / 6): InverseCdf {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new Error(`jitter normal: sigma must be a positive share of the window, got ${sigma}`);
  const lo = normalCdf(-0.5 / sigma);
  const hi = normalCdf(0.5 / sigma);
  return (u) => clamp01(0.5 + sigma * normalQuantile(lo + clamp01(u) * (hi - lo)));
}

/** Exponential from the window start with `mean` (share of the window), truncated to [0,1). */
export function exponentialInverse(mean = 1 / 4): InverseCdf {
  if (!(mean > 0) || !Number.isFinite(mean)) throw new Error(`jitter exponential: mean must be a positive share of the window, got ${mean}`);
  const mass = -Math.expm1(-1 / mean); // P(X < 1) of the untruncated exponential
  return (u) => clamp01(-mean * Math.log1p(-clamp01(u) * mass));
}

/**
 * Piecewise-linear CDF through `points` [x, F(x)], both non-decreasing in [0,1]. (0,0) is implied
 * before the first point and (1,1) after the last; F(1) must be 1 when x = 1 is given. A point at
 * x = 0 with F > 0, or two points at the same x, put that share of the agents at that very moment.
 */
export function cdfInverse(points: readonly (readonly [number, number])[]): InverseCdf {
  const xs: number[] = [];
  const fs: number[] = [];
  for (const [i, [x, f]] of points.entries()) {
    if (!(x >= 0 && x <= 1) || !(f >= 0 && f <= 1)) throw new Error(`jitter cdf: point ${i} [${x}, ${f}] must have x and F(x) within 0..1`);
    if (i > 0 && (x < points[i - 1][0] || f < points[i - 1][1])) {
      throw new Error(`jitter cdf: point ${i} [${x}, ${f}] goes back from [${points[i - 1][0]}, ${points[i - 1][1]}]; x and F(x) must not decrease`);
    }
    xs.push(x);
    fs.push(f);
  }
  if (xs.length === 0 || xs[0] > 0 || fs[0] > 0) {
    xs.unshift(0);
    fs.unshift(0);
  }
  if (xs[xs.length - 1] < 1) {
    xs.push(1);
    fs.push(1);
  } else if (fs[fs.length - 1] < 1) {
    throw new Error(`jitter cdf: F(1) must be 1 (every agent acts within the window), got ${fs[fs.length - 1]}`);
  }
  return (u) => {
    const v = clamp01(u);
    // First segment whose upper F is above v (binary search: custom CDFs may have many points).
    let lo = 0;
    let hi = fs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (fs[mid + 1] > v) hi = mid;
      else lo = mid + 1;
    }
    const i = Math.min(lo, fs.length - 2);
    const span = fs[i + 1] - fs[i];
    const x = span > 0 ? xs[i] + ((v - fs[i]) / span) * (xs[i + 1] - xs[i]) : xs[i];
    return clamp01(x);
  };
}

export function jitterInverse(spec: JitterSpec): InverseCdf {
  switch (spec.kind) {
    case 'uniform':
      return uniformInverse();
    case 'normal':
      return normalInverse(spec.sigma);
    case 'exponential':
      return exponentialInverse(spec.mean);
    case 'cdf':
      return cdfInverse(spec.points);
  }
}

function clamp01(v: number): number {
  return v <= 0 ? 0 : v >= BELOW_ONE ? BELOW_ONE : v;
}

/** Standard normal CDF via erfc (W. J. Cody's rational approximations through Numerical Recipes' erfc, |err| < 1.2e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Standard normal quantile (Acklam's algorithm, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
