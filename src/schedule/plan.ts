// The arrival planner: a scenario's phases -> one sorted, columnar ArrivalPlan, computed before the
// run so it can be printed (`sipstorm plan`), checked and dispatched against absolute deadlines.
// Phases run one after another; a phase anchored at T0 starts at T0. Rate phases pick agents round-
// robin, continuing across phases, so consecutive arrivals hit different agents; a burst gives every
// selected agent exactly one arrival; a replay names its agents. Pure apart from reading a replay
// file (injectable). Same scenario + seed -> the same plan, bit for bit.
import type { AgentAction, AgentSelection, PhaseSpec, Scenario } from '../scenario/types.js';
import { ACTION_CODE, type ArrivalPlan, type PlanMark, type PlannedPhase } from './plan-types.js';
import { PlanColumns } from './plan-columns.js';
import { burstArrivals, constantCount, emitConstant, emitPoisson, emitRamp, emitSteps, rampCount, stepsCount, type Emit } from './phase-arrivals.js';
import { jitterInverse, seededUniform, type Uniform } from './jitter.js';
import { readReplayFile, type ReplayRow } from './replay.js';

/** Beyond this a plan costs hundreds of MB and is almost surely a typo (a rate in /ms, an extra zero). */
export const MAX_PLAN_ARRIVALS = 20_000_000;
const MAX_PHASES = 0xffff; // phaseOf is a Uint16Array
const MAX_STEPS = 100_000;

export type PlanInput = Pick<Scenario, 'phases' | 'agents' | 't0' | 'seed' | 'file'>;
export interface PlanOptions {
  /** Reads a replay phase's file (default: from disk). Paths come already resolved by the loader. */
  readReplay?: (file: string) => ReplayRow[];
}

export class PlanError extends Error {}

/** The agents a phase draws from: the index range [lo, hi). */
export interface AgentRange {
  lo: number;
  hi: number;
}

