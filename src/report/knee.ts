// Pure: the knee of a step ramp. A `steps` phase runs as one sub-phase per plateau (named
// "<phase>@<rate>/s"), so each plateau's operations are counted exactly by their arrival; the knee is
// the highest plateau rate before the first whose failures pass the limit (1% by default).
import type { PhaseBlock } from './scenario-result.js';

export interface KneePlateau {
  rate: number;
  attempted: number;
  ok: number;
  /** (attempted - ok) / attempted, in %: rejections, timeouts and shed arrivals alike. */
  failurePct: number;
}

export interface KneeBlock {
  phase: string;
  maxFailurePct: number;
  plateaus: KneePlateau[];
  /** null: the first plateau already failed. */
  kneeRate: number | null;
  /** The first plateau past the limit (null: none passed it; the knee is above the ramp). */
  failedAtRate: number | null;
}

export const PLATEAU_SEPARATOR = '@';

export function plateauName(phase: string, rate: number): string {
  return `${phase}${PLATEAU_SEPARATOR}${Math.round(rate * 1000) / 1000}/s`;
}

/** Knee per steps phase, from the plateau sub-phases' blocks. */
export function stepKnees(phases: readonly PhaseBlock[], stepPhases: readonly string[], maxFailurePct = 1): KneeBlock[] {
  return stepPhases.map((name) => {
    const plateaus: KneePlateau[] = [];
    for (const p of phases) {
      const at = p.name.lastIndexOf(PLATEAU_SEPARATOR);
      if (at < 0 || p.name.slice(0, at) !== name) continue;
      const attempted = p.operations.attempted;
      const ok = p.operations.byClass.ok;
      plateaus.push({
        rate: Number.parseFloat(p.name.slice(at + 1)),
        attempted,
        ok,
        failurePct: attempted > 0 ? Math.round(((attempted - ok) / attempted) * 10_000) / 100 : 0,
      });
    }
    let kneeRate: number | null = null;
    let failedAtRate: number | null = null;
    for (const plateau of plateaus) {
      if (plateau.failurePct > maxFailurePct) {
        failedAtRate = plateau.rate;
        break;
      }
      kneeRate = plateau.rate;
    }
    return { phase: name, maxFailurePct, plateaus, kneeRate, failedAtRate };
  });
}
