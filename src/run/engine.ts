// The one module that wires a run: transport -> transaction layer -> agents <- dispatcher, with
// every outcome going to the metrics recorder. It never exits the process (only the CLI does).
import { EventEmitter } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildRunResult, type RunResult } from '../report/result.js';
import { MetricsRecorder } from '../metrics/recorder.js';
import { ConstantRate, type ArrivalSource } from '../schedule/arrivals.js';
import { Dispatcher } from '../schedule/dispatcher.js';
import { NO_TIMER, TimerWheel } from '../schedule/timer-wheel.js';
import { realClock, type Clock } from '../shared/clock.js';
import { compileClassMap, OUTCOME_CLASSES, type ClassMap, type OutcomeClass } from '../shared/outcome.js';
import { Agent, type AgentHost, type AgentIdentity, type OperationKind } from '../sip/agent.js';
import { ClientTransactionLayer } from '../sip/transaction.js';
import { createTransport } from '../transport/index.js';
import type { TargetSpec, Transport } from '../transport/transport.js';
import { TOOL } from './tool.js';

const LOOP_DELAY_RESOLUTION_MS = 10;
const REFRESH_CHECK_MS = 10;
/** Longest gap between transaction-timer checks (Timer E is >= T1, 500 ms by default). */
const HOUSEKEEPING_MS = 5;

export type MethodMode = 'REGISTER' | 'OPTIONS' | 'auto';

export interface RunOptions {
  target: TargetSpec;
  identities: AgentIdentity[];
  rate: number;
  durationMs: number;
  /** REGISTER or OPTIONS for every arrival; `auto`: REGISTER when unregistered or due, else OPTIONS. */
  method: MethodMode;
  expires: number;
  t1Ms: number;
  t2Ms: number;
  t4Ms: number;
  /** UDP sockets in the pool / TCP connections (default: one per agent for TCP). */
  sockets: number;
  bufferBytes?: number;
  unregister: boolean;
  classMap?: ClassMap;
  userAgent?: string;
  clock?: Clock;
  /** Aborting stops sending; the run still drains, unregisters and returns its (partial) result. */
  signal?: AbortSignal;
  /** Extra config echoed into the result. */
  configExtra?: Record<string, unknown>;
  /** UDP I/O: `batch` (native sendmmsg/recvmmsg, kernel receive timestamps) or `dgram` (node:dgram); default: batch when available. */
  io?: 'batch' | 'dgram';
  /** Batched I/O: the one loop's period in ms (sends are up to this late; the lag is measured). */
  tickMs?: number;
}

export interface ProgressSample {
  elapsedMs: number;
  dispatched: number;
  outstanding: number;
  done: Record<OutcomeClass, number>;
}

export interface UnregisterSummary {
  attempted: number;
  ok: number;
  failed: number;
}

/** Emits 'progress' (ProgressSample) once a second and 'phase' (string) at each stage. */
export class RunEngine extends EventEmitter implements AgentHost {
  readonly clock: Clock;
  readonly userAgent: string;
  readonly metrics: MetricsRecorder;
  transport!: Transport;
  transactions!: ClientTransactionLayer;
  private agents: Agent[] = [];
  private readonly classifyStatus: (status: number) => OutcomeClass;
  private busyAgents = 0;
  private readonly unregisterSummary: UnregisterSummary = { attempted: 0, ok: 0, failed: 0 };
  private readonly doneByClass = emptyClassCounts();
  private strays = 0;
  /** Binding refresh times, checked every REFRESH_CHECK_MS (one timer for all agents). */
  private readonly refreshes: TimerWheel<Agent>;
  /** Set when the load ends: no new refreshes, the run drains and unregisters. */
  private stopping = false;

  constructor(private readonly opts: RunOptions) {
    super();
    this.clock = opts.clock ?? realClock;
    this.userAgent = opts.userAgent ?? `${TOOL.name}/${TOOL.version}`;
    this.classifyStatus = compileClassMap(opts.classMap);
    this.metrics = new MetricsRecorder({ startUs: this.clock.nowUs() });
    this.refreshes = new TimerWheel<Agent>(REFRESH_CHECK_MS * 1000, 4096, this.clock.nowUs());
  }

  classify(status: number): OutcomeClass {
    return this.classifyStatus(status);
  }

