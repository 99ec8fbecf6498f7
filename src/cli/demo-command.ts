// `sipstorm demo` (npm start): ~200 agents register, refresh and ping the embedded trunk for ~20 s.
import type { CommandModule } from 'yargs';
import { executeRun } from '../run/execute.js';
import { DEFAULT_PASSWORD_TEMPLATE, DEFAULT_USER_TEMPLATE } from '../run/identities.js';
import { EXIT_INTERRUPTED, reportRun } from './output.js';
import { interruptSignal, progressPrinter } from './progress.js';
import { parseDurationMs } from './units.js';

export function demoCommand(setExit: (code: number) => void): CommandModule {
  return {
    command: 'demo',
    describe: 'Demo: 200 agents register (digest), refresh and ping an embedded trunk for 20 s',
    builder: (y) =>
      y
        .option('agents', { type: 'number', default: 200 })
        .option('duration', { type: 'string', default: '20s' })
        .option('json', { type: 'string', describe: 'Also write the JSON result here' }),
    handler: async (argv) => {
      const agents = argv.agents as number;
      process.stderr.write(
        `demo: ${agents} agents against an embedded trunk on loopback UDP: each logs in with digest auth, ` +
          `refreshes its 10 s registration and sends OPTIONS pings, 100 operations/s\n`,
      );
      const interrupt = interruptSignal(() => process.exit(EXIT_INTERRUPTED));
      const progress = progressPrinter(process.stderr);
      try {
        const outcome = await executeRun(
          {
            agents,
            rate: 100,
            durationMs: parseDurationMs(argv.duration as string, '--duration'),
            method: 'auto',
            expires: 10,
            userTemplate: DEFAULT_USER_TEMPLATE,
            passwordTemplate: DEFAULT_PASSWORD_TEMPLATE,
            t1Ms: 500,
            t2Ms: 4000,
            t4Ms: 5000,
            sockets: 4,
            unregister: true,
            trunk: { minExpires: 5 },
          },
          { signal: interrupt.signal, onProgress: progress.onProgress },
        );
        progress.end();
        setExit(await reportRun(outcome, { json: argv.json as string | undefined }));
      } finally {
        interrupt.dispose();
      }
    },
  };
}
