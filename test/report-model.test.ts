// The report model: pure figures from a result, checked against results built the way runs build them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHistogram } from '../src/metrics/histogram.js';
import { renderHtml } from '../src/report/html.js';
import { classifyResult, parseResultText } from '../src/report/load.js';
import { buildReportModel, flatten } from '../src/report/model.js';
import { ninesAxis } from '../src/report/model-latency.js';
import type { RunResult } from '../src/report/result.js';
import type { SweepResult } from '../src/report/scenario-result.js';
import { OUTCOME_CLASSES } from '../src/shared/outcome.js';
import { metricEvent, type MetricEvent } from './metrics-fixtures.js';
import { publishResult, resultFromEvents } from './report-fixtures.js';

const runModelOf = (r: RunResult) => buildReportModel(r).runs[0];

describe('report model: totals, methods, phases', () => {
  it('lists exact status codes with their reason phrases, most frequent first, then outcomes without a response', () => {
    const totals = runModelOf(publishResult()).totals;
    expect(totals.statuses.map((s) => [s.code, s.reason, s.count])).toEqual([
      ['200', 'OK', 50],
      ['403', 'Forbidden', 12],
      ['429', 'Too Many Requests', 5],
      ['', 'timeout', 1],
    ]);
    expect(totals.attempted).toBe(68);
    expect(totals.statuses.reduce((n, s) => n + s.count, 0)).toBe(totals.attempted);
    expect(totals.statuses[1].pct).toBeCloseTo((100 * 12) / 68, 3);
    expect(totals.classes.map((c) => c.name)).toEqual([...OUTCOME_CLASSES]);
    expect(totals.transactions.responses).toEqual([
      { code: '200', count: 50 },
      { code: '403', count: 12 },
      { code: '429', count: 5 },
    ]);
  });

  it('has one row per method with activity, 403/429/503 as exact codes', () => {
    const methods = runModelOf(publishResult()).methods;
    expect(methods.map((m) => [m.name, m.attempted, m.ok, m.s403, m.s429, m.timeout, m.other])).toEqual([
      ['REGISTER', 58, 40, 12, 5, 1, 0],
      ['OPTIONS', 10, 10, 0, 0, 0, 0],
    ]);
    const inactive = { ...publishResult() };
    inactive.methods = { ...inactive.methods, OPTIONS: { ...inactive.methods.OPTIONS, operations: { ...inactive.methods.OPTIONS.operations, attempted: 0 }, transactions: { sent: 0, retransmissions: 0, byStatus: {} } } };
    expect(runModelOf(inactive).methods.map((m) => m.name)).toEqual(['REGISTER']);
  });

  it('has one row per phase with its span and shares', () => {
    const phases = runModelOf(publishResult()).phases;
    expect(phases.map((p) => [p.name, p.type, p.startMs, p.endMs, p.attempted, p.s403, p.s429])).toEqual([
      ['login', 'burst', 0, 2000, 50, 0, 0],
      ['publish', 'burst', 2000, 4000, 17, 12, 5],
    ]);
    expect(phases[1].pct403).toBeCloseTo((100 * 12) / 17, 3);
  });
});

