// Before the clock starts, the same engine runs the same kind of load for a few hundred ms against an
// embedded trunk in this process, on loopback, with the trunk's default identities. Why: a run's first
// second is its login burst (the publish collision is the reason this tool exists), and cold code met
// it interpreted and then compiling on the same core: at 5,000 REGISTER/s the first second's median
// latency was 13-140 ms and the send lag reached 35-90 ms, against ~2 ms later on. After the warm-up the
// hot paths (request building, digest, transactions, parser, metrics, the batched transport) are
// optimised for the shapes the real run uses. Nothing reaches the target; the trunk stops before the run.
import type { RunOptions } from './engine-options.js';
import { realClock } from '../shared/clock.js';
import { parseTarget } from '../transport/target.js';
import { EmbeddedTrunk } from '../trunk/server.js';
import { isIP } from 'node:net';
import { DEFAULT_PASSWORD_TEMPLATE, DEFAULT_USER_TEMPLATE, identitiesFromTemplates } from './identities.js';

export const DEFAULT_WARM_UP_MS = 400;
/** Its own arrival rate is capped: the trunk shares the core, and the code is hot well before this. */
const WARM_RATE_MAX = 5000;

export interface WarmUpFigures {
  operations: number;
  ok: number;
  wallMs: number;
}

/**
 * Whether a run gets a warm-up: UDP from 1000/s (below that, cold code keeps up, and I/O is node:dgram
 * anyway), on the real clock (an injected clock drives no trunk), unless warmUpMs is 0. An explicit
 * warmUpMs warms any UDP rate.
 */
export function wantsWarmUp(opts: RunOptions): boolean {
  if (opts.target.protocol !== 'udp' || (opts.clock !== undefined && opts.clock !== realClock)) return false;
  if (opts.warmUpMs !== undefined) return opts.warmUpMs > 0;
  return opts.rate >= 1000;
}

/**
 * `runEngine` is RunEngine.run for the given options (passed in: engine.ts imports this module).
 * Never throws: a warm-up that cannot start (no loopback of the family, say) only costs its attempt.
 */
export async function warmUp(opts: RunOptions, runEngine: (o: RunOptions) => Promise<{ operations: { attempted: number; byClass: Record<string, number> } }>): Promise<WarmUpFigures | null> {
  const t0 = performance.now();
  const durationMs = opts.warmUpMs ?? DEFAULT_WARM_UP_MS;
  const rate = Math.min(opts.rate, WARM_RATE_MAX);
  // Each agent gets an arrival every agents/rate s: 20 ms, far above a loopback round trip.
  const agents = Math.max(16, Math.ceil(rate / 50));
  const host = isIP(opts.target.host) === 6 ? '::1' : '127.0.0.1';
  let trunk: EmbeddedTrunk | null = null;
  try {
    trunk = await EmbeddedTrunk.start({ host, port: 0, users: agents, minExpires: 1, transports: ['udp'] });
    const target = parseTarget(`udp:${host.includes(':') ? `[${host}]` : host}:${trunk.address.port}`);
    const result = await runEngine({
      ...opts,
      target,
      identities: identitiesFromTemplates(agents, DEFAULT_USER_TEMPLATE, DEFAULT_PASSWORD_TEMPLATE, host),
      rate,
      durationMs,
      // A scenario's plan, hooks and trace belong to the real run; auto mode exercises REGISTER (with
      // its digest retry) and OPTIONS both.
      method: opts.plan ? 'auto' : opts.method,
      plan: undefined,
      throttle: undefined,
      retry: undefined,
      onScheduleStart: undefined,
      trace: undefined,
      signal: undefined,
      unregister: false,
      drainLimitMs: 2000,
      warmUpMs: 0,
      configExtra: undefined,
    });
    return { operations: result.operations.attempted, ok: result.operations.byClass.ok ?? 0, wallMs: Math.round(performance.now() - t0) };
  } catch {
    return null;
  } finally {
    await trunk?.stop();
  }
}
