// `sipstorm sweep FILE`: one run per throttle setting, a table, a recommendation, one JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommandModule } from 'yargs';
import { renderSweepTable } from '../report/sweep.js';
import { runSweep } from '../run/sweep.js';
import { addRunOptions, loadScenarioScaled, toScenarioOverrides } from './run-command.js';
import { EXIT_INTERRUPTED, EXIT_OK } from './output.js';
import { interruptSignal } from './progress.js';

export function sweepCommand(setExit: (code: number) => void): CommandModule {
  return {
    command: 'sweep <scenario>',
    describe: "Run a scenario once per throttle setting of its sweep block (fresh trunk each) and recommend a per-agent rate",
    builder: (y) => addRunOptions(y),
    handler: async (argv) => {
      const args = argv as unknown as Parameters<typeof toScenarioOverrides>[0] & { scenario: string; 'time-scale'?: number; json?: string; quiet?: boolean };
      const scenario = loadScenarioScaled(args.scenario, undefined);
      const overrides = toScenarioOverrides(args);
      const interrupt = interruptSignal(() => process.exit(EXIT_INTERRUPTED));
      try {
        const result = await runSweep(scenario, overrides, args['time-scale'], {
          signal: interrupt.signal,
          onSetting: (i, n, name) => {
            if (!args.quiet) process.stderr.write(`sweep ${i + 1}/${n}: per-agent ${name}\n`);
          },
        });
        process.stdout.write(`${renderSweepTable(result)}\n`);
        if (args.json) {
          mkdirSync(dirname(args.json), { recursive: true });
          writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
          process.stderr.write(`result written to ${args.json}\n`);
        }
        setExit(interrupt.signal.aborted ? EXIT_INTERRUPTED : EXIT_OK);
      } finally {
        interrupt.dispose();
      }
    },
  };
}
