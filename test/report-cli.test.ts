// `sipstorm run --html --csv` and `sipstorm report` through the built CLI (dist/, `npm run build`).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../src/report/result.js';
import { OUTCOME_CLASSES } from '../src/shared/outcome.js';
import { runCli } from './helpers/cli.js';

describe('sipstorm run --html --csv, sipstorm report', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sipstorm-report-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a run writes the HTML report and the CSV timeline beside the JSON; report re-renders them identically', async () => {
    const run = await runCli(['run', '--agents', '10', '--rate', '40/s', '--duration', '1500ms', '--quiet', '--json', file('r.json'), '--html', file('out/r.html'), '--csv', file('out/r.csv')]);
    expect(run.stderr).toContain(`HTML report written to ${file('out/r.html')}`);
    expect(run.code).toBe(0);
    const result = JSON.parse(readFileSync(file('r.json'), 'utf8')) as RunResult;
    const html = readFileSync(file('out/r.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<script type="application/json" id="sipstorm-model">');
    expect(html).toContain('var uPlot=');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/); // nothing to fetch
    const csv = readFileSync(file('out/r.csv'), 'utf8').trimEnd().split('\n');
    const cols = csv[0].split(',');
    const rows = csv.slice(1).map((l) => l.split(','));
    expect(rows).toHaveLength(result.timeline.length);
    for (const c of OUTCOME_CLASSES) expect(rows.reduce((n, r) => n + Number(r[cols.indexOf(c)]), 0)).toBe(result.operations.byClass[c]);
    expect(result.operations.byClass.ok).toBeGreaterThan(0);

    const again = await runCli(['report', file('r.json'), '--html', file('again.html'), '--csv', file('again.csv')]);
    expect(again.code).toBe(0);
    expect(readFileSync(file('again.html'), 'utf8')).toBe(html);
    expect(readFileSync(file('again.csv'), 'utf8')).toBe(readFileSync(file('out/r.csv'), 'utf8'));
  }, 60_000);

  it('names the file when it is missing, not JSON, or not a sipstorm result', async () => {
    writeFileSync(file('bad.json'), '{"schemaVersion": 1,');
    writeFileSync(file('other.json'), '{"hello": "world"}');
    const cases: [string, RegExp][] = [
      [file('missing.json'), new RegExp(`cannot read ${file('missing.json')}: ENOENT`)],
      [file('bad.json'), new RegExp(`${file('bad.json')}: not valid JSON`)],
      [file('other.json'), new RegExp(`${file('other.json')}: not a sipstorm result: schemaVersion should be the number 1`)],
    ];
    for (const [input, message] of cases) {
      const out = await runCli(['report', input, '--html', file('x.html')]);
      expect(out.code, input).toBe(1);
      expect(out.stderr).toMatch(message);
    }
    expect(existsSync(file('x.html'))).toBe(false);
  }, 30_000);

  it('asks for an output when neither --html nor --csv is given (usage error)', async () => {
    const out = await runCli(['report', file('r.json')]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--html FILE and/or --csv FILE');
  });
});
