// `scripts/kamailio.sh` = `node dist/src/kamailio/cli.js`: start / set / get / stats / status / stop
// the bundled Kamailio. State (pid, ports, temp dir) lives in a small JSON file per SIP port so each
// command is its own process; `--rpc URL` talks to any instance running this config (e.g. docker's).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../cli/units.js';
import { KamailioServer, isKamailioPid, type KamailioInstanceInfo } from './server.js';
import { parseSwitchArgs } from './switches.js';

export const USAGE = `usage: scripts/kamailio.sh <command> [options]
  start [--port 5080] [--host 127.0.0.1] [--control-port N] [--users 1000] [--memory 1024]
        [--children 4] [--nonce-ttl 30] [--tls-port N] [--ws-port N] [--wss-port N] [switches...]
                        start in the background, wait until it answers; --tls-port/--ws-port/--wss-port
                        add SIP over TLS / WebSocket / secure WebSocket (0 = a free port) with a
                        self-signed certificate written for this instance (its path is printed: --ca)
  set <switches...>     change switches while it runs, e.g. set aor-limit 5/s aor-limit-code 429 retry-after 2
  get                   the switches now (JSON)
  stats                 Kamailio's own counters (JSON: received by method, answered by status, ...)
  status                pid, ports, log file; exit 1 if not running
  stop                  stop it (by PID) and remove its temp directory
options for set/get/stats/status/stop: --port P (default: the last one started),
  --rpc URL (any instance of docker/kamailio/kamailio.cfg, e.g. http://127.0.0.1:8080/RPC for docker compose)
switches (the words of \`sipstorm serve\`): aor-limit 5/s[:burst] | off, aor-limit-code 429|403|503,
  retry-after S, global-limit 2000/s[:burst] | off, publish-start 0s | off, publish-length 30s,
  publish-mode forbidden|stale-credentials, publish-methods REGISTER,OPTIONS, delay 20ms, jitter 5ms,
  loss 0.01, auth on|off, options-auth on|off`;

/** Where the CLI keeps its state files (override with SIPSTORM_KAMAILIO_STATE_DIR). */
export function stateDir(): string {
  return process.env.SIPSTORM_KAMAILIO_STATE_DIR ?? join(tmpdir(), 'sipstorm-kamailio-state');
}

const START_OPTIONS = new Set(['port', 'host', 'control-port', 'users', 'memory', 'children', 'nonce-ttl', 'tls-port', 'ws-port', 'wss-port']);
const SELECT_OPTIONS = new Set(['port', 'rpc']);