describe('report model: marks, hooks, thresholds, generator, config', () => {
  it('classifies T0 as the publish, "phase:" marks as phase starts, hooks by their start', () => {
    const marks = runModelOf(publishResult()).marks;
    expect(marks).toEqual([
      { name: 'login', kind: 'phase', tMs: 0 },
      { name: 'publish', kind: 'phase', tMs: 2000 },
      { name: 'T0', kind: 'publish', tMs: 2000 },
      { name: 'publish', kind: 'hook', tMs: 2003 },
    ]);
  });

  it('adds phase starts the plan did not mark, and names like "publish" count as the publish without phases', () => {
    const r = { ...publishResult(), marks: [{ name: 'publish moment', tMs: 1500 }], hooks: [] };
    expect(runModelOf(r).marks).toEqual([
      { name: 'login', kind: 'phase', tMs: 0 },
      { name: 'publish moment', kind: 'publish', tMs: 1500 },
      { name: 'publish', kind: 'phase', tMs: 2000 },
    ]);
  });

  it('tells "never recovered" from "nothing failed after T0" (both are recoveryMs null)', () => {
    const attempts = (recoveryMs: number | null) => ({
      firstAttempt: { attempted: 1, ok: 1, byClass: publishResult().operations.byClass },
      eventual: { attempted: 1, ok: 1, byClass: publishResult().operations.byClass },
      retries: 0,
      timeToAllRegisteredMs: 1000,
      recoveryMs,
    });
    expect(runModelOf(publishResult()).recovery).toBeUndefined(); // no attempts block
    expect(runModelOf({ ...publishResult(), attempts: attempts(1500) }).recovery).toEqual({ t0Ms: 2000, state: 'recovered', ms: 1500 });
    expect(runModelOf({ ...publishResult(), attempts: attempts(null) }).recovery).toEqual({ t0Ms: 2000, state: 'never', ms: null });
    const lateT0 = { ...publishResult(), attempts: attempts(null), marks: [{ name: 'T0', tMs: 5000 }] };
    expect(runModelOf(lateT0).recovery).toEqual({ t0Ms: 5000, state: 'no-failure', ms: null });
    expect(runModelOf({ ...publishResult(), attempts: attempts(null), marks: [] }).recovery).toBeUndefined(); // no T0
  });

  it('renders thresholds as recorded: actual and limit as text, errors kept, malformed entries shown as failed', () => {
    const r = publishResult();
    expect(runModelOf(r).thresholds).toEqual([
      { expression: 'rate(forbidden){phase=login}==0', ok: true, actual: '0', limit: '0' },
      { expression: 'p99<1ms', ok: false, actual: '2.123457', limit: '1' },
      { expression: 'p99{phase=nope}<1s', ok: false, actual: '', limit: '1000', error: 'no phase "nope"' },
    ]);
    (r as unknown as { thresholds: unknown }).thresholds = ['garbage'];
    expect(runModelOf(r).thresholds).toEqual([{ expression: 'garbage', ok: false, actual: '', limit: '', error: 'malformed threshold record' }]);
  });

  it('reports generator saturation figures, receive-buffer drops and warnings from extra', () => {
    const g = runModelOf(publishResult()).generator;
    expect(g.cpuPctOfCore).toBe(30); // 1200 ms of CPU in 4 s
    expect(g.maxRssMb).toBe(80);
    expect(g.rcvbufErrors).toBe(7);
    expect(g.warnings).toEqual(['send lag p99 12 ms: the generator may be the bottleneck']);
  });

  it('takes saturation figures from extra.saturation and warns where the generator was the limit', () => {
    const r = publishResult();
    r.extra = { saturation: { rcvbufErrorsBefore: 10, rcvbufErrorsAfter: 15, rcvbufErrors: 5, cpuShare: 0.95, cpuMs: 3800, wallMs: 4000, outstandingPeak: 42 } };
    r.generator = { ...r.generator, sendLagP99Ms: 12.5 };
    const g = runModelOf(r).generator;
    expect(g.cpuPctOfCore).toBe(95);
    expect(g.rcvbufErrors).toBe(5);
    expect(g.outstandingPeak).toBe(42);
    expect(g.warnings).toHaveLength(3);
    expect(g.warnings[0]).toMatch(/^generator saturated: send lag p99 was 12.5 ms/);
    expect(g.warnings[1]).toMatch(/95 % of one CPU core/);
    expect(g.warnings[2]).toMatch(/dropped 5 datagrams/);
    // Unknown drops (no /proc) are not shown as zero.
    r.extra = { saturation: { rcvbufErrorsBefore: null, rcvbufErrorsAfter: null, rcvbufErrors: 0, cpuShare: 0.1, cpuMs: 400, wallMs: 4000, outstandingPeak: 0 } };
    expect(runModelOf(r).generator.rcvbufErrors).toBeUndefined();
  });

  it('flattens config with dotted keys and redacts secret-looking keys', () => {
    const config = Object.fromEntries(runModelOf(publishResult()).config);
    expect(config).toMatchObject({ agents: '10', method: 'auto', password: '[redacted]', 'trunk.authorization': '[redacted]', 'trunk.minExpires': '1' });
    expect(JSON.stringify(buildReportModel(publishResult()))).not.toContain('hunter2');
    expect(flatten({ a: { b: [1, 2] }, s: 'x'.repeat(400) })).toEqual([
      ['a.b', '[1,2]'],
      ['s', `${'x'.repeat(300)}…`],
    ]);
  });

  it('is plain JSON (the HTML page embeds it as-is)', () => {
    const model = buildReportModel(publishResult());
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
  });
});

