// Thresholds evaluated against a result: the pass/fail a pipeline acts on (`sipstorm run` exits 3 when
// one fails). Pure. Comparisons are exact: limits stay decimal rationals (BigInt), counts and rates are
// integer ratios, latencies are the integer microseconds the HDR histograms hold.
//
// Precision (documented in README): a latency percentile is what the result's histograms give, i.e. the
// highest value of the HDR bucket holding that rank (3 significant digits: at most 0.1 % above the true
// value, never below it); max and min likewise; mean is the histogram's mean (bucket midpoints). A limit
// equal to that figure passes `<=` and fails `<`. The same figures appear in the JSON's latencyMs.
import { decodeHistogram, meanUs, newLatencyHistogram, type LatencySummary } from '../metrics/histogram.js';
import type { OutcomeClass } from '../shared/outcome.js';
import type { LatencyPair, RunResult } from './result.js';
import type { PhaseBlock, SweepResult, ThresholdOutcome } from './scenario-result.js';
import { parseThreshold, type CompareOp, type Decimal, type Filters, type Metric, type ThresholdAst, type Unit } from './threshold-parser.js';

export { parseThreshold, printThreshold, ThresholdSyntaxError, type ThresholdAst } from './threshold-parser.js';
export type { ThresholdOutcome } from './scenario-result.js';

interface Rational {
  num: bigint;
  den: bigint;
}

/** Parses every expression (throws ThresholdSyntaxError naming the column), then evaluates each. */
export function evaluateThresholds(result: RunResult | SweepResult, expressions: readonly string[]): ThresholdOutcome[] {
  const parsed = expressions.map((e) => ({ text: e.trim(), ast: parseThreshold(e.trim()) }));
  return parsed.map(({ text, ast }) => ('kind' in result && result.kind === 'sweep' ? evaluateOnSweep(result, ast, text) : evaluateThreshold(result as RunResult, ast, text)));
}

/** Checks the syntax of every expression up front (before a run), so a typo costs no load test. */
export function checkThresholds(expressions: readonly string[]): ThresholdAst[] {
  return expressions.map((e) => parseThreshold(e.trim()));
}

export function evaluateThreshold(result: RunResult, ast: ThresholdAst, expression: string): ThresholdOutcome {
  const limit = displayLimit(ast);
  const fail = (error: string): ThresholdOutcome => ({ expression, ok: false, actual: null, limit, error });
  if (ast.filters.setting !== undefined && result.setting?.name !== ast.filters.setting) {
    return fail(result.setting ? `this result's setting is "${result.setting.name}", not "${ast.filters.setting}"` : 'a setting filter needs a sweep result');
  }
  const scope = resolveScope(result, ast.filters);
  if (typeof scope === 'string') return fail(scope);
  const measured = measure(scope, ast.metric);
  if (typeof measured === 'string') return fail(measured);
  const { actual, exact } = measured;
  return { expression, ok: compare(exact, limitRational(ast), ast.op), actual, limit };
}

/** A sweep: with a setting filter, that setting's block; without one, the threshold must hold for every setting. */
function evaluateOnSweep(sweep: SweepResult, ast: ThresholdAst, expression: string): ThresholdOutcome {
  const wanted = ast.filters.setting;
  if (wanted !== undefined) {
    const block = sweep.settings.find((r) => r.setting?.name === wanted);
    if (!block) {
      const names = sweep.settings.map((r) => r.setting?.name ?? '?').join(', ');
      return { expression, ok: false, actual: null, limit: displayLimit(ast), error: `no setting "${wanted}" in the sweep (settings: ${names})` };
    }
    return evaluateThreshold(block, ast, expression);
  }
  const outcomes = sweep.settings.map((r) => evaluateThreshold(r, { ...ast, filters: { ...ast.filters, setting: r.setting?.name } }, expression));
  if (outcomes.length === 0) return { expression, ok: false, actual: null, limit: displayLimit(ast), error: 'the sweep has no settings' };
  return outcomes.find((o) => !o.ok) ?? outcomes[0];
}

/** What a threshold reads: counts and latency data of the whole result, one phase, one method, or both. */
interface Scope {
  byClass: Partial<Record<OutcomeClass, number>>;
  attempted: number;
  /** Final status counts; null where the result does not keep them (per method inside a phase). */
  byStatus: Record<string, number> | null;
  /** `${method}.${class}.corrected|uncorrected` -> encoded HDR, already narrowed to the method; null when absent. */
  histograms: Record<string, string> | null;
  /** Fallback when there are no histograms. */
  summary: LatencyPair | null;
}

function resolveScope(result: RunResult, filters: Filters): Scope | string {
  let phase: PhaseBlock | undefined;
  if (filters.phase !== undefined) {
    phase = result.phases?.find((p) => p.name === filters.phase);
    if (!phase) {
      const names = (result.phases ?? []).map((p) => p.name);
      return names.length ? `no phase "${filters.phase}" in the result (phases: ${names.join(', ')})` : `no phase "${filters.phase}": the result has no phases (not a scenario run)`;
    }
  }
  const method = filters.method;
  if (method !== undefined && !result.methods?.[method]) {
    return `no method "${method}" in the result (methods: ${Object.keys(result.methods ?? {}).join(', ')})`;
  }
  if (phase) {
    const histograms = phase.histograms ? narrow(phase.histograms, method) : null;
    if (method === undefined) {
      return { byClass: phase.operations.byClass, attempted: phase.operations.attempted, byStatus: phase.operations.byStatus, histograms, summary: phase.latencyMs };
    }
    const byClass: Partial<Record<OutcomeClass, number>> = {};
    let attempted = 0;
    for (const s of phase.series) {
      if (s.method !== method) continue;
      byClass[s.class] = (byClass[s.class] ?? 0) + s.count;
      attempted += s.count;
    }
    return { byClass, attempted, byStatus: null, histograms, summary: null };
  }
  if (method !== undefined) {
    const block = result.methods[method];
    return { ...countsOf(block.operations), histograms: result.histograms ? narrow(result.histograms, method) : null, summary: block.latencyMs };
  }
  return { ...countsOf(result.operations), histograms: result.histograms ?? null, summary: result.latencyMs };
}

