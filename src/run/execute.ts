// Turns a validated run request into a finished run: resolves identities and the target (starting
// the embedded trunk in-process when no target is given), checks the target answers, runs the engine.
import type { RunResult } from '../report/result.js';
import type { ClassMap } from '../shared/outcome.js';
import { createLogger } from '../shared/log.js';
import type { EmbeddedTrunk } from '../trunk/server.js';
import type { TrunkOptions } from '../trunk/config.js';
import type { TargetSpec } from '../transport/transport.js';
import { resolveHost } from '../transport/udp.js';
import { withServerName, type TlsClientOptions } from '../transport/tls-options.js';
import { RunEngine, type MethodMode, type ProgressSample } from './engine.js';
import { runIdentities, startRunTrunk } from './run-trunk.js';
import { probeTarget } from './probe.js';
import type { SipTrace } from './sip-trace.js';
import { executeSoftphoneRun } from './softphone-run.js';
import { HookRunner } from './hooks.js';
import { hookTrunk, resetKamailioForScenario } from './hook-trunk.js';
import { stepKnees } from '../report/knee.js';
import type { ArrivalPlan } from '../schedule/plan-types.js';
import type { HookSpec, RetrySpec, ThrottleSpec } from '../scenario/types.js';

/** A scenario run's extra parts (src/run/scenario-run.ts fills them). */
export interface ScenarioPart {
  plan: ArrivalPlan;
  throttle?: ThrottleSpec;
  retry?: RetrySpec;
  seed: number;
  hooks: HookSpec[];
  /** Kamailio JSON-RPC URL for hooks that give none. */
  kamailioUrl?: string;
  meta: { name: string; file: string; description?: string };
  /** Names of the scenario's step-ramp phases (their plateaus ran as sub-phases): the knee is computed for each. */
  stepPhases?: string[];
}

export interface RunRequest {
  target?: TargetSpec;
  agents: number;
  rate: number;
  durationMs: number;
  method: MethodMode;
  expires: number;
  userTemplate: string;
  passwordTemplate: string;
  credentialsFile?: string;
  domain?: string;
  t1Ms: number;
  t2Ms: number;
  t4Ms: number;
  /** UDP sockets; default by I/O mode and rate (src/transport/index.ts udpSocketsFor). */
  sockets?: number;
  connections?: number;
  bufferBytes?: number;
  unregister: boolean;
  classMap?: ClassMap;
  userAgent?: string;
  logLevel?: string;
  /** Switches for the embedded trunk when no target is given. */
  trunk?: Partial<TrunkOptions>;
  probe?: boolean;
  io?: 'batch' | 'dgram';
  tickMs?: number;
  warmUpMs?: number;
  /** tls/wss targets: `--ca`, `--insecure`, `--sni` (default: the target host when it is a name). */
  tls?: TlsClientOptions;
  scenario?: ScenarioPart;
  /** `softphone`: sip.js agents over ws/wss (src/run/softphone-run.ts); default `core`. */
  agentKind?: 'core' | 'softphone';
  /**
   * JSON-RPC URL of a bundled Kamailio under test: scenario `trunk:` hooks set its switches (the same
   * words as the embedded trunk's) and `kamailio:` hooks without a url go there.
   */
  kamailioRpc?: string;
  /** Softphones: POST credentials here for a token before registering; `embedded`: the embedded trunk's. */
  tokenUrl?: string;
}

export interface RunOutcome {
  result: RunResult;
  /** Counters of the embedded trunk when one was started for this run. */
  trunkCounters?: unknown;
}

export interface ExecuteHooks {
  signal?: AbortSignal;
  onProgress?: (sample: ProgressSample) => void;
  /** Called with the engine once it is built, before the load: live readers attach here (--prometheus). */
  onEngine?: (engine: RunEngine) => void;
  /** --trace: the chosen agents' messages go here (the engine feeds it from the transaction layer). */
  trace?: SipTrace;
}

