// zod schemas of the scenario's phases, one strict object per `type` (an unknown field is an error,
// so `rate` on a burst or `window` on a ramp is caught). Outputs the normalised PhaseSpec; a missing
// name is filled in by the scenario schema, which knows the phase's index.
import * as z from 'zod';
import { AGENT_ACTIONS, type AgentAction, type AgentSelection, type PhaseSpec } from './types.js';
import { duration, int, jitter, rate, share, tagMessage } from './fields.js';

/** Which agents: {share: 80%} (the first ones) or {from, to} (index range [from, to)); not both. */
const agentSelection = z
  .strictObject({
    share: share('The first share of the agents').optional(),
    from: int('First agent index (inclusive)', 0).optional(),
    to: int('Last agent index (exclusive)', 1).optional(),
  })
  .transform((s, ctx): AgentSelection => {
    if (s.share !== undefined && (s.from !== undefined || s.to !== undefined)) {
      ctx.issues.push({ code: 'custom', message: 'give either share or from/to, not both', input: s });
      return z.NEVER;
    }
    if (s.share !== undefined) return { share: s.share };
    return { from: s.from, to: s.to };
  })
  .describe('Which agents the phase draws from (default: all)');

const action = z.enum(AGENT_ACTIONS as [AgentAction, ...AgentAction[]]);

/** Fields every phase may have. `action` and `agents` are left out of idle and replay (no choice to make there). */
const base = {
  name: z.string().min(1).optional().describe('Phase name (default: "<type>-<n>", n from 1); unique'),
  anchor: z.literal('t0').optional().describe('Start at T0 instead of right after the previous phase'),
  seed: int("Seed of this phase's random draws (default: derived from the scenario seed)", 0).optional(),
};
const drawing = {
  ...base,
  action: action.optional().describe('What each arrival does (default auto; login for burst)'),
  agents: agentSelection.optional(),
};

const positiveDuration = (what: string) => duration(what, 0, true);

const constant = z
  .strictObject({ type: z.literal('constant'), ...drawing, duration: positiveDuration('How long'), rate: rate('Arrivals per second') })
  .describe('A constant arrival rate');
const ramp = z
  .strictObject({
    type: z.literal('ramp'),
    ...drawing,
    duration: positiveDuration('How long'),
    from: rate('Rate at the start', true),
    to: rate('Rate at the end', true),
  })
  .describe('A linear ramp of the arrival rate from `from` to `to`');
const steps = z
  .strictObject({
    type: z.literal('steps'),
    ...drawing,
    from: rate('Rate of the first plateau', true),
    step: rate('Rate added per plateau'),
    steps: int('Plateaus', 1),
    stepDuration: positiveDuration('Length of each plateau'),
  })
  .describe('A step ramp (capacity search): `steps` plateaus of `stepDuration`, from `from` up by `step`');
const poisson = z
  .strictObject({ type: z.literal('poisson'), ...drawing, duration: positiveDuration('How long'), rate: rate('Mean arrivals per second') })
  .describe('Poisson arrivals (exponential gaps) at a mean rate');
const burst = z
  .strictObject({ type: z.literal('burst'), ...drawing, window: positiveDuration('Every selected agent acts once within this window'), jitter: jitter.optional() })
  .describe('Each selected agent acts once within the window, at a time drawn from the jitter');
const replay = z
  .strictObject({
    type: z.literal('replay'),
    ...base,
    file: z.string().min(1).describe('CSV of offset_ms,agent,action rows (relative to the scenario file)'),
    compression: z.number().positive({ error: 'must be > 0' }).default(1).describe('Offsets are divided by this (2 = twice as fast); default 1'),
  })
  .describe('Replays the arrivals of a real incident from a CSV file');
const idle = z.strictObject({ type: z.literal('idle'), ...base, duration: positiveDuration('How long') }).describe('No arrivals for a while');

function drawsOf(p: { action?: AgentAction; agents?: AgentSelection }, dflt: AgentAction): { action: AgentAction; agents?: AgentSelection } {
  return { action: p.action ?? dflt, ...(p.agents ? { agents: p.agents } : {}) };
}

const PHASE_TYPES = ['constant', 'ramp', 'steps', 'poisson', 'burst', 'replay', 'idle'] as const;

/**
 * One phase, normalised. Defaults: action auto (login for burst), jitter uniform, compression 1;
 * `agents` absent = all agents; {from} without {to} runs to the last agent (filled in by the
 * scenario schema, which knows the count).
 */
export const phase = z
  .discriminatedUnion('type', [constant, ramp, steps, poisson, burst, replay, idle], {
    error: (iss) => tagMessage('type', PHASE_TYPES, iss.input),
  })
  .transform((p): PhaseSpec => {
    const common = { name: p.name ?? '', ...(p.anchor ? { anchor: p.anchor } : {}), ...(p.seed !== undefined ? { seed: p.seed } : {}) };
    switch (p.type) {
      case 'constant':
        return { type: p.type, ...common, ...drawsOf(p, 'auto'), durationMs: p.duration, rate: p.rate };
      case 'ramp':
        return { type: p.type, ...common, ...drawsOf(p, 'auto'), durationMs: p.duration, fromRate: p.from, toRate: p.to };
      case 'steps':
        return { type: p.type, ...common, ...drawsOf(p, 'auto'), fromRate: p.from, stepRate: p.step, steps: p.steps, stepMs: p.stepDuration };
      case 'poisson':
        return { type: p.type, ...common, ...drawsOf(p, 'auto'), durationMs: p.duration, rate: p.rate };
      case 'burst':
        return { type: p.type, ...common, ...drawsOf(p, 'login'), windowMs: p.window, jitter: p.jitter ?? { kind: 'uniform' } };
      case 'replay':
        return { type: p.type, ...common, file: p.file, compression: p.compression };
      case 'idle':
        return { type: p.type, ...common, durationMs: p.duration };
    }
  });

export { PHASE_TYPES };
