// `sipstorm run`: open-loop REGISTER/OPTIONS load against a target (or the embedded trunk).
import type { Argv, CommandModule } from 'yargs';
import { isOutcomeClass } from '../shared/outcome.js';
import { parseTarget } from '../transport/target.js';
import { executeRun, type RunRequest } from '../run/execute.js';
import { executeScenario, prepareScenario, type ScenarioOverrides } from '../run/scenario-run.js';
import { loadScenario } from '../scenario/load.js';
import { scaleScenario } from '../scenario/scale.js';
import type { Scenario } from '../scenario/types.js';
import { DEFAULT_PASSWORD_TEMPLATE, DEFAULT_USER_TEMPLATE } from '../run/identities.js';
import { parseClassMap, parseDurationMs, parseRate, UsageError } from './units.js';
import { EXIT_INTERRUPTED, reportRun } from './output.js';
import { interruptSignal, progressPrinter } from './progress.js';
import { connectSummary } from './connect-summary.js';
import { addRunExtrasOptions, startRunExtras } from './run-extras.js';
import type { TransportStats } from '../transport/transport.js';

/**
 * Defaults of `run` without a scenario. The options declare none, so an explicit flag can be told
 * from a default: flags given on the command line override a scenario file, defaults do not.
 */
export const RUN_DEFAULTS = {
  agents: 100,
  rate: '100/s',
  duration: '10s',
  method: 'REGISTER',
  expires: 3600,
  t1: 500,
  t2: 4000,
  t4: 5000,
  io: 'auto',
  bufferBytes: 4 * 1024 * 1024,
  unregister: true,
} as const;

export function addRunOptions<T>(y: Argv<T>) {
  return y
    .positional('scenario', { type: 'string', describe: 'A scenario file (YAML); flags given here override it' })
    .option('kamailio-rpc', { type: 'string', describe: "Scenario runs against the bundled Kamailio: its JSON-RPC URL (e.g. http://127.0.0.1:8080/RPC); the file's trunk: hooks set its switches there" })
    .option('time-scale', { type: 'number', describe: 'Scenario runs: every duration x F and every rate / F (0.1 runs a 10-minute scenario in 1 minute with the same shape)' })
    .option('target', { type: 'string', describe: 'udp:HOST:PORT, tcp:HOST:PORT, tls:HOST:PORT, ws:HOST:PORT[/PATH], wss:HOST:PORT[/PATH], udp:[::1]:PORT (default: an embedded trunk started in-process)' })
    .option('agents', { defaultDescription: '100', type: 'number', describe: 'Simulated user agents (distinct identities)' })
    .option('rate', { defaultDescription: '100/s', type: 'string', describe: 'Open-loop arrival rate of operations, e.g. 1000/s' })
    .option('duration', { defaultDescription: '10s', type: 'string', describe: 'How long arrivals are generated, e.g. 30s, 2m' })
    .option('method', { defaultDescription: 'REGISTER', type: 'string', choices: ['REGISTER', 'OPTIONS', 'auto'], describe: 'Operation per arrival; auto = REGISTER when unregistered or due for refresh, else OPTIONS' })
    .option('expires', { defaultDescription: '3600', type: 'number', describe: 'Requested registration lifetime (s); bindings are refreshed at 80%' })
    .option('user-template', { defaultDescription: 'agent{n:4}', type: 'string', describe: 'User names; {n:4} is the zero-padded agent number' })
    .option('password-template', { defaultDescription: 'secret{n:4}', type: 'string', describe: 'Passwords; {n:4} as above' })
    .option('credentials', { type: 'string', describe: 'CSV file user,password[,domain] (overrides the templates)' })
    .option('domain', { type: 'string', describe: 'SIP domain (default: the target host)' })
    .option('t1', { defaultDescription: '500', type: 'number', describe: 'RFC 3261 T1 in ms (Timer E starts here, Timer F = 64*T1)' })
    .option('t2', { defaultDescription: '4000', type: 'number', describe: 'RFC 3261 T2 in ms (Timer E cap)' })
    .option('t4', { defaultDescription: '5000', type: 'number', describe: 'RFC 3261 T4 in ms (Timer K)' })
    .option('sockets', { defaultDescription: 'auto (4 with node:dgram; batched: 1 per 8000/s, 1-4)', type: 'number', describe: 'UDP sockets shared by the agents' })
    .option('connections', { type: 'number', describe: 'TCP/TLS/WS/WSS connections (default: one per agent)' })
    .option('ca', { type: 'string', describe: 'tls/wss: PEM file of the certificate(s) to trust (e.g. the one `sipstorm serve` prints)' })
    .option('insecure', { type: 'boolean', describe: 'tls/wss: do not check the server certificate (self-signed lab servers)' })
    .option('sni', { type: 'string', describe: 'tls/wss: server name sent in SNI and checked in the certificate (default: the target host when it is a name)' })
    .option('io', { defaultDescription: 'auto', type: 'string', choices: ['auto', 'batch', 'dgram'], describe: 'UDP I/O: batch = native sendmmsg/recvmmsg with kernel receive timestamps (auto: when built), dgram = node:dgram' })
    .option('warm-up', { type: 'number', defaultDescription: '400 (UDP, from 1000/s)', describe: 'ms of the same load against an in-process trunk before the clock starts, so the first second meets warm code; 0 = none' })
    .option('tick', { type: 'number', describe: 'Batched UDP: the send/receive loop period in ms, 1..50 (default: about 8 arrivals per tick, 1-4 ms; the wait is measured as send lag)' })
    .option('buffer-bytes', { defaultDescription: '4194304', type: 'number', describe: 'SO_RCVBUF/SO_SNDBUF requested for UDP sockets' })
    .option('unregister', { defaultDescription: 'true', type: 'boolean', describe: 'Unregister (Expires: 0) at the end; --no-unregister to keep bindings' })
    .option('class-map', { type: 'string', describe: 'Status->class overrides, e.g. 403=throttled,503=overload' })
    .option('user-agent', { type: 'string', describe: 'User-Agent header' })
    .option('agent-kind', { type: 'string', choices: ['core', 'softphone'], describe: 'core (default): sipstorm\'s own UDP/TCP/TLS/WS agents; softphone: sip.js UserAgent + Registerer per agent over ws:/wss: (a browser softphone, REGISTER only)' })
    .option('token-url', { type: 'string', describe: 'Softphones: POST {user, password} here for a token before each (re)login, the token is the digest password; "embedded" = the embedded trunk\'s POST /token' })
    .option('json', { type: 'string', describe: 'Write the JSON result (schemaVersion 1) to this file' })
    .option('quiet', { type: 'boolean', default: false, describe: 'No progress line' })
    .option('log-level', { type: 'string', default: 'warn', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] });
}