/** Runs one CLI command; returns the exit code (0 ok, 1 runtime error, 2 usage). */
export async function runKamailioCli(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start':
        return await start(rest, out);
      case 'set': {
        const { options, others } = splitOptions(rest, SELECT_OPTIONS);
        const patch = parseSwitchArgs(others);
        if (Object.keys(patch).length === 0) throw new UsageError('set: no switch given');
        const server = attach(options);
        await server.set(patch);
        out(JSON.stringify(await server.switches()));
        return 0;
      }
      case 'get':
      case 'stats':
      case 'status':
      case 'stop': {
        const { options, others } = splitOptions(rest, SELECT_OPTIONS);
        if (others.length > 0) throw new UsageError(`${command}: unexpected "${others[0]}"`);
        const server = attach(options);
        if (command === 'get') out(JSON.stringify(await server.switches()));
        else if (command === 'stats') {
          const { raw: _raw, ...stats } = await server.stats();
          out(JSON.stringify(stats));
        } else if (command === 'status') {
          const running = server.info.pid > 0 ? server.isRunning() : true;
          out(JSON.stringify({ running, ...server.info }));
          return running ? 0 : 1;
        } else {
          if (server.info.pid <= 0) throw new UsageError('stop: this instance was not started by this script (docker? use docker compose stop)');
          await server.stop();
          rmSync(statePath(server.info.port), { force: true });
          out(`kamailio (pid ${server.info.pid}) stopped`);
        }
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    process.stderr.write(`kamailio: ${(err as Error).message}\n${err instanceof UsageError ? `${USAGE}\n` : ''}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

async function start(args: string[], out: (line: string) => void): Promise<number> {
  const { options, others } = splitOptions(args, START_OPTIONS);
  const switches = parseSwitchArgs(others);
  const port = intOption(options, 'port', 5080);
  const existing = readState(port);
  if (existing && isKamailioPid(existing.pid, existing.dir)) throw new Error(`already running on port ${port} (pid ${existing.pid}); stop it first`);
  const server = await KamailioServer.start({
    port,
    host: options.get('host') ?? '127.0.0.1',
    controlPort: intOption(options, 'control-port', 0),
    users: intOption(options, 'users', 1000),
    sharedMemoryMb: intOption(options, 'memory', 1024),
    children: intOption(options, 'children', 4),
    nonceTtlS: intOption(options, 'nonce-ttl', 30),
    switches: Object.keys(switches).length > 0 ? switches : undefined,
    keepRunning: true,
    tlsPort: options.has('tls-port') ? intOption(options, 'tls-port', 0) : undefined,
    wsPort: options.has('ws-port') ? intOption(options, 'ws-port', 0) : undefined,
    wssPort: options.has('wss-port') ? intOption(options, 'wss-port', 0) : undefined,
  });
  mkdirSync(stateDir(), { recursive: true });
  writeFileSync(statePath(port), JSON.stringify(server.info, null, 2));
  writeFileSync(join(stateDir(), 'last'), String(port));
  const i = server.info;
  const stream = [['tls', i.tlsPort], ['ws', i.wsPort], ['wss', i.wssPort]].filter(([, p]) => p !== undefined).map(([t, p]) => `, ${t} ${i.host}:${p}`).join('');
  out(
    `kamailio listening on udp+tcp ${i.host}:${i.port}${stream} (${i.users} users), JSON-RPC ${i.rpcUrl}, pid ${i.pid}, log ${i.logPath}` +
      (i.caPath ? `, TLS certificate ${i.caPath} (self-signed: sipstorm run --ca it, or --insecure)` : ''),
  );
  return 0;
}

function attach(options: Map<string, string>): KamailioServer {
  const rpc = options.get('rpc');
  if (rpc) {
    const url = new URL(rpc);
    return KamailioServer.attach({
      pid: 0,
      host: url.hostname,
      port: 0,
      controlPort: Number(url.port),
      rpcUrl: rpc,
      dir: '',
      logPath: '',
      users: 0,
      startedAt: '',
    });
  }
  let port = options.has('port') ? intOption(options, 'port', 0) : undefined;
  if (port === undefined) {
    try {
      port = Number(readFileSync(join(stateDir(), 'last'), 'utf8').trim());
    } catch {
      throw new Error('no kamailio started by this script (start one, or pass --port / --rpc)');
    }
  }
  const info = readState(port);
  if (!info) throw new Error(`no kamailio started by this script on port ${port}`);
  return KamailioServer.attach(info);
}

function statePath(port: number): string {
  return join(stateDir(), `${port}.json`);
}

function readState(port: number): KamailioInstanceInfo | null {
  try {
    return JSON.parse(readFileSync(statePath(port), 'utf8')) as KamailioInstanceInfo;
  } catch {
    return null;
  }
}

/** Pulls `--name value` / `--name=value` options in `names` out of the arguments. */
function splitOptions(args: string[], names: Set<string>): { options: Map<string, string>; others: string[] } {
  const options = new Map<string, string>();
  const others: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(args[i]);
    if (m && names.has(m[1])) {
      const value = m[2] ?? args[++i];
      if (value === undefined) throw new UsageError(`--${m[1]}: missing value`);
      options.set(m[1], value);
    } else {
      others.push(args[i]);
    }
  }
  return { options, others };
}

function intOption(options: Map<string, string>, name: string, fallback: number): number {
  const text = options.get(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw new UsageError(`--${name}: expected a whole number, got "${text}"`);
  return n;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runKamailioCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
