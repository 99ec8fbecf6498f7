// BranchTable (waiting transactions by branch) against a Map as the model: any sequence of inserts,
// replacements and deletions, with our hex branches, foreign strings and forced hash collisions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BranchTable, branchHash } from '../src/sip/branch-table.js';
import { newBranch } from '../src/sip/random.js';

interface Entry {
  branch: string;
  id: number;
}

// Few distinct branches so operations hit the same keys. The ...01f/03f/05f/07f ones all have their
// home in the table's last slot (16 or 32 slots), so their probe runs wrap around to slot 0.
const branch = fc.oneof(
  fc.constantFrom('z9hG4bK000001f', 'z9hG4bK000003f', 'z9hG4bK000005f', 'z9hG4bK000007f', 'z9hG4bK0000000a', 'z9hG4bK0000001a', 'x', 'z9hG4bK', 'z9hG4bKzz'),
  fc.stringMatching(/^z9hG4bK[0-9a-f]{24}$/),
  fc.string({ maxLength: 8 }),
);
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), branch }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('deleteStale' as const), branch }),
);

describe('BranchTable', () => {
  it('behaves as a Map keyed by branch under any sequence of operations (property)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.constantFrom(16, 32), (ops, capacity) => {
        const table = new BranchTable<Entry>(capacity);
        const model = new Map<string, Entry>();
        let id = 0;
        for (const o of ops) {
          if (o.kind === 'set') {
            const entry = { branch: o.branch, id: id++ };
            expect(table.set(entry)).toBe(model.get(o.branch));
            model.set(o.branch, entry);
          } else if (o.kind === 'delete') {
            const live = [...model.values()];
            if (live.length === 0) continue;
            const entry = live[o.pick % live.length];
            expect(table.delete(entry)).toBe(true);
            model.delete(entry.branch);
          } else {
            // An entry no longer in the table (same branch, other object) is not removed by mistake.
            expect(table.delete({ branch: o.branch, id: -1 })).toBe(false);
          }
          expect(table.size).toBe(model.size);
        }
        for (const [b, entry] of model) expect(table.get(b)).toBe(entry);
        expect(new Set(table.values())).toEqual(new Set(model.values()));
        expect(table.get('never-inserted')).toBeUndefined();
      }),
      { numRuns: 400 },
    );
  });

  it('keeps a probe run that wraps past the last slot findable after a deletion inside it', () => {
    const table = new BranchTable<Entry>(16);
    const [a, b, c] = ['z9hG4bK000001f', 'z9hG4bK000003f', 'z9hG4bK000005f'].map((branch, id) => ({ branch, id }));
    for (const e of [a, b, c]) table.set(e); // homes all in slot 15: a at 15, b at 0, c at 1
    expect(table.delete(b)).toBe(true);
    expect(table.get(c.branch)).toBe(c);
    expect(table.get(a.branch)).toBe(a);
    expect(table.delete(a)).toBe(true);
    expect(table.get(c.branch)).toBe(c);
  });

  it('hashes our branches from their hex digits and anything else by FNV, the same way every time', () => {
    expect(branchHash('z9hG4bK0000001abcdef')).toBe(0x0000001);
    expect(branchHash('z9hG4bKfffffff')).toBe(0xfffffff);
    for (let i = 0; i < 100; i++) {
      const b = newBranch();
      expect(branchHash(b)).toBe(Number.parseInt(b.slice(7, 14), 16));
    }
    expect(branchHash('z9hG4bKzzzzzzz')).toBe(branchHash('z9hG4bKzzzzzzz'));
    expect(branchHash('z9hG4bKzzzzzzz')).not.toBe(branchHash('z9hG4bKzzzzzzy'));
  });
});
