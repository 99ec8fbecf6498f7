// Where a scenario's `trunk:` hooks go: the embedded trunk started for the run (in-process), else a
// bundled Kamailio named by --kamailio-rpc (the same switch words over its JSON-RPC), else nowhere
// (the hook records a clear failure).
import { applyKamailioSwitches } from '../kamailio/server.js';
import { KamailioRpc } from '../kamailio/rpc.js';
import type { TrunkSwitches } from '../trunk/config.js';
import type { EmbeddedTrunk } from '../trunk/server.js';
import type { HookDeps } from './hooks.js';

export function hookTrunk(trunk: EmbeddedTrunk | undefined, kamailioRpc: string | undefined): HookDeps['trunk'] {
  if (trunk) return { configure: (switches) => trunk.configure(switches) };
  if (kamailioRpc) return { configure: (switches) => applyKamailioSwitches(new KamailioRpc(kamailioRpc), switches as TrunkSwitches) };
  return undefined;
}
