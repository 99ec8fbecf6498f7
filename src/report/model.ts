// Result JSON -> ReportModel (see model-types.ts). Pure: no I/O, no clock. Tolerant of what older or
// hand-made results lack (phases, marks, histograms): a missing part becomes an empty section.
import { OUTCOME_CLASSES, type OutcomeClass } from '../shared/outcome.js';
import { distributionOf, maxOfEncodedMs } from './model-latency.js';
import { saturationOf, saturationWarnings } from './saturation.js';
import {
  REPORT_MODEL_SCHEMA,
  type BreakdownRow,
  type GeneratorModel,
  type HookModel,
  type MarkKind,
  type MarkModel,
  type PhaseRow,
  type RecoveryModel,
  type ReportModel,
  type RunModel,
  type StatusRow,
  type SweepModel,
  type ThresholdModel,
  type TimelineModel,
  type TotalsModel,
} from './model-types.js';
import type { LatencyPair, OperationsBlock, RunResult } from './result.js';
import type { SweepResult } from './scenario-result.js';

/** Timeline seconds beyond this are not drawn (a week, like the recorder's own bound). */
const MAX_SECONDS = 7 * 86_400;
/** Keys whose values never reach a report, whatever a caller put in config or extra. */
const SECRET_KEY = /pass(word)?|secret|authorization|nonce|token|credential/i;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const round3 = (x: number): number => Math.round(x * 1000) / 1000;
export const pct = (n: number, of: number): number => (of > 0 ? round3((100 * n) / of) : 0);

export function isSweepResult(r: RunResult | SweepResult): r is SweepResult {
  return (r as SweepResult).kind === 'sweep';
}

export function buildReportModel(result: RunResult | SweepResult): ReportModel {
  if (isSweepResult(result)) return sweepReport(result);
  const run = runModel(result, 'run', 'run');
  const title = result.scenario?.name ?? `${String(result.config?.method ?? 'run')} at ${String(result.config?.rate ?? '?')}/s`;
  return { schema: REPORT_MODEL_SCHEMA, kind: 'run', title, tool: toolName(result), startedAt: String(result.startedAt ?? ''), runs: [run] };
}

function toolName(r: RunResult): string {
  return `${r.tool?.name ?? 'sipstorm'} ${r.tool?.version ?? ''}`.trim();
}

function sweepReport(s: SweepResult): ReportModel {
  const pick = s.recommendation?.perAgentRate ?? null;
  const sweep: SweepModel = {
    scenario: { name: String(s.scenario?.name ?? ''), file: String(s.scenario?.file ?? '') },
    rows: s.rows.map((row) => ({
      name: row.setting.name,
      perAgentRate: num(row.setting.perAgentRate),
      retry: row.setting.retry,
      attempted: num(row.attempted),
      forbiddenPct: num(row.forbiddenPct),
      throttledPct: num(row.throttledPct),
      overloadPct: num(row.overloadPct),
      timeoutPct: num(row.timeoutPct),
      droppedPct: num(row.droppedPct),
      okRate: num(row.okRate),
      p50Ms: num(row.p50Ms),
      p99Ms: num(row.p99Ms),
      timeToAllRegisteredMs: typeof row.timeToAllRegisteredMs === 'number' ? row.timeToAllRegisteredMs : null,
      recommended: pick !== null && row.setting.perAgentRate === pick && (s.recommendation.retry === undefined || s.recommendation.retry === row.setting.retry),
    })),
    recommendation: {
      perAgentRate: pick,
      maxRejectRate: num(s.recommendation?.maxRejectRate),
      reason: String(s.recommendation?.reason ?? ''),
    },
    thresholds: thresholdsOf(s),
  };
  if (typeof s.recommendation?.retry === 'string') sweep.recommendation.retry = s.recommendation.retry;
  const runs = s.settings.map((r, i) => runModel(r, `setting-${i}`, r.setting?.name ?? s.rows[i]?.setting.name ?? `setting ${i + 1}`));
  const tool = s.settings[0] ? toolName(s.settings[0]) : 'sipstorm';
  return { schema: REPORT_MODEL_SCHEMA, kind: 'sweep', title: `Sweep: ${sweep.scenario.name}`, tool, startedAt: String(s.startedAt ?? ''), sweep, runs };
}

