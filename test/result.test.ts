import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHistogram, summarize } from '../src/metrics/histogram.js';
import { MetricsRecorder } from '../src/metrics/recorder.js';
import { buildRunResult, mergeRunResults, snapshotFromResult, type RunMeta, type RunResult } from '../src/report/result.js';
import { OUTCOME_CLASSES } from '../src/shared/outcome.js';
import { metricEvent, replay, START } from './metrics-fixtures.js';

const meta = (over: Partial<RunMeta> = {}): RunMeta => ({
  tool: { name: 'sipstorm', version: '0.1.0' },
  target: 'udp:127.0.0.1:5070',
  startedAt: new Date('2025-01-02T03:04:05.678Z'),
  durationMs: 2000,
  config: { agents: 10, rate: 50, method: 'REGISTER', transport: 'udp', durationMs: 2000 },
  generator: { cpuUserMs: 120, cpuSystemMs: 30, maxRssBytes: 80 * 1024 * 1024 },
  ...over,
});

function sampleResult(): RunResult {
  const r = new MetricsRecorder({ startUs: START });
  for (let i = 0; i < 20; i++) {
    r.recordSent('REGISTER', START + i * 1000, false);
    r.recordResponse('REGISTER', 401);
    r.recordSent('REGISTER', START + i * 1000 + 10, false);
    r.recordResponse('REGISTER', 200);
    r.recordOutcome('REGISTER', 'ok', 200, 'OK', START + i * 1000, START + i * 1000, START + i * 1000 + 2_000 + i);
  }
  r.recordOutcome('REGISTER', 'forbidden', 403, 'Forbidden', START, START, START + 500);
  r.recordOutcome('REGISTER', 'dropped', 0, '', START + 1_500_000, -1, START + 1_500_000);
  r.recordOutcome('OPTIONS', 'timeout', 0, '', START, START, START + 32_000_000);
  r.recordSent('OPTIONS', START, false);
  r.recordSent('OPTIONS', START + 500_000, true);
  r.recordSendLag(250);
  return buildRunResult(r.snapshot(), meta({ extra: { transportStats: { rcvbufBytes: 4_194_304 } } }));
}

/** Every path named in the public contract (issue 3, "The JSON result"). */
const CONTRACT_PATHS = [
  'schemaVersion',
  'tool.name',
  'tool.version',
  'target',
  'startedAt',
  'durationMs',
  'config.agents',
  'config.rate',
  'config.method',
  'config.transport',
  'operations.attempted',
  'operations.completed',
  ...OUTCOME_CLASSES.map((c) => `operations.byClass.${c}`),
  'operations.byStatus',
  'operations.byReason',
  'transactions.sent',
  'transactions.retransmissions',
  'transactions.byStatus',
  ...['corrected', 'uncorrected'].flatMap((k) => ['count', 'min', 'mean', 'p50', 'p90', 'p99', 'p999', 'max'].map((f) => `latencyMs.${k}.${f}`)),
  'series',
  'series.0.method',
  'series.0.class',
  'series.0.count',
  ...['corrected', 'uncorrected'].flatMap((k) => ['count', 'min', 'mean', 'p50', 'p90', 'p99', 'p999', 'max'].map((f) => `series.0.latencyMs.${k}.${f}`)),
  'timeline',
  'timeline.0.t',
  'timeline.0.sent',
  'timeline.0.completed',
  ...OUTCOME_CLASSES.map((c) => `timeline.0.byClass.${c}`),
  'timeline.0.p50Ms',
  'timeline.0.p99Ms',
  'generator.cpuUserMs',
  'generator.cpuSystemMs',
  'generator.maxRssBytes',
  'generator.eventLoopLagP99Ms',
  'generator.sendLagP99Ms',
  'histograms',
];

function lookup(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in (cur as object))) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