export function buildPlan(scenario: PlanInput, opts: PlanOptions = {}): ArrivalPlan {
  const { phases: specs, agents, t0, seed, file } = scenario;
  if (specs.length === 0) throw new PlanError(`${file}: phases: the scenario has no phases`);
  if (specs.length > MAX_PHASES) throw new PlanError(`${file}: phases: ${specs.length} phases, at most ${MAX_PHASES}`);
  const readReplay = opts.readReplay ?? readReplayFile;
  const columns = new PlanColumns(initialCapacity(specs));
  const phases: PlannedPhase[] = [];
  const marks: PlanMark[] = [];
  const wallClockT0 = t0 !== undefined && 'at' in t0;
  let t0Us: number | undefined;
  if (t0 && 'offsetMs' in t0) {
    if (!(t0.offsetMs >= 0) || !Number.isFinite(t0.offsetMs)) throw new PlanError(`${file}: t0: offset must be >= 0 ms, got ${t0.offsetMs}`);
    t0Us = Math.round(t0.offsetMs * 1000);
  }
  let cursorUs = 0;
  let lastAgent = -1; // round-robin position, shared by all rate phases

  for (const [index, spec] of specs.entries()) {
    const where = `${file}: phase "${spec.name}"`;
    let startUs = cursorUs;
    if (spec.anchor === 't0') {
      if (!t0) throw new PlanError(`${where}: anchored at T0 but the scenario sets no t0`);
      // Wall clock: the run is started early enough that the phases before end exactly at T0.
      if (wallClockT0 && t0Us === undefined) t0Us = cursorUs;
      if (cursorUs > t0Us!) {
        throw new PlanError(
          `${where}: starts at T0 (${seconds(t0Us!)}) but the phases before it end at ${seconds(cursorUs)}; shorten them or move T0 later`,
        );
      }
      startUs = t0Us!;
    }
    const lengthUs = phaseLengthUs(spec, where, readReplay);
    const endUs = startUs + lengthUs.lengthUs;
    const before = columns.length;
    const action = ACTION_CODE[spec.action ?? defaultAction(spec)];
    // Rounded to whole microseconds and kept inside [start, end) whatever the float error.
    const place = (relUs: number): number => Math.max(startUs, Math.min(endUs - 1, startUs + Math.round(relUs)));
    const guard = (adding: number): void => {
      if (before + adding > MAX_PLAN_ARRIVALS) {
        throw new PlanError(
          `${where}: the plan would exceed ${MAX_PLAN_ARRIVALS} arrivals (${before} before this phase, this one adds ${adding === Infinity ? 'more' : adding}); lower the rate or shorten the phase`,
        );
      }
    };
    const uniform = (): Uniform => (spec.seed !== undefined ? seededUniform(spec.seed) : seededUniform(seed, index + 1));

    switch (spec.type) {
      case 'constant':
      case 'ramp':
      case 'steps':
      case 'poisson': {
        const range = selectAgents(spec.agents, agents.count, where);
        const emit: Emit = (relUs) => {
          lastAgent = lastAgent + 1 >= range.lo && lastAgent + 1 < range.hi ? lastAgent + 1 : range.lo;
          columns.push(place(relUs), lastAgent, action, index);
        };
        if (spec.type === 'constant') {
          guard(constantCount(spec.rate, lengthUs.lengthUs));
          emitConstant(spec.rate, lengthUs.lengthUs, emit);
        } else if (spec.type === 'ramp') {
          guard(rampCount(spec.fromRate, spec.toRate, lengthUs.lengthUs));
          emitRamp(spec.fromRate, spec.toRate, lengthUs.lengthUs, emit);
        } else if (spec.type === 'steps') {
          guard(stepsCount(spec));
          emitSteps(spec, emit);
        } else {
          // Refuse up front when even the mean is too many; the draw itself is capped one past the limit.
          guard(Math.floor((spec.rate * lengthUs.lengthUs) / 1e6));
          const drawn = emitPoisson(spec.rate, lengthUs.lengthUs, uniform(), emit, MAX_PLAN_ARRIVALS - before + 1);
          guard(drawn);
        }
        break;
      }
      case 'burst': {
        const range = selectAgents(spec.agents, agents.count, where);
        const count = range.hi - range.lo;
        guard(count);
        let inverse: ReturnType<typeof jitterInverse>;
        try {
          inverse = jitterInverse(spec.jitter);
        } catch (err) {
          throw new PlanError(`${where}: ${(err as Error).message}`);
        }
        // Drawn in time order, so the columns need no global re-sort.
        const { relUs, agentAt } = burstArrivals(count, lengthUs.lengthUs, inverse, uniform());
        for (let i = 0; i < count; i++) columns.push(place(relUs[i]), range.lo + agentAt[i], action, index);
        break;
      }
      case 'replay': {
        const rows = lengthUs.rows!;
        guard(rows.length);
        const sorted = rows
          .map((row, i) => ({ row, i, relUs: (row.offsetMs * 1000) / spec.compression }))
          .sort((a, b) => a.relUs - b.relUs || a.i - b.i);
        for (const { row, relUs } of sorted) {
          if (row.agent >= agents.count) {
            throw new PlanError(`${spec.file}:${row.line}: agent: agent ${row.agent} is beyond the scenario's ${agents.count} agents (0..${agents.count - 1})`);
          }
          const rowAction = row.action !== undefined ? ACTION_CODE[row.action] : action;
          columns.push(place(relUs), row.agent, rowAction, index);
        }
        break;
      }
      case 'idle':
        break;
    }
    phases.push({ name: spec.name, type: spec.type, startUs, endUs, arrivals: columns.length - before });
    marks.push({ name: `phase:${spec.name}`, offsetUs: startUs });
    cursorUs = endUs;
  }

  // A wall-clock T0 with no anchored phase: the run starts at the wall-clock moment.
  if (wallClockT0 && t0Us === undefined) t0Us = 0;
  if (t0Us !== undefined) marks.push({ name: 'T0', offsetUs: t0Us });
  marks.sort((a, b) => a.offsetUs - b.offsetUs); // stable: at a tie phase starts stay before T0

  const { offsetsUs, agents: agentCol, actions, phaseOf } = columns.finish();
  const plan: ArrivalPlan = { offsetsUs, agents: agentCol, actions, phaseOf, phases, marks, totalUs: cursorUs };
  if (t0Us !== undefined) plan.t0Us = t0Us;
  return plan;
}

/** `auto` for rate phases (REGISTER when due, else OPTIONS); a burst is a login storm by default. */
export function defaultAction(spec: PhaseSpec): AgentAction {
  return spec.type === 'burst' ? 'login' : 'auto';
}