type RunArgs = Awaited<ReturnType<ReturnType<typeof addRunOptions>['parseAsync']>>;

export function toRunRequest(given: RunArgs): RunRequest {
  const argv = withDefaults(given);
  checkRunFlags(argv);
  return {
    ...commonRequest(argv),
    ...agentFlags(argv),
    rate: parseRate(argv.rate, '--rate'),
    durationMs: parseDurationMs(argv.duration, '--duration'),
    method: argv.method as RunRequest['method'],
  };
}

/** Only the flags given on the command line, for a scenario run (rate, duration and method belong to the file). */
export function toScenarioOverrides(argv: RunArgs): ScenarioOverrides {
  for (const flag of ['rate', 'duration', 'method'] as const) {
    if (argv[flag] !== undefined) throw new UsageError(`--${flag} does not apply to a scenario run: its phases set the arrivals (edit the file, or run without it)`);
  }
  checkRunFlags(withDefaults(argv));
  return { ...commonRequest(argv), ...agentFlags(argv) };
}

/** Agent and timer flags: a plain run passes them with the defaults filled in, a scenario run only as given. */
function agentFlags<A extends RunArgs>(argv: A): {
  agents: A['agents'];
  expires: A['expires'];
  userTemplate: A['user-template'];
  passwordTemplate: A['password-template'];
  t1Ms: A['t1'];
  t2Ms: A['t2'];
  t4Ms: A['t4'];
  sockets: A['sockets'];
  bufferBytes: A['buffer-bytes'];
  unregister: A['unregister'];
} {
  return {
    agents: argv.agents,
    expires: argv.expires,
    userTemplate: argv['user-template'],
    passwordTemplate: argv['password-template'],
    t1Ms: argv.t1,
    t2Ms: argv.t2,
    t4Ms: argv.t4,
    sockets: argv.sockets,
    bufferBytes: argv['buffer-bytes'],
    unregister: argv.unregister,
  };
}

