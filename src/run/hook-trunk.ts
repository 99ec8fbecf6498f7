// Where a scenario's `trunk:` hooks go: the embedded trunk started for the run (in-process), else a
// bundled Kamailio named by --kamailio-rpc (the same switch words over its JSON-RPC), else nowhere
// (the hook records a clear failure).
import { applyKamailioSwitches } from '../kamailio/server.js';
import { KamailioRpc } from '../kamailio/rpc.js';
import type { TrunkSwitches } from '../trunk/config.js';
import type { EmbeddedTrunk } from '../trunk/server.js';
import type { HookDeps } from './hooks.js';

/** The switches the bundled kamailio.cfg can change at run time (the rest are the embedded trunk's own). */
const KAMAILIO_RUNTIME_SWITCHES = ['auth', 'optionsAuth', 'aorLimit', 'globalLimit', 'publishWindow', 'delay', 'lossRate'] as const;

/**
 * A scenario run against the bundled Kamailio starts from a fresh state, like a fresh embedded trunk:
 * limits and the publish window off, then the file's `trunk:` switches that Kamailio supports (a new
 * limit starts its buckets full). Returns the switches it could not apply, for a warning.
 */
export async function resetKamailioForScenario(rpcUrl: string, trunk: Record<string, unknown> | undefined): Promise<string[]> {
  const patch: Record<string, unknown> = { aorLimit: null, globalLimit: null, publishWindow: null, delay: null, lossRate: 0 };
  const skipped: string[] = [];
  for (const [key, value] of Object.entries(trunk ?? {})) {
    if ((KAMAILIO_RUNTIME_SWITCHES as readonly string[]).includes(key)) patch[key] = value;
    else if (!['users', 'realm', 'seed', 'minExpires', 'maxExpires', 'host', 'port'].includes(key)) skipped.push(key);
  }
  await applyKamailioSwitches(new KamailioRpc(rpcUrl), patch as TrunkSwitches);
  return skipped;
}

export function hookTrunk(trunk: EmbeddedTrunk | undefined, kamailioRpc: string | undefined): HookDeps['trunk'] {
  if (trunk) return { configure: (switches) => trunk.configure(switches) };
  if (kamailioRpc) return { configure: (switches) => applyKamailioSwitches(new KamailioRpc(kamailioRpc), switches as TrunkSwitches) };
  return undefined;
}
