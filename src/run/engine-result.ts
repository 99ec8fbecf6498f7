// The JSON result of an engine run: the metrics snapshot plus what the run was asked to do (config)
// and what it cost the generator. Split from engine.ts, which keeps the wiring.
import { buildRunResult, type RunResult } from '../report/result.js';
import type { MetricsSnapshot } from '../metrics/snapshot.js';
import { autoTickMs, type RunOptions } from './engine-options.js';
import { TOOL } from './tool.js';

export interface EngineEnd {
  opts: RunOptions;
  startedAt: Date;
  /** The load phase: schedule start to the last arrival. */
  durationMs: number;
  sockets: number;
  io: 'batch' | 'dgram' | 'stream';
  cpu: NodeJS.CpuUsage;
  /** From perf_hooks when measured so; undefined: the snapshot's own event-loop-lag histogram. */
  eventLoopLagP99Ms?: number;
  extra: Record<string, unknown>;
}

export function engineResult(snapshot: MetricsSnapshot, end: EngineEnd): RunResult {
  const { opts } = end;
  return buildRunResult(snapshot, {
    tool: TOOL,
    target: opts.target.text,
    startedAt: end.startedAt,
    durationMs: end.durationMs,
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
      sockets: end.sockets,
      io: end.io,
      tickMs: end.io === 'batch' ? (opts.tickMs ?? autoTickMs(opts.rate)) : undefined,
      unregister: opts.unregister,
      ...opts.configExtra,
    },
    generator: {
      cpuUserMs: end.cpu.user / 1000,
      cpuSystemMs: end.cpu.system / 1000,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      eventLoopLagP99Ms: end.eventLoopLagP99Ms,
    },
    extra: end.extra,
  });
}
