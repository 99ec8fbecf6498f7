// `sipstorm run`: open-loop REGISTER/OPTIONS load against a target (or the embedded trunk).
import type { Argv, CommandModule } from 'yargs';
import { isOutcomeClass } from '../shared/outcome.js';
import { parseTarget } from '../transport/target.js';
import { executeRun, type RunRequest } from '../run/execute.js';
import { DEFAULT_PASSWORD_TEMPLATE, DEFAULT_USER_TEMPLATE } from '../run/identities.js';
import { parseClassMap, parseDurationMs, parseRate, UsageError } from './units.js';
import { EXIT_INTERRUPTED, reportRun } from './output.js';
import { interruptSignal, progressPrinter } from './progress.js';

export function addRunOptions<T>(y: Argv<T>) {
  return y
    .option('target', { type: 'string', describe: 'udp:HOST:PORT, tcp:HOST:PORT, udp:[::1]:PORT (default: an embedded trunk started in-process)' })
    .option('agents', { type: 'number', default: 100, describe: 'Simulated user agents (distinct identities)' })
    .option('rate', { type: 'string', default: '100/s', describe: 'Open-loop arrival rate of operations, e.g. 1000/s' })
    .option('duration', { type: 'string', default: '10s', describe: 'How long arrivals are generated, e.g. 30s, 2m' })
    .option('method', { type: 'string', choices: ['REGISTER', 'OPTIONS', 'auto'], default: 'REGISTER', describe: 'Operation per arrival; auto = REGISTER when unregistered or due for refresh, else OPTIONS' })
    .option('expires', { type: 'number', default: 3600, describe: 'Requested registration lifetime (s); bindings are refreshed at 80%' })
    .option('user-template', { type: 'string', default: DEFAULT_USER_TEMPLATE, describe: 'User names; {n:4} is the zero-padded agent number' })
    .option('password-template', { type: 'string', default: DEFAULT_PASSWORD_TEMPLATE, describe: 'Passwords; {n:4} as above' })
    .option('credentials', { type: 'string', describe: 'CSV file user,password[,domain] (overrides the templates)' })
    .option('domain', { type: 'string', describe: 'SIP domain (default: the target host)' })
    .option('t1', { type: 'number', default: 500, describe: 'RFC 3261 T1 in ms (Timer E starts here, Timer F = 64*T1)' })
    .option('t2', { type: 'number', default: 4000, describe: 'RFC 3261 T2 in ms (Timer E cap)' })
    .option('t4', { type: 'number', default: 5000, describe: 'RFC 3261 T4 in ms (Timer K)' })
    .option('sockets', { type: 'number', default: 4, describe: 'UDP sockets shared by the agents' })
    .option('connections', { type: 'number', describe: 'TCP connections (default: one per agent)' })
    .option('io', { type: 'string', choices: ['auto', 'batch', 'dgram'], default: 'auto', describe: 'UDP I/O: batch = native sendmmsg/recvmmsg with kernel receive timestamps (auto: when built), dgram = node:dgram' })
    .option('tick', { type: 'number', describe: 'Batched UDP: the send/receive loop period in ms, 1..50 (default: about 8 arrivals per tick, 1-4 ms; the wait is measured as send lag)' })
    .option('buffer-bytes', { type: 'number', default: 4 * 1024 * 1024, describe: 'SO_RCVBUF/SO_SNDBUF requested for UDP sockets' })
    .option('unregister', { type: 'boolean', default: true, describe: 'Unregister (Expires: 0) at the end; --no-unregister to keep bindings' })
    .option('class-map', { type: 'string', describe: 'Status->class overrides, e.g. 403=throttled,503=overload' })
    .option('user-agent', { type: 'string', describe: 'User-Agent header' })
    .option('json', { type: 'string', describe: 'Write the JSON result (schemaVersion 1) to this file' })
    .option('quiet', { type: 'boolean', default: false, describe: 'No progress line' })
    .option('log-level', { type: 'string', default: 'warn', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] });
}

type RunArgs = Awaited<ReturnType<ReturnType<typeof addRunOptions>['parseAsync']>>;

export function toRunRequest(argv: RunArgs): RunRequest {
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new UsageError(message);
  };
  check(Number.isInteger(argv.agents) && argv.agents > 0, `--agents must be a positive integer, got ${argv.agents}`);
  check(Number.isInteger(argv.sockets) && argv.sockets > 0, `--sockets must be a positive integer, got ${argv.sockets}`);
  check(argv.t1 > 0 && argv.t2 >= argv.t1, `--t1 must be > 0 and --t2 >= --t1`);
  check(argv.tick === undefined || (argv.tick >= 1 && argv.tick <= 50), `--tick must be between 1 and 50 ms, got ${argv.tick}`);
  check(Number.isInteger(argv.expires) && argv.expires > 0, `--expires must be a positive integer (seconds)`);
  check(argv.connections === undefined || (Number.isInteger(argv.connections) && argv.connections > 0), `--connections must be a positive integer`);
  let target;
  try {
    target = argv.target ? parseTarget(argv.target) : undefined;
  } catch (err) {
    throw new UsageError(`--target: ${(err as Error).message}`);
  }
  if (target && target.protocol !== 'udp' && target.protocol !== 'tcp') throw new UsageError(`--target: ${target.protocol} is not supported yet (udp and tcp are)`);
  return {
    target,
    agents: argv.agents,
    rate: parseRate(argv.rate, '--rate'),
    durationMs: parseDurationMs(argv.duration, '--duration'),
    method: argv.method as RunRequest['method'],
    expires: argv.expires,
    userTemplate: argv['user-template'],
    passwordTemplate: argv['password-template'],
    credentialsFile: argv.credentials,
    domain: argv.domain,
    t1Ms: argv.t1,
    t2Ms: argv.t2,
    t4Ms: argv.t4,
    sockets: argv.sockets,
    connections: argv.connections,
    bufferBytes: argv['buffer-bytes'],
    unregister: argv.unregister,
    classMap: argv['class-map'] ? (parseClassMap(argv['class-map'], '--class-map', isOutcomeClass) as RunRequest['classMap']) : undefined,
    userAgent: argv['user-agent'],
    logLevel: argv['log-level'],
    io: argv.io === 'auto' ? undefined : (argv.io as 'batch' | 'dgram'),
    tickMs: argv.tick,
  };
}

export function runCommand(setExit: (code: number) => void): CommandModule {
  return {
    command: 'run',
    describe: 'Drive REGISTER/OPTIONS load at an open-loop rate and report latency and outcome classes',
    builder: (y) => addRunOptions(y),
    handler: async (argv) => {
      const args = argv as unknown as RunArgs;
      const request = toRunRequest(args);
      const interrupt = interruptSignal(() => process.exit(EXIT_INTERRUPTED));
      const progress = progressPrinter(process.stderr);
      try {
        const outcome = await executeRun(request, { signal: interrupt.signal, onProgress: args.quiet ? undefined : progress.onProgress });
        progress.end();
        setExit(await reportRun(outcome, { json: args.json }));
      } finally {
        interrupt.dispose();
      }
    },
  };
}
