// What happens to a planned arrival between the schedule and the wire, for scenario runs: the agent
// must be free, the per-agent token bucket may hold it back (or drop it), the global concurrency cap
// may queue (or drop) it, and a rejected attempt may be retried under the retry policy. Each retry is
// its own operation linked to the logical request (the chain) it belongs to, so first-attempt and
// eventual success are counted apart. State lives in per-agent typed arrays (one chain per agent at
// a time) and pending starts ride one timer wheel advanced by the engine's loop: nothing per arrival
// is allocated. It also tracks which agents hold a binding, for "time until all registered".
import { ConcurrencyGate } from '../control/concurrency.js';
import { shouldRetry, retryDelayUs } from '../control/retry.js';
import { AgentBuckets } from '../control/token-bucket.js';
import type { RetrySpec, ThrottleSpec } from '../scenario/types.js';
import { NO_TIMER, TimerWheel } from '../schedule/timer-wheel.js';
import { newLatencyHistogram, percentileMs, recordUs } from '../metrics/histogram.js';
import { xorshift } from '../shared/seeded-random.js';
import { OUTCOME_CLASSES, outcomeIndex, type OutcomeClass } from '../shared/outcome.js';
import type { AttemptsBlock, ThrottleBlock } from '../report/scenario-result.js';

/** What the flow needs from the engine. */
export interface FlowHost {
  /** Put the agent's operation on the wire now (the engine calls `done` exactly once later). */
  startOperation(agent: number, action: number, phase: number, intendedUs: number, nowUs: number): void;
  /** Record an arrival that was never sent (agent busy, throttle or cap full). */
  recordDropped(agent: number, action: number, phase: number, intendedUs: number, nowUs: number): void;
}

const IDLE = 0;
/** Held by the per-agent bucket until its token time. */
const THROTTLED = 1;
/** In the concurrency cap's queue. */
const QUEUED = 2;
/** Waiting out a retry delay. */
const RETRY_WAIT = 3;
const BUSY = 4;

const NCLS = OUTCOME_CLASSES.length;
const DROPPED = outcomeIndex('dropped');
const WHEEL_TICK_US = 1000;

export interface FlowOptions {
  agents: number;
  throttle?: ThrottleSpec;
  retry?: RetrySpec;
  seed: number;
  startUs: number;
}

export class OperationFlow {
  private readonly state: Uint8Array;
  private readonly action: Uint8Array;
  private readonly phase: Uint16Array;
  private readonly intendedUs: Float64Array;
  private readonly attempt: Uint8Array;
  /** Class of the chain's latest finished attempt (for a chain superseded or stopped while waiting). */
  private readonly lastClass: Uint8Array;
  private readonly timer: Float64Array;
  /** 1 while a side operation runs during a retry wait; 2 when the retry came due meanwhile. */
  private readonly side: Uint8Array;
  private readonly wheel: TimerWheel<number>;
  private readonly buckets?: AgentBuckets;
  private readonly gate?: ConcurrencyGate;
  private readonly random: () => number;
  /** The time advance() was called with, for the starts it fires. */
  private advanceNowUs = 0;
  private readonly firstByClass = new Float64Array(NCLS);
  private readonly eventualByClass = new Float64Array(NCLS);
  private readonly throttleDelay = newLatencyHistogram();
  private retries = 0;
  private throttleDelayed = 0;
  private throttleDropped = 0;
  /** Chains not yet at rest (waiting, queued or on the wire). */
  private active = 0;
  // Bindings: agents whose latest REGISTER succeeded.
  private readonly bound: Uint8Array;
  private boundCount = 0;
  private allBoundAtUs = -1;
  private t0Us = -1;
  private firstFailureAfterT0Us = -1;
  private recoveredAtUs = -1;

  constructor(
    private readonly opts: FlowOptions,
    private readonly host: FlowHost,
  ) {
    const n = opts.agents;
    this.state = new Uint8Array(n);
    this.action = new Uint8Array(n);
    this.phase = new Uint16Array(n);
    this.intendedUs = new Float64Array(n);
    this.attempt = new Uint8Array(n);
    this.lastClass = new Uint8Array(n);
    this.timer = new Float64Array(n);
    this.side = new Uint8Array(n);
    this.bound = new Uint8Array(n);
    this.wheel = new TimerWheel<number>(WHEEL_TICK_US, 1024, opts.startUs);
    const perAgent = opts.throttle?.perAgent;
    if (perAgent) this.buckets = new AgentBuckets(n, perAgent.rate, perAgent.burst, opts.startUs);
    if (opts.throttle?.concurrency) this.gate = new ConcurrencyGate(opts.throttle.concurrency);
    this.random = xorshift(opts.seed ^ 0x5eed);
  }

