// The command line. The only place that exits the process.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCommand } from './run-command.js';
import { serveCommand } from './serve-command.js';
import { demoCommand } from './demo-command.js';
import { validateCommand } from './validate-command.js';
import { schemaCommand } from './schema-command.js';
import { sweepCommand } from './sweep-command.js';
import { planCommand } from './plan-command.js';
import { reportCommand } from './report-command.js';
import { mergeCommand } from './merge-command.js';
import { UsageError } from './units.js';

async function main(): Promise<number> {
  let exitCode = 0;
  await yargs(hideBin(process.argv))
    .scriptName('sipstorm')
    .usage('$0 <command> [options]')
    .command(runCommand((code) => (exitCode = code)))
    .command(serveCommand((code) => (exitCode = code)))
    .command(demoCommand((code) => (exitCode = code)))
    .command(validateCommand((code) => (exitCode = code)))
    .command(schemaCommand((code) => (exitCode = code)))
    .command(sweepCommand((code) => (exitCode = code)))
    .command(planCommand((code) => (exitCode = code)))
    .command(reportCommand((code) => (exitCode = code)))
    .command(mergeCommand((code) => (exitCode = code)))
    .demandCommand(1, 'Name a command: run, serve or demo (see --help).')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(`${msg}\nRun "sipstorm --help" for usage.`);
    })
    .parseAsync();
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // One line for the user; the stack only with SIPSTORM_DEBUG.
    process.stderr.write(`sipstorm: ${err instanceof Error ? err.message : `unexpected failure: ${String(err)}`}\n`);
    if (process.env.SIPSTORM_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
