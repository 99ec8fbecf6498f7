// Writes what a run measured: the summary table on stdout, the JSON result, the HTML report and CSV timeline.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderSummary } from '../report/table.js';
import { renderScenarioSummary } from '../report/phase-table.js';
import type { RunOutcome } from '../run/execute.js';
import { writeReportFiles } from './report-files.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
/** The run was interrupted (SIGINT); what was measured was still printed and written. */
export const EXIT_INTERRUPTED = 130;

export async function reportRun(outcome: RunOutcome, opts: { json?: string; html?: string; csv?: string; quiet?: boolean }): Promise<number> {
  const { result } = outcome;
  process.stdout.write(`${renderSummary(result)}\n`);
  if (result.phases) process.stdout.write(`${renderScenarioSummary(result)}\n`);
  if (opts.json) {
    mkdirSync(dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(`result written to ${opts.json}\n`);
  }
  writeReportFiles(result, { html: opts.html, csv: opts.csv });
  return (result as { interrupted?: boolean }).interrupted ? EXIT_INTERRUPTED : EXIT_OK;
}
