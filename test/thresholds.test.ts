// Thresholds: the grammar (parse, print, column errors) and exact evaluation against real results.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricsRecorder } from '../src/metrics/recorder.js';
import { buildRunResult, type RunMeta, type RunResult } from '../src/report/result.js';
import type { PhaseBlock, SweepResult } from '../src/report/scenario-result.js';
import { parseThreshold, printThreshold, ThresholdSyntaxError, type Metric, type ThresholdAst } from '../src/report/threshold-parser.js';
import { checkThresholds, evaluateThresholds } from '../src/report/thresholds.js';
import { OUTCOME_CLASSES } from '../src/shared/outcome.js';
import { metricEvent, replay, START } from './metrics-fixtures.js';

const meta: RunMeta = {
  tool: { name: 'sipstorm', version: 'test' },
  target: 'udp:127.0.0.1:5060',
  startedAt: new Date(0),
  durationMs: 10_000,
  config: { agents: 10, rate: 10, method: 'REGISTER', transport: 'udp' },
  generator: { cpuUserMs: 0, cpuSystemMs: 0, maxRssBytes: 0 },
};

/** 100 REGISTER ok at 1..100 ms corrected (uncorrected 1 ms less), 1 forbidden, 2 OPTIONS timeouts. */
function knownRecorder(): MetricsRecorder {
  const r = new MetricsRecorder({ startUs: START });
  for (let i = 1; i <= 100; i++) r.recordOutcome('REGISTER', 'ok', 200, 'OK', START, START + 1000, START + i * 1000);
  r.recordOutcome('REGISTER', 'forbidden', 403, 'Forbidden', START, START, START + 500_000);
  r.recordOutcome('OPTIONS', 'timeout', 0, '', START, START, START + 32_000_000);
  r.recordOutcome('OPTIONS', 'timeout', 0, '', START, START, START + 32_000_000);
  return r;
}

const known = (): RunResult => buildRunResult(knownRecorder().snapshot(), meta);

function phaseBlock(name: string, r: MetricsRecorder): PhaseBlock {
  const b = buildRunResult(r.snapshot(), meta);
  return { name, type: 'steady', startMs: 0, endMs: 1000, plannedArrivals: b.operations.attempted, operations: b.operations, latencyMs: b.latencyMs, series: b.series, histograms: b.histograms };
}

const one = (result: RunResult | SweepResult, expr: string) => evaluateThresholds(result, [expr])[0];

