import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildPlan, MAX_PLAN_ARRIVALS, PlanError, type PlanInput } from '../src/schedule/plan.js';
import { ACTION_CODE, type ArrivalPlan } from '../src/schedule/plan-types.js';
import { describePlan } from '../src/schedule/plan-shape.js';
import type { JitterSpec, PhaseSpec, T0Spec } from '../src/scenario/types.js';
import type { ReplayRow } from '../src/schedule/replay.js';

function input(phases: PhaseSpec[], opts: { agents?: number; t0?: T0Spec; seed?: number } = {}): PlanInput {
  return { file: 'test.yaml', seed: opts.seed ?? 7, agents: { count: opts.agents ?? 100, expires: 60 }, t0: opts.t0, phases };
}

/** Arrival indices of phase p (the plan keeps each phase's arrivals together since phases do not overlap). */
function arrivalsOf(plan: ArrivalPlan, p: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < plan.phaseOf.length; i++) if (plan.phaseOf[i] === p) out.push(i);
  return out;
}

const jitterArb: fc.Arbitrary<JitterSpec> = fc.oneof(
  fc.constant<JitterSpec>({ kind: 'uniform' }),
  fc.double({ min: 0.01, max: 1, noNaN: true }).map<JitterSpec>((sigma) => ({ kind: 'normal', sigma })),
  fc.double({ min: 0.01, max: 2, noNaN: true }).map<JitterSpec>((mean) => ({ kind: 'exponential', mean })),
  fc.constant<JitterSpec>({ kind: 'cdf', points: [[0.2, 0.7], [0.9, 0.8]] }),
);

const phaseArb: fc.Arbitrary<PhaseSpec> = fc.oneof(
  fc.record({ type: fc.constant('constant' as const), rate: fc.double({ min: 0.1, max: 500, noNaN: true }), durationMs: fc.integer({ min: 1, max: 5000 }) }),
  fc.record({
    type: fc.constant('ramp' as const),
    fromRate: fc.double({ min: 0, max: 300, noNaN: true }),
    toRate: fc.double({ min: 0, max: 300, noNaN: true }),
    durationMs: fc.integer({ min: 1, max: 5000 }),
  }),
  fc.record({
    type: fc.constant('steps' as const),
    fromRate: fc.integer({ min: 0, max: 100 }),
    stepRate: fc.integer({ min: 1, max: 100 }),
    steps: fc.integer({ min: 1, max: 4 }),
    stepMs: fc.integer({ min: 1, max: 1000 }),
  }),
  fc.record({ type: fc.constant('poisson' as const), rate: fc.double({ min: 0.1, max: 500, noNaN: true }), durationMs: fc.integer({ min: 1, max: 5000 }) }),
  fc.record({
    type: fc.constant('burst' as const),
    windowMs: fc.integer({ min: 1, max: 5000 }),
    jitter: jitterArb,
    agents: fc.option(fc.record({ share: fc.double({ min: 0.01, max: 1, noNaN: true }) }), { nil: undefined }),
  }),
  fc.record({ type: fc.constant('idle' as const), durationMs: fc.integer({ min: 0, max: 3000 }) }),
).map((p) => p as PhaseSpec);

const phasesArb = fc.array(phaseArb, { minLength: 1, maxLength: 5 }).map((ps) => ps.map((p, i) => ({ ...p, name: `p${i}` }) as PhaseSpec));

