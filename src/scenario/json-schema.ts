// The JSON Schema of the scenario file, for editors (e.g. a yaml-language-server `$schema` comment).
// Generated from the same zod schema the loader uses, input side: it describes what may be written
// (friendly spellings included), not the normalised Scenario. Rules that need code (a valid time
// zone, names unique, T0 present when used) are checked only by `sipstorm validate`.
import * as z from 'zod';
import { scenarioFileObject } from './schema.js';

export function scenarioJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(scenarioFileObject, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, description: _short, ...rest } = generated;
  return {
    $schema: $schema ?? 'https://json-schema.org/draft/2020-12/schema',
    title: 'sipstorm scenario',
    description:
      'A sipstorm load scenario (YAML): agents, phases of arrivals (constant, ramp, steps, poisson, burst, replay, idle), ' +
      'T0, throttle, retry, hooks, the embedded trunk, sweep. Durations: 30s, 500ms, 2m or a number of ms; ' +
      'rates: 10/s, 600/min or a number per second; shares: 80% or 0.8.',
    ...rest,
  };
}