describe('buildRunResult: the JSON contract', () => {
  it('has every contract field, with the contract types, after a JSON round trip', () => {
    const result = JSON.parse(JSON.stringify(sampleResult())) as RunResult;
    const missing = CONTRACT_PATHS.filter((p) => lookup(result, p) === undefined);
    expect(missing).toEqual([]);
    expect(result.schemaVersion).toBe(1);
    expect(result.startedAt).toBe('2025-01-02T03:04:05.678Z');
    expect(result.tool).toEqual({ name: 'sipstorm', version: '0.1.0' });
    for (const p of CONTRACT_PATHS) {
      const v = lookup(result, p);
      if (typeof v === 'number') expect(Number.isFinite(v), p).toBe(true);
    }
    expect(Array.isArray(result.series)).toBe(true);
    expect(Array.isArray(result.timeline)).toBe(true);
    // Histograms: base64 HDR keyed `${method}.${class}.corrected|uncorrected`.
    expect(result.histograms['REGISTER.ok.corrected']).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(result.histograms['REGISTER.ok.uncorrected']).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(decodeHistogram(result.histograms['REGISTER.ok.corrected']).totalCount).toBe(20);
  });

  it('counts operations, transactions and latency from the snapshot', () => {
    const r = sampleResult();
    expect(r.operations.attempted).toBe(23);
    expect(r.operations.completed).toBe(22);
    expect(r.operations.byClass).toMatchObject({ ok: 20, forbidden: 1, dropped: 1, timeout: 1, throttled: 0 });
    expect(Object.keys(r.operations.byClass)).toEqual([...OUTCOME_CLASSES]);
    expect(r.operations.byStatus).toEqual({ 200: 20, 403: 1 });
    expect(r.operations.byReason).toEqual({ '200 OK': 20, '403 Forbidden': 1 });
    expect(r.transactions).toEqual({ sent: 41, retransmissions: 1, byStatus: { 200: 20, 401: 20 } });
    expect(r.latencyMs.corrected.count).toBe(22); // dropped has no latency
    expect(r.latencyMs.uncorrected.count).toBe(22);
    expect(r.latencyMs.corrected.max).toBeCloseTo(32_000, -2);
    expect(r.latencyMs.corrected.min).toBe(0.5);
    expect(r.series.map((s) => `${s.method}.${s.class}:${s.count}`)).toEqual([
      'REGISTER.ok:20',
      'REGISTER.forbidden:1',
      'REGISTER.dropped:1',
      'OPTIONS.timeout:1',
    ]);
    expect(r.series[0].latencyMs.corrected.p50).toBeCloseTo(2.009, 2);
    expect(r.methods.REGISTER.operations.attempted).toBe(22);
    expect(r.methods.REGISTER.operations.achievedRate).toBe(10.5); // 21 completed in 2 s
    expect(r.methods.OPTIONS.transactions.retransmissions).toBe(1);
    expect(r.generator).toMatchObject({ cpuUserMs: 120, cpuSystemMs: 30, maxRssBytes: 80 * 1024 * 1024, sendLagP99Ms: 0.25, eventLoopLagP99Ms: 0 });
    expect(r.generator.cpuUsPerTransaction).toBeCloseTo((150 * 1000) / 41, 2);
    expect(r.extra).toEqual({ transportStats: { rcvbufBytes: 4_194_304 } });
    expect(r.interrupted).toBe(false);
  });

  it('builds a timeline from the per-second bins', () => {
    const r = sampleResult();
    expect(r.timeline.map((e) => e.t)).toEqual(Array.from({ length: 33 }, (_, i) => i));
    expect(r.timeline[0]).toMatchObject({ sent: 41, completed: 21, p50Ms: expect.any(Number) });
    expect(r.timeline[0].byClass.ok).toBe(20);
    expect(r.timeline[0].p50Ms).toBeGreaterThan(1.9);
    expect(r.timeline[0].p99Ms).toBeLessThan(2.1);
    expect(r.timeline[0].retransmissions).toBe(1); // the OPTIONS retransmission at +0.5 s
    expect(r.timeline[1].byClass.dropped).toBe(1);
    expect(r.timeline[1].completed).toBe(0);
    expect(r.timeline[1].p99Ms).toBe(0);
    expect(r.timeline[32].byClass.timeout).toBe(1);
    expect(r.timelineHistograms).toHaveLength(r.timeline.length);
  });

  it('takes an external event-loop lag figure and the interrupted flag', () => {
    const r = new MetricsRecorder({ startUs: 0 });
    r.recordEventLoopLag(9_000);
    const fromHistogram = buildRunResult(r.snapshot(), meta());
    expect(fromHistogram.generator.eventLoopLagP99Ms).toBeCloseTo(9, 1);
    const given = buildRunResult(r.snapshot(), meta({ interrupted: true, generator: { cpuUserMs: 1, cpuSystemMs: 1, maxRssBytes: 1, eventLoopLagP99Ms: 1.23456 } }));
    expect(given.generator.eventLoopLagP99Ms).toBe(1.235);
    expect(given.interrupted).toBe(true);
  });

  it('keeps attempted === sum(byClass) and completed === attempted - dropped, in total and per method', () => {
    fc.assert(
      fc.property(fc.array(metricEvent, { maxLength: 80 }), (events) => {
        const res = buildRunResult(replay(new MetricsRecorder({ startUs: START }), events).snapshot(), meta());
        const outcomes = events.filter((e) => e.kind === 'outcome');
        for (const ops of [res.operations, ...Object.values(res.methods).map((m) => m.operations)]) {
          const sum = OUTCOME_CLASSES.reduce((acc, c) => acc + ops.byClass[c], 0);
          expect(ops.attempted).toBe(sum);
          expect(ops.completed).toBe(ops.attempted - ops.byClass.dropped);
        }
        expect(res.operations.attempted).toBe(outcomes.length);
        expect(res.series.reduce((acc, s) => acc + s.count, 0)).toBe(outcomes.length);
        const timelineTotal = res.timeline.reduce((acc, e) => acc + OUTCOME_CLASSES.reduce((x, c) => x + e.byClass[c], 0), 0);
        expect(timelineTotal).toBe(outcomes.length);
        expect(res.latencyMs.corrected.count).toBe(res.operations.completed);
      }),
      { numRuns: 40 },
    );
  });
});