function countsOf(ops: RunResult['operations']): Pick<Scope, 'byClass' | 'attempted' | 'byStatus'> {
  return { byClass: ops.byClass, attempted: ops.attempted, byStatus: ops.byStatus };
}

function narrow(histograms: Record<string, string>, method: string | undefined): Record<string, string> {
  if (method === undefined) return histograms;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(histograms)) if (key.startsWith(`${method}.`)) out[key] = value;
  return out;
}

/** `exact` is what the limit is compared with, in the limit's base unit (us for latency). */
function measure(scope: Scope, metric: Metric): { actual: number; exact: Rational } | string {
  if (metric.kind === 'latency') return measureLatency(scope, metric);
  const target = metric.target;
  let count: number;
  if ('cls' in target) count = scope.byClass[target.cls] ?? 0;
  else if (scope.byStatus === null) return `${metric.kind}(${target.status}) with both a phase and a method filter: final status codes are not kept per method inside a phase (use a class)`;
  else count = scope.byStatus[String(target.status)] ?? 0;
  if (metric.kind === 'count') return { actual: count, exact: { num: BigInt(count), den: 1n } };
  if (scope.attempted === 0) return 'no operations attempted';
  return { actual: count / scope.attempted, exact: { num: BigInt(count), den: BigInt(scope.attempted) } };
}

function measureLatency(scope: Scope, metric: Extract<Metric, { kind: 'latency' }>): { actual: number; exact: Rational } | string {
  const kind = metric.uncorrected ? 'uncorrected' : 'corrected';
  if (scope.histograms === null) return latencyFromSummary(scope.summary?.[kind] ?? null, metric);
  const h = newLatencyHistogram();
  for (const [key, encoded] of Object.entries(scope.histograms)) if (key.endsWith(`.${kind}`) && encoded !== '') h.add(decodeHistogram(encoded));
  const count = h.totalCount;
  if (count === 0) return `no ${kind} latency recorded in scope`;
  if (metric.stat === 'mean') {
    // meanUs sums integer bucket midpoints: total is an integer, recovered exactly while below 2^50 us.
    const mean = meanUs(h);
    return { actual: mean / 1000, exact: { num: BigInt(Math.round(mean * count)), den: BigInt(count) } };
  }
  const percentile = metric.stat === 'percentile' ? Number(metric.percentile) : metric.stat === 'max' ? 100 : 0;
  const us = Math.round(h.getValueAtPercentile(percentile));
  return { actual: us / 1000, exact: { num: BigInt(us), den: 1n } };
}

/** Results without histograms: the summary's figures (p50 p90 p99 p99.9 min max mean), exact to the microsecond. */
function latencyFromSummary(summary: LatencySummary | null, metric: Extract<Metric, { kind: 'latency' }>): { actual: number; exact: Rational } | string {
  if (!summary) return 'no latency histograms in scope';
  if (summary.count === 0) return 'no latency recorded in scope';
  const field: Record<string, keyof LatencySummary> = { '50': 'p50', '90': 'p90', '99': 'p99', '99.9': 'p999', '0': 'min', '100': 'max' };
  const percentile = metric.stat === 'percentile' ? metric.percentile : null;
  const key = percentile === null ? (metric.stat as keyof LatencySummary) : field[percentile];
  if (!key) return `p(${percentile}) needs histograms; this result only has p50, p90, p99, p99.9`;
  const ms = summary[key];
  return { actual: ms, exact: { num: BigInt(Math.round(ms * 1000)), den: 1n } };
}

const UNIT_US: Record<string, bigint> = { us: 1n, ms: 1000n, s: 1_000_000n };

function decimalRational(d: Decimal): Rational {
  const [int, frac = ''] = d.split('.');
  return { num: BigInt(int + frac), den: 10n ** BigInt(frac.length) };
}

/** The limit in the unit `exact` uses: us for latency, a fraction for rate, a count. */
function limitRational(ast: ThresholdAst): Rational {
  const r = decimalRational(ast.limit);
  if (ast.metric.kind === 'latency') return { num: r.num * UNIT_US[ast.unit ?? 'ms'], den: r.den };
  if (ast.unit === '%') return { num: r.num, den: r.den * 100n };
  return r;
}

/** The limit as reported: ms for latency, a fraction for rate, a count. */
function displayLimit(ast: ThresholdAst): number {
  const value = Number(ast.limit);
  const unit: Unit | null = ast.unit;
  if (ast.metric.kind === 'latency') return unit === 's' ? value * 1000 : unit === 'us' ? value / 1000 : value;
  return unit === '%' ? value / 100 : value;
}

function compare(a: Rational, b: Rational, op: CompareOp): boolean {
  const diff = a.num * b.den - b.num * a.den;
  switch (op) {
    case '<':
      return diff < 0n;
    case '<=':
      return diff <= 0n;
    case '>':
      return diff > 0n;
    case '>=':
      return diff >= 0n;
    case '==':
      return diff === 0n;
    case '!=':
      return diff !== 0n;
  }
}