  async run(): Promise<RunResult> {
    const opts = this.opts;
    if (opts.identities.length === 0) throw new Error('at least one agent is needed');
    const startedAt = new Date();
    const cpuStart = process.cpuUsage();
    const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });

    const slots = opts.target.protocol === 'udp' ? Math.min(opts.sockets, opts.identities.length) : opts.sockets;
    this.transport = await createTransport(opts.target, { slots, bufferBytes: opts.bufferBytes, io: opts.io ?? autoIo(opts.rate) }, {
      onMessage: (data, slot) => this.transactions.handleMessage(data, slot),
      onMessageAt: (data, slot, rxUs) => this.transactions.handleMessage(data, slot, rxUs),
      onSlotError: (slot, reason) => this.transactions.handleSlotError(slot, reason),
    });
    const transport = this.transport;
    const batched = transport.batched === true;
    const metrics = this.metrics;
    this.transactions = new ClientTransactionLayer(this.transport, this.clock, { t1Ms: opts.t1Ms, t2Ms: opts.t2Ms, t4Ms: opts.t4Ms }, {
      onSent: (method) => metrics.recordSent(method, this.clock.nowUs(), false),
      onRetransmit: (method) => metrics.recordSent(method, this.clock.nowUs(), true),
      onResponse: (method, status) => metrics.recordResponse(method, status),
      onMalformed: (kind) => metrics.recordMalformed(kind),
      onStray: () => this.strays++,
    });

    this.agents = opts.identities.map((identity, i) => new Agent(i, identity, this, opts.expires));

    const source: ArrivalSource = new ConstantRate(opts.rate, opts.durationMs);
    // During the load, transaction timers and binding refreshes ride the dispatcher's (or the batched
    // loop's) wake-ups: every extra timer costs a wake-up, the dominant cost at a few thousand/s.
    const housekeeping = () => {
      this.transactions.poll();
      this.refreshes.advance(this.clock.nowUs(), this.refreshAgent);
    };
    const dispatcher = new Dispatcher({ clock: this.clock, source, target: this, onTick: batched ? undefined : housekeeping, maxSleepMs: HOUSEKEEPING_MS });
    const onAbort = () => dispatcher.stop();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const runStartUs = this.clock.nowUs();
    const progress = setInterval(() => this.emitProgress(runStartUs, dispatcher), 1000);

    this.emit('phase', 'load');
    // Batched I/O: one timer drives everything (read all waiting responses, dispatch what is due, fire
    // transaction timers, send everything queued), so the process wakes once per tick, not per datagram.
    let pump: NodeJS.Timeout | undefined;
    const tickMs = opts.tickMs ?? autoTickMs(opts.rate);
    if (batched) {
      const clock = this.clock;
      let expectedUs = clock.nowUs() + tickMs * 1000;
      const tick = () => {
        // The loop's own lateness is the event-loop lag: no extra timer to measure it.
        const now = clock.nowUs();
        if (now > expectedUs) this.metrics.recordEventLoopLag(now - expectedUs);
        expectedUs = Math.max(expectedUs + tickMs * 1000, now);
        transport.drain!();
        dispatcher.step(clock.nowUs());
        housekeeping();
        transport.flush!();
      };
      pump = setInterval(tick, tickMs);
    }
    if (!batched) loopDelay.enable();
    if (opts.signal?.aborted) dispatcher.stop();
    else if (batched) dispatcher.begin();
    else dispatcher.start();
    await dispatcher.done;
    const loadEndUs = this.clock.nowUs();
    this.stopping = true;
    // Drain and unregister: the batched loop keeps running; otherwise the transaction timers get their own.
    if (!batched) this.transactions.startTimers(HOUSEKEEPING_MS);

    // Every transaction ends by Timer F (64*T1), so draining is bounded by it.
    this.emit('phase', 'drain');
    await this.waitIdle(64 * opts.t1Ms + 1000);
    if (opts.unregister) {
      this.emit('phase', 'unregister');
      await this.unregisterAll();
    }
    clearInterval(progress);
    if (pump) clearInterval(pump);
    this.emitProgress(runStartUs, dispatcher);
    this.transactions.stopTimers();
    opts.signal?.removeEventListener('abort', onAbort);
    const transportStats = this.transport.stats();
    await this.transport.close();
    loopDelay.disable();

    const cpu = process.cpuUsage(cpuStart);
    const durationMs = (loadEndUs - runStartUs) / 1000;
    const snapshot = metrics.snapshot();
    return buildRunResult(snapshot, {
      tool: TOOL,
      target: opts.target.text,
      startedAt,
      durationMs,
      interrupted: opts.signal?.aborted ?? false,
      config: {
        agents: opts.identities.length,
        rate: opts.rate,
        method: opts.method,
        transport: opts.target.protocol,
        durationMs: opts.durationMs,
        expires: opts.expires,
        t1Ms: opts.t1Ms,
        t2Ms: opts.t2Ms,
        sockets: slots,
        io: this.transport.batched ? 'batch' : this.transport.protocol === 'udp' ? 'dgram' : 'stream',
        tickMs: this.transport.batched ? (opts.tickMs ?? autoTickMs(opts.rate)) : undefined,
        unregister: opts.unregister,
        ...opts.configExtra,
      },
      generator: {
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        // The histogram holds whole timer periods (>= the 10 ms resolution): the lag is the excess.
        eventLoopLagP99Ms: batched ? undefined : Number.isFinite(loopDelay.percentile(99)) ? Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_DELAY_RESOLUTION_MS) : 0,
      },
      extra: {
        plannedArrivals: source.total,
        dispatchedArrivals: dispatcher.dispatched,
        unregister: this.unregisterSummary,
        strayResponses: this.strays,
        transportStats,
      },
    });
  }

  /** DispatchTarget: one open-loop arrival. */
  dispatch(k: number, intendedUs: number, nowUs: number): void {
    const agent = this.agents[k % this.agents.length];
    const mode = this.opts.method;
    const method = mode === 'OPTIONS' || (mode === 'auto' && agent.registered && nowUs < agent.refreshAtUs) ? 'OPTIONS' : 'REGISTER';
    if (agent.busy) {
      // Never queued silently: the agent could not keep the schedule.
      this.metrics.recordOutcome(method, 'dropped', 0, '', intendedUs, -1, nowUs);
      this.doneByClass.dropped++;
      return;
    }
    this.metrics.recordSendLag(nowUs - intendedUs);
    this.busyAgents++;
    if (method === 'OPTIONS') agent.startOptions(intendedUs);
    else agent.startRegister(intendedUs);
  }

  /** AgentHost: exactly one call per operation. */
  operationDone(
    agent: Agent,
    kind: OperationKind,
    cls: OutcomeClass,
    status: number,
    reason: string,
    intendedUs: number,
    firstSentUs: number,
    doneUs: number,
  ): void {
    this.busyAgents--;
    if (kind === 'unregister') {
      this.unregisterSummary[cls === 'ok' ? 'ok' : 'failed']++;
      if (this.busyAgents === 0) this.emit('idle');
      return;
    }
    this.doneByClass[cls]++;
    this.metrics.recordOutcome(kind, cls, status, reason, intendedUs, firstSentUs, doneUs);
    if (kind === 'REGISTER') this.scheduleRefresh(agent, cls === 'ok' ? agent.refreshAtUs : doneUs + retryDelayUs(agent.grantedExpires));
    if (this.busyAgents === 0) this.emit('idle');
  }

  /** Refresh a binding before it expires, as a real UA does (its intended time is the refresh time). */
  private readonly refreshAgent = (agent: Agent): void => {
    agent.refreshTimer = NO_TIMER;
    if (!agent.registered || this.stopping) return;
    if (agent.busy) {
      // Its current operation may re-register it; look again shortly.
      agent.refreshTimer = this.refreshes.schedule(agent, this.clock.nowUs() + REFRESH_CHECK_MS * 1000);
      return;
    }
    this.busyAgents++;
    agent.startRegister(agent.refreshAtUs);
  };

  private scheduleRefresh(agent: Agent, atUs: number): void {
    if (agent.refreshTimer !== NO_TIMER) this.refreshes.cancel(agent.refreshTimer);
    agent.refreshTimer = NO_TIMER;
    if (!agent.registered) return;
    agent.refreshAtUs = atUs;
    agent.refreshTimer = this.refreshes.schedule(agent, atUs);
  }

  private async unregisterAll(): Promise<void> {
    const registered = this.agents.filter((a) => a.registered && !a.busy);
    // Paced so the end of a run does not become its own burst: at most the run's rate (>= 200/s).
    const perTick = Math.max(1, Math.ceil(Math.max(this.opts.rate, 200) / 100));
    for (let i = 0; i < registered.length; i += perTick) {
      const now = this.clock.nowUs();
      for (const agent of registered.slice(i, i + perTick)) {
        this.unregisterSummary.attempted++;
        this.busyAgents++;
        agent.startUnregister(now);
      }
      if (i + perTick < registered.length) await sleep(10);
    }
    await this.waitIdle(64 * this.opts.t1Ms + 1000);
  }

  private waitIdle(limitMs: number): Promise<void> {
    if (this.busyAgents === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, limitMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.off('idle', done);
        resolve();
      }
      this.on('idle', done);
    });
  }

  private emitProgress(runStartUs: number, dispatcher: Dispatcher): void {
    const sample: ProgressSample = {
      elapsedMs: (this.clock.nowUs() - runStartUs) / 1000,
      dispatched: dispatcher.dispatched,
      outstanding: this.transactions.outstanding,
      done: { ...this.doneByClass },
    };
    this.emit('progress', sample);
  }
}

/**
 * Batched I/O's loop period when none is given: each wake-up costs ~35 us of CPU on a VM, so at low
 * rates several arrivals share one (about 8 per tick, 1..4 ms). The wait is measured as send lag and
 * is part of the corrected latency; `--tick 1` trades CPU for the finest schedule.
 */
export function autoTickMs(rate: number): number {
  return Math.min(4, Math.max(1, Math.floor(8000 / rate)));
}

/**
 * Batched I/O saves CPU where it matters (thousands/s) but reads responses only at the tick, so a
 * digest retry waits up to one tick to go out. Below 1000/s CPU is cheap: react at once with node:dgram.
 */
export function autoIo(rate: number): 'batch' | 'dgram' | undefined {
  return rate < 1000 ? 'dgram' : undefined;
}

/** After a failed refresh of a still-valid binding: try again after a tenth of its lifetime (1..30 s). */
function retryDelayUs(grantedExpiresS: number): number {
  return Math.min(30, Math.max(1, grantedExpiresS * 0.1)) * 1e6;
}

function emptyClassCounts(): Record<OutcomeClass, number> {
  return Object.fromEntries(OUTCOME_CLASSES.map((cls) => [cls, 0])) as Record<OutcomeClass, number>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
