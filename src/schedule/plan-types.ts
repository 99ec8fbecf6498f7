// The arrival plan: computed before a run from the scenario's phases (src/schedule/plan.ts), printed
// by `sipstorm plan`, dispatched by the engine against absolute deadlines. Columnar typed arrays
// so a 100k-arrival plan costs a few MB and no object per arrival.
import type { AgentAction, PhaseType } from '../scenario/types.js';

/** Action codes stored in ArrivalPlan.actions. */
export const ACTION_CODE: Readonly<Record<AgentAction, number>> = { auto: 0, login: 1, refresh: 2, options: 3, unregister: 4 };
export const ACTION_OF_CODE: readonly AgentAction[] = ['auto', 'login', 'refresh', 'options', 'unregister'];

export interface PlannedPhase {
  name: string;
  type: PhaseType;
  /** Offsets from the schedule start, microseconds; [startUs, endUs). */
  startUs: number;
  endUs: number;
  arrivals: number;
}

export interface PlanMark {
  name: string;
  offsetUs: number;
}

export interface ArrivalPlan {
  /** Sorted, microseconds from the schedule start. */
  offsetsUs: Float64Array;
  /** Agent index (0..agents-1) per arrival. */
  agents: Int32Array;
  /** ACTION_CODE per arrival. */
  actions: Uint8Array;
  /** Index into `phases` per arrival. */
  phaseOf: Uint16Array;
  phases: PlannedPhase[];
  /** T0 (the publish moment) from the schedule start, when the scenario has one. */
  t0Us?: number;
  /** Phase starts, T0, and other named moments, sorted. */
  marks: PlanMark[];
  /** End of the last phase. */
  totalUs: number;
}