describe('report model: timeline and latency distribution', () => {
  it('makes the timeline dense: skipped seconds are zeros with no latency', () => {
    const r = publishResult();
    const sparse = { ...r, timeline: [r.timeline[0], { ...r.timeline[3], t: 3 }], timelineHistograms: [r.timelineHistograms[0], r.timelineHistograms[3]] };
    const tl = runModelOf(sparse).timeline;
    expect(tl.t).toEqual([0, 1, 2, 3]);
    expect(tl.byClass.ok).toEqual([r.timeline[0].byClass.ok, 0, 0, r.timeline[3].byClass.ok]);
    expect(tl.p99Ms[1]).toBeNull();
    expect(tl.maxMs[0]).toBeGreaterThanOrEqual(tl.p99Ms[0]!);
    expect(tl.classesPresent).toEqual(['ok', 'throttled', 'timeout']); // the timeout ended at 3.9 s
  });

  it('timeline per class sums to the totals, for any recorded run', () => {
    fc.assert(
      fc.property(fc.array(metricEvent, { maxLength: 200 }), (events) => {
        const r = resultFromEvents(events);
        const tl = runModelOf(r).timeline;
        for (const c of OUTCOME_CLASSES) expect(tl.byClass[c].reduce((a, b) => a + b, 0)).toBe(r.operations.byClass[c]);
        expect(tl.sent.reduce((a, b) => a + b, 0)).toBe(r.transactions.sent);
        expect(tl.t).toEqual(tl.t.map((_, i) => i));
      }),
      { numRuns: 100 },
    );
  });

  it('percentile curves rise with the percentile, corrected never below uncorrected, ending at the max', () => {
    const sentEvents = fc.array(metricEvent, { maxLength: 300 }).map((evs) => evs.map((e): MetricEvent => (e.kind === 'outcome' ? { ...e, sendDelayUs: Math.max(0, e.sendDelayUs), cls: e.cls === 'dropped' ? 'ok' : e.cls } : e)));
    fc.assert(
      fc.property(sentEvents, (events) => {
        const r = resultFromEvents(events);
        const d = runModelOf(r).distribution;
        expect(d.count).toBe(r.latencyMs.corrected.count);
        expect(d.nines).toEqual(ninesAxis(d.count));
        for (let i = 1; i < d.nines.length; i++) {
          expect(d.nines[i]).toBeGreaterThan(d.nines[i - 1]);
          expect(d.correctedMs[i]).toBeGreaterThanOrEqual(d.correctedMs[i - 1]);
          expect(d.uncorrectedMs[i]).toBeGreaterThanOrEqual(d.uncorrectedMs[i - 1]);
        }
        d.correctedMs.forEach((c, i) => expect(c).toBeGreaterThanOrEqual(d.uncorrectedMs[i]));
        if (d.count > 0) expect(d.correctedMs.at(-1)).toBe(r.latencyMs.corrected.max);
      }),
      { numRuns: 60 },
    );
  });

  it('survives a corrupt histogram: the curve leaves it out', () => {
    const r = publishResult();
    const good = decodeHistogram(r.histograms['REGISTER.ok.corrected']).totalCount;
    const broken = { ...r, histograms: { ...r.histograms, 'REGISTER.ok.corrected': 'not-base64!' } };
    expect(runModelOf(broken).distribution.count).toBe(r.latencyMs.corrected.count - good);
  });
});

