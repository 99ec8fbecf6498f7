import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../src/control/concurrency.js';
import { createPromiseLimiter } from '../src/control/promise-limit.js';
import type { ConcurrencyCap } from '../src/scenario/types.js';

type Op = { kind: 'enter' } | { kind: 'leave' };

const capArb: fc.Arbitrary<ConcurrencyCap> = fc.record({
  limit: fc.integer({ min: 1, max: 8 }),
  whenFull: fc.constantFrom('queue' as const, 'drop' as const),
  queueLimit: fc.integer({ min: 0, max: 12 }),
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ConcurrencyGate', () => {
  it('runs up to the limit, queues up to queueLimit, then drops; leave() hands slots to the oldest waiter', () => {
    const gate = new ConcurrencyGate({ limit: 2, whenFull: 'queue', queueLimit: 2 });
    expect([10, 11, 12, 13, 14].map((id) => gate.tryEnter(id))).toEqual(['run', 'run', 'queued', 'queued', 'dropped']);
    expect([gate.inFlight, gate.queued, gate.maxQueued, gate.dropped]).toEqual([2, 2, 2, 1]);
    expect(gate.leave()).toBe(12);
    expect(gate.inFlight).toBe(2);
    expect(gate.leave()).toBe(13);
    expect(gate.leave()).toBe(-1);
    expect(gate.leave()).toBe(-1);
    expect([gate.inFlight, gate.queued, gate.maxQueued, gate.dropped]).toEqual([0, 0, 2, 1]);
    expect(() => gate.leave()).toThrow(/without a running operation/);
  });

  it('drops at once when full in drop mode, whatever queueLimit says', () => {
    const gate = new ConcurrencyGate({ limit: 1, whenFull: 'drop', queueLimit: 100 });
    expect([gate.tryEnter(1), gate.tryEnter(2), gate.tryEnter(3)]).toEqual(['run', 'dropped', 'dropped']);
    expect([gate.queued, gate.maxQueued, gate.dropped]).toEqual([0, 0, 2]);
  });

  it('keeps FIFO order through ring growth and wrap-around (queue deeper than the initial ring)', () => {
    const gate = new ConcurrencyGate({ limit: 1, whenFull: 'queue', queueLimit: 5000 });
    expect(gate.tryEnter(0)).toBe('run');
    let nextIn = 1;
    let nextOut = 1;
    // interleave: fill 700, take 300 out, repeatedly, so head wraps while the ring grows
    for (let round = 0; round < 6; round++) {
      for (let k = 0; k < 700; k++) expect(gate.tryEnter(nextIn++)).toBe('queued');
      for (let k = 0; k < 300; k++) expect(gate.leave()).toBe(nextOut++);
    }
    expect(gate.maxQueued).toBe(5 * 400 + 700); // net +400 a round; the 6th fill peaks
    while (gate.queued > 0) expect(gate.leave()).toBe(nextOut++);
    expect(nextOut).toBe(nextIn);
  });

  it('drainQueue empties the queue, counting the ids as dropped', () => {
    const gate = new ConcurrencyGate({ limit: 1, whenFull: 'queue', queueLimit: 3 });
    [5, 6, 7].forEach((id) => gate.tryEnter(id));
    const seen: number[] = [];
    expect(gate.drainQueue((id) => seen.push(id))).toBe(2);
    expect(seen).toEqual([6, 7]);
    expect([gate.queued, gate.dropped, gate.inFlight]).toEqual([0, 2, 1]);
  });

  it('rejects bad caps with a message naming the field', () => {
    expect(() => new ConcurrencyGate({ limit: 0, whenFull: 'queue', queueLimit: 1 })).toThrow(/limit/);
    expect(() => new ConcurrencyGate({ limit: 2, whenFull: 'queue', queueLimit: -1 })).toThrow(/queueLimit/);
    expect(() => new ConcurrencyGate({ limit: 2, whenFull: 'wait' as 'queue', queueLimit: 1 })).toThrow(/whenFull/);
  });

  it('behaves like a plain array model under any enter/leave sequence (property)', () => {
    const opArb: fc.Arbitrary<Op> = fc.oneof({ weight: 3, arbitrary: fc.constant({ kind: 'enter' as const }) }, { weight: 2, arbitrary: fc.constant({ kind: 'leave' as const }) });
    fc.assert(
      fc.property(capArb, fc.array(opArb, { maxLength: 300 }), (cap, ops) => {
        const gate = new ConcurrencyGate(cap);
        const queueLimit = cap.whenFull === 'drop' ? 0 : cap.queueLimit;
        let running = 0;
        const queue: number[] = [];
        let dropped = 0;
        let maxQueued = 0;
        let id = 0;
        for (const op of ops) {
          if (op.kind === 'enter') {
            const expected = running < cap.limit ? 'run' : queue.length < queueLimit ? 'queued' : 'dropped';
            if (expected === 'run') running++;
            else if (expected === 'queued') queue.push(id);
            else dropped++;
            maxQueued = Math.max(maxQueued, queue.length);
            expect(gate.tryEnter(id++)).toBe(expected);
          } else if (running > 0) {
            const next = queue.length > 0 ? queue.shift()! : -1;
            if (next === -1) running--;
            expect(gate.leave()).toBe(next);
          }
          expect(gate.inFlight).toBe(running);
          expect(gate.inFlight).toBeLessThanOrEqual(cap.limit);
          expect(gate.queued).toBe(queue.length);
          expect(gate.queued).toBeLessThanOrEqual(queueLimit);
        }
        expect(gate.dropped).toBe(dropped);
        expect(gate.maxQueued).toBe(maxQueued);
      }),
      { numRuns: 300 },
    );
  });
});