export function runModel(r: RunResult, id: string, name: string): RunModel {
  const model: RunModel = {
    id,
    name,
    target: String(r.target ?? ''),
    startedAt: String(r.startedAt ?? ''),
    durationMs: num(r.durationMs),
    interrupted: r.interrupted === true,
    totals: totalsOf(r),
    methods: Object.entries(r.methods ?? {})
      .filter(([, block]) => num(block.operations?.attempted) > 0 || num(block.transactions?.sent) > 0)
      .map(([method, block]) => breakdownRow(method, block.operations, block.latencyMs, num(r.durationMs))),
    phases: (r.phases ?? []).map((p): PhaseRow => ({
      ...breakdownRow(p.name, p.operations, p.latencyMs, num(p.endMs) - num(p.startMs)),
      type: String(p.type),
      startMs: num(p.startMs),
      endMs: num(p.endMs),
      plannedArrivals: num(p.plannedArrivals),
    })),
    timeline: timelineOf(r),
    distribution: distributionOf(r.histograms),
    marks: marksOf(r),
    hooks: (r.hooks ?? []).map((h): HookModel => ({ ...h, output: h.output?.slice(0, 2000) })),
    thresholds: thresholdsOf(r),
    generator: generatorOf(r),
    knees: Array.isArray(r.knees) ? r.knees.filter((k) => isObject(k) && Array.isArray(k.plateaus)) : [],
    config: flatten(r.config ?? {}),
    details: flatten(r.extra ?? {}),
  };
  if (r.scenario) model.scenario = r.scenario;
  if (r.attempts) model.attempts = r.attempts;
  const recovery = recoveryOf(r, model.marks, model.timeline);
  if (recovery) model.recovery = recovery;
  if (r.throttle) model.throttle = r.throttle;
  return model;
}

function totalsOf(r: RunResult): TotalsModel {
  const ops = r.operations;
  const attempted = num(ops.attempted);
  const statuses: StatusRow[] = Object.entries(ops.byReason ?? {})
    .filter(([, n]) => num(n) > 0)
    .map(([key, n]) => {
      const space = key.indexOf(' ');
      const code = space < 0 ? key : key.slice(0, space);
      return { code, reason: space < 0 ? '' : key.slice(space + 1), count: num(n), pct: pct(num(n), attempted) };
    })
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code) || a.reason.localeCompare(b.reason));
  // Outcomes with no final response have no status code: list them by class so the table adds up.
  for (const cls of ['timeout', 'transport_error', 'dropped'] as const) {
    const n = num(ops.byClass[cls]);
    if (n > 0) statuses.push({ code: '', reason: cls, count: n, pct: pct(n, attempted) });
  }
  return {
    attempted,
    completed: num(ops.completed),
    achievedRate: num(ops.achievedRate),
    okRate: num(ops.okRate),
    classes: OUTCOME_CLASSES.map((name) => ({ name, count: num(ops.byClass[name]), pct: pct(num(ops.byClass[name]), attempted) })),
    statuses,
    transactions: {
      sent: num(r.transactions?.sent),
      retransmissions: num(r.transactions?.retransmissions),
      responses: Object.entries(r.transactions?.byStatus ?? {})
        .map(([code, count]) => ({ code, count: num(count) }))
        .sort((a, b) => Number(a.code) - Number(b.code)),
    },
    latencyMs: r.latencyMs,
  };
}

export function breakdownRow(name: string, ops: OperationsBlock, latency: LatencyPair | undefined, spanMs: number): BreakdownRow {
  const code = (c: number) => num(ops.byStatus?.[String(c)]);
  const attempted = num(ops.attempted);
  const ok = num(ops.byClass?.ok);
  const [s403, s429, s503] = [code(403), code(429), code(503)];
  const timeout = num(ops.byClass?.timeout);
  const dropped = num(ops.byClass?.dropped);
  return {
    name,
    attempted,
    ok,
    s403,
    s429,
    s503,
    timeout,
    dropped,
    other: Math.max(0, attempted - ok - s403 - s429 - s503 - timeout - dropped),
    okPct: pct(ok, attempted),
    pct403: pct(s403, attempted),
    pct429: pct(s429, attempted),
    achievedRate: typeof ops.achievedRate === 'number' ? ops.achievedRate : spanMs > 0 ? round3(num(ops.completed) / (spanMs / 1000)) : 0,
    p50Ms: num(latency?.corrected?.p50),
    p99Ms: num(latency?.corrected?.p99),
    p99UncorrectedMs: num(latency?.uncorrected?.p99),
  };
}

