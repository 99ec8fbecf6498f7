// The batched loop's tick. With the native addon it is a uv timer that enters JS directly
// (native/pump.c): measured per idle 4 ms tick on a VM, ~60-110 us of CPU against ~125-170 us for
// setInterval, and at a few thousand requests/s the tick's fixed cost is a large share of the total.
// Without the addon (or with SIPSTORM_PUMP=interval, for comparison) it is setInterval;
// SIPSTORM_PUMP=turn keeps the uv timer but sends every tick through a loop turn (no holding).
import { loadUdpBatch } from '../transport/native.js';

export interface Pump {
  readonly native: boolean;
  stop(): void;
}

export function startPump(ms: number, tick: () => void): Pump {
  const addon = process.env.SIPSTORM_PUMP === 'interval' ? null : loadUdpBatch();
  if (addon) {
    const id = addon.every(ms, tick, process.env.SIPSTORM_PUMP !== 'turn');
    return { native: true, stop: () => void addon.cancel(id) };
  }
  const timer = setInterval(tick, ms);
  return { native: false, stop: () => clearInterval(timer) };
}