describe('createPromiseLimiter (p-limit)', () => {
  it('runs up to the limit, queues up to queueLimit, drops the rest without calling them', async () => {
    const limiter = createPromiseLimiter({ limit: 2, whenFull: 'queue', queueLimit: 1 });
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const task = async (k: number) => {
      started.push(k);
      await gates[k].promise;
      return k * 10;
    };
    const promises = [0, 1, 2, 3].map((k) => limiter.run(task, k));
    expect(promises[3]).toBeNull();
    expect([limiter.inFlight, limiter.queued, limiter.maxQueued, limiter.dropped]).toEqual([2, 1, 1, 1]);
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    gates[0].resolve();
    expect(await promises[0]).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]); // the queued one took the free slot
    expect([limiter.inFlight, limiter.queued]).toEqual([2, 0]);
    gates[1].resolve();
    gates[2].resolve();
    expect(await Promise.all([promises[1], promises[2]])).toEqual([10, 20]);
    expect(started).not.toContain(3);
  });

  it('drops at once when full in drop mode, and passes task errors through', async () => {
    const limiter = createPromiseLimiter({ limit: 1, whenFull: 'drop', queueLimit: 50 });
    const hold = deferred();
    const first = limiter.run(async () => {
      await hold.promise;
      throw new Error('boom');
    });
    expect(limiter.run(async () => 1)).toBeNull();
    expect([limiter.queued, limiter.dropped]).toEqual([0, 1]);
    hold.resolve();
    await expect(first).rejects.toThrow('boom');
    await new Promise((r) => setImmediate(r));
    expect(await limiter.run(async () => 7)).toBe(7); // the slot came back after the failure
  });

  it('drainQueue never runs the waiting tasks, rejects their promises and counts them dropped', async () => {
    const limiter = createPromiseLimiter({ limit: 1, whenFull: 'queue', queueLimit: 5 });
    const hold = deferred();
    let ranQueued = false;
    const running = limiter.run(() => hold.promise);
    const waiting = [limiter.run(async () => (ranQueued = true)), limiter.run(async () => (ranQueued = true))];
    expect(limiter.drainQueue()).toBe(2);
    for (const w of waiting) await expect(w).rejects.toThrow();
    hold.resolve();
    await running;
    expect(ranQueued).toBe(false);
    expect(limiter.dropped).toBe(2);
  });

  it('never exceeds the limit or the queue bound, and every task runs or is dropped (property)', async () => {
    await fc.assert(
      fc.asyncProperty(capArb, fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60 }), async (cap, hops) => {
        const limiter = createPromiseLimiter(cap);
        const queueLimit = cap.whenFull === 'drop' ? 0 : cap.queueLimit;
        let active = 0;
        let maxActive = 0;
        let completed = 0;
        const pending: Promise<unknown>[] = [];
        for (const hop of hops) {
          const p = limiter.run(async () => {
            active++;
            maxActive = Math.max(maxActive, active);
            for (let k = 0; k < hop; k++) await new Promise((r) => setImmediate(r));
            active--;
            completed++;
          });
          if (p) pending.push(p);
          expect(limiter.queued).toBeLessThanOrEqual(queueLimit);
          // let some tasks finish between arrivals, so slots free up mid-sequence
          if (hop === 0) await new Promise((r) => setImmediate(r));
        }
        await Promise.all(pending);
        expect(maxActive).toBeLessThanOrEqual(cap.limit);
        expect(completed + limiter.dropped).toBe(hops.length);
        expect(limiter.maxQueued).toBeLessThanOrEqual(queueLimit);
      }),
      { numRuns: 60 },
    );
  });
});