  /** Absolute clock time of T0, for the recovery figure. */
  setT0(t0Us: number): void {
    this.t0Us = t0Us;
  }

  /** Chains still waiting, queued or on the wire: the run drains until this is 0. */
  get pending(): number {
    return this.active;
  }

  isIdle(agent: number): boolean {
    return this.state[agent] === IDLE;
  }

  /** A planned arrival (or a binding refresh) for `agent`. */
  arrival(agent: number, action: number, phase: number, intendedUs: number, nowUs: number): void {
    const state = this.state[agent];
    if (state === RETRY_WAIT && this.side[agent] === 0) {
      // The agent is only waiting out a backoff: the new request goes out beside it as a one-shot
      // operation (a softphone keeps pinging while it backs off its REGISTER); the retry keeps its time.
      this.sideArrival(agent, action, phase, intendedUs, nowUs);
      return;
    }
    if (state !== IDLE) {
      // Never queued silently: the agent could not keep the schedule.
      this.firstByClass[DROPPED]++;
      this.eventualByClass[DROPPED]++;
      this.host.recordDropped(agent, action, phase, intendedUs, nowUs);
      return;
    }
    this.active++;
    this.action[agent] = action;
    this.phase[agent] = phase;
    this.intendedUs[agent] = intendedUs;
    this.attempt[agent] = 1;
    this.admit(agent, nowUs);
  }

  /** The engine reports the end of an operation this flow started. */
  done(agent: number, cls: OutcomeClass, retryAfterS: number, nowUs: number): void {
    const c = outcomeIndex(cls);
    if (this.side[agent] !== 0) {
      // A side operation: a chain of its own with one attempt; then the waiting retry, if it came due.
      const retryDue = this.side[agent] === 2;
      this.side[agent] = 0;
      this.firstByClass[c]++;
      this.eventualByClass[c]++;
      this.leaveGate(nowUs);
      if (retryDue) this.admit(agent, nowUs);
      return;
    }
    const attempt = this.attempt[agent];
    if (attempt === 1) this.firstByClass[c]++;
    this.lastClass[agent] = c;
    this.leaveGate(nowUs);
    const retry = this.opts.retry;
    if (retry && cls !== 'ok' && shouldRetry(retry, cls, attempt)) {
      const delayUs = retryDelayUs(retry, attempt, retryAfterS >= 0 ? retryAfterS : undefined, this.random);
      this.retries++;
      this.attempt[agent] = attempt + 1;
      this.intendedUs[agent] = nowUs + delayUs;
      this.state[agent] = RETRY_WAIT;
      this.timer[agent] = this.wheel.schedule(agent, nowUs + delayUs);
      return;
    }
    this.endChain(agent, c);
  }

  /** A REGISTER's result for the binding bookkeeping (refreshes and retries included). */
  registerResult(agent: number, ok: boolean, nowUs: number): void {
    if (ok && this.bound[agent] === 0) {
      this.bound[agent] = 1;
      this.boundCount++;
      if (this.boundCount === this.bound.length) {
        if (this.allBoundAtUs < 0) this.allBoundAtUs = nowUs;
        if (this.firstFailureAfterT0Us >= 0 && this.recoveredAtUs < 0) this.recoveredAtUs = nowUs;
      }
    } else if (!ok) {
      if (this.bound[agent] === 1) {
        this.bound[agent] = 0;
        this.boundCount--;
      }
      if (this.t0Us >= 0 && nowUs >= this.t0Us && this.firstFailureAfterT0Us < 0) this.firstFailureAfterT0Us = nowUs;
    }
  }

  /** A binding removed on purpose (a planned unregister). */
  unbound(agent: number): void {
    if (this.bound[agent] === 1) {
      this.bound[agent] = 0;
      this.boundCount--;
    }
  }

  /** Starts whatever is due (throttled operations whose token came, retries whose delay passed). */
  advance(nowUs: number): void {
    this.advanceNowUs = nowUs;
    this.wheel.advance(nowUs, this.fire);
  }

  /** End of the run: whatever still waits is never sent; it is counted dropped. */
  stop(nowUs: number): void {
    for (let agent = 0; agent < this.state.length; agent++) {
      const state = this.state[agent];
      if (state === THROTTLED || state === QUEUED) {
        this.wheel.cancel(this.timer[agent]);
        this.host.recordDropped(agent, this.action[agent], this.phase[agent], this.intendedUs[agent], nowUs);
        if (this.attempt[agent] === 1) this.firstByClass[DROPPED]++;
        this.endChain(agent, DROPPED);
      } else if (state === RETRY_WAIT) {
        this.wheel.cancel(this.timer[agent]);
        this.endChain(agent, this.lastClass[agent]);
      }
    }
  }

