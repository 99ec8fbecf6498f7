// The warm-up before the clock starts: when a run gets one, and that it runs the real engine against
// its own in-process trunk while nothing of it reaches the target.
import { afterEach, describe, expect, it } from 'vitest';
import { RunEngine, type RunOptions } from '../src/run/engine.js';
import { identitiesFromTemplates } from '../src/run/identities.js';
import { wantsWarmUp } from '../src/run/warm-up.js';
import { realClock, type Clock } from '../src/shared/clock.js';
import { EmbeddedTrunk } from '../src/trunk/server.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function options(port: number, overrides: Partial<RunOptions> = {}): RunOptions {
  return {
    target: { protocol: 'udp', host: '127.0.0.1', port, text: `udp:127.0.0.1:${port}` },
    identities: identitiesFromTemplates(20, 'agent{n:4}', 'secret{n:4}', '127.0.0.1'),
    rate: 100,
    durationMs: 400,
    method: 'REGISTER',
    expires: 60,
    t1Ms: 100,
    t2Ms: 400,
    t4Ms: 100,
    unregister: false,
    ...overrides,
  };
}

describe('wantsWarmUp', () => {
  it('warms UDP runs from 1000/s on the real clock; an explicit warmUpMs decides for itself', () => {
    expect(wantsWarmUp(options(5060, { rate: 1000 }))).toBe(true);
    expect(wantsWarmUp(options(5060, { rate: 999 }))).toBe(false);
    expect(wantsWarmUp(options(5060, { rate: 10, warmUpMs: 200 }))).toBe(true);
    expect(wantsWarmUp(options(5060, { rate: 5000, warmUpMs: 0 }))).toBe(false);
    expect(wantsWarmUp(options(5060, { rate: 5000, clock: realClock }))).toBe(true);
    const fake: Clock = { nowUs: () => 0 };
    expect(wantsWarmUp(options(5060, { rate: 5000, clock: fake }))).toBe(false);
    expect(wantsWarmUp(options(5060, { rate: 5000, target: { protocol: 'tcp', host: '127.0.0.1', port: 5060, text: 'tcp:127.0.0.1:5060' } }))).toBe(false);
  });
});

describe('warm-up run', () => {
  it('exercises REGISTER with its digest retry against its own trunk, and sends the target nothing', { timeout: 20_000 }, async () => {
    const target = await EmbeddedTrunk.start({ port: 0, users: 20, minExpires: 1 });
    cleanups.push(() => target.stop());
    const result = await new RunEngine(options(target.address.port, { warmUpMs: 1000 })).run();
    const warm = result.extra?.warmUp as { operations: number; ok: number; wallMs: number } | undefined;
    expect(warm).toBeDefined();
    // 1 s at 100/s: ~100 arrivals, each agent's first one a 401 then a 200.
    expect(warm!.operations).toBeGreaterThanOrEqual(90);
    expect(warm!.ok).toBeGreaterThanOrEqual(80);
    expect(warm!.wallMs).toBeGreaterThanOrEqual(1000);
    // The timeline starts with the run, not before the warm-up: the whole 400 ms load is in second 0.
    expect(result.timeline[0].sent).toBe(result.transactions.sent);
    // The target saw exactly the real run's requests: its first round (401 then 200 per agent) and refreshes.
    const c = target.counters();
    const received = Object.values(c.received).reduce((a, b) => a + b, 0);
    expect(received).toBe(result.transactions.sent);
    expect(result.operations.byClass.ok).toBe(result.operations.attempted);
  });

  it('leaves no warm-up figures when there was none', async () => {
    const target = await EmbeddedTrunk.start({ port: 0, users: 20, minExpires: 1 });
    cleanups.push(() => target.stop());
    const result = await new RunEngine(options(target.address.port)).run();
    expect(result.extra?.warmUp).toBeUndefined();
  });
});
