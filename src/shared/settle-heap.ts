// One full garbage collection before a schedule's clock starts. Setting up a run (agents, their request
// templates and signers) leaves tens of MB of young objects; the first scavenges after the start then
// copied them while the load ran: pauses of 12-32 ms in the first 100 ms of a 5,000/s run, which showed
// up as send lag and as the first second's p99. Collected before the start, they cost no schedule time.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null | undefined;

/** Runs a full collection; returns false where the runtime offers none (then nothing happens). */
export function settleHeap(): boolean {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') collect = exposed;
    else {
      try {
        // --expose-gc at run time: a fresh context then sees gc(); this context's globals stay as they were.
        setFlagsFromString('--expose-gc');
        const fn: unknown = runInNewContext('gc');
        collect = typeof fn === 'function' ? (fn as () => void) : null;
      } catch {
        collect = null;
      }
    }
  }
  if (collect === null) return false;
  collect();
  return true;
}
