// `sipstorm merge`: N results of one load driven side by side from several generators -> one result.
// Pure. Counters add and percentiles come from added HDR histograms (exact up to HDR precision), the
// whole run through mergeRunResults, each scenario phase here by name through its own histograms.
//
// Rules (README "sipstorm merge"):
// - the results must describe the same run: schemaVersion 1, same method, transport, scenario, phase
//   names and sweep setting; anything else is refused with the file and field named;
// - timelines align on seconds since each result's own start (generators start together);
// - phase spans: earliest start, latest end; marks from the first result; hook records of all, by time;
// - attempts add; time-to-all-registered and recovery: the slowest generator's (null if any is null);
// - throttle: counts add, maxQueue and delayP99Ms the largest (a bound, not a merged percentile);
// - extra.saturation: the busiest generator's CPU share and outstanding peak, receive-buffer drops added;
// - thresholds are not carried over (they judged one shard): pass --threshold to merge to judge the whole.
import { OUTCOME_CLASSES, type OutcomeClass } from '../shared/outcome.js';
import { addEncoded, decodeHistogram, newLatencyHistogram, summarize } from '../metrics/histogram.js';
import { addCounts, emptyClassCounts } from '../metrics/snapshot.js';
import { mergeRunResults, type LatencyPair, type OperationsBlock, type RunResult, type SeriesEntry } from './result.js';
import type { AttemptsBlock, PhaseBlock, ThrottleBlock } from './scenario-result.js';
import { saturationOf } from './saturation.js';

export interface NamedResult {
  /** Shown in errors (the file name). */
  name: string;
  result: RunResult;
}

export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

export function mergeResults(inputs: readonly NamedResult[]): RunResult {
  if (inputs.length === 0) throw new MergeError('merge needs at least one result');
  inputs.forEach(checkShape);
  const [first, ...rest] = inputs;
  for (const other of rest) checkSameRun(first, other);
  const results = inputs.map((i) => i.result);
  const merged = results.slice(1).reduce((acc, r) => mergeRunResults(acc, r), results[0]);
  const out: RunResult = { ...merged };
  if (results.length === 1) {
    const { thresholds: _judged, ...only } = results[0];
    return only;
  }
  const f = first.result;
  if (f.scenario) out.scenario = f.scenario;
  if (f.setting) out.setting = f.setting;
  if (f.marks) out.marks = f.marks;
  if (f.phases) out.phases = mergePhases(inputs);
  const hooks = results.flatMap((r) => r.hooks ?? []);
  if (results.some((r) => r.hooks)) out.hooks = hooks.sort((a, b) => a.atMs - b.atMs);
  if (results.every((r) => r.attempts)) out.attempts = mergeAttempts(results.map((r) => r.attempts!));
  if (results.some((r) => r.throttle)) out.throttle = mergeThrottle(results.flatMap((r) => (r.throttle ? [r.throttle] : [])));
  const saturation = results.map(saturationOf);
  if (saturation.every((s) => s !== null)) {
    const s = saturation as NonNullable<(typeof saturation)[number]>[];
    out.extra = {
      ...out.extra,
      saturation: {
        rcvbufErrorsBefore: null,
        rcvbufErrorsAfter: null,
        rcvbufErrors: s.reduce((a, x) => a + x.rcvbufErrors, 0),
        cpuShare: Math.max(...s.map((x) => x.cpuShare)),
        cpuMs: s.reduce((a, x) => a + x.cpuMs, 0),
        wallMs: Math.max(...s.map((x) => x.wallMs)),
        outstandingPeak: Math.max(...s.map((x) => x.outstandingPeak)),
      },
    };
  }
  delete out.thresholds;
  return out;
}

function checkShape({ name, result }: NamedResult): void {
  const r = result as unknown as Record<string, unknown>;
  if (r === null || typeof r !== 'object') throw new MergeError(`${name}: not a sipstorm result (expected a JSON object)`);
  if (r.kind === 'sweep') throw new MergeError(`${name}: a sweep result; merge the per-setting results instead`);
  if (r.schemaVersion !== 1) throw new MergeError(`${name}: schemaVersion ${String(r.schemaVersion)} is not supported (expected 1)`);
  for (const field of ['operations', 'transactions', 'methods', 'histograms', 'series', 'timeline', 'config', 'generator']) {
    if (typeof r[field] !== 'object' || r[field] === null) throw new MergeError(`${name}: not a sipstorm result: "${field}" is missing`);
  }
}

function checkSameRun(a: NamedResult, b: NamedResult): void {
  const fields: [string, (r: RunResult) => unknown][] = [
    ['config.method', (r) => r.config.method],
    ['config.transport', (r) => r.config.transport],
    ['scenario.name', (r) => r.scenario?.name],
    ['phases (names)', (r) => r.phases?.map((p) => p.name).join(', ')],
    ['setting.name', (r) => r.setting?.name],
  ];
  for (const [field, get] of fields) {
    const x = get(a.result);
    const y = get(b.result);
    if (x !== y) {
      throw new MergeError(`${b.name}: ${field} is ${show(y)} but ${a.name} has ${show(x)}: only results of the same run (driven from several generators) can be merged`);
    }
  }
}

