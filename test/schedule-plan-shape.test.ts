import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildPlan } from '../src/schedule/plan.js';
import { describePlan, sparkline } from '../src/schedule/plan-shape.js';
import type { PhaseSpec } from '../src/scenario/types.js';

const input = (phases: PhaseSpec[]) => ({ file: 'test.yaml', seed: 7, agents: { count: 100, expires: 60 }, phases });

describe('plan shape', () => {
  it('peak per second is a sliding one-second window per phase', () => {
    const plan = buildPlan(
      input([
        { name: 'c', type: 'constant', rate: 10, durationMs: 3000 },
        { name: 'b', type: 'burst', windowMs: 200, jitter: { kind: 'uniform' } },
      ]),
    );
    const shape = describePlan(plan);
    expect(shape.phases.map((p) => [p.name, p.arrivals, p.peakPerSecond])).toEqual([
      ['c', 30, 10],
      ['b', 100, 100],
    ]);
    expect(shape.perSecond).toEqual([10, 10, 10, 100]);
    expect(shape.total).toBe(130);
  });

  it('per-second counts add up to the plan; a phase peak is at least its busiest aligned second (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ rate: fc.integer({ min: 1, max: 300 }), durationMs: fc.integer({ min: 1, max: 4000 }), burst: fc.boolean() }), { minLength: 1, maxLength: 4 }),
        (specs) => {
          const phases = specs.map((p, i): PhaseSpec =>
            p.burst ? { name: `b${i}`, type: 'burst', windowMs: p.durationMs, jitter: { kind: 'uniform' } } : { name: `c${i}`, type: 'constant', rate: p.rate, durationMs: p.durationMs },
          );
          const plan = buildPlan(input(phases));
          const shape = describePlan(plan);
          expect(shape.perSecond.reduce((a, b) => a + b, 0)).toBe(plan.offsetsUs.length);
          expect(shape.perSecond.length).toBe(Math.ceil(plan.totalUs / 1e6));
          for (const [p, ph] of shape.phases.entries()) {
            const perSecond = new Map<number, number>();
            for (let i = 0; i < plan.phaseOf.length; i++) {
              if (plan.phaseOf[i] === p) perSecond.set(Math.floor(plan.offsetsUs[i] / 1e6), (perSecond.get(Math.floor(plan.offsetsUs[i] / 1e6)) ?? 0) + 1);
            }
            expect(ph.peakPerSecond).toBeGreaterThanOrEqual(Math.max(0, ...perSecond.values()));
            expect(ph.peakPerSecond).toBeLessThanOrEqual(ph.arrivals);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('sparkline squeezes long plans keeping the peaks', () => {
    const values = Array.from({ length: 200 }, (_, i) => (i === 137 ? 50 : i < 100 ? 0 : 5));
    const s = sparkline(values, 40);
    expect(s.secondsPerColumn).toBe(5);
    expect(s.line.length).toBe(40);
    expect(s.max).toBe(50);
    expect(s.line[27]).toBe('█');
    expect(s.line.slice(0, 20)).toBe(' '.repeat(20));
    expect(s.line[30]).toBe('▁');
  });
});