describe('buildPlan: invariants over random phase lists (property)', () => {
  it('offsets sorted, every arrival inside its phase span, phases back to back, counts and agents consistent', () => {
    fc.assert(
      fc.property(phasesArb, fc.integer({ min: 1, max: 300 }), fc.integer(), (phases, agents, seed) => {
        const plan = buildPlan(input(phases, { agents, seed }));
        const n = plan.offsetsUs.length;
        // Plain checks, one expect per kind of failure (an expect per arrival is slow).
        const unsorted: number[] = [];
        for (let i = 1; i < n; i++) if (plan.offsetsUs[i] < plan.offsetsUs[i - 1]) unsorted.push(i);
        expect(unsorted).toEqual([]);
        let cursor = 0;
        for (const [p, ph] of plan.phases.entries()) {
          expect(ph.startUs).toBe(cursor);
          cursor = ph.endUs;
          const idx = arrivalsOf(plan, p);
          expect(ph.arrivals).toBe(idx.length);
          const wanted = phases[p].type === 'burst' ? ACTION_CODE.login : ACTION_CODE.auto;
          const bad = idx.filter((i) => {
            const t = plan.offsetsUs[i];
            return !(t >= ph.startUs && t < ph.endUs && Number.isInteger(t) && plan.agents[i] >= 0 && plan.agents[i] < agents && plan.actions[i] === wanted);
          });
          expect(bad).toEqual([]);
        }
        expect(plan.totalUs).toBe(cursor);
        expect(plan.marks.map((m) => m.name)).toEqual(phases.map((p) => `phase:${p.name}`));
      }),
      { numRuns: 150 },
    );
  });

  it('the same seed gives the same plan, bit for bit', () => {
    fc.assert(
      fc.property(phasesArb, fc.integer(), (phases, seed) => {
        expect(buildPlan(input(phases, { seed }))).toEqual(buildPlan(input(phases, { seed })));
      }),
      { numRuns: 60 },
    );
  });

  it('another seed changes random phases (poisson gaps, burst jitter)', () => {
    const phases: PhaseSpec[] = [
      { name: 'p', type: 'poisson', rate: 200, durationMs: 1000 },
      { name: 'b', type: 'burst', windowMs: 1000, jitter: { kind: 'uniform' } },
    ];
    const a = buildPlan(input(phases, { seed: 1 }));
    const b = buildPlan(input(phases, { seed: 2 }));
    expect(Array.from(a.offsetsUs)).not.toEqual(Array.from(b.offsetsUs));
    // A phase's own seed overrides the scenario's.
    const own = phases.map((p) => ({ ...p, seed: 99 }));
    expect(buildPlan(input(own, { seed: 1 })).offsetsUs).toEqual(buildPlan(input(own, { seed: 2 })).offsetsUs);
  });
});

describe('rate phases', () => {
  it('constant: floor(rate x duration) arrivals at k/rate (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.1, max: 2000, noNaN: true }), fc.integer({ min: 1, max: 20_000 }), (rate, durationMs) => {
        const plan = buildPlan(input([{ name: 'c', type: 'constant', rate, durationMs }]));
        const expected = Math.floor((rate * durationMs) / 1000 + 1e-9);
        expect(plan.offsetsUs.length).toBe(expected);
        for (let k = 0; k < expected; k += Math.max(1, Math.floor(expected / 20))) {
          expect(Math.abs(plan.offsetsUs[k] - (k * 1e6) / rate)).toBeLessThanOrEqual(0.5 + 1e-6);
        }
      }),
      { numRuns: 200 },
    );
    expect(buildPlan(input([{ name: 'c', type: 'constant', rate: 0.1, durationMs: 30_000 }])).offsetsUs.length).toBe(3);
    expect(Array.from(buildPlan(input([{ name: 'c', type: 'constant', rate: 4, durationMs: 1000 }])).offsetsUs)).toEqual([0, 250_000, 500_000, 750_000]);
  });

  it('ramp: round(area) arrivals, the rate rising when to > from and the integrated rate hitting k at arrival k (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 100, max: 10_000 }),
        (fromRate, toRate, durationMs) => {
          const plan = buildPlan(input([{ name: 'r', type: 'ramp', fromRate, toRate, durationMs }]));
          const D = durationMs / 1000;
          expect(plan.offsetsUs.length).toBe(Math.round(((fromRate + toRate) / 2) * D));
          const area = (tUs: number) => fromRate * (tUs / 1e6) + ((toRate - fromRate) * (tUs / 1e6) ** 2) / (2 * D);
          const rateAt = (tUs: number) => fromRate + ((toRate - fromRate) * tUs) / 1e6 / D;
          const t = plan.offsetsUs;
          // Rounding to whole microseconds moves A(t) by at most rate x 0.5 us.
          const offTarget = [...t.keys()].filter((k) => Math.abs(area(t[k]) - k) > rateAt(t[k]) * 0.6e-6 + 1e-6);
          expect(offTarget).toEqual([]);
          // Gaps shrink on a rising ramp and grow on a falling one (1 us of rounding either way).
          const gap = (k: number) => t[k] - t[k - 1];
          const wrongWay = [...t.keys()].filter((k) => k >= 2 && (toRate > fromRate ? gap(k) > gap(k - 1) + 1 : toRate < fromRate ? gap(k) < gap(k - 1) - 1 : false));
          expect(wrongWay).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('ramp 0 -> 100/s over 10 s: 500 arrivals, first half holds a quarter of them', () => {
    const plan = buildPlan(input([{ name: 'r', type: 'ramp', fromRate: 0, toRate: 100, durationMs: 10_000 }]));
    expect(plan.offsetsUs.length).toBe(500);
    const firstHalf = plan.offsetsUs.filter((t) => t < 5e6).length;
    expect(firstHalf).toBe(125);
  });

  it('steps: each plateau at its own rate, starting on its boundary', () => {
    const plan = buildPlan(input([{ name: 's', type: 'steps', fromRate: 10, stepRate: 20, steps: 3, stepMs: 1000 }]));
    expect(plan.phases[0]).toMatchObject({ startUs: 0, endUs: 3_000_000, arrivals: 10 + 30 + 50 });
    expect(describePlan(plan).perSecond).toEqual([10, 30, 50]);
    expect(plan.offsetsUs[10]).toBe(1_000_000);
    expect(plan.offsetsUs[40]).toBe(2_000_000);
  });

  it('poisson: the count and the mean gap match the rate for a fixed seed', () => {
    const plan = buildPlan(input([{ name: 'p', type: 'poisson', rate: 1000, durationMs: 20_000 }], { seed: 12345 }));
    const n = plan.offsetsUs.length;
    // Poisson(20000): sd ~141; 4 sd.
    expect(Math.abs(n - 20_000)).toBeLessThan(570);
    const gaps: number[] = [];
    for (let i = 1; i < n; i++) gaps.push(plan.offsetsUs[i] - plan.offsetsUs[i - 1]);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(Math.abs(mean - 1000)).toBeLessThan(30);
    // Exponential gaps: about e^-1 of them exceed the mean.
    const longer = gaps.filter((g) => g > 1000).length / gaps.length;
    expect(Math.abs(longer - Math.exp(-1))).toBeLessThan(0.02);
    // And the per-second counts vary (a constant rate would give exactly 1000 each second).
    expect(new Set(describePlan(plan).perSecond).size).toBeGreaterThan(5);
  });

  it('poisson over many seeds: the mean count is the rate x duration', () => {
    let sum = 0;
    for (let seed = 0; seed < 50; seed++) sum += buildPlan(input([{ name: 'p', type: 'poisson', rate: 50, durationMs: 2000 }], { seed })).offsetsUs.length;
    // 50 runs of Poisson(100): mean 100, sd of the mean ~1.4.
    expect(Math.abs(sum / 50 - 100)).toBeLessThan(6);
  });
});