type FilledArgs = RunArgs & {
  agents: number;
  rate: string;
  duration: string;
  method: string;
  expires: number;
  'user-template': string;
  'password-template': string;
  t1: number;
  t2: number;
  t4: number;
  sockets: number | undefined;
  io: string;
  'buffer-bytes': number;
  unregister: boolean;
};

function withDefaults(argv: RunArgs): FilledArgs {
  const d = RUN_DEFAULTS;
  return {
    ...argv,
    agents: argv.agents ?? d.agents,
    rate: argv.rate ?? d.rate,
    duration: argv.duration ?? d.duration,
    method: argv.method ?? d.method,
    expires: argv.expires ?? d.expires,
    'user-template': argv['user-template'] ?? DEFAULT_USER_TEMPLATE,
    'password-template': argv['password-template'] ?? DEFAULT_PASSWORD_TEMPLATE,
    t1: argv.t1 ?? d.t1,
    t2: argv.t2 ?? d.t2,
    t4: argv.t4 ?? d.t4,
    sockets: argv.sockets,
    io: argv.io ?? d.io,
    'buffer-bytes': argv['buffer-bytes'] ?? d.bufferBytes,
    unregister: argv.unregister ?? d.unregister,
  };
}

function checkRunFlags(argv: FilledArgs): void {
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new UsageError(message);
  };
  check(Number.isInteger(argv.agents) && argv.agents > 0, `--agents must be a positive integer, got ${argv.agents}`);
  check(argv.sockets === undefined || (Number.isInteger(argv.sockets) && argv.sockets > 0), `--sockets must be a positive integer, got ${argv.sockets}`);
  check(argv.t1 > 0 && argv.t2 >= argv.t1, `--t1 must be > 0 and --t2 >= --t1`);
  check(argv['warm-up'] === undefined || (Number.isFinite(argv['warm-up']) && argv['warm-up'] >= 0 && argv['warm-up'] <= 10_000), `--warm-up must be between 0 and 10000 ms, got ${argv['warm-up']}`);
  check(argv.tick === undefined || (argv.tick >= 1 && argv.tick <= 50), `--tick must be between 1 and 50 ms, got ${argv.tick}`);
  check(Number.isInteger(argv.expires) && argv.expires > 0, `--expires must be a positive integer (seconds)`);
  check(argv.connections === undefined || (Number.isInteger(argv.connections) && argv.connections > 0), `--connections must be a positive integer`);
}

/** Flags shared by plain and scenario runs, undefined when not given. */
function commonRequest(argv: RunArgs) {
  let target;
  try {
    target = argv.target ? parseTarget(argv.target) : undefined;
  } catch (err) {
    throw new UsageError(`--target: ${(err as Error).message}`);
  }
  return {
    target,
    credentialsFile: argv.credentials,
    domain: argv.domain,
    connections: argv.connections,
    classMap: argv['class-map'] ? (parseClassMap(argv['class-map'], '--class-map', isOutcomeClass) as RunRequest['classMap']) : undefined,
    userAgent: argv['user-agent'],
    logLevel: argv['log-level'],
    io: argv.io === undefined || argv.io === 'auto' ? undefined : (argv.io as 'batch' | 'dgram'),
    tickMs: argv.tick,
    warmUpMs: argv['warm-up'],
    tls: tlsFlags(argv, target),
    kamailioRpc: kamailioRpcUrl(argv['kamailio-rpc']),
    ...softphoneFlags(argv, target),
  };
}

