// Was the generator, not the target, the bottleneck? A load tool that is itself saturated sends late,
// reads late and drops responses in the kernel, and then every figure it reports describes the tool.
// Pure: reads the result (generator block and extra.saturation, which src/run/saturation-sampler.ts fills).
import type { RunResult } from './result.js';

/** What the sampler measured over a run (result.extra.saturation). */
export interface SaturationFigures {
  /** Kernel UDP receive-buffer drops (IPv4 + IPv6, system-wide) before and after; null where /proc is not readable. */
  rcvbufErrorsBefore: number | null;
  rcvbufErrorsAfter: number | null;
  /** after - before (0 when unknown). */
  rcvbufErrors: number;
  /** Process CPU (user + system) over wall time: 1 = one core busy the whole run. */
  cpuShare: number;
  cpuMs: number;
  wallMs: number;
  /** Most client transactions in flight at once (as noted by the engine; 0 when never noted). */
  outstandingPeak: number;
}

/**
 * Limits above which the generator is taken to be the bottleneck. The send-lag limit is lateness
 * beyond the batched loop's tick (config.tickMs): with batched I/O an arrival waits for the next tick
 * by design, up to one tick, and that wait alone must not read as saturation.
 */
export const SATURATION_LIMITS = {
  sendLagP99Ms: 5,
  cpuShare: 0.9,
  eventLoopLagP99Ms: 20,
} as const;

const TOOL_NOT_TARGET = 'so the figures describe the tool, not the target';

/** Reads extra.saturation when it has the expected shape. */
export function saturationOf(result: RunResult): SaturationFigures | null {
  const s = result.extra?.saturation as Partial<SaturationFigures> | undefined;
  if (!s || typeof s !== 'object' || typeof s.cpuShare !== 'number') return null;
  return {
    rcvbufErrorsBefore: s.rcvbufErrorsBefore ?? null,
    rcvbufErrorsAfter: s.rcvbufErrorsAfter ?? null,
    rcvbufErrors: s.rcvbufErrors ?? 0,
    cpuShare: s.cpuShare,
    cpuMs: s.cpuMs ?? 0,
    wallMs: s.wallMs ?? 0,
    outstandingPeak: s.outstandingPeak ?? 0,
  };
}

/** One sentence per sign that the generator was saturated; empty when none. */
export function saturationWarnings(result: RunResult): string[] {
  const warnings: string[] = [];
  const g = result.generator;
  const tickMs = typeof result.config.tickMs === 'number' && result.config.tickMs > 0 ? result.config.tickMs : 0;
  const sendLagLimitMs = SATURATION_LIMITS.sendLagP99Ms + tickMs;
  if (g && g.sendLagP99Ms > sendLagLimitMs) {
    const limit = tickMs > 0 ? `${sendLagLimitMs} ms: ${SATURATION_LIMITS.sendLagP99Ms} ms beyond the ${tickMs} ms tick` : `${sendLagLimitMs} ms`;
    warnings.push(`generator saturated: send lag p99 was ${g.sendLagP99Ms} ms (over ${limit}), operations left later than scheduled, ${TOOL_NOT_TARGET}.`);
  }
  if (g && g.eventLoopLagP99Ms > SATURATION_LIMITS.eventLoopLagP99Ms) {
    warnings.push(
      `generator saturated: event-loop lag p99 was ${g.eventLoopLagP99Ms} ms (over ${SATURATION_LIMITS.eventLoopLagP99Ms} ms), responses were read late and latencies include the wait, ${TOOL_NOT_TARGET}.`,
    );
  }
  const s = saturationOf(result);
  if (s && s.cpuShare > SATURATION_LIMITS.cpuShare) {
    warnings.push(
      `generator saturated: it used ${Math.round(s.cpuShare * 100)} % of one CPU core (over ${Math.round(SATURATION_LIMITS.cpuShare * 100)} %; Node runs the load on one), ${TOOL_NOT_TARGET}.`,
    );
  }
  if (s && s.rcvbufErrors > 0) {
    warnings.push(
      `UDP receive buffers overflowed: the kernel dropped ${s.rcvbufErrors} datagrams (RcvbufErrors, counted for the whole host: the generator's sockets or a target on the same host), responses lost there show as retransmissions or timeouts, ${TOOL_NOT_TARGET}; raise --buffer-bytes or net.core.rmem_max, or lower the rate.`,
    );
  }
  return warnings;
}
