import dgram from 'node:dgram';
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

  // Holding (native/pump.c): between ticks the pump sleeps on the loop's epoll fd instead of turning the
  // loop, but only while the loop has nothing else to do first. Each case counts pump ticks, not
  // milliseconds: a pump that held through the event would deliver it up to 64 ticks late.
  describe('holding the loop between ticks', () => {
    it('holds when the loop is otherwise idle, and not with hold = false', async () => {
      const held = addon!.every(5, () => undefined);
      await sleep(200);
      expect(addon!.held(held)).toBeGreaterThan(0);
      addon!.cancel(held);
      expect(addon!.held(held)).toBe(0);
      const turning = addon!.every(5, () => undefined, false);
      await sleep(200);
      expect(addon!.held(turning)).toBe(0);
      addon!.cancel(turning);
    });

    it('lets a timer that falls due between ticks fire on time', async () => {
      let ticks = 0;
      let armedAt = -1;
      let firedAt = -1;
      const id = addon!.every(10, () => {
        ticks++;
        if (ticks === 3) {
          armedAt = ticks;
          setTimeout(() => (firedAt = ticks), 25);
        }
      });
      await until(() => firedAt >= 0, 3000);
      addon!.cancel(id);
      // Due 2.5 ticks later: it fires after tick 5 or, on a slow machine, a little later; never held off.
      expect(firedAt - armedAt).toBeGreaterThanOrEqual(2);
      expect(firedAt - armedAt).toBeLessThanOrEqual(5);
    });

    it('does not hold off a timer that falls due in the same loop pass as a tick', async () => {
      // Same period, started together: both fall due in the same pass again and again. A pump that held
      // from its timer callback would keep the other timer (already off libuv's heap) waiting.
      let ticks = 0;
      let intervals = 0;
      const id = addon!.every(10, () => void ticks++);
      const interval = setInterval(() => void intervals++, 10);
      await until(() => ticks >= 40, 5000);
      clearInterval(interval);
      addon!.cancel(id);
      expect(intervals).toBeGreaterThanOrEqual(ticks / 2);
    });

    it('hands the loop back at once for I/O (a datagram) and for signals, and runs immediates first', async () => {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      const { port } = socket.address();
      let ticks = 0;
      const sentAt: number[] = [];
      const gotAt: number[] = [];
      let signalAt = -1;
      let immediateAt = -1;
      const onSignal = () => void (signalAt = ticks);
      process.on('SIGUSR2', onSignal);
      socket.on('message', () => gotAt.push(ticks));
      const id = addon!.every(20, () => {
        ticks++;
        // The datagram is in the socket's queue before the tick returns; it must be read before the next.
        if (ticks === 2 || ticks === 4 || ticks === 6) {
          sentAt.push(ticks);
          socket.send('x', port, '127.0.0.1');
        }
        if (ticks === 8) process.kill(process.pid, 'SIGUSR2');
        if (ticks === 10) setImmediate(() => (immediateAt = ticks));
      });
      try {
        await until(() => gotAt.length === 3 && signalAt >= 0 && immediateAt >= 0, 5000);
      } finally {
        addon!.cancel(id);
        process.off('SIGUSR2', onSignal);
        socket.close();
      }
      // One tick of slack for a slow machine; holding through them would cost dozens.
      for (let i = 0; i < 3; i++) expect(gotAt[i] - sentAt[i]).toBeLessThanOrEqual(1);
      expect(signalAt - 8).toBeLessThanOrEqual(1);
      expect(immediateAt).toBe(10);
    });
  });

  it('rejects a bad period or callback with a TypeError', () => {
    expect(() => addon!.every(0, () => undefined)).toThrow(TypeError);
    expect(() => addon!.every(5, 'tick' as unknown as () => void)).toThrow(/callback must be a function/);
    expect(() => addon!.every(5, () => undefined, 'yes' as unknown as boolean)).toThrow(/hold must be a boolean/);
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
