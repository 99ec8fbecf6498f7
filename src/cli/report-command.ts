// `sipstorm report FILE.json --html out.html [--csv out.csv]`: re-renders a saved run or sweep result.
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { parseResultText } from '../report/load.js';
import { EXIT_OK } from './output.js';
import { writeReportFiles } from './report-files.js';
import { UsageError } from './units.js';

export function reportCommand(setExit: (code: number) => void): CommandModule {
  return {
    command: 'report <file>',
    describe: 'Render a saved result (sipstorm run/sweep --json) as a self-contained HTML report and/or a CSV timeline',
    builder: (y) =>
      y
        .positional('file', { type: 'string', describe: 'A JSON result written by sipstorm run --json or sipstorm sweep --json' })
        .option('html', { type: 'string', describe: 'Write the HTML report (charts inlined, no network needed) to this file' })
        .option('csv', { type: 'string', describe: 'Write the per-second timeline as CSV to this file' }),
    handler: (argv) => {
      const file = argv.file as string;
      const html = argv.html as string | undefined;
      const csv = argv.csv as string | undefined;
      if (!html && !csv) throw new UsageError('name at least one output: --html FILE and/or --csv FILE');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const loaded = parseResultText(text, file);
      writeReportFiles(loaded.result, { html, csv });
      setExit(EXIT_OK);
    },
  };
}