describe('threshold grammar', () => {
  it('parses every documented form to the same canonical text', () => {
    const cases: Record<string, string> = {
      'p(99)<200ms': 'p(99)<200ms',
      'p99<200ms': 'p(99)<200ms',
      ' p50 <= 0.5 s ': 'p(50)<=0.5s',
      'p(99.9)<1500us': 'p(99.9)<1500us',
      'p99.9<2': 'p(99.9)<2',
      'max<32s': 'max<32s',
      'mean<10ms': 'mean<10ms',
      'uncorrected.p99<100ms': 'uncorrected.p(99)<100ms',
      'corrected.max<=1s': 'max<=1s',
      'rate(forbidden)<0.01': 'rate(forbidden)<0.01',
      'rate(throttled)==0': 'rate(throttled)==0',
      'rate(forbidden)<1%': 'rate(forbidden)<1%',
      'rate(403)<=0.050': 'rate(403)<=0.05',
      'count(403)==0': 'count(403)==0',
      'count(timeout)!=0': 'count(timeout)!=0',
      'p99{phase=publish}<500ms': 'p(99){phase=publish}<500ms',
      'rate(forbidden){method=register}<0.01': 'rate(forbidden){method=REGISTER}<0.01',
      'rate(throttled){setting=10/s}==0': 'rate(throttled){setting=10/s}==0',
      'p(90){ method = OPTIONS , phase="after publish"}>=007.50ms': 'p(90){phase="after publish",method=OPTIONS}>=7.5ms',
    };
    for (const [input, canonical] of Object.entries(cases)) expect(printThreshold(parseThreshold(input)), input).toBe(canonical);
  });

  it('names the column of the first error', () => {
    const error = (text: string): string => {
      try {
        parseThreshold(text);
      } catch (err) {
        expect(err).toBeInstanceOf(ThresholdSyntaxError);
        return (err as Error).message;
      }
      throw new Error(`"${text}" parsed`);
    };
    expect(error('p99<<2')).toBe('threshold "p99<<2": column 5: expected a number, found "<2"');
    expect(error('p99 200ms')).toMatch(/column 5: expected a comparison/);
    expect(error('p999<1s')).toMatch(/column 2: percentile 999 is above 100 \(write p\(99\.9\)\)/);
    expect(error('rate(forbiden)<0.1')).toMatch(/column 6: expected an outcome class .* got "forbiden"/);
    expect(error('count(99)==0')).toMatch(/column 7: expected a status code 100..699/);
    expect(error('p99<200min')).toMatch(/column 8: expected a unit \(ms, s, us\), got "min"/);
    expect(error('rate(ok)>0.9ms')).toMatch(/column 13: rate\(...\) takes no unit \(but %\)/);
    expect(error('p99<2%')).toMatch(/column 6: "%" only goes with rate/);
    expect(error('p99{zone=a}<1')).toMatch(/column 5: expected a filter key/);
    expect(error('p99{phase=a,phase=b}<1')).toMatch(/column 13: filter "phase" given twice/);
    expect(error('p99{phase=a<1')).toMatch(/column 12: expected "," or "}"/);
    expect(error('p99<1ms and more')).toMatch(/column 9: unexpected "and mo" after the limit/);
    expect(error('uncorrected.rate(ok)<1')).toMatch(/column 1: unknown metric/);
    expect(error('')).toMatch(/column 1: expected a metric .* found the end/);
    expect(() => checkThresholds(['p99<1s', 'p99<'])).toThrow(/threshold "p99<": column 5: expected a number/);
  });

  const decimal = fc
    .tuple(fc.nat({ max: 100_000 }), fc.nat({ max: 999 }))
    .map(([i, f]) => (f === 0 ? String(i) : `${i}.${String(f).padStart(3, '0').replace(/0+$/, '')}`));
  const filterValue = fc.string({ minLength: 1, maxLength: 8, unit: fc.constantFrom('a', 'Z', '1', '/', '-', ' ', '"', '\\', ',', '}', '{', '=', 'é', '.') });
  const metric: fc.Arbitrary<Metric> = fc.oneof(
    fc.record({ kind: fc.constant('latency' as const), stat: fc.constant('percentile' as const), percentile: decimal.filter((d) => Number(d) <= 100), uncorrected: fc.boolean() }),
    fc.record({ kind: fc.constant('latency' as const), stat: fc.constantFrom('max' as const, 'min' as const, 'mean' as const), uncorrected: fc.boolean() }),
    fc.record({
      kind: fc.constantFrom('rate' as const, 'count' as const),
      target: fc.oneof(fc.record({ cls: fc.constantFrom(...OUTCOME_CLASSES) }), fc.record({ status: fc.integer({ min: 100, max: 699 }) })),
    }),
  );
  const ast: fc.Arbitrary<ThresholdAst> = fc
    .record({
      metric,
      filters: fc.record({ phase: filterValue, method: fc.constantFrom('REGISTER', 'OPTIONS', 'A/B'), setting: filterValue }, { requiredKeys: [] }),
      op: fc.constantFrom('<' as const, '<=' as const, '>' as const, '>=' as const, '==' as const, '!=' as const),
      limit: decimal,
      unitPick: fc.nat({ max: 3 }),
    })
    .map(({ unitPick, ...rest }) => ({
      ...rest,
      unit: rest.metric.kind === 'latency' ? ([null, 'ms', 's', 'us'] as const)[unitPick] : rest.metric.kind === 'rate' && unitPick % 2 === 1 ? ('%' as const) : null,
    }));

  it('parse(print(ast)) is the ast (property)', () => {
    fc.assert(
      fc.property(ast, (a) => {
        expect(parseThreshold(printThreshold(a))).toEqual(a);
      }),
      { numRuns: 2000 },
    );
  });

  it('any text either parses or fails with a ThresholdSyntaxError inside the text (property)', () => {
    const piece = fc.constantFrom('p', '(', ')', '99', '.', '9', '<', '=', '>', '!', '{', '}', 'phase', '=', 'x', ',', 'ms', '%', 'rate', 'count', 'ok', ' ', '"', 'uncorrected.');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        try {
          parseThreshold(text);
        } catch (err) {
          expect(err).toBeInstanceOf(ThresholdSyntaxError);
          const e = err as ThresholdSyntaxError;
          expect(e.column).toBeGreaterThanOrEqual(1);
          expect(e.column).toBeLessThanOrEqual(text.length + 1);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('threshold evaluation', () => {
  it('latency figures equal the result JSON and compare exactly at the boundary', () => {
    const r = known();
    const p99 = r.latencyMs.corrected.p99;
    expect(one(r, 'p99<40s')).toEqual({ expression: 'p99<40s', ok: true, actual: p99, limit: 40_000 });
    // HDR precision: 100 ms sits in a bucket whose highest value is 100.031 ms (3 significant digits).
    expect(one(r, 'p(97)<=100ms')).toMatchObject({ ok: false, actual: 100.031 });
    expect(one(r, 'p(97)<=100.031ms')).toMatchObject({ ok: true, actual: r.series[0].latencyMs.corrected.max });
    expect(one(r, `p99<=${p99}ms`).ok).toBe(true);
    expect(one(r, `p99<${p99}ms`).ok).toBe(false);
    expect(one(r, `p99<${p99 * 1000}us`).ok).toBe(false);
    expect(one(r, `p99<=${p99 / 1000}s`).ok).toBe(true);
    expect(one(r, 'max>=32s')).toMatchObject({ ok: true, actual: r.latencyMs.corrected.max });
    expect(one(r, 'min<=1ms')).toMatchObject({ ok: true, actual: r.latencyMs.corrected.min });
    expect(one(r, 'p(99.9)>0').actual).toBe(r.latencyMs.corrected.p999);
    expect(one(r, 'uncorrected.p50>0').actual).toBe(r.latencyMs.uncorrected.p50);
    expect(one(r, 'mean>0').actual).toBeCloseTo(r.latencyMs.corrected.mean, 3);
  });

  it('rates and counts are exact ratios of integers, not floats', () => {
    const r = known(); // 103 attempted, 1 forbidden (403), 2 timeouts
    expect(one(r, 'count(403)==1')).toMatchObject({ ok: true, actual: 1, limit: 1 });
    expect(one(r, 'count(403)==0')).toMatchObject({ ok: false, actual: 1 });
    expect(one(r, 'count(timeout)==2').ok).toBe(true);
    expect(one(r, 'count(429)==0')).toMatchObject({ ok: true, actual: 0 });
    expect(one(r, 'rate(forbidden)<0.01').ok).toBe(true); // 1/103
    expect(one(r, 'rate(forbidden)<0.0097').ok).toBe(false); // 1/103 = 0.00970873...
    expect(one(r, 'rate(forbidden)<0.0097088').ok).toBe(true);
    expect(one(r, 'rate(forbidden)>0.0097087').ok).toBe(true);
    expect(one(r, 'rate(403)<1%')).toMatchObject({ ok: true, limit: 0.01, actual: 1 / 103 });
    // 3 of 9: a float compare says 1/3 == 0.3333333333333333; the exact one knows better.
    const third = new MetricsRecorder({ startUs: START });
    for (let i = 0; i < 9; i++) third.recordOutcome('REGISTER', i < 3 ? 'forbidden' : 'ok', i < 3 ? 403 : 200, '', START, START, START + 10);
    const t = buildRunResult(third.snapshot(), meta);
    expect(1 / 3 === 0.3333333333333333).toBe(true);
    expect(one(t, 'rate(forbidden)>0.3333333333333333').ok).toBe(true);
    expect(one(t, 'rate(forbidden)==0.3333333333333333').ok).toBe(false);
    expect(one(t, 'rate(forbidden)<=33.33333333333334%').ok).toBe(true);
  });

  it('method, phase and setting filters read their own blocks', () => {
    const r = known();
    expect(one(r, 'count(timeout){method=OPTIONS}==2').ok).toBe(true);
    expect(one(r, 'rate(timeout){method=options}==1').ok).toBe(true);
    expect(one(r, 'rate(forbidden){method=REGISTER}<0.01')).toMatchObject({ ok: true, actual: 1 / 101 });
    expect(one(r, 'p99{method=OPTIONS}>31s').actual).toBe(r.methods.OPTIONS.latencyMs.corrected.p99);
    expect(one(r, 'p99{method=INVITE}<1s')).toMatchObject({ ok: false, actual: null, error: expect.stringMatching(/no method "INVITE"/) });

    const before = new MetricsRecorder({ startUs: START });
    for (let i = 0; i < 10; i++) before.recordOutcome('REGISTER', 'ok', 200, 'OK', START, START, START + 2000);
    const publish = new MetricsRecorder({ startUs: START });
    for (let i = 0; i < 10; i++) publish.recordOutcome('REGISTER', i < 4 ? 'forbidden' : 'ok', i < 4 ? 403 : 200, '', START, START, START + 400_000);
    publish.recordOutcome('OPTIONS', 'forbidden', 403, '', START, START, START + 1000);
    const withPhases: RunResult = { ...r, phases: [phaseBlock('before', before), phaseBlock('publish', publish)] };
    expect(one(withPhases, 'count(403){phase=before}==0').ok).toBe(true);
    expect(one(withPhases, 'count(403){phase=publish}==5').ok).toBe(true);
    expect(one(withPhases, 'rate(forbidden){phase=publish,method=REGISTER}==0.4').ok).toBe(true);
    expect(one(withPhases, 'p99{phase=before}<3ms').ok).toBe(true);
    expect(one(withPhases, 'p99{phase=publish, method=OPTIONS}<=1ms').ok).toBe(true);
    expect(one(withPhases, 'count(403){phase=publish,method=REGISTER}==4').error).toMatch(/not kept per method inside a phase/);
    expect(one(withPhases, 'p99{phase=after}<1s').error).toMatch(/no phase "after" in the result \(phases: before, publish\)/);
    expect(one(r, 'p99{phase=after}<1s').error).toMatch(/the result has no phases/);
    // A phase block without histograms (an older result) falls back to its summary.
    const { histograms: _dropped, ...bare } = withPhases.phases![1];
    const old = { ...withPhases, phases: [bare as PhaseBlock] };
    expect(one(old, 'p99{phase=publish}<=400ms').actual).toBe(withPhases.phases![1].latencyMs.corrected.p99);
    expect(one(old, 'p(75){phase=publish}<=400ms').error).toMatch(/needs histograms/);

    const slow = { ...buildRunResult(publish.snapshot(), meta), setting: { name: '10/s', perAgentRate: 10 } };
    const fast = { ...buildRunResult(before.snapshot(), meta), setting: { name: '20/s', perAgentRate: 20 } };
    expect(one(slow, 'rate(forbidden){setting=10/s}<0.5').ok).toBe(true);
    expect(one(slow, 'rate(forbidden){setting=20/s}<0.5').error).toMatch(/this result's setting is "10\/s"/);
    expect(one(r, 'rate(forbidden){setting=20/s}<0.5').error).toMatch(/needs a sweep result/);
    const sweep: SweepResult = {
      schemaVersion: 1,
      kind: 'sweep',
      scenario: { name: 's', file: 's.yaml' },
      startedAt: '',
      rows: [],
      settings: [slow, fast],
      recommendation: { perAgentRate: null, maxRejectRate: 0, reason: '' },
    };
    expect(one(sweep, 'rate(forbidden){setting=20/s}==0').ok).toBe(true);
    expect(one(sweep, 'rate(forbidden){setting=30/s}==0').error).toMatch(/no setting "30\/s" in the sweep \(settings: 10\/s, 20\/s\)/);
    // Without a setting filter every setting must pass: the failing one is reported.
    expect(one(sweep, 'rate(forbidden)==0')).toMatchObject({ ok: false, actual: 5 / 11 });
    expect(one(sweep, 'count(timeout)==0').ok).toBe(true);
  });

  it('nothing to measure fails with a reason (a pipeline must not pass an empty run)', () => {
    const empty = buildRunResult(new MetricsRecorder({ startUs: START }).snapshot(), meta);
    expect(one(empty, 'p99<1s')).toMatchObject({ ok: false, actual: null, error: expect.stringMatching(/no corrected latency/) });
    expect(one(empty, 'rate(forbidden)<0.01')).toMatchObject({ ok: false, actual: null, error: 'no operations attempted' });
    expect(one(empty, 'count(403)==0')).toMatchObject({ ok: true, actual: 0 });
  });

  it('a result read back from JSON evaluates the same', () => {
    const r = known();
    const exprs = ['p99<50ms', 'p(99.9)<=1s', 'mean<1s', 'rate(forbidden)<0.01', 'count(403)==1', 'uncorrected.max<40s'];
    expect(evaluateThresholds(JSON.parse(JSON.stringify(r)) as RunResult, exprs)).toEqual(evaluateThresholds(r, exprs));
  });

  const limitPair = fc.tuple(fc.nat({ max: 50_000_000 }), fc.nat({ max: 50_000_000 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
  const stat = fc.constantFrom('p(50)', 'p(90)', 'p(99)', 'p(99.9)', 'max', 'min', 'mean', 'uncorrected.p(99)');

  it('evaluation is monotonic in the limit (property)', () => {
    fc.assert(
      fc.property(fc.array(metricEvent, { minLength: 1, maxLength: 150 }), stat, limitPair, (events, s, [lo, hi]) => {
        const r = buildRunResult(replay(new MetricsRecorder({ startUs: START }), events).snapshot(), meta);
        const at = (op: string, limitUs: number) => one(r, `${s}${op}${limitUs}us`);
        if (at('<', lo).actual === null) return;
        // A limit that passes `<`/`<=` still passes when raised; one that passes `>`/`>=` still passes when lowered.
        if (at('<', lo).ok) expect(at('<', hi).ok).toBe(true);
        if (at('<=', lo).ok) expect(at('<=', hi).ok).toBe(true);
        if (at('>', hi).ok) expect(at('>', lo).ok).toBe(true);
        if (at('>=', hi).ok) expect(at('>=', lo).ok).toBe(true);
        // And exactly one side of any limit holds.
        expect(at('<', lo).ok).toBe(!at('>=', lo).ok);
        expect(at('==', lo).ok).toBe(at('<=', lo).ok && at('>=', lo).ok);
      }),
      { numRuns: 200 },
    );
  });

  it('rate thresholds are monotonic in the limit too (property)', () => {
    fc.assert(
      fc.property(fc.array(metricEvent, { minLength: 1, maxLength: 150 }), fc.constantFrom(...OUTCOME_CLASSES), fc.tuple(fc.nat({ max: 10_000 }), fc.nat({ max: 10_000 })), (events, cls, [a, b]) => {
        const r = buildRunResult(replay(new MetricsRecorder({ startUs: START }), events).snapshot(), meta);
        if (r.operations.attempted === 0) return;
        const [lo, hi] = [Math.min(a, b) / 10_000, Math.max(a, b) / 10_000];
        const at = (op: string, limit: number) => one(r, `rate(${cls})${op}${limit}`).ok;
        if (at('<', lo)) expect(at('<', hi)).toBe(true);
        if (at('>=', hi)) expect(at('>=', lo)).toBe(true);
        const exact = r.operations.byClass[cls] / r.operations.attempted;
        expect(one(r, `rate(${cls})>=0`).actual).toBe(exact);
      }),
      { numRuns: 200 },
    );
  });
});
