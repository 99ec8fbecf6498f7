// The scenario part of the end-of-run summary: one row per phase (its operations, 403/429/503,
// p99), the marks and hooks (when the publish happened), first-attempt versus eventual success, the
// time until every agent was registered, the recovery after T0, and the knee of a step ramp.
import type { RunResult } from './result.js';
import { alignColumns, formatMs } from './table.js';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (n: number, of: number): string => (of > 0 ? `${((n / of) * 100).toFixed(1)}%` : '-');
const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export function renderScenarioSummary(r: RunResult): string {
  if (!r.phases) return '';
  const lines: string[] = [];
  lines.push(`scenario: ${r.scenario?.name ?? '?'}${r.scenario?.file ? ` (${r.scenario.file})` : ''}`);
  const rows = [['phase', 'span', 'attempted', 'ok', '403', '429', '503', 'timeout', 'dropped', 'p99 ms']];
  for (const p of r.phases) {
    const ops = p.operations;
    const code = (c: number) => int(ops.byStatus[String(c)] ?? 0);
    rows.push([
      p.name,
      `${(p.startMs / 1000).toFixed(1)}-${(p.endMs / 1000).toFixed(1)} s`,
      int(ops.attempted),
      int(ops.byClass.ok),
      code(403),
      code(429),
      code(503),
      int(ops.byClass.timeout),
      int(ops.byClass.dropped),
      ops.completed > 0 ? formatMs(p.latencyMs.corrected.p99) : '-',
    ]);
  }
  lines.push(...alignColumns(rows));
  const moments = [...(r.marks ?? []).filter((m) => m.name === 'T0').map((m) => `T0 at ${sec(m.tMs)}`)];
  for (const h of r.hooks ?? []) {
    moments.push(`hook ${h.name} (${h.kind}) at ${sec(h.startedMs)}: ${h.ok ? 'ok' : `FAILED${h.error ? `: ${h.error}` : h.exitCode !== undefined ? `: exit ${h.exitCode}` : ''}`}`);
  }
  if (moments.length > 0) lines.push(moments.join('; '));
  const a = r.attempts;
  if (a) {
    lines.push(
      `requests: ${int(a.firstAttempt.attempted)} first attempts, ok ${pct(a.firstAttempt.ok, a.firstAttempt.attempted)}` +
        (a.retries > 0 ? `; ${int(a.retries)} retries, eventually ok ${pct(a.eventual.ok, a.eventual.attempted)} (403 left: ${int(a.eventual.byClass.forbidden)}, 429 left: ${int(a.eventual.byClass.throttled)})` : ''),
    );
    const reg = [`all agents registered at ${a.timeToAllRegisteredMs === null ? 'never' : sec(a.timeToAllRegisteredMs)}`];
    if (a.recoveryMs !== null) reg.push(`recovered ${sec(a.recoveryMs)} after T0 (every agent registered again)`);
    else if ((r.marks ?? []).some((m) => m.name === 'T0')) reg.push('recovery after T0: no failure after T0, or never recovered');
    lines.push(reg.join('; '));
  }
  const t = r.throttle;
  if (t && (t.perAgent || t.concurrency)) {
    const what = [t.perAgent ? `per agent ${t.perAgent.rate}/s (burst ${t.perAgent.burst}, ${t.perAgent.whenEmpty})` : '', t.concurrency ? `cap ${t.concurrency.limit} in flight (${t.concurrency.whenFull})` : '']
      .filter(Boolean)
      .join(', ');
    lines.push(`throttle: ${what}: ${int(t.delayed)} delayed (p99 ${formatMs(t.delayP99Ms)} ms), ${int(t.dropped)} dropped${t.concurrency ? `, queue peak ${int(t.maxQueue)}` : ''}`);
  }
  for (const k of r.knees ?? []) {
    lines.push(
      `knee of ${k.phase}: ${k.kneeRate === null ? 'the first plateau already failed' : `${k.kneeRate}/s`}` +
        (k.failedAtRate !== null ? ` (failures passed ${k.maxFailurePct}% at ${k.failedAtRate}/s)` : ` (failures stayed under ${k.maxFailurePct}% up to the last plateau)`),
    );
  }
  return lines.join('\n') + '\n';
}
