import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/shared/clock.js';
import { createMemoryPair } from '../src/transport/memory.js';

function wire(opts: Parameters<typeof createMemoryPair>[0]) {
  const pair = createMemoryPair(opts);
  const atClient: string[] = [];
  const atServer: string[] = [];
  pair.setClientEvents({ onMessage: (d) => atClient.push(d.toString()), onSlotError: () => undefined });
  pair.server.onMessage = (d) => atServer.push(d.toString());
  return { pair, atClient, atServer };
}

describe('memory transport pair', () => {
  it('delivers nothing inside send(), only on pump()', () => {
    const { pair, atServer } = wire({});
    pair.client.send(0, Buffer.from('a'));
    expect(atServer).toEqual([]);
    expect(pair.inFlight).toBe(1);
    expect(pair.pump()).toBe(1);
    expect(atServer).toEqual(['a']);
  });

  it('drops the first N client messages, then delivers', () => {
    const { pair, atServer } = wire({ dropFirst: 2 });
    for (const m of ['1', '2', '3']) pair.client.send(0, Buffer.from(m));
    pair.pump();
    expect(atServer).toEqual(['3']);
    pair.dropNext(1);
    pair.client.send(0, Buffer.from('4'));
    pair.client.send(0, Buffer.from('5'));
    pair.pump();
    expect(atServer).toEqual(['3', '5']);
    expect(pair.counters.dropped).toBe(3);
  });

  it('delays by the injected clock and keeps order', () => {
    const clock = new FakeClock();
    const { pair, atServer, atClient } = wire({ clock, delayMs: 50 });
    pair.client.send(0, Buffer.from('x'));
    clock.advanceMs(10);
    pair.client.send(0, Buffer.from('y'));
    pair.server.send(Buffer.from('r'), 0);
    clock.advanceMs(39);
    expect(pair.pump()).toBe(0);
    clock.advanceMs(1);
    pair.pump();
    expect(atServer).toEqual(['x']);
    clock.advanceMs(10);
    pair.pump();
    expect(atServer).toEqual(['x', 'y']);
    expect(atClient).toEqual(['r']);
  });

  it('is reproducible for a seed and roughly honours the drop and duplicate rates', () => {
    const run = (seed: number) => {
      const { pair, atServer } = wire({ seed, dropRate: 0.2, duplicateRate: 0.1 });
      for (let i = 0; i < 5000; i++) pair.client.send(0, Buffer.from(String(i)));
      pair.pump();
      return { got: atServer.join(','), counters: { ...pair.counters } };
    };
    const a = run(7);
    expect(run(7)).toEqual(a);
    expect(run(8).got).not.toBe(a.got);
    expect(a.counters.dropped / 5000).toBeGreaterThan(0.17);
    expect(a.counters.dropped / 5000).toBeLessThan(0.23);
    expect(a.counters.duplicated / (5000 - a.counters.dropped)).toBeGreaterThan(0.07);
    expect(a.counters.duplicated / (5000 - a.counters.dropped)).toBeLessThan(0.13);
    expect(a.counters.toServer).toBe(5000 - a.counters.dropped + a.counters.duplicated);
  });

  it('answers on the slot the request came from and reports slot failures', () => {
    const pair = createMemoryPair({ slots: 3 });
    const seen: [string, number][] = [];
    const errors: [number, string][] = [];
    pair.setClientEvents({ onMessage: (d, slot) => seen.push([d.toString(), slot]), onSlotError: (s, r) => errors.push([s, r]) });
    pair.server.onMessage = (d) => pair.server.send(Buffer.from(`re:${d}`));
    pair.client.send(2, Buffer.from('q'));
    pair.pump();
    expect(seen).toEqual([['re:q', 2]]);
    expect(pair.client.advertised(2)).not.toEqual(pair.client.advertised(1));
    pair.failSlot(1, 'boom');
    expect(errors).toEqual([[1, 'boom']]);
    expect(pair.client.stats()).toMatchObject({ sent: 1, received: 1 });
  });

  it('autoPump delivers in a microtask', async () => {
    const { pair, atServer } = wire({ autoPump: true });
    pair.client.send(0, Buffer.from('m'));
    expect(atServer).toEqual([]);
    await Promise.resolve();
    expect(atServer).toEqual(['m']);
  });
});
