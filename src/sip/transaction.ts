// RFC 3261 17.1.2 non-INVITE client transactions for many thousands of transactions per second:
// one object per transaction, one table keyed by branch (branch-table.ts), and a single timer-wheel entry per transaction
// (whichever of Timer E / F is next) instead of a setTimeout each. No closures per transaction:
// the owner gets callbacks on an interface and keeps its own data in `context`.
//
//   Trying --1xx--> Proceeding --final--> Completed --Timer K--> Terminated
//   Timer E (unreliable only): T1, doubling up to T2 while Trying; T2 once in Proceeding.
//   Timer F = 64*T1 in Trying/Proceeding -> timeout. Timer K = T4 (unreliable) / 0 (reliable).
//
// Completed transactions leave the table at once: all Timer K has to do is absorb retransmitted finals,
// and keeping 5 s worth of transaction objects (100k at 20k/s) alive cost ~2 us per transaction in GC
// and Map upkeep (measured). A 30-bit hash of branch+method in a pair of rotating Sets (each entry
// kept between T4 and 2*T4) recognises those finals instead; a hash collision can only make a
// genuinely stray response count as absorbed.
import { NO_TIMER, TimerWheel, type TimerHandle } from '../schedule/timer-wheel.js';
import { BranchTable } from './branch-table.js';
import type { Clock } from '../shared/clock.js';
import type { Transport } from '../transport/transport.js';
import type { SipMessage } from './message.js';
import { parseSipMessage } from './parser.js';

export interface TransactionOwner {
  /** Final response (>= 200), once. 1xx are absorbed. */
  onTransactionResponse(tx: ClientTransaction, msg: SipMessage): void;
  /** Timer F fired. */
  onTransactionTimeout(tx: ClientTransaction): void;
  /** Transport error on the slot, or a malformed response matched to this transaction. */
  onTransactionError(tx: ClientTransaction, reason: string, malformed: boolean): void;
  /** True when its messages go to the SIP trace (--trace): checked per message, a field read. */
  readonly traced?: boolean;
}

export type TransactionState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface ClientTransaction {
  readonly branch: string;
  readonly method: string;
  readonly cseq: number;
  readonly slot: number;
  readonly sentUs: number;
  retransmissions: number;
  state: TransactionState;
  owner: TransactionOwner;
  /** The owner's data (avoids a closure per transaction). */
  context: unknown;
}

export interface TransactionLayerHooks {
  onSent?(method: string): void;
  onRetransmit?(method: string): void;
  /** Every response received and matched, 1xx and retransmitted finals included. */
  onResponse?(method: string, status: number): void;
  /** A response no transaction matches (or a request arriving at this client). */
  onStray?(): void;
  /** Any message the parser refused, matched or not. */
  onMalformed?(kind: string): void;
  /** A message of a traced owner: each request put on the wire (retransmissions too) and each matched response. */
  onTrace?(owner: TransactionOwner, direction: 'sent' | 'received', data: Buffer): void;
}

export interface TransactionTimers {
  t1Ms: number;
  t2Ms: number;
  t4Ms: number;
}

class Tx implements ClientTransaction {
  retransmissions = 0;
  state: TransactionState = 'trying';
  timer: TimerHandle = NO_TIMER;
  /** Current Timer E interval and the time it next fires (scheduled, not observed, so no drift). */
  intervalUs = 0;
  nextEUs = 0;
  /** Timer F deadline. */
  deadlineUs = 0;
  constructor(
    readonly branch: string,
    readonly method: string,
    readonly cseq: number,
    readonly slot: number,
    readonly sentUs: number,
    public owner: TransactionOwner,
    public context: unknown,
    /** The request bytes, kept only while they may need retransmitting. */
    public data: Buffer,
  ) {}
}

const noop = (): void => undefined;
const EMPTY = Buffer.alloc(0);
const WHEEL_TICK_US = 1000;