/** One entry per second from 0 to the last second with data; seconds the result skipped are zeros. */
export function timelineOf(r: RunResult): TimelineModel {
  const usable = (e: { t: number }) => Number.isFinite(e.t) && e.t >= 0 && e.t < MAX_SECONDS;
  const length = (r.timeline ?? []).reduce((n, e) => (usable(e) ? Math.max(n, Math.floor(e.t) + 1) : n), 0);
  const zeros = () => new Array<number>(length).fill(0);
  const nulls = () => new Array<number | null>(length).fill(null);
  const byClass = Object.fromEntries(OUTCOME_CLASSES.map((c) => [c, zeros()])) as Record<OutcomeClass, number[]>;
  const out: TimelineModel = {
    t: Array.from({ length }, (_, i) => i),
    sent: zeros(),
    retransmissions: zeros(),
    completed: zeros(),
    byClass,
    classesPresent: [],
    p50Ms: nulls(),
    p99Ms: nulls(),
    maxMs: nulls(),
  };
  (r.timeline ?? []).forEach((e, index) => {
    if (!usable(e)) return;
    const i = Math.floor(e.t);
    out.sent[i] += num(e.sent);
    out.retransmissions[i] += num(e.retransmissions);
    out.completed[i] += num(e.completed);
    for (const c of OUTCOME_CLASSES) byClass[c][i] += num(e.byClass[c]);
    if (num(e.completed) > 0) {
      out.p50Ms[i] = num(e.p50Ms);
      out.p99Ms[i] = num(e.p99Ms);
      out.maxMs[i] = maxOfEncodedMs(r.timelineHistograms?.[index]);
    }
  });
  out.classesPresent = OUTCOME_CLASSES.filter((c) => byClass[c].some((n) => n > 0));
  return out;
}

/** The plan names phase starts "phase:NAME" and the publish "T0"; older or hand-made results may not. */
function classifyMark(rawName: string, tMs: number, r: RunResult): { name: string; kind: MarkKind } {
  if (rawName.startsWith('phase:')) return { name: rawName.slice(6), kind: 'phase' };
  if (/^t0$/i.test(rawName)) return { name: rawName, kind: 'publish' };
  if ((r.phases ?? []).some((p) => p.name === rawName && Math.abs(num(p.startMs) - tMs) < 1)) return { name: rawName, kind: 'phase' };
  return { name: rawName, kind: /publish/i.test(rawName) ? 'publish' : 'mark' };
}

/** Marks from the plan, phase starts not already marked, and hook start times; sorted by time. */
export function marksOf(r: RunResult): MarkModel[] {
  const marks: MarkModel[] = [];
  const seen = new Set<string>();
  const add = (m: MarkModel) => {
    const key = `${m.kind}|${m.name}|${m.tMs}`;
    if (!Number.isFinite(m.tMs) || seen.has(key)) return;
    seen.add(key);
    marks.push(m);
  };
  for (const m of r.marks ?? []) add({ ...classifyMark(String(m.name), num(m.tMs), r), tMs: num(m.tMs) });
  for (const p of r.phases ?? []) {
    const startMs = num(p.startMs);
    if (!marks.some((m) => m.kind === 'phase' && m.name === p.name)) add({ name: p.name, kind: 'phase', tMs: startMs });
  }
  for (const h of r.hooks ?? []) add({ name: h.name, kind: 'hook', tMs: num(h.startedMs) });
  return marks.sort((a, b) => a.tMs - b.tMs);
}

const asText = (v: unknown): string =>
  typeof v === 'number' ? String(Math.round(v * 1e6) / 1e6) : v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);

/**
 * attempts.recoveryMs is null both when agents never recovered and when nothing failed after T0; the
 * timeline tells them apart (to the second: a failure in T0's own second counts as after T0).
 */
