import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startPump } from '../src/run/pump.js';
import { loadUdpBatch } from '../src/transport/native.js';

const addon = loadUdpBatch();

async function until(cond: () => boolean, limitMs = 2000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(5);
  }
}

describe.skipIf(!addon)('native pump (uv timer, native/pump.c)', () => {
  it('calls back every period until cancelled, and cancel reports whether it was running', async () => {
    let calls = 0;
    const t0 = Date.now();
    const id = addon!.every(5, () => void calls++);
    await until(() => calls >= 10);
    const elapsed = Date.now() - t0;
    // Ten 5 ms periods cannot come sooner than ~50 ms (a timer that fires at once or in a loop would).
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(addon!.cancel(id)).toBe(true);
    expect(addon!.cancel(id)).toBe(false);
    const at = calls;
    await sleep(40);
    expect(calls).toBe(at);
  });

  it('runs microtasks queued by the callback before the next call, and can cancel itself', async () => {
    const order: string[] = [];
    let id = 0;
    id = addon!.every(2, () => {
      order.push('tick');
      void Promise.resolve().then(() => order.push('micro'));
      if (order.filter((x) => x === 'tick').length === 3) order.push(`cancel ${addon!.cancel(id)}`);
    });
    await sleep(60);
    expect(order).toEqual(['tick', 'micro', 'tick', 'micro', 'tick', 'cancel true', 'micro']);
  });

  it('keeps pumps apart: cancelling one leaves the other running', async () => {
    let a = 0;
    let b = 0;
    const ida = addon!.every(3, () => void a++);
    const idb = addon!.every(3, () => void b++);
    expect(ida).not.toBe(idb);
    await until(() => a >= 2 && b >= 2);
    addon!.cancel(ida);
    const aAt = a;
    const bAt = b;
    await until(() => b >= bAt + 3);
    expect(a).toBe(aAt);
    addon!.cancel(idb);
  });

  it('rejects a bad period or callback with a TypeError', () => {
    expect(() => addon!.every(0, () => undefined)).toThrow(TypeError);
    expect(() => addon!.every(5, 'tick' as unknown as () => void)).toThrow(/callback must be a function/);
  });

  it('startPump uses it, and SIPSTORM_PUMP=interval selects setInterval', async () => {
    let n = 0;
    const pump = startPump(2, () => void n++);
    expect(pump.native).toBe(true);
    await until(() => n >= 3);
    pump.stop();
    const at = n;
    await sleep(20);
    expect(n).toBe(at);

    process.env.SIPSTORM_PUMP = 'interval';
    try {
      let m = 0;
      const fallback = startPump(2, () => void m++);
      expect(fallback.native).toBe(false);
      await until(() => m >= 3);
      fallback.stop();
    } finally {
      delete process.env.SIPSTORM_PUMP;
    }
  });
});
