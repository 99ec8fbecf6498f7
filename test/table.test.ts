import { describe, expect, it } from 'vitest';
import { MetricsRecorder } from '../src/metrics/recorder.js';
import { buildRunResult, type RunResult } from '../src/report/result.js';
import { alignColumns, formatMs, renderSummary, topStatuses } from '../src/report/table.js';

function result(opts: { options?: boolean; interrupted?: boolean } = {}): RunResult {
  const r = new MetricsRecorder({ startUs: 0 });
  for (let i = 0; i < 1200; i++) {
    r.recordSent('REGISTER', i * 1000, false);
    r.recordOutcome('REGISTER', 'ok', 200, 'OK', i * 1000, i * 1000 + 100, i * 1000 + 2_000 + (i % 100) * 10);
  }
  for (let i = 0; i < 30; i++) r.recordOutcome('REGISTER', 'forbidden', 403, 'Forbidden', 0, 0, 4_000);
  for (let i = 0; i < 12; i++) r.recordOutcome('REGISTER', 'throttled', 429, 'Too Many Requests', 0, 0, 3_000);
  for (let i = 0; i < 5; i++) r.recordOutcome('REGISTER', 'overload', 503, 'Service Unavailable', 0, 0, 3_000);
  for (let i = 0; i < 4; i++) r.recordOutcome('REGISTER', 'timeout', 0, '', 0, 0, 32_000_000);
  for (let i = 0; i < 3; i++) r.recordOutcome('REGISTER', 'dropped', 0, '', 0, -1, 0);
  for (let i = 0; i < 2; i++) r.recordOutcome('REGISTER', 'auth_failed', 401, 'Unauthorized', 0, 0, 5_000);
  for (let i = 0; i < 9; i++) r.recordSent('REGISTER', 500_000, true);
  if (opts.options) for (let i = 0; i < 40; i++) r.recordOutcome('OPTIONS', 'ok', 200, 'OK', 0, 0, 300);
  r.recordSendLag(1_500);
  return buildRunResult(r.snapshot(), {
    tool: { name: 'sipstorm', version: '9.9.9' },
    target: 'tcp:127.0.0.1:5070',
    startedAt: new Date(0),
    durationMs: 4_000,
    config: { agents: 500, rate: 300, method: 'REGISTER', transport: 'tcp' },
    generator: { cpuUserMs: 1500, cpuSystemMs: 500, maxRssBytes: 100 * 1024 * 1024, eventLoopLagP99Ms: 2.5 },
    interrupted: opts.interrupted,
  });
}

/** The cells of the first line starting with `name` after the line starting with `header`. */
function row(text: string, header: string, name: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(header));
  const line = lines.slice(start).find((l) => l.startsWith(name + ' '));
  if (!line) throw new Error(`no ${name} row under ${header}:\n${text}`);
  return line.split(/\s+/);
}

describe('renderSummary', () => {
  it('renders the per-method counts from the result', () => {
    const res = result();
    const text = renderSummary(res);
    expect(row(text, 'operations', 'operations')).toEqual(['operations', 'attempted', 'ok', '403', '429', '503', 'timeout', 'dropped', 'other', 'rate/s', 'retrans']);
    // attempted 1256 = 1200 ok + 30 + 12 + 5 + 4 timeouts + 3 dropped + 2 auth_failed (other).
    expect(row(text, 'operations', 'REGISTER')).toEqual(['REGISTER', '1,256', '1,200', '30', '12', '5', '4', '3', '2', res.methods.REGISTER.operations.achievedRate.toFixed(1), '9']);
    expect(res.methods.REGISTER.operations.achievedRate).toBe(313.25);
    // One active method: no total row, and the idle OPTIONS method is left out.
    expect(text).not.toMatch(/^total /m);
    expect(text).not.toMatch(/^OPTIONS /m);
  });

  it('renders corrected and uncorrected latency percentiles from the result', () => {
    const res = result();
    const cells = row(renderSummary(res), 'latency ms', 'REGISTER');
    const c = res.methods.REGISTER.latencyMs.corrected;
    const u = res.methods.REGISTER.latencyMs.uncorrected;
    expect(cells).toEqual(['REGISTER', ...[c.p50, c.p90, c.p99, c.max].map(formatMs), '|', ...[u.p50, u.p90, u.p99, u.max].map(formatMs)]);
    expect(cells[1]).toBe('2.52'); // rank 628 of 1256: the 628th ok value, 2000 + 52 * 10 us
    expect(cells[4]).toBe('32,014'); // the timeouts
    expect(Number(cells[6])).toBeLessThan(Number(cells[1])); // uncorrected excludes the 100 us send delay
  });

  it('adds a total row when more than one method ran', () => {
    const res = result({ options: true });
    const text = renderSummary(res);
    expect(row(text, 'operations', 'OPTIONS').slice(0, 3)).toEqual(['OPTIONS', '40', '40']);
    expect(row(text, 'operations', 'total').slice(0, 3)).toEqual(['total', '1,296', '1,240']);
    expect(row(text, 'latency ms', 'total')[4]).toBe(formatMs(res.latencyMs.corrected.max));
  });

  it('lists the top statuses with reason phrases and the generator line', () => {
    const text = renderSummary(result({ interrupted: true }));
    expect(text).toContain('status: 200 OK 1,200 · 403 Forbidden 30 · 429 Too Many Requests 12 · 503 Service Unavailable 5 · 401 Unauthorized 2');
    expect(text).toMatch(/generator: CPU 1,500 ms user \+ 500 ms system \(1666\.7 us\/transaction\), max RSS 100\.0 MB, event-loop lag p99 2\.50 ms, send lag p99 1\.50 ms/);
    expect(text.split('\n')[0]).toBe('sipstorm 9.9.9  -> tcp:127.0.0.1:5070  REGISTER  500 agents  target rate 300/s for 4.0 s  (INTERRUPTED: partial result)');
  });

  it('aligns columns: every row of a table ends at the same column', () => {
    const text = renderSummary(result({ options: true }));
    const lines = text.split('\n');
    const start = lines.findIndex((l) => l.startsWith('operations'));
    const table = lines.slice(start, start + 4);
    expect(new Set(table.map((l) => l.length)).size).toBe(1);
    const lat = lines.findIndex((l) => l.startsWith('latency ms'));
    expect(new Set(lines.slice(lat, lat + 4).map((l) => l.length)).size).toBe(1);
  });
});

describe('table helpers', () => {
  it('topStatuses orders by count and summarizes the rest', () => {
    expect(topStatuses({})).toBe('none');
    expect(topStatuses({ '200 OK': 5, '403 Forbidden': 9, '500 Oops': 1, '404 Not Found': 1 }, 2)).toBe('403 Forbidden 9 · 200 OK 5 · (2 more: 2)');
  });

  it('formatMs keeps sub-millisecond precision and groups thousands', () => {
    expect([0, 0.0456, 3.14159, 250.55, 32_014].map(formatMs)).toEqual(['0.000', '0.046', '3.14', '250.6', '32,014']);
  });

  it('alignColumns pads the first column left and the rest right', () => {
    expect(alignColumns([['a', '1'], ['bbb', '222']])).toEqual(['a      1', 'bbb  222']);
  });
});
