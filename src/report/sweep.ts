// Pure: the sweep table and its recommendation from one RunResult per setting.
import type { RunResult } from './result.js';
import type { SweepResult, SweepRow, SweepSetting } from './scenario-result.js';

const pct = (n: number, of: number): number => (of > 0 ? Math.round((n / of) * 10_000) / 100 : 0);

/**
 * One row per setting. Shares are of the operations that went on the wire (completed): the arrivals
 * a throttle shed are its cost, shown apart (dropped), not a dilution of the reject share.
 */
export function sweepRow(setting: SweepSetting, r: RunResult): SweepRow {
  const ops = r.operations;
  const sent = ops.completed;
  return {
    setting,
    attempted: ops.attempted,
    forbiddenPct: pct(ops.byClass.forbidden, sent),
    throttledPct: pct(ops.byClass.throttled, sent),
    overloadPct: pct(ops.byClass.overload, sent),
    timeoutPct: pct(ops.byClass.timeout, sent),
    p50Ms: r.latencyMs.corrected.p50,
    p99Ms: r.latencyMs.corrected.p99,
    timeToAllRegisteredMs: r.attempts?.timeToAllRegisteredMs ?? null,
    droppedPct: pct(ops.byClass.dropped, ops.attempted),
    okRate: ops.okRate,
  };
}

/** The highest per-agent rate whose (403 + 429) share of sent operations stays under maxRejectRate (per retry policy, the best one). */
export function recommend(rows: readonly SweepRow[], maxRejectRate: number): SweepResult['recommendation'] {
  const limitPct = maxRejectRate * 100;
  let best: SweepRow | undefined;
  for (const row of rows) {
    if (row.forbiddenPct + row.throttledPct >= limitPct) continue;
    if (!best || row.setting.perAgentRate > best.setting.perAgentRate) best = row;
  }
  if (!best) {
    return { perAgentRate: null, maxRejectRate, reason: `no setting kept 403 + 429 under ${limitPct}% of the requests sent: try lower per-agent rates` };
  }
  const reject = Math.round((best.forbiddenPct + best.throttledPct) * 100) / 100;
  return {
    perAgentRate: best.setting.perAgentRate,
    ...(best.setting.retry ? { retry: best.setting.retry } : {}),
    maxRejectRate,
    reason: `${best.setting.name} is the highest per-agent rate with 403 + 429 at ${reject}% (< ${limitPct}%) of the requests sent`,
  };
}

/** Text table for the terminal. */
export function renderSweepTable(result: SweepResult): string {
  const head = ['setting', 'attempted', 'dropped %', '403 %', '429 %', '503 %', 'timeout %', 'p50 ms', 'p99 ms', 'all registered'];
  const rows = result.rows.map((r) => [
    r.setting.name,
    String(r.attempted),
    r.droppedPct.toFixed(2),
    r.forbiddenPct.toFixed(2),
    r.throttledPct.toFixed(2),
    r.overloadPct.toFixed(2),
    r.timeoutPct.toFixed(2),
    r.p50Ms.toFixed(1),
    r.p99Ms.toFixed(1),
    r.timeToAllRegisteredMs === null ? 'never' : `${(r.timeToAllRegisteredMs / 1000).toFixed(1)} s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const rec = result.recommendation;
  return [
    `sweep: ${result.scenario.name} (${result.rows.length} settings)`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    rec.perAgentRate === null ? `recommendation: none. ${rec.reason}` : `recommendation: ${rec.perAgentRate}/s per agent. ${rec.reason}`,
  ].join('\n');
}
