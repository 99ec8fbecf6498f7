// `sipstorm validate FILE...`: loads each scenario file and prints "FILE: ok (...)" or every issue
// found, as file:line:column: path: message. An invalid file is bad input, so the exit code is 2
// (as for a bad flag); 0 when every file is valid.
import type { CommandModule } from 'yargs';
import { loadScenario, ScenarioError } from '../scenario/load.js';
import type { Scenario } from '../scenario/types.js';
import { EXIT_OK, EXIT_USAGE } from './output.js';

export function validateCommand(setExit: (code: number) => void): CommandModule {
  return {
    command: 'validate <files..>',
    describe: 'Check scenario files (YAML) and report every problem with its line and column',
    builder: (y) => y.positional('files', { type: 'string', array: true, describe: 'Scenario files' }),
    handler: (argv) => {
      let invalid = 0;
      for (const file of argv.files as string[]) {
        try {
          process.stdout.write(`${file}: ok (${summary(loadScenario(file))})\n`);
        } catch (err) {
          if (!(err instanceof ScenarioError)) throw err;
          invalid++;
          process.stderr.write(`${err.message}\n`);
        }
      }
      if (invalid > 0) process.stderr.write(`${invalid} of ${(argv.files as string[]).length} scenario files invalid\n`);
      setExit(invalid > 0 ? EXIT_USAGE : EXIT_OK);
    },
  };
}

function summary(s: Scenario): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${plural(s.phases.length, 'phase')}, ${plural(s.agents.count, 'agent')}`;
}
