// A fleet of softphone agents in one process: starts them, registers agent i when told (open-loop
// arrivals), keeps each binding refreshed, retries failed REGISTERs with the retry policy (exponential
// backoff with full jitter, Retry-After honoured; after a 401 with a fresh token), and records every
// REGISTER operation into the same MetricsRecorder as the core path: one recordOutcome per operation
// with intended / first-sent / done times in clock microseconds, every request and response on the wire.
import { createPromiseLimiter, type PromiseLimiter } from '../control/promise-limit.js';
import { retryDelayUs, shouldRetry } from '../control/retry.js';
import { encodeHistogram, newLatencyHistogram, recordUs, summarize, type LatencySummary } from '../metrics/histogram.js';
import { MetricsRecorder } from '../metrics/recorder.js';
import type { ConcurrencyCap, RetrySpec } from '../scenario/types.js';
import { realClock, type Clock } from '../shared/clock.js';
import { compileClassMap, OUTCOME_CLASSES, type ClassMap, type OutcomeClass } from '../shared/outcome.js';
import { xorshift } from '../shared/seeded-random.js';
import type { AgentIdentity } from '../sip/agent.js';
import { SoftphoneAgent, type SoftphoneConfig, type SoftphoneHost, type SoftphoneOutcome } from './agent.js';
import { RecoveryTracker, type RecoverySummary } from './recovery.js';
import type { TokenResult } from './token.js';
import { webSocketClass, type SocketOptions } from './websocket.js';

/** Default recovery: a softphone retries its login with full-jitter backoff from 0.5 s up to 30 s. */
export const DEFAULT_SOFTPHONE_RETRY: RetrySpec = {
  policy: { kind: 'exponential', baseMs: 500, capMs: 30_000 },
  on: ['auth_failed', 'throttled', 'overload', 'timeout', 'transport_error'],
  maxAttempts: 12,
  honourRetryAfter: true,
};

export interface SoftphoneFleetOptions {
  /** ws://host:port/path or wss://host:port/path. */
  target: string;
  /** Requested binding lifetime (s). */
  expires: number;
  /** wss: CA / insecure / SNI; permessage-deflate. */
  socket?: SocketOptions;
  /** Token endpoint (POST {user, password}); the token is then the digest password. */
  tokenUrl?: string;
  tokenTimeoutMs?: number;
  connectTimeoutS?: number;
  userAgent?: string;
  /** Refresh a binding when this share of its lifetime has passed (default 0.8, as the core agent). */
  refreshFraction?: number;
  /** Keep bindings refreshed (default true). */
  refresh?: boolean;
  /** What a failed REGISTER does next; null = nothing (the next arrival tries again). */
  retry?: RetrySpec | null;
  /** sip.js error lines (default: dropped). */
  log?: (message: string) => void;
  /** A global cap on logins in flight (p-limit): queue up to a bound or drop, as the scenario's throttle.concurrency says. */
  concurrency?: ConcurrencyCap;
}

export interface SoftphoneCounters {
  agents: number;
  registered: number;
  connected: number;
  busy: number;
  connects: { ok: number; failed: number; byReason: Record<string, number>; ms: LatencySummary; histogram: string };
  token: { requests: number; ok: number; byStatus: Record<string, number>; byClass: Record<string, number>; ms: LatencySummary; histogram: string };
  /** Retries the policy scheduled (each is also an operation when it runs). */
  retries: number;
  /** Arrivals for an agent that was busy or waiting to retry (recorded as `dropped`). */
  dropped: number;
  unregister: { attempted: number; ok: number; failed: number };
  recovery: RecoverySummary;
}

/** What the fleet records into and with: shared with the rest of a run. */
export interface FleetContext {
  clock?: Clock;
  /** Record into this recorder (the run's); a fresh one otherwise. */
  metrics?: MetricsRecorder;
  classMap?: ClassMap;
  /** Seed of the backoff jitter. */
  seed?: number;
}

export class SoftphoneFleet implements SoftphoneHost {
  readonly clock: Clock;
  readonly metrics: MetricsRecorder;
  private agents: SoftphoneAgent[] = [];
  private readonly classifyStatus: (status: number) => OutcomeClass;
  private readonly random: () => number;
  private recovery = new RecoveryTracker(0);
  private readonly connectHist = newLatencyHistogram();
  private readonly tokenHist = newLatencyHistogram();
  private readonly connects = { ok: 0, failed: 0, byReason: {} as Record<string, number> };
  private readonly tokens = { requests: 0, ok: 0, byStatus: {} as Record<string, number>, byClass: {} as Record<string, number> };
  private readonly unregisters = { attempted: 0, ok: 0, failed: 0 };
  private retries = 0;
  private dropped = 0;
  /** REGISTER operations finished, by class (dropped arrivals included): the progress line's figures. */
  readonly doneByClass = Object.fromEntries(OUTCOME_CLASSES.map((c) => [c, 0])) as Record<OutcomeClass, number>;
  private busyCount = 0;
  /** The concurrency cap (p-limit) when one is set; `release[i]` ends agent i's slot when its operation is reported. */
  private limiter: PromiseLimiter | null = null;
  private release: ((() => void) | undefined)[] = [];
  /** 1 while agent i waits in the cap's queue: it counts as busy for new arrivals. */
  private queued = new Uint8Array(0);
  private idleWaiters: (() => void)[] = [];
  private stopping = false;
  private opts!: SoftphoneFleetOptions;

