import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_TIMER, TimerWheel } from '../src/schedule/timer-wheel.js';

interface Item {
  id: number;
  /** When fired, schedule a follow-up this many us after now (0: none), like Timer E re-arming. */
  rearmUs: number;
}

type Op =
  | { kind: 'schedule'; offsetUs: number; rearmUs: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'advance'; deltaUs: number };

describe('TimerWheel', () => {
  it('agrees with a naive model: fires exactly the timers due, once, across rounds (property)', () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('schedule' as const), offsetUs: fc.integer({ min: -50, max: 20_000 }), rearmUs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5000 })) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), deltaUs: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 30_000 })) }) },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(1, 7, 100, 1000),
        fc.constantFrom(1, 2, 8, 64),
        fc.integer({ min: -1000, max: 1_000_000 }),
        fc.array(op, { maxLength: 120 }),
        (tickUs, slots, startUs, ops) => {
          const wheel = new TimerWheel<Item>(tickUs, slots, startUs);
          let now = startUs;
          let nextId = 0;
          const model = new Map<number, number>(); // id -> due
          const handles: { id: number; h: number }[] = [];
          const handleOf = new Map<number, number>();
          const fired = new Set<number>();
          const schedule = (due: number, rearmUs: number) => {
            const id = nextId++;
            const h = wheel.schedule({ id, rearmUs }, due);
            expect(h).not.toBe(NO_TIMER);
            model.set(id, due);
            handles.push({ id, h });
            handleOf.set(id, h);
          };
          for (const o of ops) {
            if (o.kind === 'schedule') schedule(now + o.offsetUs, o.rearmUs);
            else if (o.kind === 'cancel') {
              if (handles.length === 0) continue;
              const { id, h } = handles[o.pick % handles.length];
              expect(wheel.cancel(h)).toBe(model.has(id));
              model.delete(id);
            } else {
              now += o.deltaUs;
              const expected = [...model].filter(([, due]) => due <= now).map(([id]) => id).sort((a, b) => a - b);
              const got: number[] = [];
              const rearms: [number, number][] = [];
              wheel.advance(now, (item) => {
                got.push(item.id);
                if (item.rearmUs > 0) rearms.push([item.id, item.rearmUs]);
              });
              got.sort((a, b) => a - b);
              expect(got).toEqual(expected);
              for (const id of got) {
                expect(fired.has(id)).toBe(false);
                fired.add(id);
                model.delete(id);
                expect(wheel.dueOf(handleOf.get(id)!)).toBe(-1);
              }
              for (const [, rearmUs] of rearms) schedule(now + rearmUs, 0);
            }
            expect(wheel.size).toBe(model.size);
          }
          // Far in the future everything left fires exactly once.
          const rest: number[] = [];
          wheel.advance(now + 10_000_000, (item) => rest.push(item.id));
          expect(rest.sort((a, b) => a - b)).toEqual([...model.keys()].sort((a, b) => a - b));
          expect(wheel.size).toBe(0);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('never fires early: a timer fires on the first advance at or after its due time', () => {
    const wheel = new TimerWheel<string>(1000, 16, 0);
    wheel.schedule('a', 2500);
    const fired: string[] = [];
    wheel.advance(2499, (x) => fired.push(x));
    expect(fired).toEqual([]);
    wheel.advance(2500, (x) => fired.push(x));
    expect(fired).toEqual(['a']);
  });

  it('keeps timers due many revolutions ahead (rounds)', () => {
    const wheel = new TimerWheel<number>(1000, 8, 0); // one revolution = 8 ms
    wheel.schedule(1, 32_000_000); // Timer F at 32 s = 4000 revolutions
    const fired: number[] = [];
    for (let t = 0; t < 32_000_000; t += 5000) wheel.advance(t, (x) => fired.push(x));
    expect(fired).toEqual([]);
    wheel.advance(32_000_000, (x) => fired.push(x));
    expect(fired).toEqual([1]);
  });

  it('a callback may cancel a timer collected in the same bucket, which then does not fire', () => {
    const wheel = new TimerWheel<string>(1000, 4, 0);
    const handles: Record<string, number> = {};
    handles.a = wheel.schedule('a', 100);
    handles.b = wheel.schedule('b', 200);
    const fired: string[] = [];
    wheel.advance(500, (x) => {
      fired.push(x);
      wheel.cancel(handles[x === 'a' ? 'b' : 'a']);
    });
    expect(fired).toHaveLength(1);
    expect(wheel.size).toBe(0);
  });

  it('a timer scheduled already due from inside a callback fires by the next advance, not a revolution later', () => {
    const wheel = new TimerWheel<string>(1000, 4, 0);
    wheel.schedule('first', 1000);
    const fired: string[] = [];
    wheel.advance(2500, (x) => {
      fired.push(x);
      if (x === 'first') wheel.schedule('late', 0);
    });
    wheel.advance(2600, (x) => fired.push(x));
    expect(fired).toEqual(['first', 'late']);
  });

  it('ignores stale and foreign handles after the node is reused', () => {
    const wheel = new TimerWheel<string>(1000, 4, 0);
    const h1 = wheel.schedule('one', 1000);
    expect(wheel.cancel(h1)).toBe(true);
    const h2 = wheel.schedule('two', 1000); // reuses the node
    expect(h2).not.toBe(h1);
    expect(wheel.cancel(h1)).toBe(false);
    expect(wheel.cancel(NO_TIMER)).toBe(false);
    expect(wheel.cancel(123.5)).toBe(false);
    expect(wheel.size).toBe(1);
    const fired: string[] = [];
    wheel.advance(1000, (x) => fired.push(x));
    expect(fired).toEqual(['two']);
    expect(wheel.cancel(h2)).toBe(false);
  });

  it('grows past its initial capacity', () => {
    const wheel = new TimerWheel<number>(1000, 64, 0);
    for (let i = 0; i < 10_000; i++) wheel.schedule(i, (i % 100) * 1000);
    expect(wheel.size).toBe(10_000);
    let n = 0;
    wheel.advance(99_000, () => n++);
    expect(n).toBe(10_000);
  });
});
