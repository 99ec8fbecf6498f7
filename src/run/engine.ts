// The one module that wires a run: transport -> transaction layer -> agents <- dispatcher, with
// every outcome going to the metrics recorder. It never exits the process (only the CLI does).
import { EventEmitter } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { settleHeap } from '../shared/settle-heap.js';
import type { RunResult } from '../report/result.js';
import { engineResult } from './engine-result.js';
import { MetricsRecorder } from '../metrics/recorder.js';
import { ConstantRate, PlannedArrivals, type ArrivalSource } from '../schedule/arrivals.js';
import { OperationFlow } from './operation-flow.js';
import { SaturationSampler } from './saturation-sampler.js';
import { actionMethod, buildPhaseBlocks, planMarks, phaseAt, ACTION } from './scenario-wiring.js';
import { Dispatcher } from '../schedule/dispatcher.js';
import { NO_TIMER, TimerWheel } from '../schedule/timer-wheel.js';
import { realClock, type Clock } from '../shared/clock.js';
import { compileClassMap, OUTCOME_CLASSES, type OutcomeClass } from '../shared/outcome.js';
import { Agent, type AgentHost, type OperationKind } from '../sip/agent.js';
import { ClientTransactionLayer } from '../sip/transaction.js';
import { createTransport } from '../transport/index.js';
import type { Transport } from '../transport/transport.js';
import { TOOL } from './tool.js';
import { autoIo, autoTickMs, type ProgressSample, type RunOptions, type UnregisterSummary } from './engine-options.js';
import { startPump, type Pump } from './pump.js';
import { warmUp, wantsWarmUp } from './warm-up.js';

export { autoIo, autoTickMs, type MethodMode, type ProgressSample, type RunOptions, type UnregisterSummary } from './engine-options.js';

const LOOP_DELAY_RESOLUTION_MS = 10;
const REFRESH_CHECK_MS = 10;
/** Longest gap between transaction-timer checks (Timer E is >= T1, 500 ms by default). */
const HOUSEKEEPING_MS = 5;

