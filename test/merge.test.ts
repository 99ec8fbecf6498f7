// sipstorm merge: N results of one run -> one exact result. Real runs against the embedded trunk (in
// process and through the CLI), phases merged by name, and the refusal of results of different runs.
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeHistogram, type Histogram } from '../src/metrics/histogram.js';
import { MetricsRecorder } from '../src/metrics/recorder.js';
import { mergeFiles } from '../src/cli/merge-command.js';
import { mergePhaseBlocks, mergeResults } from '../src/report/merge.js';
import { buildRunResult, type RunMeta, type RunResult } from '../src/report/result.js';
import type { PhaseBlock } from '../src/report/scenario-result.js';
import { executeRun, type RunRequest } from '../src/run/execute.js';
import { OUTCOME_CLASSES } from '../src/shared/outcome.js';
import { runCli } from './helpers/cli.js';
import { metricEvent, replay, START, type MetricEvent } from './metrics-fixtures.js';
import { runRequest } from './helpers/run-request.js';

const dir = mkdtempSync(join(tmpdir(), 'sipstorm-merge-'));

const request = (over: Partial<RunRequest> = {}): RunRequest =>
  // Spread latencies over many HDR buckets.
  runRequest({ agents: 30, rate: 150, method: 'auto', expires: 60, trunk: { delay: { fixedMs: 2, jitterMs: 30 } }, ...over });

/** (highest equivalent value, count) of every non-empty bucket: an HDR histogram read independently of the library's percentile code. */
function buckets(h: Histogram): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < h.countsArrayLength; i++) {
    const n = h.getCountAtIndex(i);
    if (n === 0) continue;
    let bucket = (i >> h.subBucketHalfCountMagnitude) - 1;
    let sub = (i & (h.subBucketHalfCount - 1)) + h.subBucketHalfCount;
    if (bucket < 0) {
      sub -= h.subBucketHalfCount;
      bucket = 0;
    }
    const width = 2 ** (bucket + h.unitMagnitude);
    out.push([sub * width + width - 1, n]);
  }
  return out;
}

/** The value at a percentile of the union of several histograms' buckets (HDR's rank rule). */
function unionPercentile(parts: readonly Histogram[], p: number): number {
  const all = parts.flatMap(buckets).sort((a, b) => a[0] - b[0]);
  const total = all.reduce((n, [, c]) => n + c, 0);
  const rank = Math.max(1, Math.floor((p / 100) * total + 0.5));
  let seen = 0;
  for (const [v, c] of all) if ((seen += c) >= rank) return v;
  return all[all.length - 1][0];
}

const withinHdr = (actualMs: number, expectedUs: number) => expect(Math.abs(actualMs * 1000 - expectedUs)).toBeLessThanOrEqual(expectedUs / 1000 + 1);