  attemptsBlock(scheduleStartUs: number): AttemptsBlock {
    const counts = (a: Float64Array) => {
      const byClass = Object.fromEntries(OUTCOME_CLASSES.map((cls, i) => [cls, a[i]])) as Record<OutcomeClass, number>;
      let attempted = 0;
      for (let i = 0; i < NCLS; i++) attempted += a[i];
      return { attempted, ok: byClass.ok, byClass };
    };
    return {
      firstAttempt: counts(this.firstByClass),
      eventual: counts(this.eventualByClass),
      retries: this.retries,
      timeToAllRegisteredMs: this.allBoundAtUs < 0 ? null : round1((this.allBoundAtUs - scheduleStartUs) / 1000),
      recoveryMs: this.recoveredAtUs < 0 || this.t0Us < 0 ? null : round1((this.recoveredAtUs - this.t0Us) / 1000),
    };
  }

  throttleBlock(): ThrottleBlock {
    const t = this.opts.throttle ?? {};
    return {
      perAgent: t.perAgent,
      concurrency: t.concurrency,
      delayed: this.throttleDelayed,
      delayP99Ms: this.throttleDelayed > 0 ? percentileMs(this.throttleDelay, 99) : 0,
      dropped: this.throttleDropped + (this.gate?.dropped ?? 0),
      maxQueue: this.gate?.maxQueued ?? 0,
    };
  }

  private readonly fire = (agent: number): void => {
    this.timer[agent] = NO_TIMER;
    const now = this.advanceNowUs;
    if (this.state[agent] === THROTTLED) this.enterGate(agent, now);
    else if (this.state[agent] === RETRY_WAIT) {
      if (this.side[agent] === 1) this.side[agent] = 2;
      else this.admit(agent, now);
    }
  };

  /** A one-shot operation while the agent's chain waits for its retry: no waiting of its own (throttle or cap full -> dropped). */
  private sideArrival(agent: number, action: number, phase: number, intendedUs: number, nowUs: number): void {
    const dropped = () => {
      this.firstByClass[DROPPED]++;
      this.eventualByClass[DROPPED]++;
      this.host.recordDropped(agent, action, phase, intendedUs, nowUs);
    };
    if (this.buckets && !this.buckets.tryTake(agent, nowUs)) {
      this.throttleDropped++;
      return dropped();
    }
    if (this.gate && this.gate.inFlight >= this.opts.throttle!.concurrency!.limit) return dropped();
    if (this.gate) this.gate.tryEnter(agent);
    this.side[agent] = 1;
    this.host.startOperation(agent, action, phase, intendedUs, nowUs);
  }

  private admit(agent: number, nowUs: number): void {
    const buckets = this.buckets;
    if (buckets) {
      const perAgent = this.opts.throttle!.perAgent!;
      if (perAgent.whenEmpty === 'drop') {
        if (!buckets.tryTake(agent, nowUs)) {
          this.throttleDropped++;
          this.dropChain(agent, nowUs);
          return;
        }
      } else {
        const waitUs = buckets.take(agent, nowUs);
        if (waitUs > 0) {
          this.throttleDelayed++;
          recordUs(this.throttleDelay, waitUs);
          this.state[agent] = THROTTLED;
          this.timer[agent] = this.wheel.schedule(agent, nowUs + waitUs);
          return;
        }
      }
    }
    this.enterGate(agent, nowUs);
  }

  private enterGate(agent: number, nowUs: number): void {
    const gate = this.gate;
    if (gate) {
      const verdict = gate.tryEnter(agent);
      if (verdict === 'queued') {
        this.state[agent] = QUEUED;
        return;
      }
      if (verdict === 'dropped') {
        this.dropChain(agent, nowUs);
        return;
      }
    }
    this.begin(agent, nowUs);
  }

  private leaveGate(nowUs: number): void {
    const gate = this.gate;
    if (!gate) return;
    const next = gate.leave();
    if (next >= 0 && this.state[next] === QUEUED) this.begin(next, nowUs);
  }

  private begin(agent: number, nowUs: number): void {
    this.state[agent] = BUSY;
    this.host.startOperation(agent, this.action[agent], this.phase[agent], this.intendedUs[agent], nowUs);
  }

  private dropChain(agent: number, nowUs: number): void {
    this.host.recordDropped(agent, this.action[agent], this.phase[agent], this.intendedUs[agent], nowUs);
    if (this.attempt[agent] === 1) this.firstByClass[DROPPED]++;
    this.endChain(agent, DROPPED);
  }

  private endChain(agent: number, cls: number): void {
    this.eventualByClass[cls]++;
    this.state[agent] = IDLE;
    this.timer[agent] = NO_TIMER;
    this.active--;
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
