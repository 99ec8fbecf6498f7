// The run path of `--agent-kind softphone`: a SoftphoneFleet (sip.js agents over ws/wss) driven by
// open-loop arrivals - a constant rate, a burst of logins, or a scenario's arrival plan - then held
// (bindings refreshed, failures retried), drained, unregistered and closed; the result is the same
// RunResult as the core path (buildRunResult), with the fleet's figures under `extra.softphone`
// (connects, token step, retries, and `recovery`: time to recover per agent as summary + HDR histogram).
//
// Softphones send REGISTER only: every arrival is a REGISTER for its agent, except a plan's
// `unregister` actions. Without a target an embedded trunk is started with WS and WSS listeners (the
// agents use WSS, trusting its lab certificate); `tokenUrl: 'embedded'` is its POST /token.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { buildRunResult, type RunResult } from '../report/result.js';
import { ConstantRate, PlannedArrivals, type ArrivalSource } from '../schedule/arrivals.js';
import { Dispatcher } from '../schedule/dispatcher.js';
import { ACTION_CODE, type ArrivalPlan } from '../schedule/plan-types.js';
import type { ConcurrencyCap, RetrySpec } from '../scenario/types.js';
import { realClock, type Clock } from '../shared/clock.js';
import { createLogger, type Logger } from '../shared/log.js';
import type { ClassMap } from '../shared/outcome.js';
import { hostForUri, type AgentIdentity } from '../sip/agent.js';
import { DEFAULT_SOFTPHONE_RETRY, SoftphoneFleet } from '../softphone/fleet.js';
import type { SocketOptions } from '../softphone/websocket.js';
import { startControlApi } from '../trunk/control-api.js';
import type { EmbeddedTrunk } from '../trunk/server.js';
import type { ProgressSample } from './engine.js';
import type { ExecuteHooks, RunOutcome, RunRequest } from './execute.js';
import { HookRunner } from './hooks.js';
import { hookTrunk } from './hook-trunk.js';
import { runIdentities, startRunTrunk } from './run-trunk.js';
import { TOOL } from './tool.js';

const LOOP_DELAY_RESOLUTION_MS = 10;
/** Longest a REGISTER can stay open in sip.js (Timer F = 64 * 500 ms), plus a margin. */
const DRAIN_MS = 33_000;

export type SoftphoneLoad =
  | { kind: 'rate'; rate: number; durationMs: number }
  /** Every agent logs in once, spread evenly over `windowMs`; then `holdMs` of refreshes and retries. */
  | { kind: 'burst'; windowMs: number; holdMs: number }
  /** A scenario's plan, run to its end (idle phases included), then `holdMs`. */
  | { kind: 'plan'; plan: ArrivalPlan; holdMs: number };

export interface SoftphoneRunOptions {
  /** ws://host:port/path or wss://host:port/path. */
  url: string;
  identities: AgentIdentity[];
  load: SoftphoneLoad;
  expires: number;
  socket?: SocketOptions;
  tokenUrl?: string;
  retry?: RetrySpec | null;
  /** A cap on logins in flight (a scenario's throttle.concurrency), held by p-limit. */
  concurrency?: ConcurrencyCap;
  unregister: boolean;
  classMap?: ClassMap;
  userAgent?: string;
  seed?: number;
  clock?: Clock;
  signal?: AbortSignal;
  onProgress?: (sample: ProgressSample) => void;
  /** The schedule starts now (clock us; the result's times count from runStartUs): scenario hooks anchor here. */
  onScheduleStart?: (scheduleStartUs: number, runStartUs: number) => void;
  log?: Logger;
  configExtra?: Record<string, unknown>;
}