describe('sipstorm merge', () => {
  it('two real runs against the embedded trunk: counts add exactly, percentiles are the union within HDR precision', async () => {
    const [a, b] = await Promise.all([executeRun(request()), executeRun(request({ rate: 100, agents: 20 }))]);
    const files = [join(dir, 'a.json'), join(dir, 'b.json')];
    writeFileSync(files[0], JSON.stringify(a.result));
    writeFileSync(files[1], JSON.stringify(b.result));
    const m = mergeFiles(files);
    const ra = a.result;
    const rb = b.result;
    expect(ra.operations.attempted).toBe(150);
    expect(rb.operations.attempted).toBe(100);

    expect(m.operations.attempted).toBe(250);
    for (const cls of OUTCOME_CLASSES) expect(m.operations.byClass[cls]).toBe(ra.operations.byClass[cls] + rb.operations.byClass[cls]);
    for (const s of new Set([...Object.keys(ra.transactions.byStatus), ...Object.keys(rb.transactions.byStatus)])) {
      expect(m.transactions.byStatus[s]).toBe((ra.transactions.byStatus[s] ?? 0) + (rb.transactions.byStatus[s] ?? 0));
    }
    expect(m.transactions.sent).toBe(ra.transactions.sent + rb.transactions.sent);
    for (const [method, block] of Object.entries(m.methods)) {
      expect(block.operations.byStatus).toEqual(
        Object.fromEntries(
          [...new Set([...Object.keys(ra.methods[method]?.operations.byStatus ?? {}), ...Object.keys(rb.methods[method]?.operations.byStatus ?? {})])].map((s) => [
            s,
            (ra.methods[method]?.operations.byStatus[s] ?? 0) + (rb.methods[method]?.operations.byStatus[s] ?? 0),
          ]),
        ),
      );
    }
    const seconds = Math.max(ra.timeline.length, rb.timeline.length);
    expect(m.timeline).toHaveLength(seconds);
    for (let t = 0; t < seconds; t++) expect(m.timeline[t].completed).toBe((ra.timeline[t]?.completed ?? 0) + (rb.timeline[t]?.completed ?? 0));
    expect(m.config).toMatchObject({ agents: 50, rate: 250, shards: 2 });

    // Percentiles: those of the union of both runs' histograms, computed independently of the library.
    const hist = (r: RunResult, kind: string) => Object.entries(r.histograms).filter(([k]) => k.endsWith(`.${kind}`)).map(([, v]) => decodeHistogram(v));
    for (const kind of ['corrected', 'uncorrected'] as const) {
      const parts = [...hist(ra, kind), ...hist(rb, kind)];
      const summary = m.latencyMs[kind];
      expect(summary.count).toBe(ra.latencyMs[kind].count + rb.latencyMs[kind].count);
      withinHdr(summary.p50, unionPercentile(parts, 50));
      withinHdr(summary.p99, unionPercentile(parts, 99));
      withinHdr(summary.max, unionPercentile(parts, 100));
      // A mixture's quantile lies between its parts' quantiles.
      expect(summary.p99).toBeGreaterThanOrEqual(Math.min(ra.latencyMs[kind].p99, rb.latencyMs[kind].p99));
      expect(summary.p99).toBeLessThanOrEqual(Math.max(ra.latencyMs[kind].p99, rb.latencyMs[kind].p99));
    }
  });

  it('phases merge by name, exactly as if one generator had recorded everything (property)', () => {
    const meta: RunMeta = {
      tool: { name: 'sipstorm', version: 't' },
      target: 'udp:127.0.0.1:5060',
      startedAt: new Date(0),
      durationMs: 4000,
      config: { agents: 1, rate: 1, method: 'auto', transport: 'udp' },
      generator: { cpuUserMs: 0, cpuSystemMs: 0, maxRssBytes: 0 },
    };
    const phase = (name: string, events: readonly MetricEvent[]): PhaseBlock => {
      const r = buildRunResult(replay(new MetricsRecorder({ startUs: START }), events).snapshot(), { ...meta, durationMs: 2000 });
      return { name, type: 'steady', startMs: 0, endMs: 2000, plannedArrivals: r.operations.attempted, operations: r.operations, latencyMs: r.latencyMs, series: r.series, histograms: r.histograms };
    };
    const result = (perPhase: readonly MetricEvent[][]): RunResult => ({
      ...buildRunResult(replay(new MetricsRecorder({ startUs: START }), perPhase.flat()).snapshot(), meta),
      scenario: { name: 'friday', file: 'friday.yaml' },
      phases: perPhase.map((events, i) => phase(['before', 'publish'][i], events)),
    });
    fc.assert(
      fc.property(fc.array(fc.array(metricEvent, { maxLength: 40 }), { minLength: 2, maxLength: 2 }), fc.nat(), fc.nat(), (phases, c1, c2) => {
        // The same events cut into three generators' shares.
        const shards = [0, 1, 2].map((s) => phases.map((events) => events.filter((_, i) => (i * 7 + c1 + (s === 0 ? 0 : c2)) % 3 === s)));
        const merged = mergeResults(shards.map((p, i) => ({ name: `g${i}.json`, result: JSON.parse(JSON.stringify(result(p))) as RunResult })));
        const whole = result(shards[0].map((_, i) => shards.flatMap((s) => s[i])));
        for (let i = 0; i < 2; i++) {
          const m = merged.phases![i];
          const w = whole.phases![i];
          expect(m.name).toBe(w.name);
          expect(m.operations.attempted).toBe(w.operations.attempted);
          expect(m.operations.byClass).toEqual(w.operations.byClass);
          expect(m.operations.byStatus).toEqual(w.operations.byStatus);
          expect(m.operations.byReason).toEqual(w.operations.byReason);
          expect(m.latencyMs).toEqual(w.latencyMs);
          const byKey = (s: PhaseBlock['series']) => Object.fromEntries(s.map((e) => [`${e.method}.${e.class}`, e]));
          expect(byKey(m.series)).toEqual(byKey(w.series));
          expect(m.plannedArrivals).toBe(w.plannedArrivals);
        }
        expect(merged.scenario).toEqual({ name: 'friday', file: 'friday.yaml' });
        expect(merged.operations).toEqual({ ...whole.operations });
      }),
      { numRuns: 15 },
    );
    // A phase without histograms cannot be merged exactly: said, not guessed.
    const p = phase('before', []);
    const { histograms: _h, ...bare } = p;
    const r = { ...result([[], []]) };
    const old = { ...r, phases: [bare as PhaseBlock, r.phases![1]] };
    expect(() => mergeResults([{ name: 'a.json', result: r }, { name: 'old.json', result: old }])).toThrow(/old.json: phase "before" carries no histograms/);
    expect(mergePhaseBlocks([p, p]).operations.attempted).toBe(0);
  });

  it('the CLI merges N files, refuses results of different runs (exit 2) and judges thresholds (exit 3)', async () => {
    const c = await executeRun(request({ agents: 10, rate: 50, durationMs: 500, method: 'OPTIONS' }));
    const opts = join(dir, 'options.json');
    writeFileSync(opts, JSON.stringify(c.result));
    const [a, b] = [join(dir, 'a.json'), join(dir, 'b.json')];
    const out = join(dir, 'all.json');
    const three = await runCli(['merge', a, b, a, '--json', out, '--threshold', 'count(timeout)>=0', '--threshold', 'p99<1us']);
    expect(three.code, three.stderr).toBe(3);
    expect(three.stderr).toMatch(/thresholds: 1 of 2 failed\n {2}FAIL p99<1us: actual [\d.]+ ms, limit 0.001 ms/);
    expect(three.stdout).toMatch(/REGISTER/);
    const merged = JSON.parse(readFileSync(out, 'utf8')) as RunResult;
    const ra = JSON.parse(readFileSync(a, 'utf8')) as RunResult;
    const rb = JSON.parse(readFileSync(b, 'utf8')) as RunResult;
    expect(merged.operations.attempted).toBe(2 * ra.operations.attempted + rb.operations.attempted);
    expect(merged.config.shards).toBe(3);
    expect(merged.thresholds).toEqual([
      { expression: 'count(timeout)>=0', ok: true, actual: merged.operations.byClass.timeout, limit: 0 },
      { expression: 'p99<1us', ok: false, actual: merged.latencyMs.corrected.p99, limit: 0.001 },
    ]);

    const mismatch = await runCli(['merge', a, opts]);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain(`${opts}: config.method is "OPTIONS" but ${a} has "auto": only results of the same run`);
    const missing = await runCli(['merge', a, join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope.json: ENOENT/);
    writeFileSync(join(dir, 'bad.json'), '{"schemaVersion": 1,');
    const bad = await runCli(['merge', a, join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad.json: not valid JSON/);
    const one = await runCli(['merge', a]);
    expect(one.code).toBe(2);
    const syntax = await runCli(['merge', a, b, '--threshold', 'p99<<2']);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toContain('threshold "p99<<2": column 5: expected a number');
  });
});