/** --agent-kind, --token-url (softphones speak SIP over WebSocket only, and only they take a token). */
function softphoneFlags(argv: RunArgs, target: RunRequest['target']): Pick<RunRequest, 'agentKind' | 'tokenUrl'> {
  const kind = argv['agent-kind'] as RunRequest['agentKind'];
  const tokenUrl = argv['token-url'];
  if (kind !== 'softphone') {
    if (tokenUrl !== undefined) throw new UsageError('--token-url applies to --agent-kind softphone');
    return { agentKind: kind };
  }
  if (target && target.protocol !== 'ws' && target.protocol !== 'wss') throw new UsageError(`--agent-kind softphone needs a ws: or wss: target, not ${target.protocol}:`);
  if (tokenUrl !== undefined && tokenUrl !== 'embedded' && !/^https?:\/\/[^\s]+$/i.test(tokenUrl)) throw new UsageError(`--token-url must be an http(s) URL or "embedded", got "${tokenUrl}"`);
  if (tokenUrl === 'embedded' && target) throw new UsageError('--token-url embedded needs the embedded trunk (leave out --target)');
  return { agentKind: kind, tokenUrl };
}

/** --ca, --insecure, --sni: only for targets that speak TLS (given elsewhere they would silently do nothing). */
function tlsFlags(argv: RunArgs, target: RunRequest['target']): RunRequest['tls'] {
  const given = (['ca', 'insecure', 'sni'] as const).filter((f) => argv[f] !== undefined);
  if (given.length === 0) return undefined;
  if (target && target.protocol !== 'tls' && target.protocol !== 'wss') throw new UsageError(`--${given[0]} applies to tls: and wss: targets, not ${target.protocol}:`);
  if (argv.sni !== undefined && !/^[a-z0-9.-]+$/i.test(argv.sni)) throw new UsageError(`--sni must be a host name, got "${argv.sni}"`);
  return { caFile: argv.ca, insecure: argv.insecure, servername: argv.sni };
}

export function runCommand(setExit: (code: number) => void): CommandModule {
  return {
    command: 'run [scenario]',
    describe: 'Drive REGISTER/OPTIONS load (an open-loop rate, or a scenario file) and report latency and outcome classes',
    builder: (y) =>
      addRunExtrasOptions(addRunOptions(y))
        .option('html', { type: 'string', describe: 'Write a self-contained HTML report (charts inlined) to this file' })
        .option('csv', { type: 'string', describe: 'Write the per-second timeline as CSV to this file' }),
    handler: async (argv) => {
      const args = argv as unknown as RunArgs & { scenario?: string; html?: string; csv?: string };
      const scenario = args.scenario ? loadScenarioScaled(args.scenario, args['time-scale']) : undefined;
      const prepared = scenario ? prepareScenario(scenario, toScenarioOverrides(args)) : undefined;
      if (!args.scenario && args['time-scale'] !== undefined) throw new UsageError('--time-scale applies to a scenario run only');
      const request = prepared ? undefined : toRunRequest(args);
      const extras = await startRunExtras(args, scenario?.thresholds ?? []);
      const interrupt = interruptSignal(() => process.exit(EXIT_INTERRUPTED));
      const progress = progressPrinter(process.stderr);
      try {
        const hooks = { signal: interrupt.signal, onProgress: args.quiet ? undefined : progress.onProgress, ...extras.hooks };
        const outcome = prepared
          ? await executeScenario(prepared, { ...hooks, onWait: (at) => process.stderr.write(`waiting for the scenario start at ${at.toISOString()} (T0 minus the phases before it); Ctrl-C to give up\n`) })
          : await executeRun(request!, hooks);
        progress.end();
        const connections = connectSummary(outcome.result.extra.transportStats as TransportStats | undefined);
        if (connections) process.stderr.write(`${connections}\n`);
        extras.judge(outcome.result);
        setExit(extras.verdict(outcome.result, await reportRun(outcome, { json: args.json, html: args.html, csv: args.csv })));
      } finally {
        interrupt.dispose();
        await extras.close();
      }
    },
  };
}

/** Loads a scenario and applies --time-scale (a bad factor is a usage error). */
export function loadScenarioScaled(file: string, factor: number | undefined): Scenario {
  if (factor !== undefined && !(factor > 0 && factor <= 1000)) throw new UsageError(`--time-scale must be > 0 (and <= 1000), got ${factor}`);
  const scenario = loadScenario(file);
  return factor === undefined ? scenario : scaleScenario(scenario, factor);
}

/** Loopback only, like every address sipstorm talks to. */
function kamailioRpcUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--kamailio-rpc: not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' || !/^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/.test(url.hostname)) {
    throw new UsageError(`--kamailio-rpc must be an http:// URL on loopback, got ${value}`);
  }
  return value;
}
