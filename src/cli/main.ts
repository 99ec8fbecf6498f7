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
import { ScenarioError } from '../scenario/load.js';
import { PlanError } from '../schedule/plan.js';
import { ReplayError } from '../schedule/replay.js';
import { AnchorError } from '../schedule/anchor.js';

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
    .demandCommand(1, 'Name a command: run, sweep, serve, demo, validate, schema, plan, report or merge (see --help).')
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

/** Bad flags or a bad scenario / plan / replay / T0: exit 2 like any bad input (1 is a runtime failure). */
function isBadInput(err: unknown): boolean {
  return err instanceof UsageError || err instanceof ScenarioError || err instanceof PlanError || err instanceof ReplayError || err instanceof AnchorError;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // One line for the user; the stack only with SIPSTORM_DEBUG.
    process.stderr.write(`sipstorm: ${err instanceof Error ? err.message : `unexpected failure: ${String(err)}`}\n`);
    if (process.env.SIPSTORM_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(isBadInput(err) ? 2 : 1);
  },
);
