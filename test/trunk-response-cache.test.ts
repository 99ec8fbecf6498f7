// The trunk's retransmission cache: a ring of bytes + open-addressing table. Checked against a plain
// Map model under random operations, and at its edges (TTL, slot and byte limits, replacement).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ResponseCache } from '../src/trunk/response-cache.js';

const resp = (s: string) => Buffer.from(s, 'latin1');

describe('ResponseCache', () => {
  it('returns the bytes, null for a drop, undefined for unknown; expires after the TTL', () => {
    const c = new ResponseCache({ slots: 8, bytes: 4096, ttlUs: 1000 });
    c.set('z9hG4bKa', resp('SIP/2.0 200 OK a'), 0, 50);
    c.set('z9hG4bKb', null, 10, 10);
    expect(c.get('z9hG4bKa', 20)?.toString()).toBe('SIP/2.0 200 OK a');
    expect(c.hitDueUs).toBe(50);
    expect(c.get('z9hG4bKb', 20)).toBeNull();
    expect(c.get('z9hG4bKc', 20)).toBeUndefined();
    expect(c.get('z9hG4bKa', 999)).toBeDefined();
    expect(c.get('z9hG4bKa', 1000)).toBeUndefined();
    expect(c.get('z9hG4bKb', 1009)).toBeNull();
    expect(c.get('z9hG4bKb', 1010)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('a drop replaced by an answer (the retransmission got through)', () => {
    const c = new ResponseCache({ slots: 4, bytes: 4096, ttlUs: 1e9 });
    c.set('br1', null, 0, 0);
    c.set('br1', resp('answer'), 1, 1);
    expect(c.get('br1', 2)?.toString()).toBe('answer');
    for (let i = 0; i < 10; i++) c.set(`other${i}`, resp(`r${i}`), 3 + i, 3 + i); // pushes the dead id out too
    expect(c.get('br1', 20)).toBeUndefined();
    expect(c.get('other9', 20)?.toString()).toBe('r9');
  });

  it('evicts oldest first when slots or ring bytes run out; the copy survives overwriting', () => {
    const bySlots = new ResponseCache({ slots: 4, bytes: 1 << 16, ttlUs: 1e9 });
    for (let i = 0; i < 6; i++) bySlots.set(`b${i}`, resp(`r${i}`), i, i);
    expect([0, 1, 2, 3, 4, 5].map((i) => bySlots.get(`b${i}`, 10)?.toString())).toEqual([undefined, undefined, 'r2', 'r3', 'r4', 'r5']);

    const byBytes = new ResponseCache({ slots: 1024, bytes: 4096, ttlUs: 1e9 });
    const big = (i: number) => resp(String(i).repeat(1000).slice(0, 1000));
    const kept = byBytes.set('k0', big(0), 0, 0);
    expect(kept).toBeUndefined();
    const copy = byBytes.get('k0', 0)!;
    for (let i = 1; i < 10; i++) byBytes.set(`k${i}`, big(i), i, i);
    expect(copy.equals(big(0))).toBe(true);
    expect(byBytes.get('k0', 10)).toBeUndefined();
    expect(byBytes.get('k9', 10)!.equals(big(9))).toBe(true);
    expect(byBytes.get('k6', 10)!.equals(big(6))).toBe(true);
    expect(byBytes.size).toBeLessThanOrEqual(4);
  });

  it('behaves like its FIFO model under random operations (fast-check)', () => {
    // Model: entries in insertion order; a replaced entry stays, dead, until it leaves the front,
    // so it still counts against the slots (replacements are rare: a dropped request's retransmission).
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('set', 'drop', 'get'), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 300 })), { minLength: 20, maxLength: 400 }),
        (ops) => {
          const slots = 16;
          const c = new ResponseCache({ slots, bytes: 1 << 20, ttlUs: 1e12 });
          const model: { key: string; value: string | null; live: boolean }[] = [];
          let t = 0;
          for (const [op, k, len] of ops) {
            const key = `z9hG4bK${k}`;
            t++;
            const live = model.find((e) => e.live && e.key === key);
            if (op === 'get') {
              const got = c.get(key, t);
              expect(got === undefined || got === null ? got : got.toString('latin1')).toEqual(live ? live.value : undefined);
            } else {
              const value = op === 'drop' ? null : `${k}:`.padEnd(len + 3, 'x');
              if (live) live.live = false;
              model.push({ key, value, live: true });
              if (model.length > slots) model.shift();
              c.set(key, value === null ? null : resp(value), t, t);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a replaced entry holds its slot until it reaches the front', () => {
    const c = new ResponseCache({ slots: 4, bytes: 1 << 16, ttlUs: 1e9 });
    c.set('X', resp('x'), 0, 0);
    for (let i = 0; i < 3; i++) c.set('A', resp(`a${i}`), 1, 1);
    expect(c.get('X', 2)?.toString()).toBe('x');
    c.set('A', resp('a3'), 1, 1); // fifth id in four slots: X (the oldest) goes
    expect(c.get('X', 2)).toBeUndefined();
    expect(c.get('A', 2)?.toString()).toBe('a3');
  });

  it('with a small ring that wraps often: never a wrong answer, and the latest entry always found', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 600 })), { minLength: 20, maxLength: 300 }), (ops) => {
        const c = new ResponseCache({ slots: 64, bytes: 4096, ttlUs: 1e12 });
        const latest = new Map<string, string>();
        let t = 0;
        for (const [k, len] of ops) {
          const key = `z9hG4bK${k}`;
          const value = `${k}:${t}:`.padEnd(len + 8, 'y');
          c.set(key, resp(value), ++t, t);
          latest.set(key, value);
          expect(c.get(key, t)?.toString('latin1')).toBe(value);
          for (const [other, v] of latest) {
            const got = c.get(other, t);
            if (got !== undefined) expect(got?.toString('latin1')).toBe(v);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