export class ClientTransactionLayer {
  private readonly byBranch = new BranchTable<Tx>();
  private readonly wheel: TimerWheel<Tx>;
  private readonly reliable: boolean;
  private readonly t1Us: number;
  private readonly t2Us: number;
  private readonly t4Us: number;
  private readonly onSent: (method: string) => void;
  private readonly onRetransmit: (method: string) => void;
  private readonly onResponse: (method: string, status: number) => void;
  private readonly onStray: () => void;
  private readonly onMalformed: (kind: string) => void;
  /** Bound once; the wheel calls it for every due transaction. */
  private readonly fire = (tx: Tx): void => this.timerFired(tx);
  private active = 0;
  /** Completed transactions (Timer K), as hashes: `current` since the last rotation, `previous` before. */
  private completedNow = new KeySet();
  private completedBefore = new KeySet();
  private rotateAtUs: number;
  /** Waiting transactions per slot, so an error on an idle slot costs nothing. */
  private activeBySlot: Int32Array;
  private interval: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly clock: Clock,
    timers: TransactionTimers,
    private readonly hooks: TransactionLayerHooks = {},
  ) {
    for (const [name, ms] of Object.entries(timers)) {
      if (!(ms > 0) || !Number.isFinite(ms)) throw new RangeError(`${name} must be a positive number of ms, got ${ms}`);
    }
    if (timers.t2Ms < timers.t1Ms) throw new RangeError(`t2Ms (${timers.t2Ms}) must be >= t1Ms (${timers.t1Ms})`);
    this.reliable = transport.reliable;
    this.t1Us = Math.round(timers.t1Ms * 1000);
    this.t2Us = Math.round(timers.t2Ms * 1000);
    this.t4Us = Math.round(timers.t4Ms * 1000);
    this.onSent = hooks.onSent?.bind(hooks) ?? noop;
    this.onRetransmit = hooks.onRetransmit?.bind(hooks) ?? noop;
    this.onResponse = hooks.onResponse?.bind(hooks) ?? noop;
    this.onStray = hooks.onStray?.bind(hooks) ?? noop;
    this.onMalformed = hooks.onMalformed?.bind(hooks) ?? noop;
    // One revolution covers Timer F, so a pending timer is looked at about once before it is due.
    let slots = 1024;
    while (slots * WHEEL_TICK_US < 64 * this.t1Us && slots < 65536) slots *= 2;
    this.wheel = new TimerWheel<Tx>(WHEEL_TICK_US, slots, clock.nowUs());
    this.activeBySlot = new Int32Array(Math.max(1, transport.slots));
    this.rotateAtUs = clock.nowUs() + this.t4Us;
  }

  /** Transactions in Trying or Proceeding (waiting for a final response). */
  get outstanding(): number {
    return this.active;
  }

  /** Transactions still remembered, Completed ones absorbing retransmitted finals included. */
  get tracked(): number {
    return this.byBranch.size + this.completedNow.size + this.completedBefore.size;
  }

  /** Sends `data` and tracks it. The owner hears back exactly once: response, timeout or error. */
  start(owner: TransactionOwner, context: unknown, slot: number, method: string, branch: string, cseq: number, data: Buffer): ClientTransaction {
    const now = this.clock.nowUs();
    const tx = new Tx(branch, method, cseq, slot, now, owner, context, data);
    // One probe: set() hands back an entry it replaced.
    const clash = this.byBranch.set(tx);
    if (clash !== undefined) {
      // Only on a reused branch (a caller bug): the newer one wins, the older still ends exactly once
      // (its forget() finds it gone already: delete() removes only that very entry).
      this.terminate(clash);
      clash.owner.onTransactionError(clash, 'branch reused', false);
    }
    this.active++;
    if (slot >= this.activeBySlot.length) this.growSlots(slot);
    this.activeBySlot[slot]++;
    tx.deadlineUs = now + 64 * this.t1Us;
    if (this.reliable) {
      tx.timer = this.wheel.schedule(tx, tx.deadlineUs);
    } else {
      tx.intervalUs = this.t1Us;
      tx.nextEUs = now + this.t1Us;
      tx.timer = this.wheel.schedule(tx, Math.min(tx.nextEUs, tx.deadlineUs));
    }
    this.onSent(method);
    if (owner.traced === true) this.hooks.onTrace?.(owner, 'sent', data);
    this.transport.send(slot, data);
    return tx;
  }

  /**
   * When the event being handled happened (us): a response's kernel receive time when the transport
   * knows it (batched reads happen later than the arrival), else the clock at handling time.
   */
  eventUs = 0;

  /** Wire transport.onMessage here. Never throws. `rxUs`: receive timestamp, if the transport has one. */
  handleMessage(data: Buffer, _slot: number, rxUs = -1): void {
    this.eventUs = rxUs >= 0 ? rxUs : this.clock.nowUs();
    const parsed = parseSipMessage(data);
    if (!parsed.ok) {
      this.onMalformed(parsed.kind);
      const branch = parsed.viaBranch;
      if (!branch) return;
      const tx = this.byBranch.get(branch);
      if (tx === undefined || (parsed.cseqMethod && parsed.cseqMethod !== tx.method)) return;
      this.terminate(tx);
      tx.owner.onTransactionError(tx, `malformed response: ${parsed.kind}`, true);
      return;
    }
    const msg = parsed.message;
    if (msg.kind !== 'response') {
      this.onStray();
      return;
    }
    const tx = this.byBranch.get(msg.viaBranch);
    if (tx === undefined || tx.method !== msg.cseqMethod) {
      // A retransmitted final of a Completed transaction is absorbed; anything else is a stray.
      if (msg.status >= 200 && this.isCompleted(msg.viaBranch, msg.cseqMethod)) this.onResponse(msg.cseqMethod, msg.status);
      else this.onStray();
      return;
    }
    this.onResponse(tx.method, msg.status);
    if (tx.owner.traced === true) this.hooks.onTrace?.(tx.owner, 'received', data);
    if (msg.status < 200) {
      if (tx.state === 'trying') tx.state = 'proceeding';
      return;
    }
    this.active--;
    this.activeBySlot[tx.slot]--;
    this.wheel.cancel(tx.timer);
    tx.timer = NO_TIMER;
    tx.data = EMPTY; // never retransmitted again
    this.forget(tx);
    if (this.reliable) {
      tx.state = 'terminated'; // Timer K = 0
    } else {
      tx.state = 'completed'; // stays so: the layer lets go of the object, Timer K lives on as a hash
      this.completedNow.add(completedKey(tx.branch, tx.method));
    }
    tx.owner.onTransactionResponse(tx, msg);
  }

  /** Wire transport.onSlotError here: every waiting transaction on that slot fails. */
  handleSlotError(slot: number, reason: string): void {
    if (!(this.activeBySlot[slot] > 0)) return;
    this.eventUs = this.clock.nowUs();
    const failed: Tx[] = [];
    for (const tx of this.byBranch.values()) if (tx.slot === slot) failed.push(tx); // the table holds only waiting ones
    for (const tx of failed) this.terminate(tx);
    for (const tx of failed) tx.owner.onTransactionError(tx, reason, false);
  }

  /** Fires every timer due at clock.nowUs(). */
  poll(): void {
    const now = this.clock.nowUs();
    if (now >= this.rotateAtUs) {
      // Whatever is dropped here was added at least T4 ago.
      const recycled = this.completedBefore;
      recycled.clear();
      this.completedBefore = this.completedNow;
      this.completedNow = recycled;
      this.rotateAtUs = now + this.t4Us;
    }
    this.wheel.advance(now, this.fire);
  }

  /** One unref'd interval drives the wheel; the wheel's 1 ms tick bounds the lateness, not this. */
  startTimers(intervalMs = 5): void {
    this.stopTimers();
    this.interval = setInterval(() => this.poll(), intervalMs);
    this.interval.unref();
  }

  stopTimers(): void {
    if (this.interval !== undefined) clearInterval(this.interval);
    this.interval = undefined;
  }

  private timerFired(tx: Tx): void {
    tx.timer = NO_TIMER;
    if (tx.state !== 'trying' && tx.state !== 'proceeding') return;
    const now = this.clock.nowUs();
    this.eventUs = now;
    if (now >= tx.deadlineUs) {
      this.terminate(tx);
      tx.owner.onTransactionTimeout(tx);
      return;
    }
    // Timer E. Retransmit the very same bytes; the next interval doubles while Trying, T2 once Proceeding.
    tx.retransmissions++;
    this.onRetransmit(tx.method);
    if (tx.owner.traced === true) this.hooks.onTrace?.(tx.owner, 'sent', tx.data);
    this.transport.send(tx.slot, tx.data);
    tx.intervalUs = tx.state === 'trying' ? Math.min(tx.intervalUs * 2, this.t2Us) : this.t2Us;
    tx.nextEUs += tx.intervalUs;
    if (tx.nextEUs <= now) tx.nextEUs = now + tx.intervalUs; // after a stall, do not burst catch-up copies
    tx.timer = this.wheel.schedule(tx, Math.min(tx.nextEUs, tx.deadlineUs));
  }

  /** Trying/Proceeding -> Terminated without a response (timeout or error). */
  private terminate(tx: Tx): void {
    if (tx.state === 'trying' || tx.state === 'proceeding') {
      this.active--;
      this.activeBySlot[tx.slot]--;
    }
    tx.state = 'terminated';
    this.wheel.cancel(tx.timer);
    tx.timer = NO_TIMER;
    tx.data = EMPTY;
    this.forget(tx);
  }


  private growSlots(slot: number): void {
    const grown = new Int32Array(slot + 1);
    grown.set(this.activeBySlot);
    this.activeBySlot = grown;
  }

  private isCompleted(branch: string, method: string): boolean {
    const key = completedKey(branch, method);
    return this.completedNow.has(key) || this.completedBefore.has(key);
  }

  private forget(tx: Tx): void {
    this.byBranch.delete(tx);
  }
}

