// Sends each due batch per timer tick. Spinning on setImmediate costs ~4x the CPU (DESIGN.md), so the
// dispatcher sleeps until the next due arrival (at least ~1 ms) and then dispatches everything due.
import type { Clock } from '../shared/clock.js';
import type { ArrivalSource } from './arrivals.js';

export interface DispatchTarget {
  /** Called once per arrival, in order. `intendedUs` is absolute (clock time). */
  dispatch(k: number, intendedUs: number, nowUs: number): void;
}

export interface DispatcherOptions {
  clock: Clock;
  source: ArrivalSource;
  target: DispatchTarget;
  /** Upper bound for one batch so a stalled loop does not dispatch an unbounded burst in one go. */
  maxBatch?: number;
  /** Called on every wake-up after dispatching: other periodic work rides the same timer. */
  onTick?: () => void;
  /** Longest sleep between wake-ups (ms), so onTick keeps running at low rates. */
  maxSleepMs?: number;
}

export class Dispatcher {
  private next = 0;
  private startUs = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private resolveDone: (() => void) | null = null;
  readonly done: Promise<void>;

  constructor(private readonly opts: DispatcherOptions) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  get dispatched(): number {
    return this.next;
  }

  get scheduleStartUs(): number {
    return this.startUs;
  }

  /** Starts the schedule now (with real timers). */
  start(): void {
    this.begin();
    this.loop();
  }

  /** Starts the schedule now without timers: the caller drives step() (one loop for batched I/O). */
  begin(): void {
    this.startUs = this.opts.clock.nowUs();
  }

  /** Stops dispatching; arrivals not yet due are never dispatched (the caller counts them if it wants). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.finish();
  }

  /** One step: dispatch everything due at `nowUs`. Returns microseconds until the next arrival, or -1 when finished. */
  step(nowUs: number): number {
    if (this.stopped) return -1;
    const { source, target } = this.opts;
    const maxBatch = this.opts.maxBatch ?? 50_000;
    const due = source.dueCount(nowUs - this.startUs);
    let sent = 0;
    while (this.next < due && sent < maxBatch && !this.stopped) {
      const k = this.next++;
      target.dispatch(k, this.startUs + source.offsetUs(k), nowUs);
      sent++;
    }
    if (this.next >= source.total) {
      this.finish();
      return -1;
    }
    return Math.max(0, this.startUs + source.offsetUs(this.next) - nowUs);
  }

  private loop = (): void => {
    this.timer = null;
    if (this.stopped) return;
    const waitUs = this.step(this.opts.clock.nowUs());
    this.opts.onTick?.();
    if (waitUs < 0) return;
    // Sleep until the next due time; setTimeout's floor is ~1 ms, which batches at high rates.
    const sleepMs = Math.max(1, Math.floor(waitUs / 1000));
    this.timer = setTimeout(this.loop, Math.min(sleepMs, this.opts.maxSleepMs ?? sleepMs));
  };

  private finish(): void {
    this.stopped = true;
    this.resolveDone?.();
    this.resolveDone = null;
  }
}