/** Runs a fleet through its load and returns the run's result. */
export async function runSoftphones(opts: SoftphoneRunOptions): Promise<RunResult> {
  const clock = opts.clock ?? realClock;
  const startedAt = new Date();
  const cpuStart = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  const fleet = new SoftphoneFleet({ clock, classMap: opts.classMap, seed: opts.seed });
  fleet.start(opts.identities, {
    target: opts.url,
    expires: opts.expires,
    socket: opts.socket,
    tokenUrl: opts.tokenUrl,
    userAgent: opts.userAgent,
    retry: opts.retry === undefined ? DEFAULT_SOFTPHONE_RETRY : opts.retry,
    concurrency: opts.concurrency,
    log: (message) => opts.log?.debug({ sipjs: message }, 'sip.js'),
  });
  const load = opts.load;
  const plan = load.kind === 'plan' ? load.plan : undefined;
  const source = arrivalSource(load, opts.identities.length);
  const dispatcher = new Dispatcher({
    clock,
    source,
    target: {
      dispatch: (k, intendedUs) => {
        const agent = plan ? plan.agents[k] : k;
        if (plan && plan.actions[k] === ACTION_CODE.unregister) fleet.unregister(agent, intendedUs);
        else fleet.register(agent, intendedUs);
      },
    },
  });
  const onAbort = () => dispatcher.stop();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const runStartUs = fleet.metrics.startUs;
  const progress = setInterval(() => opts.onProgress?.(sample(fleet, dispatcher, clock.nowUs() - runStartUs)), 1000);
  loopDelay.enable();
  try {
    if (opts.signal?.aborted) dispatcher.stop();
    else {
      dispatcher.start();
      opts.onScheduleStart?.(dispatcher.scheduleStartUs, runStartUs);
    }
    await dispatcher.done;
    // A plan lasts until its end (trailing idle phases included), then the hold: time for refreshes and retries.
    const planEndUs = plan ? dispatcher.scheduleStartUs + plan.totalUs : clock.nowUs();
    const holdMs = load.kind === 'rate' ? 0 : Math.max(0, (planEndUs - clock.nowUs()) / 1000) + load.holdMs;
    if (holdMs > 0 && !opts.signal?.aborted) await abortableSleep(holdMs, opts.signal);
    const loadEndUs = clock.nowUs();
    await fleet.stop({ unregister: opts.unregister, drainMs: DRAIN_MS });
    opts.onProgress?.(sample(fleet, dispatcher, clock.nowUs() - runStartUs));
    const cpu = process.cpuUsage(cpuStart);
    const counters = fleet.counters();
    const secure = opts.url.toLowerCase().startsWith('wss:');
    return buildRunResult(fleet.metrics.snapshot(), {
      tool: TOOL,
      target: opts.url,
      startedAt,
      durationMs: (loadEndUs - runStartUs) / 1000,
      interrupted: opts.signal?.aborted ?? false,
      config: {
        agents: opts.identities.length,
        rate: load.kind === 'rate' ? load.rate : 0,
        method: 'REGISTER',
        transport: secure ? 'wss' : 'ws',
        agentKind: 'softphone',
        load: load.kind,
        durationMs: load.kind === 'rate' ? load.durationMs : source.total > 0 ? source.offsetUs(source.total - 1) / 1000 : 0,
        holdMs: load.kind === 'rate' ? undefined : load.holdMs,
        expires: opts.expires,
        tokenStep: opts.tokenUrl !== undefined,
        unregister: opts.unregister,
        ...opts.configExtra,
      },
      generator: {
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        eventLoopLagP99Ms: Number.isFinite(loopDelay.percentile(99)) ? Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_DELAY_RESOLUTION_MS) : 0,
      },
      extra: {
        plannedArrivals: source.total,
        dispatchedArrivals: dispatcher.dispatched,
        unregister: counters.unregister,
        softphone: counters,
      },
    });
  } finally {
    clearInterval(progress);
    loopDelay.disable();
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * `sipstorm run --agent-kind softphone`: the request's identities against its ws/wss target, or against
 * an embedded trunk started here (WS + WSS, its control API for `--token-url embedded`).
 */
export async function executeSoftphoneRun(request: RunRequest, hooks: ExecuteHooks = {}): Promise<RunOutcome> {
  const log = createLogger(request.logLevel ?? 'warn');
  const target = request.target;
  if (target && target.protocol !== 'ws' && target.protocol !== 'wss') throw new Error(`softphone agents speak SIP over WebSocket: the target must be ws: or wss:, got ${target.protocol}:`);
  if (request.tokenUrl === 'embedded' && target) throw new Error('--token-url embedded needs the embedded trunk (no --target)');
  let trunk: EmbeddedTrunk | undefined;
  let api: { port: number; close(): Promise<void> } | undefined;
  try {
    const domain = request.domain ?? target?.host ?? '127.0.0.1';
    const identities = runIdentities(request, domain);
    let url: string;
    const socket: SocketOptions = { insecure: request.tls?.insecure, servername: request.tls?.servername };
    if (request.tls?.caFile !== undefined) socket.ca = readPem(request.tls.caFile);
    if (!target) {
      trunk = await startRunTrunk(request, identities, ['ws', 'wss']);
      url = `wss://${hostForUri(trunk.addresses.wss!.host)}:${trunk.addresses.wss!.port}/`;
      socket.ca = readPem(trunk.tlsCertificate!.certPath);
      log.info({ target: url }, 'embedded trunk started');
    } else {
      url = `${target.protocol}://${hostForUri(target.host)}:${target.port}${target.path ?? '/'}`;
    }
    let tokenUrl = request.tokenUrl;
    if (tokenUrl === 'embedded') {
      api = await startControlApi(trunk!, 0);
      tokenUrl = `http://127.0.0.1:${api.port}/token`;
    }
    const scenario = request.scenario;
    let hookRunner: HookRunner | undefined;
    let hookShiftMs = 0;
    const clock = realClock;
    const result = await runSoftphones({
      url,
      identities,
      load: scenario ? { kind: 'plan', plan: scenario.plan, holdMs: 0 } : { kind: 'rate', rate: request.rate, durationMs: request.durationMs },
      expires: request.expires,
      socket,
      tokenUrl,
      retry: scenario?.retry,
      concurrency: scenario?.throttle?.concurrency,
      unregister: request.unregister,
      classMap: request.classMap,
      userAgent: request.userAgent,
      seed: scenario?.seed,
      clock,
      signal: hooks.signal,
      onProgress: hooks.onProgress,
      onScheduleStart: scenario
        ? (scheduleStartUs, runStartUs) => {
            hookShiftMs = (scheduleStartUs - runStartUs) / 1000;
            hookRunner = new HookRunner(scenario.hooks, {
              trunk: hookTrunk(trunk, request.kamailioRpc),
              kamailioUrl: scenario.kamailioUrl ?? request.kamailioRpc,
              log,
              scheduleStartUs,
              t0Us: scenario.plan.t0Us,
              clock,
            });
            hookRunner.start();
          }
        : undefined,
      log,
      configExtra: { embeddedTrunk: trunk !== undefined, credentialsFile: request.credentialsFile ? true : undefined },
    }).finally(() => hookRunner?.stop());
    if (scenario) {
      result.scenario = scenario.meta;
      // Hook records are timed from the schedule start; the result's origin is the run start.
      result.hooks = (hookRunner?.records() ?? []).map((h) => ({ ...h, atMs: h.atMs + hookShiftMs, startedMs: h.startedMs + hookShiftMs, endedMs: h.endedMs + hookShiftMs }));
      // T0 and phase starts on the result's time axis, for the summary and the report's publish line.
      result.marks = scenario.plan.marks.map((m) => ({ name: m.name, tMs: Math.round((hookShiftMs + m.offsetUs / 1000) * 10) / 10 }));
    }
    return { result, trunkCounters: trunk?.counters() };
  } finally {
    await api?.close();
    await trunk?.stop();
  }
}

function arrivalSource(load: SoftphoneLoad, agents: number): ArrivalSource {
  if (load.kind === 'rate') return new ConstantRate(load.rate, load.durationMs);
  if (load.kind === 'plan') return new PlannedArrivals(load.plan.offsetsUs);
  const offsets = new Float64Array(agents);
  const stepUs = agents > 1 ? (load.windowMs * 1000) / agents : 0;
  for (let i = 0; i < agents; i++) offsets[i] = Math.round(i * stepUs);
  return new PlannedArrivals(offsets);
}

function sample(fleet: SoftphoneFleet, dispatcher: Dispatcher, elapsedUs: number): ProgressSample {
  return { elapsedMs: elapsedUs / 1000, dispatched: dispatcher.dispatched, outstanding: fleet.busy, done: { ...fleet.doneByClass } };
}

function readPem(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`--ca ${path}: cannot read it (${(err as Error).message})`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`--ca ${path}: no PEM certificate in it`);
  return text;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