  constructor(opts: FleetContext = {}) {
    this.clock = opts.clock ?? realClock;
    this.metrics = opts.metrics ?? new MetricsRecorder({ startUs: this.clock.nowUs() });
    this.classifyStatus = compileClassMap(opts.classMap);
    this.random = xorshift(opts.seed ?? 1);
  }

  /** Creates one agent per identity. Nothing is connected yet: an agent opens its WebSocket at its first REGISTER. */
  start(identities: readonly AgentIdentity[], opts: SoftphoneFleetOptions): void {
    if (this.agents.length > 0) throw new Error('fleet already started');
    if (identities.length === 0) throw new Error('at least one agent is needed');
    if (!/^wss?:\/\//i.test(opts.target)) throw new Error(`softphone target must be a ws:// or wss:// URL, got "${opts.target}"`);
    this.opts = opts;
    const config: SoftphoneConfig = {
      server: opts.target,
      socketClass: webSocketClass(opts.socket),
      expires: opts.expires,
      userAgentString: opts.userAgent ?? 'sipstorm-softphone (SIP.js 0.21)',
      connectTimeoutS: opts.connectTimeoutS ?? 10,
      tokenUrl: opts.tokenUrl,
      tokenTimeoutMs: opts.tokenTimeoutMs ?? 5000,
    };
    this.agents = identities.map((identity, i) => new SoftphoneAgent(i, identity, config, this));
    if (opts.concurrency) this.limiter = createPromiseLimiter(opts.concurrency);
    this.queued = new Uint8Array(identities.length);
    this.recovery = new RecoveryTracker(identities.length);
  }

  get size(): number {
    return this.agents.length;
  }

  /** Operations in flight. */
  get busy(): number {
    return this.busyCount;
  }

  classify(status: number): OutcomeClass {
    return this.classifyStatus(status);
  }

  /**
   * One arrival for agent `index % size`: a REGISTER meant to go at `intendedUs`. An agent that is busy,
   * or waiting to retry after a failure, does not take it: it is recorded as `dropped` (false).
   */
  register(index: number, intendedUs: number): boolean {
    const agent = this.agents[index % this.agents.length];
    if (agent.busy || this.queued[agent.index] === 1 || agent.retryPending || this.stopping) {
      this.dropped++;
      this.doneByClass.dropped++;
      this.metrics.recordOutcome('REGISTER', 'dropped', 0, '', intendedUs, -1, this.clock.nowUs());
      return false;
    }
    this.clearTimer(agent);
    this.metrics.recordSendLag(this.clock.nowUs() - intendedUs);
    this.begin(agent, intendedUs, false);
    return true;
  }

  /** Unregisters agent `index` if it is registered and idle (false otherwise). */
  unregister(index: number, intendedUs: number): boolean {
    const agent = this.agents[index % this.agents.length];
    if (agent.busy || !agent.registered) return false;
    this.clearTimer(agent);
    this.begin(agent, intendedUs, true);
    return true;
  }

  /** Resolves when no operation is in flight, or after `limitMs`. */
  whenIdle(limitMs: number): Promise<void> {
    if (this.busyCount === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, limitMs);
      this.idleWaiters.push(done);
    });
  }

  /**
   * Stops refreshes and retries, waits for operations in flight (up to Timer F), unregisters the
   * registered agents (paced at `unregisterRate` per second) unless told not to, and closes every socket.
   */
  async stop(opts: { unregister?: boolean; unregisterRate?: number; drainMs?: number } = {}): Promise<void> {
    this.stopping = true;
    for (const agent of this.agents) this.clearTimer(agent);
    const drainMs = opts.drainMs ?? 33_000;
    await this.whenIdle(drainMs);
    if (opts.unregister !== false) {
      const perTick = Math.max(1, Math.ceil((opts.unregisterRate ?? 200) / 100));
      const registered = this.agents.filter((a) => a.registered && !a.busy);
      for (let i = 0; i < registered.length; i += perTick) {
        const nowUs = this.clock.nowUs();
        for (const agent of registered.slice(i, i + perTick)) this.begin(agent, nowUs, true);
        if (i + perTick < registered.length) await sleep(10);
      }
      await this.whenIdle(drainMs);
    }
    // Closing is socket teardown only; in batches so thousands of closes do not pile up at once.
    for (let i = 0; i < this.agents.length; i += 200) await Promise.all(this.agents.slice(i, i + 200).map((a) => a.close()));
  }

  counters(): SoftphoneCounters {
    let registered = 0;
    let connected = 0;
    for (const agent of this.agents) {
      if (agent.registered) registered++;
      if (agent.connected) connected++;
    }
    return {
      agents: this.agents.length,
      registered,
      connected,
      busy: this.busyCount,
      connects: { ...this.connects, byReason: { ...this.connects.byReason }, ms: summarize(this.connectHist), histogram: encodeHistogram(this.connectHist) },
      token: {
        ...this.tokens,
        byStatus: { ...this.tokens.byStatus },
        byClass: { ...this.tokens.byClass },
        ms: summarize(this.tokenHist),
        histogram: encodeHistogram(this.tokenHist),
      },
      retries: this.retries,
      dropped: this.dropped,
      unregister: { ...this.unregisters },
      recovery: this.recovery.summary(),
    };
  }

  // --- SoftphoneHost -------------------------------------------------------------------------------

  wireSent(method: string, atUs: number): void {
    this.metrics.recordSent(method, atUs, false);
  }

  wireReceived(status: number): void {
    this.metrics.recordResponse('REGISTER', status);
  }

  connected(durationUs: number, ok: boolean, reason: string): void {
    if (ok) {
      this.connects.ok++;
      recordUs(this.connectHist, durationUs);
    } else {
      this.connects.failed++;
      const key = reason.slice(0, 80);
      this.connects.byReason[key] = (this.connects.byReason[key] ?? 0) + 1;
    }
  }

  tokenFetched(result: TokenResult, durationUs: number): void {
    const t = this.tokens;
    t.requests++;
    if (result.ok) t.ok++;
    const status = String(result.status);
    t.byStatus[status] = (t.byStatus[status] ?? 0) + 1;
    const cls = result.ok ? 'ok' : result.cls;
    t.byClass[cls] = (t.byClass[cls] ?? 0) + 1;
    recordUs(this.tokenHist, durationUs);
  }

  log(message: string): void {
    this.opts.log?.(message);
  }

  operationDone(agent: SoftphoneAgent, o: SoftphoneOutcome): void {
    this.busyCount--;
    const release = this.release[agent.index];
    if (release) {
      this.release[agent.index] = undefined;
      release();
    }
    if (o.kind === 'unregister') {
      this.unregisters[o.cls === 'ok' ? 'ok' : 'failed']++;
    } else {
      this.metrics.recordOutcome('REGISTER', o.cls, o.status, o.reason, o.intendedUs, o.sentUs, o.doneUs);
      this.doneByClass[o.cls]++;
      if (o.cls !== 'dropped') this.recovery.record(agent.index, o.cls === 'ok', o.doneUs);
      this.next(agent, o);
    }
    if (this.busyCount === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  // --- scheduling ----------------------------------------------------------------------------------

  private begin(agent: SoftphoneAgent, intendedUs: number, unregister: boolean): void {
    const limiter = this.limiter;
    if (limiter && !unregister) {
      // The slot is held from the start of the login until its outcome is reported (operationDone).
      const index = agent.index;
      const slot = limiter.run(
        () =>
          new Promise<void>((resolve) => {
            this.queued[index] = 0;
            this.release[index] = resolve;
            void agent.register(intendedUs);
          }),
      );
      if (slot === null) {
        this.dropped++;
        this.doneByClass.dropped++;
        this.metrics.recordOutcome('REGISTER', 'dropped', 0, '', intendedUs, -1, this.clock.nowUs());
        return;
      }
      this.busyCount++;
      if (this.release[index] === undefined) this.queued[index] = 1;
      slot.catch(() => undefined);
      return;
    }
    this.busyCount++;
    if (unregister) this.unregisters.attempted++;
    void (unregister ? agent.unregister(intendedUs) : agent.register(intendedUs));
  }

  /** After a REGISTER: refresh before the binding expires, or retry per the policy. */
  private next(agent: SoftphoneAgent, o: SoftphoneOutcome): void {
    if (this.stopping) return;
    const opts = this.opts;
    if (o.cls === 'ok') {
      agent.failures = 0;
      if (opts.refresh === false || o.grantedExpires <= 0) return;
      const dueUs = o.doneUs + o.grantedExpires * (opts.refreshFraction ?? 0.8) * 1e6;
      this.schedule(agent, dueUs, false);
      return;
    }
    if (o.cls === 'dropped') return;
    agent.failures++;
    const spec = opts.retry === undefined ? DEFAULT_SOFTPHONE_RETRY : opts.retry;
    if (!spec || !shouldRetry(spec, o.cls, agent.failures)) {
      agent.failures = 0;
      return;
    }
    this.retries++;
    const delayUs = retryDelayUs(spec, agent.failures, o.retryAfterS >= 0 ? o.retryAfterS : undefined, this.random);
    this.schedule(agent, o.doneUs + delayUs, true);
  }

  private schedule(agent: SoftphoneAgent, dueUs: number, retry: boolean): void {
    this.clearTimer(agent);
    agent.retryPending = retry;
    const delayMs = Math.max(0, (dueUs - this.clock.nowUs()) / 1000);
    agent.timer = setTimeout(() => {
      agent.timer = null;
      agent.retryPending = false;
      if (this.stopping || agent.busy) return;
      this.begin(agent, dueUs, false);
    }, delayMs);
  }

  private clearTimer(agent: SoftphoneAgent): void {
    if (agent.timer) clearTimeout(agent.timer);
    agent.timer = null;
    agent.retryPending = false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
