// Arrival times of one phase, relative to its start, in microseconds (fractions allowed; the plan
// rounds). Each time is computed from the phase start, never chained from the previous arrival's
// rounded time, so rounding cannot drift. Pure: randomness comes in as a seeded Uniform.
import type { InverseCdf, Uniform } from './jitter.js';

export type Emit = (relUs: number) => void;

const US_PER_S = 1e6;

/** floor() that forgives the last bits of float error (0.1 * 30 = 3.0000000000000004 or 2.9999999999999996). */
function floorTolerant(x: number): number {
  return Math.floor(x + 1e-9 * Math.max(1, Math.abs(x)));
}

/** Arrivals at k/rate for k < floor(rate * duration). */
export function constantCount(rate: number, lengthUs: number): number {
  return floorTolerant((rate * lengthUs) / US_PER_S);
}

export function emitConstant(rate: number, lengthUs: number, emit: Emit): void {
  const n = constantCount(rate, lengthUs);
  const gapUs = US_PER_S / rate;
  for (let k = 0; k < n; k++) emit(k * gapUs);
}

/** Linear rate from `fromRate` to `toRate`: round(area under the rate) arrivals. */
export function rampCount(fromRate: number, toRate: number, lengthUs: number): number {
  return Math.round((((fromRate + toRate) / 2) * lengthUs) / US_PER_S);
}

/**
 * Arrival k sits where the integrated rate reaches k: A(t) = a t + (b - a) t^2 / (2 D) = k, solved
 * as t = 2k / (a + sqrt(a^2 + 2 (b - a) k / D)), the form that stays exact when a = b and does not
 * cancel when the ramp falls (b < a).
 */
export function emitRamp(fromRate: number, toRate: number, lengthUs: number, emit: Emit): void {
  const n = rampCount(fromRate, toRate, lengthUs);
  const a = fromRate;
  const slope = ((toRate - fromRate) * US_PER_S) / lengthUs; // rate change per second
  for (let k = 0; k < n; k++) {
    if (k === 0) {
      emit(0);
      continue;
    }
    const root = Math.sqrt(Math.max(0, a * a + 2 * slope * k));
    emit(((2 * k) / (a + root)) * US_PER_S);
  }
}

export interface StepsShape {
  fromRate: number;
  stepRate: number;
  steps: number;
  stepMs: number;
}

export function stepRate(shape: StepsShape, i: number): number {
  return shape.fromRate + i * shape.stepRate;
}

export function stepsCount(shape: StepsShape): number {
  let n = 0;
  for (let i = 0; i < shape.steps; i++) n += constantCount(stepRate(shape, i), shape.stepMs * 1000);
  return n;
}

/** `steps` plateaus of `stepMs`, each a constant rate starting on its own boundary. */
export function emitSteps(shape: StepsShape, emit: Emit): void {
  const stepUs = shape.stepMs * 1000;
  for (let i = 0; i < shape.steps; i++) {
    const rate = stepRate(shape, i);
    if (rate > 0) emitConstant(rate, stepUs, (rel) => emit(i * stepUs + rel));
  }
}

/**
 * A Poisson process: exponential gaps of mean 1/rate from the phase start, until the phase ends.
 * `limit` stops a runaway draw (the caller turns reaching it into an error naming the phase).
 */
export function emitPoisson(rate: number, lengthUs: number, uniform: Uniform, emit: Emit, limit: number): number {
  if (!(rate > 0)) return 0;
  const meanGapUs = US_PER_S / rate;
  let t = 0;
  let n = 0;
  for (;;) {
    t += -Math.log1p(-uniform()) * meanGapUs;
    if (t >= lengthUs || n >= limit) return n;
    emit(t);
    n++;
  }
}

/**
 * A burst: each of `agents` acts once at window * F^-1(u). Drawn already sorted (no sort of a
 * million times): the sorted uniforms come from normalised cumulative exponential spacings, F^-1 is
 * monotone so the times stay sorted, and a seeded shuffle deals them to the agents, which gives
 * every agent an independent draw from F, as drawing per agent and sorting would.
 * Returns the times (ascending) and, at the same index, the agent offset within the selection.
 */
export function burstArrivals(agents: number, windowUs: number, inverse: InverseCdf, uniform: Uniform): { relUs: Float64Array; agentAt: Uint32Array } {
  const relUs = new Float64Array(agents);
  let sum = 0;
  for (let i = 0; i < agents; i++) {
    sum += -Math.log1p(-uniform());
    relUs[i] = sum;
  }
  const total = sum - Math.log1p(-uniform()); // the (n+1)th spacing: U_(k) = S_k / S_(n+1) < 1
  for (let i = 0; i < agents; i++) relUs[i] = windowUs * inverse(relUs[i] / total);
  const agentAt = new Uint32Array(agents);
  for (let i = 0; i < agents; i++) agentAt[i] = i;
  for (let i = agents - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    const t = agentAt[i];
    agentAt[i] = agentAt[j];
    agentAt[j] = t;
  }
  return { relUs, agentAt };
}