export async function executeRun(request: RunRequest, hooks: ExecuteHooks = {}): Promise<RunOutcome> {
  if (request.agentKind === 'softphone') return executeSoftphoneRun(request, hooks);
  const log = createLogger(request.logLevel ?? 'warn');
  let trunk: EmbeddedTrunk | undefined;
  let target = request.target;
  try {
    // The embedded trunk listens on 127.0.0.1, so that is the default domain without a target.
    const identities = runIdentities(request, request.domain ?? target?.host ?? '127.0.0.1');
    if (!target) {
      trunk = await startRunTrunk(request, identities);
      target = { protocol: 'udp', host: trunk.address.host, port: trunk.address.port, text: `udp:${trunk.address.host}:${trunk.address.port}` };
      log.info({ target: target.text }, 'embedded trunk started');
    } else {
      target = { ...target, host: (await resolveHost(target.host)).address };
      if (request.kamailioRpc && request.scenario) {
        const skipped = await resetKamailioForScenario(request.kamailioRpc, request.trunk as Record<string, unknown> | undefined);
        if (skipped.length > 0) log.warn({ switches: skipped }, 'the bundled Kamailio has no such switches: they apply to the embedded trunk only');
      }
    }
    if (request.probe !== false) await probeTarget(target, Math.max(2000, 4 * request.t1Ms), withServerName(request.tls, request.target?.host));

    let hookRunner: HookRunner | undefined;
    let hookShiftMs = 0;
    const engine: RunEngine = new RunEngine({
      target,
      identities,
      rate: request.rate,
      durationMs: request.durationMs,
      method: request.method,
      expires: request.expires,
      t1Ms: request.t1Ms,
      t2Ms: request.t2Ms,
      t4Ms: request.t4Ms,
      sockets: target.protocol === 'udp' ? request.sockets : (request.connections ?? request.agents),
      bufferBytes: request.bufferBytes,
      unregister: request.unregister,
      classMap: request.classMap,
      userAgent: request.userAgent,
      io: request.io,
      tickMs: request.tickMs,
      warmUpMs: request.warmUpMs,
      tls: withServerName(request.tls, request.target?.host),
      signal: hooks.signal,
      trace: hooks.trace,
      plan: request.scenario?.plan,
      throttle: request.scenario?.throttle,
      retry: request.scenario?.retry,
      seed: request.scenario?.seed,
      onScheduleStart: request.scenario
        ? (scheduleStartUs) => {
            hookRunner = new HookRunner(request.scenario!.hooks, {
              trunk: hookTrunk(trunk, request.kamailioRpc),
              kamailioUrl: request.scenario!.kamailioUrl ?? request.kamailioRpc,
              log,
              scheduleStartUs,
              t0Us: request.scenario!.plan.t0Us,
              clock: engine.clock,
            });
            hookShiftMs = (scheduleStartUs - engine.metrics.startUs) / 1000;
            hookRunner.start();
          }
        : undefined,
      configExtra: { embeddedTrunk: trunk !== undefined, credentialsFile: request.credentialsFile ? true : undefined },
    });
    hooks.onEngine?.(engine);
    if (hooks.onProgress) engine.on('progress', hooks.onProgress);
    engine.on('phase', (phase: string) => log.info({ phase }, 'run phase'));
    let result: RunResult;
    try {
      result = await engine.run();
    } finally {
      await hookRunner?.stop();
    }
    if (request.scenario) {
      result.scenario = request.scenario.meta;
      if (request.scenario.stepPhases?.length && result.phases) result.knees = stepKnees(result.phases, request.scenario.stepPhases);
      // Hook records are timed from the schedule start; the result's origin is the run start.
      result.hooks = (hookRunner?.records() ?? []).map((h) => ({ ...h, atMs: h.atMs + hookShiftMs, startedMs: h.startedMs + hookShiftMs, endedMs: h.endedMs + hookShiftMs }));
    }
    return { result, trunkCounters: trunk?.counters() };
  } finally {
    await trunk?.stop();
  }
}
