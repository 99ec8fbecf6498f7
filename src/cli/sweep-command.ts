// `sipstorm sweep FILE`: one run per throttle setting, a table, a recommendation, one JSON file (and
// the HTML/CSV reports); thresholds (--threshold and the file's, with {setting=...} filters) -> exit 3.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommandModule } from 'yargs';
import { renderSweepTable } from '../report/sweep.js';
import { runSweep } from '../run/sweep.js';
import { addRunOptions, loadScenarioScaled, toScenarioOverrides } from './run-command.js';
import { EXIT_INTERRUPTED, EXIT_OK } from './output.js';
import { interruptSignal } from './progress.js';
import { writeReportFiles } from './report-files.js';
import { checkThresholdSyntax, judge, reportThresholds, thresholdList } from './verdict.js';
import { UsageError } from './units.js';

export function sweepCommand(setExit: (code: number) => void): CommandModule {
  return {
    command: 'sweep <scenario>',
    describe: 'Run a scenario once per throttle setting of its sweep block (fresh trunk each) and recommend a per-agent rate',
    builder: (y) =>
      addRunOptions(y)
        .option('html', { type: 'string', describe: 'Write a self-contained HTML report (the sweep table and chart) to this file' })
        .option('csv', { type: 'string', describe: 'Write the per-second timelines as CSV to this file' })
        .option('threshold', { type: 'string', array: true, describe: "Pass/fail check, e.g. 'rate(throttled){setting=10/s}==0' (repeatable; exit 3 when one fails)" }),
    handler: async (argv) => {
      type Args = Parameters<typeof toScenarioOverrides>[0] & { scenario: string; 'time-scale'?: number; json?: string; html?: string; csv?: string; quiet?: boolean; threshold?: unknown };
      const args = argv as unknown as Args;
      const scale = args['time-scale'];
      if (scale !== undefined && !(scale > 0 && scale <= 1000)) throw new UsageError(`--time-scale must be > 0 (and <= 1000), got ${scale}`);
      const scenario = loadScenarioScaled(args.scenario, undefined);
      const thresholds = [...(scenario.thresholds ?? []), ...thresholdList(args.threshold)];
      checkThresholdSyntax(thresholds);
      const overrides = toScenarioOverrides(args);
      const interrupt = interruptSignal(() => process.exit(EXIT_INTERRUPTED));
      try {
        const result = await runSweep(scenario, overrides, scale, {
          signal: interrupt.signal,
          onSetting: (i, n, name) => {
            if (!args.quiet) process.stderr.write(`sweep ${i + 1}/${n}: per-agent ${name}\n`);
          },
        });
        judge(result, thresholds);
        process.stdout.write(`${renderSweepTable(result)}\n`);
        if (args.json) {
          mkdirSync(dirname(args.json), { recursive: true });
          writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
          process.stderr.write(`result written to ${args.json}\n`);
        }
        writeReportFiles(result, { html: args.html, csv: args.csv });
        const code = interrupt.signal.aborted ? EXIT_INTERRUPTED : EXIT_OK;
        const thresholdCode = reportThresholds((result as { thresholds?: [] }).thresholds ?? [], process.stderr);
        setExit(code === EXIT_OK ? thresholdCode : code);
      } finally {
        interrupt.dispose();
      }
    },
  };
}