/**
 * A set of non-zero 30-bit keys in one Int32Array (open addressing, linear probing): no per-entry
 * objects, no rehash from empty after every rotation (the table keeps its size), clear() is a fill.
 */
class KeySet {
  private keys = new Int32Array(1024);
  private mask = 1023;
  size = 0;

  add(key: number): void {
    if (this.size * 2 >= this.keys.length) this.grow();
    let i = key & this.mask;
    for (;;) {
      const k = this.keys[i];
      if (k === key) return;
      if (k === 0) break;
      i = (i + 1) & this.mask;
    }
    this.keys[i] = key;
    this.size++;
  }

  has(key: number): boolean {
    let i = key & this.mask;
    for (;;) {
      const k = this.keys[i];
      if (k === key) return true;
      if (k === 0) return false;
      i = (i + 1) & this.mask;
    }
  }

  clear(): void {
    if (this.size === 0) return;
    this.keys.fill(0);
    this.size = 0;
  }

  private grow(): void {
    const old = this.keys;
    this.keys = new Int32Array(old.length * 2);
    this.mask = this.keys.length - 1;
    this.size = 0;
    for (let i = 0; i < old.length; i++) if (old[i] !== 0) this.add(old[i]);
  }
}

/** FNV-1a over branch and method, folded to 30 bits; never 0 (the KeySet's empty marker). */
function completedKey(branch: string, method: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < branch.length; i++) h = Math.imul(h ^ branch.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0x20, 0x01000193);
  for (let i = 0; i < method.length; i++) h = Math.imul(h ^ method.charCodeAt(i), 0x01000193);
  return ((h ^ (h >>> 30)) & 0x3fffffff) || 1;
}
