// Live progress: one line rewritten in place on a TTY, plain periodic lines otherwise, nothing with
// --quiet; fed by a real run's progress events.
import { describe, expect, it } from 'vitest';
import { formatProgressLine, progressPrinter, type LiveProgressSample } from '../src/cli/progress.js';
import { executeRun } from '../src/run/execute.js';
import type { ProgressSample } from '../src/run/engine.js';
import { OUTCOME_CLASSES, type OutcomeClass } from '../src/shared/outcome.js';
import { runCli } from './helpers/cli.js';
import { runRequest } from './helpers/run-request.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (s: string) => (writes.push(s), true) };
}

const classes = (over: Partial<Record<OutcomeClass, number>> = {}) => ({ ...Object.fromEntries(OUTCOME_CLASSES.map((c) => [c, 0])), ...over }) as Record<OutcomeClass, number>;
const sample = (elapsedMs: number, dispatched: number, over: Partial<LiveProgressSample> = {}): LiveProgressSample => ({
  elapsedMs,
  dispatched,
  outstanding: 7,
  done: classes({ ok: dispatched - 10, forbidden: 4, throttled: 3, overload: 2, timeout: 1 }),
  ...over,
});

describe('progress line', () => {
  it('shows elapsed, rates over the interval, status counts, p99 of the last second and outstanding', () => {
    const line = formatProgressLine(sample(2000, 400, { byStatus: { '403': 6, '429': 0, '503': 2 }, lastSecondP99Ms: 12.345 }), sample(1000, 200));
    expect(line).toBe('   2s  sent/s    200  ok/s    200  403 6  429 0  503 2  timeout 1  dropped 0  p99(1s) 12.3 ms  outstanding 7');
    // Without per-status counts the classes stand in; without a p99 a dash.
    expect(formatProgressLine(sample(1000, 100), null)).toMatch(/403 4 {2}429 3 {2}503 2 .* p99\(1s\) - ms/);
  });

  it('TTY: the same line rewritten in place, erased at the end', () => {
    const tty = fakeStream(true);
    const p = progressPrinter(tty);
    p.onProgress(sample(1000, 100));
    p.onProgress(sample(2000, 200));
    p.end();
    expect(tty.writes).toHaveLength(3);
    expect(tty.writes.slice(0, 2).every((w) => w.startsWith('\r\x1b[2K') && !w.includes('\n'))).toBe(true);
    expect(tty.writes[2]).toBe('\r\x1b[2K');
  });

  it('not a TTY: a plain line at the first sample and then every 5 s', () => {
    const pipe = fakeStream(false);
    const p = progressPrinter(pipe);
    for (let s = 1; s <= 12; s++) p.onProgress(sample(s * 1000, s * 100));
    p.end();
    expect(pipe.writes.map((w) => w.trimStart().split('s')[0])).toEqual(['1', '6', '11']);
    expect(pipe.writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
  });

  it('a real run feeds it; the last sample matches the result', async () => {
    const tty = fakeStream(true);
    const p = progressPrinter(tty);
    const samples: ProgressSample[] = [];
    const { result } = await executeRun(
      runRequest({ agents: 20, durationMs: 2200, method: 'auto', expires: 60 }),
      { onProgress: (s) => (samples.push(s), p.onProgress(s)) },
    );
    p.end();
    expect(samples.length).toBeGreaterThanOrEqual(3);
    const last = samples[samples.length - 1];
    expect(last.dispatched).toBe(result.operations.attempted);
    expect(last.done.ok).toBe(result.operations.byClass.ok);
    // Exact final statuses, and the last whole second's p99 from the recorder's own timeline.
    expect(last.byStatus).toEqual(result.operations.byStatus);
    const p99s = samples.map((s) => s.lastSecondP99Ms).filter((v): v is number => typeof v === 'number');
    expect(p99s.length).toBeGreaterThan(0);
    for (const v of p99s) expect(v).toBeLessThanOrEqual(result.latencyMs.corrected.max * 1.01 + 0.01);
    expect(last.outstanding).toBe(0);
    expect(tty.writes[tty.writes.length - 2]).toMatch(new RegExp(`ok/s +\\d+ .*outstanding 0$`));
  });

  it('the CLI: plain lines on a pipe, none with --quiet', async () => {
    const args = ['run', '--agents', '10', '--rate', '50/s', '--duration', '1500ms'];
    const loud = await runCli(args);
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stderr).toMatch(/^ +1s {2}sent\/s +\d+ {2}ok\/s/m);
    const quiet = await runCli([...args, '--quiet']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/sent\/s/);
  });
});