describe('mergeRunResults', () => {
  it('equals one result recorded in one place (exact percentiles via histograms)', () => {
    fc.assert(
      fc.property(fc.array(metricEvent, { maxLength: 100 }), fc.nat(), (events, cut) => {
        const k = cut % (events.length + 1);
        const part = (ev: typeof events, m: RunMeta) => buildRunResult(replay(new MetricsRecorder({ startUs: START }), ev).snapshot(), m);
        const a = part(events.slice(0, k), meta());
        const b = part(events.slice(k), meta({ startedAt: new Date('2025-01-02T03:04:05.000Z'), durationMs: 2500 }));
        const whole = part(events, meta({ startedAt: new Date('2025-01-02T03:04:05.000Z'), durationMs: 2500 }));
        const merged = mergeRunResults(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
        for (const key of ['operations', 'transactions', 'latencyMs', 'series', 'timeline', 'histograms', 'methods', 'malformed', 'timelineHistograms'] as const) {
          expect(merged[key], key).toEqual(whole[key]);
        }
        expect(merged.generator.sendLagP99Ms).toBe(whole.generator.sendLagP99Ms);
        expect(merged.startedAt).toBe('2025-01-02T03:04:05.000Z');
        expect(merged.durationMs).toBe(2500);
      }),
      { numRuns: 25 },
    );
  });

  it('adds generator CPU, shards agents and rate, keeps the worst RSS and lag', () => {
    const a = sampleResult();
    const b = buildRunResult(new MetricsRecorder({ startUs: 0 }).snapshot(), meta({ generator: { cpuUserMs: 5, cpuSystemMs: 5, maxRssBytes: 1, eventLoopLagP99Ms: 7 } }));
    const m = mergeRunResults(a, b);
    expect(m.generator).toMatchObject({ cpuUserMs: 125, cpuSystemMs: 35, maxRssBytes: 80 * 1024 * 1024, eventLoopLagP99Ms: 7 });
    expect(m.config).toMatchObject({ agents: 20, rate: 100, method: 'REGISTER', transport: 'udp', shards: 2 });
    expect(mergeRunResults(m, a).config.shards).toBe(3);
    expect(m.operations.attempted).toBe(a.operations.attempted);
    expect(summarize(decodeHistogram(m.histograms['REGISTER.ok.corrected']))).toEqual(a.series[0].latencyMs.corrected);
  });

  it('recovers the snapshot it was built from', () => {
    const r = new MetricsRecorder({ startUs: START });
    replay(r, [
      { kind: 'outcome', method: 'REGISTER', cls: 'ok', status: 200, reason: 'OK', intendedUs: START, sendDelayUs: 10, latencyUs: 900 },
      { kind: 'sent', method: 'OPTIONS', atUs: START + 3_000_000, retransmission: true },
      { kind: 'malformed', what: 'truncated' },
    ]);
    const snap = r.snapshot();
    expect(snapshotFromResult(buildRunResult(snap, meta()))).toEqual({ ...snap, startUs: 0 });
  });
});