const show = (v: unknown): string => (v === undefined ? 'absent' : JSON.stringify(v));

function mergePhases(inputs: readonly NamedResult[]): PhaseBlock[] {
  const names = inputs[0].result.phases!.map((p) => p.name);
  return names.map((name, i) => {
    const blocks = inputs.map(({ name: file, result }) => {
      const block = result.phases![i];
      if (!block.histograms) throw new MergeError(`${file}: phase "${name}" carries no histograms, so its percentiles cannot be merged exactly`);
      return block;
    });
    return mergePhaseBlocks(blocks);
  });
}

/** Blocks of one phase from several results: counts add, latency from the added histograms. */
export function mergePhaseBlocks(blocks: readonly PhaseBlock[]): PhaseBlock {
  const histograms: Record<string, string> = {};
  for (const key of new Set(blocks.flatMap((b) => Object.keys(b.histograms)))) histograms[key] = addEncoded(blocks.map((b) => b.histograms[key] ?? ''));
  const counts = new Map<string, SeriesEntry>();
  for (const s of blocks.flatMap((b) => b.series)) {
    const key = `${s.method}.${s.class}`;
    const seen = counts.get(key);
    counts.set(key, { method: s.method, class: s.class, count: (seen?.count ?? 0) + s.count, latencyMs: s.latencyMs });
  }
  const series = [...counts.entries()].map(([key, s]) => ({ ...s, latencyMs: latencyOf(histograms, (k) => k.startsWith(`${key}.`)) }));
  return {
    name: blocks[0].name,
    type: blocks[0].type,
    startMs: Math.min(...blocks.map((b) => b.startMs)),
    endMs: Math.max(...blocks.map((b) => b.endMs)),
    plannedArrivals: blocks.reduce((a, b) => a + b.plannedArrivals, 0),
    operations: addOperations(blocks.map((b) => b.operations)),
    latencyMs: latencyOf(histograms, () => true),
    series,
    histograms,
  };
}

function latencyOf(histograms: Record<string, string>, pick: (key: string) => boolean): LatencyPair {
  const corrected = newLatencyHistogram();
  const uncorrected = newLatencyHistogram();
  for (const [key, encoded] of Object.entries(histograms)) {
    if (!pick(key) || encoded === '') continue;
    if (key.endsWith('.corrected')) corrected.add(decodeHistogram(encoded));
    else if (key.endsWith('.uncorrected')) uncorrected.add(decodeHistogram(encoded));
  }
  return { corrected: summarize(corrected), uncorrected: summarize(uncorrected) };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function addOperations(blocks: readonly OperationsBlock[]): OperationsBlock {
  const out: OperationsBlock = { attempted: 0, completed: 0, byClass: emptyClassCounts(), byStatus: {}, byReason: {}, achievedRate: 0, okRate: 0 };
  for (const b of blocks) {
    out.attempted += b.attempted;
    out.completed += b.completed;
    addCounts(out.byClass, b.byClass);
    addCounts(out.byStatus, b.byStatus);
    addCounts(out.byReason, b.byReason);
    // Every shard's rate is over the same phase length: the rates add.
    out.achievedRate += b.achievedRate;
    out.okRate += b.okRate;
  }
  out.achievedRate = round3(out.achievedRate);
  out.okRate = round3(out.okRate);
  return out;
}

function addClasses(parts: readonly Record<OutcomeClass, number>[]): Record<OutcomeClass, number> {
  const out = emptyClassCounts();
  for (const p of parts) for (const cls of OUTCOME_CLASSES) out[cls] += p[cls] ?? 0;
  return out;
}

function slowest(values: readonly (number | null)[]): number | null {
  return values.some((v) => v === null) ? null : Math.max(...(values as number[]));
}

function mergeAttempts(parts: readonly AttemptsBlock[]): AttemptsBlock {
  const side = (pick: (a: AttemptsBlock) => AttemptsBlock['firstAttempt']) => ({
    attempted: parts.reduce((n, a) => n + pick(a).attempted, 0),
    ok: parts.reduce((n, a) => n + pick(a).ok, 0),
    byClass: addClasses(parts.map((a) => pick(a).byClass)),
  });
  return {
    firstAttempt: side((a) => a.firstAttempt),
    eventual: side((a) => a.eventual),
    retries: parts.reduce((n, a) => n + a.retries, 0),
    timeToAllRegisteredMs: slowest(parts.map((a) => a.timeToAllRegisteredMs)),
    recoveryMs: slowest(parts.map((a) => a.recoveryMs)),
  };
}

function mergeThrottle(parts: readonly ThrottleBlock[]): ThrottleBlock {
  return {
    ...parts[0],
    delayed: parts.reduce((n, t) => n + t.delayed, 0),
    delayP99Ms: Math.max(...parts.map((t) => t.delayP99Ms)),
    dropped: parts.reduce((n, t) => n + t.dropped, 0),
    maxQueue: Math.max(...parts.map((t) => t.maxQueue)),
  };
}