describe('agent choice', () => {
  it('round-robin over the selection, continuing across phases so consecutive arrivals hit different agents', () => {
    const plan = buildPlan(
      input(
        [
          { name: 'a', type: 'constant', rate: 7, durationMs: 1000 },
          { name: 'b', type: 'constant', rate: 5, durationMs: 1000 },
          { name: 'c', type: 'poisson', rate: 50, durationMs: 1000, agents: { from: 2, to: 5 } },
        ],
        { agents: 10 },
      ),
    );
    const agents = Array.from(plan.agents);
    expect(agents.slice(0, 12)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    const c = arrivalsOf(plan, 2).map((i) => plan.agents[i]);
    expect(c.slice(0, 6)).toEqual([2, 3, 4, 2, 3, 4]);
    for (let i = 1; i < agents.length; i++) expect(agents[i]).not.toBe(agents[i - 1]);
  });

  it('share takes the first agents; from/to an index range; a bad range names the phase', () => {
    const plan = buildPlan(input([{ name: 'c', type: 'constant', rate: 100, durationMs: 1000, agents: { share: 0.25 } }], { agents: 8 }));
    expect(new Set(plan.agents)).toEqual(new Set([0, 1]));
    expect(() => buildPlan(input([{ name: 'late', type: 'constant', rate: 1, durationMs: 1000, agents: { from: 5, to: 20 } }], { agents: 10 }))).toThrow(
      /phase "late": agents\.to 20/,
    );
  });

  it('burst: every selected agent exactly once, inside the window (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 399 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 60_000 }),
        jitterArb,
        fc.integer(),
        (count, fromRaw, width, windowMs, jitter, seed) => {
          const from = fromRaw % count;
          const to = Math.min(count, from + width);
          const plan = buildPlan(
            input(
              [
                { name: 'pre', type: 'idle', durationMs: 500 },
                { name: 'b', type: 'burst', windowMs, jitter, agents: { from, to } },
              ],
              { agents: count, seed },
            ),
          );
          const agents = Array.from(plan.agents).sort((a, b) => a - b);
          expect(agents).toEqual(Array.from({ length: to - from }, (_, i) => from + i));
          expect(plan.offsetsUs.filter((t) => t < 500_000 || t >= 500_000 + windowMs * 1000).length).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('burst with a custom CDF: the share of agents acting before x is F(x)', () => {
    const points: [number, number][] = [[0.1, 0.5], [0.5, 0.6], [0.9, 0.95]];
    const plan = buildPlan(input([{ name: 'b', type: 'burst', windowMs: 10_000, jitter: { kind: 'cdf', points } }], { agents: 20_000 }));
    const shareBefore = (x: number) => plan.offsetsUs.filter((t) => t < x * 10_000_000).length / 20_000;
    // Binomial sd at n = 20000 is at most 0.0036.
    expect(shareBefore(0.05)).toBeCloseTo(0.25, 1);
    expect(Math.abs(shareBefore(0.1) - 0.5)).toBeLessThan(0.015);
    expect(Math.abs(shareBefore(0.3) - 0.55)).toBeLessThan(0.015);
    expect(Math.abs(shareBefore(0.5) - 0.6)).toBeLessThan(0.015);
    expect(Math.abs(shareBefore(0.9) - 0.95)).toBeLessThan(0.015);
  });

  it('burst: which agent acts when is random (agent index and time uncorrelated), and the times are uniform', () => {
    const n = 10_000;
    const plan = buildPlan(input([{ name: 'b', type: 'burst', windowMs: 1000, jitter: { kind: 'uniform' } }], { agents: n }));
    // Pearson correlation of agent index with arrival rank: ~N(0, 1/sqrt(n)) = 0.01 sd when independent.
    const mean = (n - 1) / 2;
    let cov = 0;
    let varA = 0;
    for (let rank = 0; rank < n; rank++) {
      cov += (plan.agents[rank] - mean) * (rank - mean);
      varA += (rank - mean) ** 2;
    }
    expect(Math.abs(cov / varA)).toBeLessThan(0.04);
    // Deciles of the window each hold about a tenth (binomial sd 30 at 1000).
    const deciles = Array.from({ length: 10 }, (_, d) => plan.offsetsUs.filter((t) => t >= d * 1e5 && t < (d + 1) * 1e5).length);
    expect(deciles.filter((c) => Math.abs(c - 1000) >= 120)).toEqual([]);
  });

  it('burst with a normal jitter clusters around the middle of the window', () => {
    const plan = buildPlan(input([{ name: 'b', type: 'burst', windowMs: 1000, jitter: { kind: 'normal', sigma: 0.1 } }], { agents: 10_000 }));
    const within1Sigma = plan.offsetsUs.filter((t) => Math.abs(t - 500_000) < 100_000).length / 10_000;
    expect(Math.abs(within1Sigma - 0.6827)).toBeLessThan(0.02);
  });
});

describe('T0 and marks', () => {
  it('offset T0: the anchored phase starts at T0, the gap before it is idle; marks sorted', () => {
    const plan = buildPlan(
      input(
        [
          { name: 'warm', type: 'constant', rate: 10, durationMs: 2000 },
          { name: 'publish', type: 'burst', windowMs: 1000, jitter: { kind: 'uniform' }, anchor: 't0' },
          { name: 'after', type: 'constant', rate: 10, durationMs: 1000 },
        ],
        { t0: { offsetMs: 5000 }, agents: 20 },
      ),
    );
    expect(plan.t0Us).toBe(5_000_000);
    expect(plan.phases.map((p) => [p.startUs, p.endUs])).toEqual([[0, 2e6], [5e6, 6e6], [6e6, 7e6]]);
    expect(plan.offsetsUs.filter((t) => t >= 2e6 && t < 5e6).length).toBe(0);
    expect(plan.marks).toEqual([
      { name: 'phase:warm', offsetUs: 0 },
      { name: 'phase:publish', offsetUs: 5e6 },
      { name: 'T0', offsetUs: 5e6 },
      { name: 'phase:after', offsetUs: 6e6 },
    ]);
    expect(plan.totalUs).toBe(7e6);
    expect(describePlan(plan).perSecond).toEqual([10, 10, 0, 0, 0, 20, 10]);
  });

  it('offset T0 before the preceding phases end is an error naming the anchored phase', () => {
    expect(() =>
      buildPlan(
        input(
          [
            { name: 'warm', type: 'constant', rate: 10, durationMs: 6000 },
            { name: 'publish', type: 'burst', windowMs: 1000, jitter: { kind: 'uniform' }, anchor: 't0' },
          ],
          { t0: { offsetMs: 5000 } },
        ),
      ),
    ).toThrow(/test\.yaml: phase "publish": starts at T0 \(5\.000s\) but the phases before it end at 6\.000s/);
  });

  it('wall-clock T0: T0 = the summed length of the phases before the anchored one', () => {
    const plan = buildPlan(
      input(
        [
          { name: 'login', type: 'burst', windowMs: 30_000, jitter: { kind: 'uniform' } },
          { name: 'steady', type: 'constant', rate: 1, durationMs: 10_000 },
          { name: 'publish', type: 'burst', windowMs: 5000, jitter: { kind: 'uniform' }, anchor: 't0' },
        ],
        { t0: { at: 'Fri 16:00', tz: 'America/Chicago' } },
      ),
    );
    expect(plan.t0Us).toBe(40_000_000);
    expect(plan.phases[2].startUs).toBe(40_000_000);
    // Without an anchored phase the run starts at the wall-clock moment.
    expect(buildPlan(input([{ name: 'x', type: 'idle', durationMs: 1000 }], { t0: { at: 'Fri 16:00', tz: 'UTC' } })).t0Us).toBe(0);
  });

  it('an anchored phase without t0 is an error', () => {
    expect(() => buildPlan(input([{ name: 'p', type: 'idle', durationMs: 1, anchor: 't0' }]))).toThrow(/phase "p": anchored at T0 but the scenario sets no t0/);
  });
});

describe('replay phases', () => {
  const rows: ReplayRow[] = [
    { offsetMs: 1000, agent: 3, action: 'login', line: 2 },
    { offsetMs: 0, agent: 1, line: 3 },
    { offsetMs: 4000, agent: 2, action: 'options', line: 4 },
    { offsetMs: 1000, agent: 0, action: 'unregister', line: 5 },
  ];
  const readReplay = (file: string) => {
    expect(file).toBe('/data/incident.csv');
    return rows;
  };

  it('offsets divided by compression, rows in time order (ties in file order), actions per row or the phase default', () => {
    const plan = buildPlan(
      input(
        [
          { name: 'pre', type: 'idle', durationMs: 1000 },
          { name: 'incident', type: 'replay', file: '/data/incident.csv', compression: 2, action: 'options' },
          { name: 'post', type: 'idle', durationMs: 1000 },
        ],
        { agents: 4 },
      ),
      { readReplay },
    );
    expect(Array.from(plan.offsetsUs)).toEqual([1_000_000, 1_500_000, 1_500_000, 3_000_000]);
    expect(Array.from(plan.agents)).toEqual([1, 3, 0, 2]);
    expect(Array.from(plan.actions)).toEqual([ACTION_CODE.options, ACTION_CODE.login, ACTION_CODE.unregister, ACTION_CODE.options]);
    // Phase length = the last offset (2 s compressed), plus 1 us to keep it inside [start, end).
    expect(plan.phases[1]).toMatchObject({ startUs: 1_000_000, endUs: 3_000_001, arrivals: 4 });
    expect(plan.phases[2].startUs).toBe(3_000_001);
  });

  it('an agent beyond the scenario count names the file and line', () => {
    expect(() => buildPlan(input([{ name: 'r', type: 'replay', file: '/data/incident.csv', compression: 1 }], { agents: 3 }), { readReplay })).toThrow(
      '/data/incident.csv:2: agent: agent 3 is beyond the scenario\'s 3 agents (0..2)',
    );
  });
});

describe('size guard', () => {
  it('refuses a plan over 20 million arrivals, naming the phase, before building it', () => {
    const started = performance.now();
    expect(() =>
      buildPlan(
        input([
          { name: 'ok', type: 'constant', rate: 1000, durationMs: 1000 },
          { name: 'typo', type: 'constant', rate: 1_000_000, durationMs: 60_000 },
        ]),
      ),
    ).toThrow(new RegExp(`phase "typo": the plan would exceed ${MAX_PLAN_ARRIVALS} arrivals \\(1000 before this phase, this one adds 60000000\\)`));
    expect(() => buildPlan(input([{ name: 'p', type: 'poisson', rate: 1e6, durationMs: 30_000 }]))).toThrow(/phase "p": the plan would exceed/);
    expect(() => buildPlan(input([{ name: 'b', type: 'burst', windowMs: 1, jitter: { kind: 'uniform' } }], { agents: 25_000_000 }))).toThrow(PlanError);
    expect(() => buildPlan(input([{ name: 's', type: 'steps', fromRate: 0, stepRate: 1e-9, steps: 1e9, stepMs: 1 }]))).toThrow(/phase "s": steps must be an integer in 1\.\.100000/);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
