// `sipstorm demo` (npm start): the Friday-publish scenario against an embedded trunk, compressed in
// time (the same shape in ~20 s), then the summary per phase.
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { executeScenario, prepareScenario } from '../run/scenario-run.js';
import { EXIT_INTERRUPTED, reportRun } from './output.js';
import { interruptSignal, progressPrinter } from './progress.js';
import { loadScenarioScaled } from './run-command.js';

/** The bundled scenario, found from this module (src/cli or dist/src/cli) whatever the working directory. */
const FRIDAY_PUBLISH = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../scenarios/friday-publish.yaml' : '../../scenarios/friday-publish.yaml', import.meta.url));

export function demoCommand(setExit: (code: number) => void): CommandModule {
  return {
    command: 'demo',
    describe: 'Demo: the Friday schedule-publish collision (scenarios/friday-publish.yaml) against an embedded trunk, in ~20 s',
    builder: (y) =>
      y
        .option('agents', { type: 'number', default: 200 })
        .option('time-scale', { type: 'number', default: 0.15, describe: 'Time compression of the scenario (1 = as written: 140 s)' })
        .option('json', { type: 'string', describe: 'Also write the JSON result here' })
        .option('html', { type: 'string', default: 'results/demo.html', describe: 'The HTML report (open it in a browser: where the 403s happened relative to the publish)' })
        .option('quiet', { type: 'boolean', default: false }),
    handler: async (argv) => {
      const agents = argv.agents as number;
      const scale = argv['time-scale'] as number;
      process.stderr.write(
        `demo: ${agents} agents log in (digest) to an embedded trunk on loopback UDP and keep their bindings fresh; ` +
          `at T0 the WFM schedule is published: for a while the trunk refuses every old nonce with 403, ` +
          `80% of the agents log in again, the rest keep refreshing. Scenario ${FRIDAY_PUBLISH}, time x${scale}.\n`,
      );
      const prepared = prepareScenario(loadScenarioScaled(FRIDAY_PUBLISH, scale), { agents });
      const interrupt = interruptSignal(() => process.exit(EXIT_INTERRUPTED));
      const progress = progressPrinter(process.stderr);
      try {
        const outcome = await executeScenario(prepared, { signal: interrupt.signal, onProgress: argv.quiet ? undefined : progress.onProgress });
        progress.end();
        setExit(await reportRun(outcome, { json: argv.json as string | undefined, html: (argv.html as string) || undefined }));
      } finally {
        interrupt.dispose();
      }
    },
  };
}
