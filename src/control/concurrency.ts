// Global cap on operations in flight for the core (UDP/TCP) path. Callers hand in an integer id (an
// operation slot); when the cap is full the id waits in a FIFO ring (Int32Array) bounded by queueLimit,
// or is dropped. No promise, closure or allocation per operation (the ring only grows, by doubling, up
// to queueLimit), unlike p-limit, which the promise-based softphone agents use instead (promise-limit.ts).
import type { ConcurrencyCap } from '../scenario/types.js';

export type GateDecision = 'run' | 'queued' | 'dropped';

/** The ring starts this small and doubles as needed, so a huge queueLimit costs nothing until used. */
const INITIAL_RING = 1024;

export class ConcurrencyGate {
  readonly limit: number;
  readonly whenFull: 'queue' | 'drop';
  readonly queueLimit: number;
  private ring: Int32Array;
  /** Index of the oldest queued id. */
  private head = 0;
  private running = 0;
  private waiting = 0;
  private waitingMax = 0;
  private droppedCount = 0;

  constructor(cap: ConcurrencyCap) {
    if (!Number.isInteger(cap.limit) || cap.limit < 1) throw new RangeError(`throttle.concurrency.limit must be a whole number >= 1 (got ${cap.limit})`);
    if (cap.whenFull !== 'queue' && cap.whenFull !== 'drop') throw new RangeError(`throttle.concurrency.whenFull must be queue or drop (got ${String(cap.whenFull)})`);
    const queueLimit = cap.whenFull === 'drop' ? 0 : cap.queueLimit;
    if (!Number.isInteger(queueLimit) || queueLimit < 0) throw new RangeError(`throttle.concurrency.queueLimit must be a whole number >= 0 (got ${cap.queueLimit})`);
    this.limit = cap.limit;
    this.whenFull = cap.whenFull;
    this.queueLimit = queueLimit;
    this.ring = new Int32Array(Math.min(queueLimit, INITIAL_RING));
  }

  /** Operations running now. */
  get inFlight(): number {
    return this.running;
  }
  /** Ids waiting for a slot now. */
  get queued(): number {
    return this.waiting;
  }
  /** Deepest the queue has been. */
  get maxQueued(): number {
    return this.waitingMax;
  }
  /** Ids refused (cap full and queue full, or `drop`), plus any drained by drainQueue. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** `run`: go now (call leave() when done). `queued`: leave() will hand the id back later. `dropped`: never runs. */
  tryEnter(id: number): GateDecision {
    if (this.running < this.limit) {
      this.running++;
      return 'run';
    }
    if (this.waiting < this.queueLimit) {
      if ((id | 0) !== id || id < 0) throw new RangeError(`concurrency gate: id must be an int32 >= 0 (got ${id})`);
      if (this.waiting === this.ring.length) this.grow();
      const cap = this.ring.length;
      let tail = this.head + this.waiting;
      if (tail >= cap) tail -= cap;
      this.ring[tail] = id;
      this.waiting++;
      if (this.waiting > this.waitingMax) this.waitingMax = this.waiting;
      return 'queued';
    }
    this.droppedCount++;
    return 'dropped';
  }

  /** One running operation finished. Returns the queued id that takes its slot (run it now), or -1. */
  leave(): number {
    if (this.running === 0) throw new Error('concurrency gate: leave() without a running operation');
    if (this.waiting === 0) {
      this.running--;
      return -1;
    }
    // The slot passes straight to the oldest waiter: inFlight stays the same.
    const id = this.ring[this.head];
    this.head++;
    if (this.head === this.ring.length) this.head = 0;
    this.waiting--;
    return id;
  }

  /** Empties the queue (end of run), counting each id as dropped and handing it to `visit`. Returns how many. */
  drainQueue(visit?: (id: number) => void): number {
    const n = this.waiting;
    for (let i = 0; i < n; i++) {
      const id = this.ring[this.head];
      this.head++;
      if (this.head === this.ring.length) this.head = 0;
      this.waiting--;
      this.droppedCount++;
      visit?.(id);
    }
    return n;
  }

  private grow(): void {
    const cap = this.ring.length;
    const next = new Int32Array(Math.min(this.queueLimit, Math.max(1, cap * 2)));
    // Unwrap into the new ring, oldest first.
    for (let i = 0; i < this.waiting; i++) {
      let at = this.head + i;
      if (at >= cap) at -= cap;
      next[i] = this.ring[at];
    }
    this.ring = next;
    this.head = 0;
  }
}
