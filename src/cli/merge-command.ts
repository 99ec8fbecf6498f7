// `sipstorm merge a.json b.json ... --json all.json`: one result from the results of several generators
// that drove the same run side by side (exact: counters add, percentiles from added histograms).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommandModule } from 'yargs';
import { parseResultText, ResultShapeError } from '../report/load.js';
import { MergeError, mergeResults, type NamedResult } from '../report/merge.js';
import type { RunResult } from '../report/result.js';
import { renderSummary } from '../report/table.js';
import { EXIT_OK } from './output.js';
import { UsageError } from './units.js';
import { checkThresholdSyntax, judge, reportSaturation, reportThresholds, thresholdList } from './verdict.js';

export function readResultFiles(files: readonly string[]): NamedResult[] {
  return files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      const loaded = parseResultText(text, file);
      if (loaded.kind === 'sweep') throw new UsageError(`${file}: a sweep result; merge the run results of one setting instead`);
      return { name: file, result: loaded.result };
    } catch (err) {
      if (err instanceof ResultShapeError) throw new UsageError(err.message);
      throw err;
    }
  });
}

export function mergeFiles(files: readonly string[]): RunResult {
  try {
    return mergeResults(readResultFiles(files));
  } catch (err) {
    if (err instanceof MergeError) throw new UsageError(err.message);
    throw err;
  }
}

export function mergeCommand(setExit: (code: number) => void): CommandModule {
  return {
    command: 'merge <files..>',
    describe: 'Merge the JSON results of one run driven from several generators into one exact result',
    builder: (y) =>
      y
        .positional('files', { type: 'string', array: true, describe: 'Results written by sipstorm run --json (two or more)' })
        .option('json', { type: 'string', describe: 'Write the merged JSON result to this file' })
        .option('threshold', { type: 'string', array: true, describe: "Judge the merged result, e.g. 'p99<200ms' (repeatable; exit 3 when one fails)" })
        .option('quiet', { type: 'boolean', default: false, describe: 'No summary table' }),
    handler: (argv) => {
      const files = (argv.files as string[] | undefined) ?? [];
      if (files.length < 2) throw new UsageError(`merge needs two or more result files, got ${files.length}`);
      const thresholds = thresholdList(argv.threshold);
      checkThresholdSyntax(thresholds);
      const merged = mergeFiles(files);
      const outcomes = judge(merged, thresholds);
      if (!argv.quiet) process.stdout.write(`${renderSummary(merged)}\n`);
      const json = argv.json as string | undefined;
      if (json) {
        mkdirSync(dirname(json), { recursive: true });
        writeFileSync(json, `${JSON.stringify(merged, null, 2)}\n`);
        process.stderr.write(`merged ${files.length} results into ${json}\n`);
      }
      reportSaturation(merged, process.stderr);
      setExit(Math.max(EXIT_OK, reportThresholds(outcomes, process.stderr)));
    },
  };
}
