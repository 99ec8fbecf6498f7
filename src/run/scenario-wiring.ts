// Small pieces the engine needs for scenario runs: action codes to SIP methods, the phase a moment
// belongs to, and the result blocks per phase and for the plan's marks.
import { buildRunResult } from '../report/result.js';
import type { MarkEntry, PhaseBlock } from '../report/scenario-result.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import { ACTION_CODE, type ArrivalPlan } from '../schedule/plan-types.js';

export const ACTION = ACTION_CODE;

/** The method an action puts on the wire (`auto`: OPTIONS while the binding is fresh). */
export function actionMethod(action: number, bindingFresh: boolean): string {
  if (action === ACTION.options) return 'OPTIONS';
  if (action === ACTION.unregister) return 'UNREGISTER';
  if (action === ACTION.auto && bindingFresh) return 'OPTIONS';
  return 'REGISTER';
}

/** Index of the phase whose span holds `offsetUs` (from the schedule start); the last one past the end. */
export function phaseAt(plan: ArrivalPlan, offsetUs: number): number {
  const phases = plan.phases;
  for (let i = phases.length - 1; i > 0; i--) if (offsetUs >= phases[i].startUs) return i;
  return 0;
}

const ms = (us: number): number => Math.round(us / 100) / 10;

/** Marks in ms since the run start (the timeline's origin), so they line up with timeline seconds. */
export function planMarks(plan: ArrivalPlan, originUs: number, scheduleStartUs: number): MarkEntry[] {
  const shift = scheduleStartUs - originUs;
  return plan.marks.map((m) => ({ name: m.name, tMs: ms(shift + m.offsetUs) }));
}

/** One block per phase, from its own recorder (operations whose arrival belonged to it). */
export function buildPhaseBlocks(plan: ArrivalPlan, recorders: readonly MetricsRecorder[], originUs: number, scheduleStartUs: number): PhaseBlock[] {
  const shift = scheduleStartUs - originUs;
  return plan.phases.map((phase, i) => {
    const lengthMs = Math.max(1, (phase.endUs - phase.startUs) / 1000);
    const r = buildRunResult(recorders[i].snapshot(), {
      tool: { name: '', version: '' },
      target: '',
      startedAt: new Date(0),
      durationMs: lengthMs,
      config: { agents: 0, rate: 0, method: '', transport: '' },
      generator: { cpuUserMs: 0, cpuSystemMs: 0, maxRssBytes: 0 },
    });
    return {
      name: phase.name,
      type: phase.type,
      startMs: ms(shift + phase.startUs),
      endMs: ms(shift + phase.endUs),
      plannedArrivals: phase.arrivals,
      operations: r.operations,
      latencyMs: r.latencyMs,
      series: r.series,
      histograms: r.histograms,
    };
  });
}
