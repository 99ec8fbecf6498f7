// OperationFlow without sockets or timers: a recording host and explicit times (microseconds).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OperationFlow, type FlowHost } from '../src/run/operation-flow.js';
import { ACTION_CODE } from '../src/schedule/plan-types.js';
import type { RetrySpec, ThrottleSpec } from '../src/scenario/types.js';
import type { OutcomeClass } from '../src/shared/outcome.js';

class Host implements FlowHost {
  started: { agent: number; intendedUs: number; nowUs: number }[] = [];
  dropped: { agent: number; nowUs: number }[] = [];
  startOperation(agent: number, _action: number, _phase: number, intendedUs: number, nowUs: number): void {
    this.started.push({ agent, intendedUs, nowUs });
  }
  recordDropped(agent: number, _action: number, _phase: number, _intendedUs: number, nowUs: number): void {
    this.dropped.push({ agent, nowUs });
  }
}

const REFRESH = ACTION_CODE.refresh;

function flow(opts: { agents?: number; throttle?: ThrottleSpec; retry?: RetrySpec } = {}) {
  const host = new Host();
  const f = new OperationFlow({ agents: opts.agents ?? 1, throttle: opts.throttle, retry: opts.retry, seed: 7, startUs: 0 }, host);
  return { host, f };
}

