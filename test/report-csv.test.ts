// The CSV timeline: stable documented columns, one row per second, column sums equal the result's totals.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, renderCsv } from '../src/report/csv.js';
import { buildReportModel } from '../src/report/model.js';
import type { RunResult } from '../src/report/result.js';
import type { SweepResult } from '../src/report/scenario-result.js';
import { OUTCOME_CLASSES } from '../src/shared/outcome.js';
import { metricEvent } from './metrics-fixtures.js';
import { publishResult, resultFromEvents } from './report-fixtures.js';

/** Written out, not derived: renaming or reordering a column must fail here (README documents them). */
const HEADER =
  't,sent,retransmissions,completed,ok,forbidden,throttled,overload,auth_failed,client_error,server_error,global_error,timeout,transport_error,malformed,dropped,p50_ms,p99_ms';

function parse(csv: string): { header: string; rows: Record<string, string>[] } {
  expect(csv.endsWith('\n')).toBe(true);
  const [header, ...lines] = csv.slice(0, -1).split('\n');
  const cols = header.split(',');
  return { header, rows: lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v]))) };
}

const sum = (rows: Record<string, string>[], col: string) => rows.reduce((n, r) => n + Number(r[col]), 0);

describe('CSV timeline', () => {
  it('has the documented columns, every class always present', () => {
    expect(CSV_COLUMNS.join(',')).toBe(HEADER);
    const { header } = parse(renderCsv(buildReportModel(resultFromEvents([]))));
    expect(header).toBe(HEADER);
    for (const c of OUTCOME_CLASSES) expect(HEADER.split(',')).toContain(c);
  });

  it('one row per second, each column summing to the result totals, for any recorded run', () => {
    fc.assert(
      fc.property(fc.array(metricEvent, { maxLength: 200 }), (events) => {
        const r = resultFromEvents(events);
        const { rows } = parse(renderCsv(buildReportModel(r)));
        const seconds = r.timeline.length === 0 ? 0 : r.timeline[r.timeline.length - 1].t + 1;
        expect(rows.map((row) => Number(row.t))).toEqual(Array.from({ length: seconds }, (_, i) => i));
        for (const c of OUTCOME_CLASSES) expect(sum(rows, c)).toBe(r.operations.byClass[c]);
        expect(sum(rows, 'sent')).toBe(r.transactions.sent);
        expect(sum(rows, 'retransmissions')).toBe(r.transactions.retransmissions);
        expect(sum(rows, 'completed')).toBe(r.operations.completed);
        for (const row of rows) {
          // p50/p99 are present exactly when something completed that second, and p50 <= p99.
          expect(row.p50_ms === '').toBe(Number(row.completed) === 0);
          if (row.p50_ms !== '') expect(Number(row.p50_ms)).toBeLessThanOrEqual(Number(row.p99_ms));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('fills seconds the result skipped with zeros and empty latency', () => {
    const r = publishResult();
    const sparse: RunResult = { ...r, timeline: [r.timeline[0], { ...r.timeline[3], t: 3 }], timelineHistograms: [] };
    const { rows } = parse(renderCsv(buildReportModel(sparse)));
    expect(rows.map((row) => [row.t, row.ok, row.p99_ms])).toEqual([
      ['0', String(r.timeline[0].byClass.ok), String(r.timeline[0].p99Ms)],
      ['1', '0', ''],
      ['2', '0', ''],
      ['3', String(r.timeline[3].byClass.ok), String(r.timeline[3].p99Ms)],
    ]);
  });

  it('a sweep adds a leading setting column (quoted when needed) and every setting its rows', () => {
    const r = publishResult();
    const names = ['5/s', '10/s, "backoff"'];
    const sweep: SweepResult = {
      schemaVersion: 1,
      kind: 'sweep',
      scenario: { name: 's', file: 's.yaml' },
      startedAt: r.startedAt,
      rows: names.map((name, i) => ({ setting: { name, perAgentRate: 5 * (i + 1) }, attempted: 1, forbiddenPct: 0, throttledPct: 0, overloadPct: 0, timeoutPct: 0, p50Ms: 0, p99Ms: 0, timeToAllRegisteredMs: null, droppedPct: 0, okRate: 0 })),
      settings: names.map((name, i) => ({ ...r, setting: { name, perAgentRate: 5 * (i + 1) } })),
      recommendation: { perAgentRate: null, maxRejectRate: 0.01, reason: '' },
    };
    const lines = renderCsv(buildReportModel(sweep)).trimEnd().split('\n');
    expect(lines[0]).toBe(`setting,${HEADER}`);
    expect(lines).toHaveLength(1 + 2 * r.timeline.length);
    expect(lines[1].startsWith('5/s,0,')).toBe(true);
    expect(lines[1 + r.timeline.length].startsWith('"10/s, ""backoff""",0,')).toBe(true);
  });
});
