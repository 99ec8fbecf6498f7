// `sipstorm schema`: prints the JSON Schema of scenario files (for editors, e.g. a first line
// `# yaml-language-server: $schema=./scenario.schema.json`).
import type { CommandModule } from 'yargs';
import { scenarioJsonSchema } from '../scenario/json-schema.js';
import { EXIT_OK } from './output.js';

export function schemaCommand(setExit: (code: number) => void): CommandModule {
  return {
    command: 'schema',
    describe: 'Print the JSON Schema of scenario files',
    handler: () => {
      process.stdout.write(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
      setExit(EXIT_OK);
    },
  };
}