/**
 * [from, to) of the scenario's agents (default all), then the first `share` of that range
 * (rounded, at least one agent).
 */
export function selectAgents(selection: AgentSelection | undefined, count: number, where: string): AgentRange {
  const from = selection?.from ?? 0;
  const to = selection?.to ?? count;
  const share = selection?.share ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new PlanError(`${where}: agents.count must be a positive integer, got ${count}`);
  if (!Number.isInteger(from) || from < 0 || from >= count) throw new PlanError(`${where}: agents.from ${from} must be an index in 0..${count - 1}`);
  if (!Number.isInteger(to) || to <= from || to > count) throw new PlanError(`${where}: agents.to ${to} must be in ${from + 1}..${count} (exclusive end)`);
  if (!(share > 0 && share <= 1)) throw new PlanError(`${where}: agents.share must be in (0, 1], got ${share}`);
  return { lo: from, hi: from + Math.max(1, Math.round(share * (to - from))) };
}

interface PhaseLength {
  lengthUs: number;
  rows?: ReplayRow[];
}

/** The phase's length (validating the numbers it depends on); a replay's rows come along. */
function phaseLengthUs(spec: PhaseSpec, where: string, readReplay: (file: string) => ReplayRow[]): PhaseLength {
  const positive = (value: number, field: string): number => {
    if (!(value > 0) || !Number.isFinite(value)) throw new PlanError(`${where}: ${field} must be a positive number, got ${value}`);
    return value;
  };
  const nonNegative = (value: number, field: string): number => {
    if (!(value >= 0) || !Number.isFinite(value)) throw new PlanError(`${where}: ${field} must be >= 0, got ${value}`);
    return value;
  };
  const us = (ms: number): number => Math.round(ms * 1000);
  switch (spec.type) {
    case 'constant':
      nonNegative(spec.rate, 'rate');
      return { lengthUs: us(positive(spec.durationMs, 'duration')) };
    case 'poisson':
      nonNegative(spec.rate, 'rate');
      return { lengthUs: us(positive(spec.durationMs, 'duration')) };
    case 'ramp':
      nonNegative(spec.fromRate, 'from rate');
      nonNegative(spec.toRate, 'to rate');
      return { lengthUs: us(positive(spec.durationMs, 'duration')) };
    case 'steps': {
      // Bounded so counting the plateaus (before the size guard can speak) stays cheap.
      if (!Number.isInteger(spec.steps) || spec.steps < 1 || spec.steps > MAX_STEPS) {
        throw new PlanError(`${where}: steps must be an integer in 1..${MAX_STEPS}, got ${spec.steps}`);
      }
      nonNegative(spec.fromRate, 'from rate');
      if (!Number.isFinite(spec.stepRate)) throw new PlanError(`${where}: step rate must be a number, got ${spec.stepRate}`);
      const last = spec.fromRate + (spec.steps - 1) * spec.stepRate;
      if (last < 0) throw new PlanError(`${where}: the last step's rate would be ${last}/s; rates cannot go below 0`);
      return { lengthUs: spec.steps * us(positive(spec.stepMs, 'step duration')) };
    }
    case 'burst':
      return { lengthUs: us(positive(spec.windowMs, 'window')) };
    case 'idle':
      return { lengthUs: us(nonNegative(spec.durationMs, 'duration')) };
    case 'replay': {
      positive(spec.compression, 'compression');
      const rows = readReplay(spec.file);
      let lastUs = 0;
      for (const row of rows) lastUs = Math.max(lastUs, Math.round((row.offsetMs * 1000) / spec.compression));
      // Length = the last offset, plus 1 us so the last row still lies inside the half-open [start, end).
      return { lengthUs: lastUs + 1, rows };
    }
  }
}

function initialCapacity(specs: readonly PhaseSpec[]): number {
  let n = 0;
  for (const s of specs) {
    if (s.type === 'constant' && s.rate >= 0) n += constantCount(s.rate, s.durationMs * 1000);
    else if (s.type === 'ramp') n += rampCount(s.fromRate, s.toRate, s.durationMs * 1000);
  }
  return Number.isFinite(n) ? Math.min(Math.max(n, 1024), MAX_PLAN_ARRIVALS) : 1024;
}

function seconds(us: number): string {
  return `${(us / 1e6).toFixed(3)}s`;
}
