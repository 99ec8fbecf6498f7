// A hashed timer wheel (Varghese & Lauck, scheme 6) driven by advance(nowUs): no setTimeout per timer.
// At 20k transactions/s each transaction arms a Timer E/F and almost always cancels it a few ms later;
// here that is two O(1) list operations on typed arrays and no allocation: a handle is a plain number
// (slot index + generation), nodes are recycled through a free list, and a stale handle (its timer
// already fired or was cancelled, its node reused) is recognised by the generation and ignored.
//
// Semantics: advance(now) fires exactly the timers with dueUs <= now (each once), bucket by bucket in
// tick order. Timers due beyond one revolution stay in their bucket and are skipped until their round.
// Timers scheduled from inside a fire callback that are already due fire on the next advance at the latest.
// Pure: no clock, no I/O.

/** 0 is never a live handle, so it can mean "no timer" in a numeric field. */
export type TimerHandle = number;
export const NO_TIMER: TimerHandle = 0;

const IDX_BITS = 2 ** 24; // up to 16M simultaneous timers
const GEN_LIMIT = 2 ** 28; // generation wraps here; handle stays below 2^52
const NIL = -1;
const FREE = 0;
const ARMED = 1;
const FIRING = 2;

export class TimerWheel<T> {
  private readonly slots: number;
  private readonly tickUs: number;
  private readonly startUs: number;
  private readonly heads: Int32Array;
  private next: Int32Array;
  private prev: Int32Array;
  private tick: Float64Array;
  private due: Float64Array;
  private gen: Uint32Array;
  private state: Uint8Array;
  private items: (T | undefined)[] = [];
  private capacity = 0;
  private freeHead = NIL;
  private count = 0;
  /** Tick of the last advance; its bucket is scanned again by the next advance. */
  private cursor = 0;
  /** Lowest tick whose bucket is still to be scanned (cursor when idle, processing tick + 1 while advancing). */
  private lowTick = 0;
  /** Handles collected from one bucket before firing, so callbacks may schedule and cancel freely. */
  private firing: number[] = [];

  constructor(tickUs: number, slots: number, startUs: number) {
    if (!(tickUs > 0) || !Number.isFinite(tickUs)) throw new RangeError(`tickUs must be > 0, got ${tickUs}`);
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be a positive integer, got ${slots}`);
    this.tickUs = tickUs;
    this.slots = slots;
    this.startUs = startUs;
    this.heads = new Int32Array(slots).fill(NIL);
    this.next = new Int32Array(0);
    this.prev = new Int32Array(0);
    this.tick = new Float64Array(0);
    this.due = new Float64Array(0);
    this.gen = new Uint32Array(0);
    this.state = new Uint8Array(0);
    this.grow(64);
  }

  /** Timers armed and not yet fired or cancelled. */
  get size(): number {
    return this.count;
  }

  schedule(item: T, dueUs: number): TimerHandle {
    if (Number.isNaN(dueUs)) throw new RangeError('dueUs is NaN');
    if (this.freeHead === NIL) this.grow(this.capacity * 2);
    const i = this.freeHead;
    this.freeHead = this.next[i];
    let t = Math.floor((dueUs - this.startUs) / this.tickUs);
    // A bucket behind the scan would only be visited a revolution later: park it where the next scan starts.
    if (t < this.lowTick) t = this.cursor;
    else if (t > Number.MAX_SAFE_INTEGER) t = Number.MAX_SAFE_INTEGER;
    this.tick[i] = t;
    this.due[i] = dueUs;
    this.items[i] = item;
    this.state[i] = ARMED;
    this.link(i, t % this.slots);
    this.count++;
    return this.gen[i] * IDX_BITS + i;
  }

  /** O(1). Cancelling a handle that already fired, was cancelled, or is NO_TIMER does nothing. */
  cancel(h: TimerHandle): boolean {
    const i = h % IDX_BITS;
    if (h < IDX_BITS || i >= this.capacity || this.gen[i] !== (h - i) / IDX_BITS) return false;
    const s = this.state[i];
    if (s === ARMED) this.unlink(i, this.tick[i] % this.slots);
    else if (s !== FIRING) return false;
    this.release(i);
    this.count--;
    return true;
  }

  /** The due time of a live handle, or -1. */
  dueOf(h: TimerHandle): number {
    const i = h % IDX_BITS;
    if (h < IDX_BITS || i >= this.capacity || this.gen[i] !== (h - i) / IDX_BITS || this.state[i] === FREE) return -1;
    return this.due[i];
  }

  advance(nowUs: number, fire: (item: T) => void): void {
    const target = Math.floor((nowUs - this.startUs) / this.tickUs);
    if (target < this.cursor) return; // time never goes back; nothing new can be due
    // Past one revolution every bucket is visited once: the due check below finds everything.
    const from = target - this.cursor >= this.slots ? target - this.slots + 1 : this.cursor;
    this.cursor = target;
    const firing = this.firing;
    for (let t = from; t <= target; t++) {
      const bucket = t % this.slots;
      // Collect first: callbacks may schedule into this very bucket or cancel what is collected.
      let i = this.heads[bucket];
      while (i !== NIL) {
        const n = this.next[i];
        if (this.due[i] <= nowUs) {
          this.unlink(i, bucket);
          this.state[i] = FIRING;
          firing.push(this.gen[i] * IDX_BITS + i);
        }
        i = n;
      }
      this.lowTick = t + 1;
      for (let k = 0; k < firing.length; k++) {
        const h = firing[k];
        const j = h % IDX_BITS;
        if (this.gen[j] !== (h - j) / IDX_BITS || this.state[j] !== FIRING) continue; // cancelled meanwhile
        const item = this.items[j] as T;
        this.release(j);
        this.count--;
        fire(item);
      }
      firing.length = 0;
    }
    this.lowTick = this.cursor;
  }

  private link(i: number, bucket: number): void {
    const head = this.heads[bucket];
    this.prev[i] = NIL;
    this.next[i] = head;
    if (head !== NIL) this.prev[head] = i;
    this.heads[bucket] = i;
  }

  private unlink(i: number, bucket: number): void {
    const p = this.prev[i];
    const n = this.next[i];
    if (p !== NIL) this.next[p] = n;
    else this.heads[bucket] = n;
    if (n !== NIL) this.prev[n] = p;
  }

  private release(i: number): void {
    this.state[i] = FREE;
    this.items[i] = undefined; // let the item be collected
    const g = this.gen[i] + 1;
    this.gen[i] = g >= GEN_LIMIT ? 1 : g;
    this.next[i] = this.freeHead;
    this.freeHead = i;
  }

  private grow(capacity: number): void {
    if (capacity > IDX_BITS) throw new RangeError('TimerWheel: too many timers');
    const old = this.capacity;
    const copy = <A extends Int32Array | Float64Array | Uint32Array | Uint8Array>(a: A, make: (n: number) => A): A => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.next = copy(this.next, (n) => new Int32Array(n));
    this.prev = copy(this.prev, (n) => new Int32Array(n));
    this.tick = copy(this.tick, (n) => new Float64Array(n));
    this.due = copy(this.due, (n) => new Float64Array(n));
    this.gen = copy(this.gen, (n) => new Uint32Array(n));
    this.state = copy(this.state, (n) => new Uint8Array(n));
    // New nodes join the free list in index order; generation starts at 1 so no handle is 0.
    for (let i = capacity - 1; i >= old; i--) {
      this.gen[i] = 1;
      this.next[i] = this.freeHead;
      this.freeHead = i;
    }
    this.items.length = capacity;
    this.capacity = capacity;
  }
}