function sweepOf(r: RunResult): SweepResult {
  const row = (name: string, perAgentRate: number, retry?: string) => ({
    setting: { name, perAgentRate, retry },
    attempted: 100,
    forbiddenPct: perAgentRate,
    throttledPct: perAgentRate / 2,
    overloadPct: 0,
    timeoutPct: 0,
    p50Ms: 1,
    p99Ms: 5,
    timeToAllRegisteredMs: perAgentRate > 10 ? null : 3000,
    droppedPct: 0,
    okRate: 50,
  });
  return {
    schemaVersion: 1,
    kind: 'sweep',
    scenario: { name: 'throttle-sweep', file: 'scenarios/throttle-sweep.yaml' },
    startedAt: r.startedAt,
    rows: [row('5/s', 5), row('10/s', 10), row('10/s + backoff', 10, 'backoff')],
    settings: [r, { ...r, setting: { name: '10/s', perAgentRate: 10 } }, { ...r, setting: { name: '10/s + backoff', perAgentRate: 10, retry: 'backoff' } }],
    recommendation: { perAgentRate: 10, retry: 'backoff', maxRejectRate: 0.01, reason: 'highest rate under 1 %' },
  };
}

describe('report model: sweeps', () => {
  it('has one row per setting, the recommended one marked (rate and retry), and one run section per setting', () => {
    const model = buildReportModel(sweepOf(publishResult()));
    expect(model.kind).toBe('sweep');
    expect(model.sweep!.rows.map((r) => [r.name, r.forbiddenPct, r.throttledPct, r.recommended])).toEqual([
      ['5/s', 5, 2.5, false],
      ['10/s', 10, 5, false],
      ['10/s + backoff', 10, 5, true],
    ]);
    expect(model.sweep!.recommendation).toMatchObject({ perAgentRate: 10, retry: 'backoff' });
    expect(model.runs.map((r) => [r.id, r.name])).toEqual([
      ['setting-0', '5/s'],
      ['setting-1', '10/s'],
      ['setting-2', '10/s + backoff'],
    ]);
  });
});

describe('loading a result file', () => {
  it('recognises runs and sweeps', () => {
    const r = JSON.parse(JSON.stringify(publishResult())) as unknown;
    expect(classifyResult(r).kind).toBe('run');
    expect(classifyResult(JSON.parse(JSON.stringify(sweepOf(publishResult())))).kind).toBe('sweep');
  });

  it('names the file and the field that does not fit', () => {
    expect(() => parseResultText('{"schemaVersion": 1', 'r.json')).toThrow(/^r\.json: not valid JSON/);
    expect(() => parseResultText('[]', 'r.json')).toThrow('r.json: not a sipstorm result: expected a JSON object');
    const r = JSON.parse(JSON.stringify(publishResult())) as Record<string, unknown>;
    delete (r.operations as Record<string, unknown>).byReason;
    expect(() => parseResultText(JSON.stringify(r), 'x.json')).toThrow('x.json: not a sipstorm result: operations.byReason should be an object');
    const s = JSON.parse(JSON.stringify(sweepOf(publishResult()))) as { settings: { timeline: unknown[] }[] };
    s.settings[1].timeline = [{ t: 'zero' }];
    expect(() => parseResultText(JSON.stringify(s), 's.json')).toThrow('s.json: not a sipstorm result: settings[1].timeline[0] should be an object with t and byClass');
  });
});

describe('HTML (as text; the browser test draws it)', () => {
  it('renders step-ramp knees, escapes every value and embeds the model where no "</script" can end it early', () => {
    const r = publishResult();
    r.knees = [{ phase: 'ramp', maxFailurePct: 1, kneeRate: 200, failedAtRate: 400, plateaus: [{ rate: 200, attempted: 1000, ok: 1000, failurePct: 0 }, { rate: 400, attempted: 2000, ok: 1900, failurePct: 5 }] }];
    r.config = { ...r.config, note: '</script><b>x</b>' };
    const model = buildReportModel(r);
    expect(model.runs[0].knees).toEqual(r.knees);
    const html = renderHtml(model);
    expect(html).toContain('<h3>Step ramp ramp: knee 200/s</h3>');
    expect(html).toMatch(/<tr class="failed"><td class="num">400\/s<\/td>/);
    expect(html).toContain('&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;');
    expect(html).not.toContain('<b>x</b>');
    const json = /<script type="application\/json" id="sipstorm-model">(.*?)<\/script>/s.exec(html)![1];
    expect(json).not.toMatch(/<\//);
    expect(JSON.parse(json)).toEqual(model);
    expect(html).toContain('publish &lt;b&gt;storm&lt;/b&gt;'); // the scenario description
  });
});
