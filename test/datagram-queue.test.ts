// The send queue behind both batched UDP paths, against a plain array model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DatagramQueue } from '../src/transport/datagram-queue.js';
import { NAME_BYTES } from '../src/transport/native.js';

type Op = { push: number[]; name: number } | { drop: number };

function contents(q: DatagramQueue): { message: number[]; name: number }[] {
  const out = [];
  for (let i = 0; i < q.count; i++) {
    out.push({
      message: [...q.data.subarray(q.offsets[i], q.offsets[i] + q.lengths[i])],
      name: q.names![i * NAME_BYTES],
    });
  }
  return out;
}

describe('DatagramQueue', () => {
  it('pushes and front drops keep messages, their order and their addresses, across growth', () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ push: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 3000 }), name: fc.integer({ min: 0, max: 255 }) }) },
      { weight: 1, arbitrary: fc.record({ drop: fc.integer({ min: 1, max: 400 }) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
        const q = new DatagramQueue(1 << 30, true);
        const model: { message: number[]; name: number }[] = [];
        const names = new Uint8Array(3 * NAME_BYTES);
        for (const o of ops) {
          if ('push' in o) {
            names.fill(o.name, NAME_BYTES, 2 * NAME_BYTES);
            expect(q.push(Uint8Array.from(o.push), names, NAME_BYTES)).toBe(true);
            model.push({ message: o.push, name: o.name });
          } else {
            const n = Math.min(o.drop, q.count);
            q.dropFront(n);
            model.splice(0, n);
          }
        }
        expect(q.count).toBe(model.length);
        expect(q.bytes).toBe(model.reduce((a, m) => a + m.message.length, 0));
        expect(contents(q)).toEqual(model);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a message past its byte bound and keeps what it has; a queue without names has none', () => {
    const q = new DatagramQueue(128 * 1024);
    expect(q.names).toBeNull();
    expect(q.push(new Uint8Array(100_000))).toBe(true);
    expect(q.push(new Uint8Array(40_000))).toBe(false);
    expect([q.count, q.bytes]).toEqual([1, 100_000]);
    q.clear();
    expect([q.count, q.bytes]).toEqual([0, 0]);
  });
});