/** Emits 'progress' (ProgressSample) once a second and 'phase' (string) at each stage. */
export class RunEngine extends EventEmitter implements AgentHost {
  readonly clock: Clock;
  readonly userAgent: string;
  /** Made again after a warm-up, so the timeline starts with this run, not before the warm-up. */
  metrics: MetricsRecorder;
  transport!: Transport;
  transactions!: ClientTransactionLayer;
  private agents: Agent[] = [];
  private readonly classifyStatus: (status: number) => OutcomeClass;
  private busyAgents = 0;
  /** waitIdle calls pending: 'idle' is emitted only for them (an emit per tick is not free). */
  private idleWaiters = 0;
  private readonly unregisterSummary: UnregisterSummary = { attempted: 0, ok: 0, failed: 0 };
  private readonly doneByClass = emptyClassCounts();
  private strays = 0;
  /** Binding refresh times, checked every REFRESH_CHECK_MS (one timer for all agents). */
  private readonly refreshes: TimerWheel<Agent>;
  /** Set when the load ends: no new refreshes, the run drains and unregisters. */
  private stopping = false;
  /** Scenario runs: throttle, concurrency cap, retries, bindings. */
  private flow: OperationFlow | null = null;
  /** Scenario runs: outcomes per plan phase (operations only; transactions are counted run-wide). */
  private phaseRecorders: MetricsRecorder[] = [];
  /** Phase of each agent's operation in flight; 1 in plannedUnregister for an unregister from the plan. */
  private opPhase = new Uint16Array(0);
  private plannedUnregister = new Uint8Array(0);
  private scheduleStartUs = 0;
  private saturation: SaturationSampler | null = null;

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
    // Before anything of this run exists: the warm-up's own sockets and heap are gone when it starts.
    let warmUpFigures = null;
    if (wantsWarmUp(opts) && !opts.signal?.aborted) {
      warmUpFigures = await warmUp(opts, (o) => new RunEngine(o).run());
      this.metrics = new MetricsRecorder({ startUs: this.clock.nowUs() });
    }
    const startedAt = new Date();
    const cpuStart = process.cpuUsage();
    const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });

    const requested = opts.target.protocol === 'udp' && opts.sockets !== undefined ? Math.min(opts.sockets, opts.identities.length) : opts.sockets;
    this.transport = await createTransport(opts.target, { slots: requested, rate: opts.rate, bufferBytes: opts.bufferBytes, io: opts.io ?? autoIo(opts.rate), tls: opts.tls }, {
      onMessage: (data, slot) => this.transactions.handleMessage(data, slot),
      onMessageAt: (data, slot, rxUs) => this.transactions.handleMessage(data, slot, rxUs),
      onSlotError: (slot, reason) => this.transactions.handleSlotError(slot, reason),
    });
    const transport = this.transport;
    const slots = transport.slots;
    const batched = transport.batched === true;
    const metrics = this.metrics;
    this.transactions = new ClientTransactionLayer(this.transport, this.clock, { t1Ms: opts.t1Ms, t2Ms: opts.t2Ms, t4Ms: opts.t4Ms }, {
      onSent: (method) => metrics.recordSent(method, this.clock.nowUs(), false),
      onRetransmit: (method) => metrics.recordSent(method, this.clock.nowUs(), true),
      onResponse: (method, status) => metrics.recordResponse(method, status),
      onMalformed: (kind) => metrics.recordMalformed(kind),
      onStray: () => this.strays++,
      onTrace: opts.trace ? (owner, direction, data) => this.traceMessage(owner as Agent, direction, data) : undefined,
    });

    this.agents = opts.identities.map((identity, i) => new Agent(i, identity, this, opts.expires));
    // A datagram socket's local address is known already: format the headers before the heap settles.
    if (transport.protocol === 'udp') {
      const mode = opts.plan ? 'auto' : opts.method;
      for (const agent of this.agents) {
        if (mode !== 'OPTIONS') agent.prepare('REGISTER');
        if (mode !== 'REGISTER') agent.prepare('OPTIONS');
      }
    }
    if (opts.trace) for (const agent of this.agents) agent.traced = opts.trace.shouldTrace(agent.index, agent.identity.user);
    const saturation = SaturationSampler.start();
    this.saturation = saturation;
    const plan = opts.plan;
    this.opPhase = new Uint16Array(this.agents.length);
    this.plannedUnregister = new Uint8Array(this.agents.length);
    if (plan) {
      this.phaseRecorders = plan.phases.map(() => new MetricsRecorder({ startUs: metrics.startUs }));
      this.flow = new OperationFlow(
        { agents: this.agents.length, throttle: opts.throttle, retry: opts.retry, seed: opts.seed ?? 1, startUs: this.clock.nowUs() },
        this,
      );
    }
    const flow = this.flow;

    const source: ArrivalSource = plan ? new PlannedArrivals(plan.offsetsUs) : new ConstantRate(opts.rate, opts.durationMs);
    // During the load, transaction timers and binding refreshes ride the dispatcher's (or the batched
    // loop's) wake-ups: every extra timer costs a wake-up, the dominant cost at a few thousand/s.
    const housekeeping = () => {
      this.transactions.poll();
      const now = this.clock.nowUs();
      this.refreshes.advance(now, this.refreshAgent);
      flow?.advance(now);
    };
    const dispatcher = new Dispatcher({ clock: this.clock, source, target: this, onTick: batched ? undefined : housekeeping, maxSleepMs: HOUSEKEEPING_MS });
    const onAbort = () => dispatcher.stop();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // Setup garbage goes now, not in the first scavenges after the clock starts.
    settleHeap();
    const runStartUs = this.clock.nowUs();
    const progress = setInterval(() => this.emitProgress(runStartUs, dispatcher), 1000);

    this.emit('phase', 'load');
    // Batched I/O: one timer drives everything (read all waiting responses, dispatch what is due, fire
    // transaction timers, send everything queued), so the process wakes once per tick, not per datagram.
    let pump: Pump | undefined;
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
      pump = startPump(tickMs, tick);
    }
    if (!batched) loopDelay.enable();
    if (opts.signal?.aborted) dispatcher.stop();
    else if (batched) dispatcher.begin();
    else dispatcher.start();
    this.scheduleStartUs = dispatcher.scheduleStartUs || this.clock.nowUs();
    if (plan?.t0Us !== undefined) flow?.setT0(this.scheduleStartUs + plan.t0Us);
    opts.onScheduleStart?.(this.scheduleStartUs);
    await dispatcher.done;
    const loadEndUs = this.clock.nowUs();
    // Drain: the batched loop keeps running; otherwise housekeeping (transaction timers, retries) gets its own timer.
    const drainTimer = batched ? undefined : setInterval(housekeeping, HOUSEKEEPING_MS);

    // Every transaction ends by Timer F (64*T1); retries still waiting get until the drain limit.
    this.emit('phase', 'drain');
    this.stopping = true;
    await this.drain(opts.signal?.aborted ? 64 * opts.t1Ms + 1000 : this.drainLimitMs());
    flow?.stop(this.clock.nowUs());
    if (drainTimer) clearInterval(drainTimer);
    if (!batched) this.transactions.startTimers(HOUSEKEEPING_MS);
    await this.waitIdle(64 * opts.t1Ms + 1000);
    if (opts.unregister) {
      this.emit('phase', 'unregister');
      await this.unregisterAll();
    }
    clearInterval(progress);
    pump?.stop();
    this.emitProgress(runStartUs, dispatcher);
    this.transactions.stopTimers();
    opts.signal?.removeEventListener('abort', onAbort);
    const transportStats = this.transport.stats();
    await this.transport.close();
    loopDelay.disable();

    const cpu = process.cpuUsage(cpuStart);
    const durationMs = (loadEndUs - runStartUs) / 1000;
    const snapshot = metrics.snapshot();
    const result = engineResult(snapshot, {
      opts,
      startedAt,
      durationMs,
      sockets: slots,
      io: this.transport.batched ? 'batch' : this.transport.protocol === 'udp' ? 'dgram' : 'stream',
      cpu,
      // The histogram holds whole timer periods (>= the 10 ms resolution): the lag is the excess.
      eventLoopLagP99Ms: batched ? undefined : Number.isFinite(loopDelay.percentile(99)) ? Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_DELAY_RESOLUTION_MS) : 0,
      extra: {
        plannedArrivals: source.total,
        dispatchedArrivals: dispatcher.dispatched,
        unregister: this.unregisterSummary,
        strayResponses: this.strays,
        transportStats,
        saturation: saturation.finish(),
        ...(warmUpFigures ? { warmUp: warmUpFigures } : {}),
      },
    });
    if (plan) {
      result.phases = buildPhaseBlocks(plan, this.phaseRecorders, metrics.startUs, this.scheduleStartUs);
      result.marks = planMarks(plan, metrics.startUs, this.scheduleStartUs);
      result.attempts = flow!.attemptsBlock(this.scheduleStartUs);
      result.throttle = flow!.throttleBlock();
    }
    return result;
  }

  /** DispatchTarget: one open-loop arrival. */
  dispatch(k: number, intendedUs: number, nowUs: number): void {
    const plan = this.opts.plan;
    if (plan) {
      this.flow!.arrival(plan.agents[k] % this.agents.length, plan.actions[k], plan.phaseOf[k], intendedUs, nowUs);
      return;
    }
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

  /** FlowHost: a scenario operation goes on the wire. */
  startOperation(index: number, action: number, phase: number, intendedUs: number, nowUs: number): void {
    const agent = this.agents[index];
    this.metrics.recordSendLag(nowUs - intendedUs);
    this.busyAgents++;
    this.opPhase[index] = phase;
    switch (action) {
      case ACTION.options:
        agent.startOptions(intendedUs);
        return;
      case ACTION.unregister:
        this.plannedUnregister[index] = 1;
        agent.startUnregister(intendedUs);
        return;
      case ACTION.login:
        agent.forgetChallenge();
        agent.startRegister(intendedUs);
        return;
      case ACTION.refresh:
        agent.startRegister(intendedUs);
        return;
      default:
        if (agent.registered && nowUs < agent.refreshAtUs) agent.startOptions(intendedUs);
        else agent.startRegister(intendedUs);
    }
  }

  /** FlowHost: an arrival that was never sent. */
  recordDropped(index: number, action: number, phase: number, intendedUs: number, nowUs: number): void {
    const agent = this.agents[index];
    const method = actionMethod(action, agent.registered && nowUs < agent.refreshAtUs);
    this.metrics.recordOutcome(method, 'dropped', 0, '', intendedUs, -1, nowUs);
    this.phaseRecorders[phase]?.recordOutcome(method, 'dropped', 0, '', intendedUs, -1, nowUs);
    this.doneByClass.dropped++;
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
    const flow = this.flow;
    const index = agent.index;
    if (kind === 'unregister' && this.plannedUnregister[index] === 0) {
      this.unregisterSummary[cls === 'ok' ? 'ok' : 'failed']++;
      if (this.busyAgents === 0 && this.idleWaiters > 0) this.emit('idle');
      return;
    }
    this.doneByClass[cls]++;
    const method = kind === 'unregister' ? 'UNREGISTER' : kind;
    this.metrics.recordOutcome(method, cls, status, reason, intendedUs, firstSentUs, doneUs);
    if (flow) {
      this.phaseRecorders[this.opPhase[index]]?.recordOutcome(method, cls, status, reason, intendedUs, firstSentUs, doneUs);
      if (kind === 'unregister') {
        this.plannedUnregister[index] = 0;
        if (cls === 'ok') flow.unbound(index);
        if (agent.refreshTimer !== NO_TIMER) this.refreshes.cancel(agent.refreshTimer);
        agent.refreshTimer = NO_TIMER;
      } else if (kind === 'REGISTER') {
        flow.registerResult(index, cls === 'ok' && agent.registered, doneUs);
      }
      flow.done(index, cls, agent.lastRetryAfterS, doneUs);
    }
    if (kind === 'REGISTER' && (cls === 'ok' || !flow || flow.isIdle(index))) {
      // A failed refresh the retry policy is not retrying is tried again later, as a real UA does.
      this.scheduleRefresh(agent, cls === 'ok' ? agent.refreshAtUs : doneUs + retryDelayUs(agent.grantedExpires));
    }
    if (this.busyAgents === 0 && this.idleWaiters > 0) this.emit('idle');
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
    const flow = this.flow;
    if (flow) {
      const now = this.clock.nowUs();
      if (!flow.isIdle(agent.index)) {
        agent.refreshTimer = this.refreshes.schedule(agent, now + REFRESH_CHECK_MS * 1000);
        return;
      }
      // A refresh is a request like any other: it passes the throttle and may be retried.
      flow.arrival(agent.index, ACTION.refresh, phaseAt(this.opts.plan!, agent.refreshAtUs - this.scheduleStartUs), agent.refreshAtUs, now);
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

  private traceMessage(agent: Agent, direction: 'sent' | 'received', data: Buffer): void {
    const trace = this.opts.trace!;
    const remote = { host: this.opts.target.host, port: this.opts.target.port };
    const local = this.transport.advertised(agent.slot);
    if (direction === 'sent') trace.sent(agent.index, data, remote, this.clock.nowUs(), local);
    else trace.received(agent.index, data, remote, this.transactions.eventUs, local);
  }

  /** Default drain: Timer F plus, with a retry policy, room for its longest wait (capped at 5 min). */
  private drainLimitMs(): number {
    if (this.opts.drainLimitMs !== undefined) return this.opts.drainLimitMs;
    const timerF = 64 * this.opts.t1Ms + 1000;
    const policy = this.opts.retry?.policy;
    const retryWaitMs = !policy || policy.kind === 'none' ? 0 : policy.kind === 'fixed' ? policy.delayMs : policy.capMs;
    const attempts = this.opts.retry?.maxAttempts ?? 1;
    return Math.min(300_000, timerF + (attempts - 1) * (retryWaitMs + timerF));
  }

  /** Waits until nothing is on the wire and no retry or throttled start is pending, or the limit. */
  private async drain(limitMs: number): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (Date.now() < deadline && (this.busyAgents > 0 || (this.flow?.pending ?? 0) > 0)) {
      if ((this.flow?.pending ?? 0) === 0) {
        await this.waitIdle(deadline - Date.now());
        return;
      }
      await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
    }
  }

  private waitIdle(limitMs: number): Promise<void> {
    if (this.busyAgents === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, limitMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.off('idle', done);
        self.idleWaiters--;
        resolve();
      }
      this.idleWaiters++;
      this.on('idle', done);
    });
  }

  private emitProgress(runStartUs: number, dispatcher: Dispatcher): void {
    const outstanding = this.transactions.outstanding;
    this.saturation?.note(outstanding);
    const sample: ProgressSample = {
      elapsedMs: (this.clock.nowUs() - runStartUs) / 1000,
      dispatched: dispatcher.dispatched,
      outstanding,
      done: { ...this.doneByClass },
      // Read from the recorder's own counters and timeline: nothing extra on the per-operation path.
      byStatus: this.metrics.finalStatusCounts(),
      lastSecondP99Ms: this.metrics.lastSecondP99Ms(this.clock.nowUs()),
    };
    this.emit('progress', sample);
  }
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
