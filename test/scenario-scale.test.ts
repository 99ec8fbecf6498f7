// --time-scale compresses time and keeps the shape: same arrivals, agents and actions, offsets x F.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { scaleScenario } from '../src/scenario/scale.js';
import { buildPlan } from '../src/schedule/plan.js';
import { expandSteps } from '../src/run/scenario-run.js';

const bundled = ['friday-publish', 'shift-swap-options', 'capacity-500-register', 'throttle-sweep', 'delayed-propagation'];

describe('scaleScenario', () => {
  it.each(bundled)('%s: the scaled plan has the same arrivals at F x the offsets', (name) => {
    const s = loadScenario(new URL(`../scenarios/${name}.yaml`, import.meta.url).pathname);
    fc.assert(
      fc.property(fc.constantFrom(0.05, 0.1, 0.25, 0.5, 2), (f) => {
        const a = buildPlan({ ...s, phases: expandSteps(s.phases) });
        const scaled = scaleScenario(s, f);
        const b = buildPlan({ ...scaled, phases: expandSteps(scaled.phases) });
        expect(b.offsetsUs.length).toBe(a.offsetsUs.length);
        expect(Array.from(b.agents)).toEqual(Array.from(a.agents));
        expect(Array.from(b.actions)).toEqual(Array.from(a.actions));
        for (let i = 0; i < a.offsetsUs.length; i += 97) expect(Math.abs(b.offsetsUs[i] - f * a.offsetsUs[i])).toBeLessThanOrEqual(2);
        expect(Math.abs((b.t0Us ?? 0) - f * (a.t0Us ?? 0))).toBeLessThanOrEqual(1);
      }),
      { numRuns: 5 },
    );
  });

  it('scales hooks, trunk windows and limits, retry delays, and rounds lifetimes to whole seconds', () => {
    const s = scaleScenario(loadScenario(new URL('../scenarios/delayed-propagation.yaml', import.meta.url).pathname), 0.1);
    expect(s.agents.expires).toBe(6);
    expect(s.hooks[0].action).toMatchObject({ kind: 'trunk', switches: { publishWindow: { lengthMs: 6000 } } });
    expect(s.retry!.policy).toEqual({ kind: 'exponential', baseMs: 1000, capMs: 6000 });
    const sweep = scaleScenario(loadScenario(new URL('../scenarios/throttle-sweep.yaml', import.meta.url).pathname), 0.5);
    expect(sweep.trunk!.aorLimit).toMatchObject({ rate: 20, retryAfterS: 1 });
    expect(sweep.sweep!.perAgentRates).toEqual([4, 10, 20, 40, 100]);
    expect(() => scaleScenario(sweep, 0)).toThrow(/time scale/);
  });
});