describe('OperationFlow', () => {
  it('starts at once without throttle; an arrival for a busy agent is dropped, never queued', () => {
    const { host, f } = flow();
    f.arrival(0, REFRESH, 0, 100, 100);
    f.arrival(0, REFRESH, 0, 200, 200);
    expect(host.started).toEqual([{ agent: 0, intendedUs: 100, nowUs: 100 }]);
    expect(host.dropped).toEqual([{ agent: 0, nowUs: 200 }]);
    f.done(0, 'ok', -1, 300);
    expect(f.pending).toBe(0);
    const a = f.attemptsBlock(0);
    expect(a.firstAttempt.attempted).toBe(2);
    expect(a.firstAttempt.byClass.dropped).toBe(1);
    expect(a.eventual.ok).toBe(1);
  });

  it('per-agent bucket (delay): a request waits for its token and keeps its intended time', () => {
    const { host, f } = flow({ throttle: { perAgent: { rate: 10, burst: 1, whenEmpty: 'delay' } } });
    f.arrival(0, REFRESH, 0, 0, 0);
    f.done(0, 'ok', -1, 1000);
    f.arrival(0, REFRESH, 0, 20_000, 20_000); // the next token is due at 100 ms
    expect(host.started).toHaveLength(1);
    f.advance(99_000);
    expect(host.started).toHaveLength(1);
    f.advance(101_000);
    expect(host.started[1]).toEqual({ agent: 0, intendedUs: 20_000, nowUs: 101_000 });
    expect(f.throttleBlock().delayed).toBe(1);
  });

  it('per-agent bucket (drop): an early request is dropped and counted by the throttle', () => {
    const { host, f } = flow({ throttle: { perAgent: { rate: 10, burst: 1, whenEmpty: 'drop' } } });
    f.arrival(0, REFRESH, 0, 0, 0);
    f.done(0, 'ok', -1, 1000);
    f.arrival(0, REFRESH, 0, 50_000, 50_000);
    expect(host.dropped).toHaveLength(1);
    expect(f.throttleBlock().dropped).toBe(1);
    f.arrival(0, REFRESH, 0, 150_000, 150_000);
    expect(host.started).toHaveLength(2);
  });

  it('concurrency cap: queues up to its bound, then drops; a leaving operation starts the oldest waiter', () => {
    const { host, f } = flow({ agents: 4, throttle: { concurrency: { limit: 1, whenFull: 'queue', queueLimit: 1 } } });
    f.arrival(0, REFRESH, 0, 0, 0);
    f.arrival(1, REFRESH, 0, 0, 0);
    f.arrival(2, REFRESH, 0, 0, 0);
    expect(host.started.map((s) => s.agent)).toEqual([0]);
    expect(host.dropped.map((d) => d.agent)).toEqual([2]);
    f.done(0, 'ok', -1, 10);
    expect(host.started.map((s) => s.agent)).toEqual([0, 1]);
    expect(f.throttleBlock().maxQueue).toBe(1);
  });

  it('retries link to their first attempt: first-attempt and eventual success differ', () => {
    const retry: RetrySpec = { policy: { kind: 'fixed', delayMs: 100 }, on: ['forbidden'], maxAttempts: 3, honourRetryAfter: true };
    const { host, f } = flow({ retry });
    f.arrival(0, REFRESH, 0, 0, 0);
    f.done(0, 'forbidden', -1, 1000);
    expect(f.pending).toBe(1);
    f.advance(100_999);
    expect(host.started).toHaveLength(1);
    f.advance(101_000);
    expect(host.started[1].intendedUs).toBe(101_000);
    f.done(0, 'ok', -1, 102_000);
    const a = f.attemptsBlock(0);
    expect(a).toMatchObject({ retries: 1, firstAttempt: { attempted: 1, ok: 0 }, eventual: { attempted: 1, ok: 1 } });
  });

  it("honours Retry-After above the policy's delay", () => {
    const retry: RetrySpec = { policy: { kind: 'fixed', delayMs: 10 }, on: ['throttled'], maxAttempts: 2, honourRetryAfter: true };
    const { host, f } = flow({ retry });
    f.arrival(0, REFRESH, 0, 0, 0);
    f.done(0, 'throttled', 2, 0);
    f.advance(1_999_000);
    expect(host.started).toHaveLength(1);
    f.advance(2_000_000);
    expect(host.started).toHaveLength(2);
  });

  it('a request arriving during a retry backoff goes out beside it; the retry still fires after it', () => {
    const retry: RetrySpec = { policy: { kind: 'fixed', delayMs: 100 }, on: ['forbidden'], maxAttempts: 2, honourRetryAfter: false };
    const { host, f } = flow({ retry });
    f.arrival(0, REFRESH, 0, 0, 0);
    f.done(0, 'forbidden', -1, 0);
    f.arrival(0, ACTION_CODE.options, 0, 50_000, 50_000);
    expect(host.started).toHaveLength(2);
    f.advance(100_000); // due while the side operation is on the wire: waits for it
    expect(host.started).toHaveLength(2);
    f.done(0, 'ok', -1, 120_000);
    expect(host.started).toHaveLength(3);
    f.done(0, 'ok', -1, 130_000);
    expect(f.pending).toBe(0);
    expect(f.attemptsBlock(0).eventual).toMatchObject({ attempted: 2, ok: 2 });
  });

  it('stop counts what still waits as dropped and ends every chain', () => {
    const { host, f } = flow({ agents: 2, throttle: { perAgent: { rate: 1, burst: 1, whenEmpty: 'delay' } } });
    f.arrival(0, REFRESH, 0, 0, 0);
    f.done(0, 'ok', -1, 10);
    f.arrival(0, REFRESH, 0, 20, 20);
    f.stop(30);
    expect(host.dropped).toHaveLength(1);
    expect(f.pending).toBe(0);
  });

  it('recovery: from T0 to every agent bound again after the first failure at or after T0', () => {
    const { f } = flow({ agents: 2 });
    f.setT0(1_000_000);
    f.registerResult(0, true, 10);
    f.registerResult(1, true, 20);
    f.registerResult(1, false, 1_500_000);
    f.registerResult(1, true, 4_000_000);
    const a = f.attemptsBlock(0);
    expect(a.timeToAllRegisteredMs).toBe(0);
    expect(a.recoveryMs).toBe(3000);
  });

  it('property: every arrival is started or dropped exactly once, and chains all end', () => {
    const classes: OutcomeClass[] = ['ok', 'forbidden', 'throttled', 'timeout'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ agent: fc.nat(3), gapUs: fc.nat(300_000), cls: fc.constantFrom(...classes) }), { maxLength: 60 }),
        fc.boolean(),
        (events, withThrottle) => {
          const retry: RetrySpec = { policy: { kind: 'exponential', baseMs: 10, capMs: 200 }, on: ['forbidden', 'throttled', 'timeout'], maxAttempts: 3, honourRetryAfter: false };
          const { host, f } = flow({ agents: 4, retry, throttle: withThrottle ? { perAgent: { rate: 20, burst: 2, whenEmpty: 'delay' }, concurrency: { limit: 2, whenFull: 'queue', queueLimit: 2 } } : undefined });
          let now = 0;
          const inFlight = new Set<number>();
          let finished = 0;
          const settle = (cls: OutcomeClass) => {
            for (const s of host.started.slice(finished)) inFlight.add(s.agent);
            finished = host.started.length;
            for (const agent of [...inFlight]) {
              inFlight.delete(agent);
              f.done(agent, cls, -1, now);
            }
          };
          for (const e of events) {
            now += e.gapUs;
            f.advance(now);
            settle(e.cls);
            f.arrival(e.agent, REFRESH, 0, now, now);
          }
          for (let i = 0; i < 200 && f.pending > 0; i++) {
            now += 50_000;
            f.advance(now);
            settle('ok');
          }
          const a = f.attemptsBlock(0);
          return f.pending === 0 && a.firstAttempt.attempted === events.length && a.eventual.attempted === events.length && host.started.length === events.length - host.dropped.length + a.retries;
        },
      ),
    );
  });
});
