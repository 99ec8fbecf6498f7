// The run's pre-start collection really collects: an unreachable object is gone after it.
import { describe, expect, it } from 'vitest';
import { settleHeap } from '../src/shared/settle-heap.js';

describe('settleHeap', () => {
  it('runs a full collection (a dropped object is reclaimed), and again when asked again', async () => {
    for (let round = 0; round < 2; round++) {
      const ref = (() => new WeakRef({ payload: new Array(10_000).fill(round) }))();
      // A WeakRef target lives until the end of the job that made it (or last dereferenced it).
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(settleHeap()).toBe(true);
      expect(ref.deref()).toBeUndefined();
      const kept = { payload: [round] };
      const keptRef = new WeakRef(kept);
      await new Promise((resolve) => setTimeout(resolve, 0));
      settleHeap();
      expect(keptRef.deref()).toBe(kept); // still reachable: still there
    }
  });
});