function recoveryOf(r: RunResult, marks: MarkModel[], tl: TimelineModel): RecoveryModel | undefined {
  const t0 = marks.find((m) => m.kind === 'publish' && /^t0$/i.test(m.name)) ?? marks.find((m) => m.kind === 'publish');
  if (!t0 || !r.attempts) return undefined;
  const ms = r.attempts.recoveryMs;
  if (typeof ms === 'number') return { t0Ms: t0.tMs, state: 'recovered', ms };
  let failed = 0;
  tl.t.forEach((t, i) => {
    if ((t + 1) * 1000 > t0.tMs) for (const c of OUTCOME_CLASSES) if (c !== 'ok') failed += tl.byClass[c][i];
  });
  return { t0Ms: t0.tMs, state: failed > 0 ? 'never' : 'no-failure', ms: null };
}

/** `thresholds` is written by the threshold evaluator; anything malformed is shown as such, not dropped. */
function thresholdsOf(r: RunResult | SweepResult): ThresholdModel[] {
  const raw = (r as unknown as { thresholds?: unknown }).thresholds;
  if (!Array.isArray(raw)) return [];
  return raw.map((t): ThresholdModel => {
    if (!isObject(t)) return { expression: asText(t), ok: false, actual: '', limit: '', error: 'malformed threshold record' };
    const out: ThresholdModel = { expression: asText(t.expression), ok: t.ok === true, actual: asText(t.actual), limit: asText(t.limit) };
    if (t.error !== undefined) out.error = asText(t.error);
    return out;
  });
}

/** rcvbufErrors / warnings may sit in extra or one level down (e.g. extra.generator). */
function findInExtra(extra: Record<string, unknown>, key: string): unknown {
  if (key in extra) return extra[key];
  for (const v of Object.values(extra)) if (isObject(v) && key in v) return v[key];
  return undefined;
}

function generatorOf(r: RunResult): GeneratorModel {
  const g = r.generator ?? ({} as RunResult['generator']);
  const extra = isObject(r.extra) ? r.extra : {};
  // extra.saturation (the run's sampler) when present; a bare rcvbufErrors / warnings elsewhere in extra too.
  const sampled = saturationOf(r);
  const rcvbuf = sampled ? (sampled.rcvbufErrorsBefore !== null ? sampled.rcvbufErrors : undefined) : findInExtra(extra, 'rcvbufErrors');
  const extraWarnings = findInExtra(extra, 'warnings');
  const warnings = [...saturationWarnings(r), ...(Array.isArray(extraWarnings) ? extraWarnings.map(asText) : [])];
  const durationMs = num(r.durationMs);
  const cpuShare = sampled ? sampled.cpuShare : durationMs > 0 ? (num(g.cpuUserMs) + num(g.cpuSystemMs)) / durationMs : 0;
  const out: GeneratorModel = {
    cpuUserMs: num(g.cpuUserMs),
    cpuSystemMs: num(g.cpuSystemMs),
    cpuPctOfCore: Math.round(cpuShare * 1000) / 10,
    maxRssMb: Math.round(num(g.maxRssBytes) / 104_857.6) / 10,
    eventLoopLagP99Ms: num(g.eventLoopLagP99Ms),
    sendLagP99Ms: num(g.sendLagP99Ms),
    sendLagMaxMs: num(g.sendLagMaxMs),
    cpuUsPerTransaction: num(g.cpuUsPerTransaction),
    warnings: [...new Set(warnings)],
  };
  if (typeof rcvbuf === 'number') out.rcvbufErrors = rcvbuf;
  if (sampled && sampled.outstandingPeak > 0) out.outstandingPeak = sampled.outstandingPeak;
  return out;
}

/** Dotted keys, text values; secret-looking keys are redacted, long values cut. */
export function flatten(obj: Record<string, unknown>, prefix = '', out: [string, string][] = [], depth = 0): [string, string][] {
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value === undefined) continue;
    if (SECRET_KEY.test(key) && typeof value !== 'boolean') out.push([path, '[redacted]']);
    else if (isObject(value) && depth < 4) flatten(value, path, out, depth + 1);
    else {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      out.push([path, text.length > 300 ? `${text.slice(0, 300)}…` : text]);
    }
  }
  return out;
}
