// `sipstorm serve`: the embedded simulated trunk, standalone, with its fault switches and control API.
import type { CommandModule } from 'yargs';
import { EmbeddedTrunk, type TrunkStartOptions } from '../trunk/server.js';
import { addListenerOptions, describeListeners, toListenerOptions } from './serve-listeners.js';
import { startControlApi } from '../trunk/control-api.js';
import type { TrunkOptions } from '../trunk/config.js';
import { allowlistEntryError } from '../trunk/allowlist.js';
import { parseDurationMs, parseLimit, UsageError } from './units.js';
import { EXIT_OK } from './output.js';

const UDP_IO_NAMES = { batch: 'recvmmsg/sendmmsg', dgram: 'node:dgram' } as const;
const ALGORITHMS = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256', 'SHA-512-256-sess'] as const;

export function serveCommand(setExit: (code: number) => void): CommandModule {
  return {
    command: 'serve',
    describe: 'Run the embedded simulated trunk (registrar + OPTIONS responder over UDP, TCP, TLS, WS, WSS)',
    builder: (y) =>
      addListenerOptions(y)
        .option('port', { type: 'number', default: 5060, describe: 'UDP and TCP port (0 = any free port)' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to bind (loopback by default; ::1 for IPv6)' })
        .option('transports', { type: 'string', default: 'udp,tcp', describe: 'Comma list of udp,tcp,tls,ws,wss (tls/ws/wss also turn on with their --*-port)' })
        .option('users', { type: 'number', default: 1000, describe: 'Accept agent0000.. / secret0000.. for this many users' })
        .option('realm', { type: 'string', describe: 'Digest realm (default: the host)' })
        .option('auth', { type: 'boolean', default: true, describe: 'Challenge REGISTER with digest (--no-auth to accept all)' })
        .option('algorithm', { type: 'string', choices: ALGORITHMS, default: 'MD5', describe: 'Digest algorithm of the challenge' })
        .option('nonce-ttl', { type: 'string', default: '30s', describe: 'Nonce lifetime; older nonces get 401 stale=true' })
        .option('min-expires', { type: 'number', default: 60, describe: 'Shorter REGISTER Expires get 423 Interval Too Brief' })
        .option('aor-limit', { type: 'string', describe: 'Per-AOR token bucket, e.g. 5/s or 5/s:10 (burst 10)' })
        .option('aor-limit-code', { type: 'number', choices: [429, 403, 503], default: 429, describe: 'Status answered over the per-AOR limit' })
        .option('retry-after', { type: 'number', describe: 'Retry-After seconds on limit answers' })
        .option('global-limit', { type: 'string', describe: 'Whole-trunk token bucket, answered 503 + Retry-After, e.g. 2000/s' })
        .option('publish-start', { type: 'string', describe: 'Publish window start after trunk start, e.g. 10s' })
        .option('publish-length', { type: 'string', default: '30s', describe: 'Publish window length' })
        .option('publish-mode', { type: 'string', choices: ['forbidden', 'stale-credentials'], default: 'forbidden' })
        .option('publish-methods', { type: 'string', default: 'REGISTER,OPTIONS', describe: 'Methods the publish window affects' })
        .option('delay', { type: 'string', describe: 'Added response delay, e.g. 20ms' })
        .option('jitter', { type: 'string', describe: 'Extra uniform random delay, e.g. 10ms' })
        .option('loss', { type: 'number', describe: 'Fraction of requests silently dropped (0..1)' })
        .option('max-concurrent-challenges', { type: 'number', describe: 'Digest handshakes outstanding at once; over it 403 "Forbidden (concurrent auth limit)"' })
        .option('challenge-timeout', { type: 'string', default: '4s', describe: 'An unanswered challenge stops counting after this long' })
        .option('allowlist', { type: 'string', describe: 'Comma list of source addresses/CIDRs let in; others get 403 "IP whitelist"' })
        .option('io', { type: 'string', choices: ['batch', 'dgram'], describe: 'UDP I/O: batch (native recvmmsg/sendmmsg; the default when the addon is built) or dgram (node:dgram)' })
        .option('control-port', { type: 'number', describe: 'HTTP control API on loopback (GET/POST /config, GET /counters, POST /reset)' })
        .option('max-duration', { type: 'string', describe: 'Stop by itself after this long (default: until Ctrl-C)' }),
    handler: async (argv) => {
      const options = toTrunkOptions(argv as unknown as Record<string, unknown>);
      const trunk = await EmbeddedTrunk.start(options);
      const control = argv['control-port'] !== undefined ? await startControlApi(trunk, argv['control-port'] as number) : undefined;
      process.stdout.write(
        `sipstorm trunk listening on ${describeListeners(trunk)}` +
          `${control ? `, control API http://127.0.0.1:${control.port}` : ''} (${options.users} users${trunk.udpIo ? `, UDP via ${UDP_IO_NAMES[trunk.udpIo]}` : ''})\n`,
      );
      const maxMs = argv['max-duration'] ? parseDurationMs(argv['max-duration'] as string, '--max-duration') : 0;
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        if (maxMs > 0) setTimeout(stop, maxMs).unref();
      });
      await control?.close();
      const counters = trunk.counters();
      await trunk.stop();
      process.stdout.write(`${JSON.stringify({ counters })}\n`);
      setExit(EXIT_OK);
    },
  };
}

export function toTrunkOptions(argv: Record<string, unknown>): TrunkStartOptions {
  const users = argv.users as number;
  if (!Number.isInteger(users) || users < 1) throw new UsageError(`--users must be a positive integer, got ${users}`);
  const retryAfterS = argv['retry-after'] as number | undefined;
  const options: TrunkStartOptions = {
    ...toListenerOptions(argv),
    host: argv.host as string,
    port: argv.port as number,
    users,
    realm: argv.realm as string | undefined,
    auth: argv.auth as boolean,
    algorithm: argv.algorithm as TrunkOptions['algorithm'],
    nonceTtlMs: parseDurationMs(argv['nonce-ttl'] as string, '--nonce-ttl'),
    minExpires: argv['min-expires'] as number,
    udpIo: argv.io as TrunkStartOptions['udpIo'],
  };
  if (argv['aor-limit']) {
    const limit = parseLimit(argv['aor-limit'] as string, '--aor-limit');
    options.aorLimit = { ...limit, code: argv['aor-limit-code'] as 429 | 403 | 503, retryAfterS };
  }
  if (argv['global-limit']) options.globalLimit = { ...parseLimit(argv['global-limit'] as string, '--global-limit'), retryAfterS };
  if (argv['publish-start']) {
    const methods = String(argv['publish-methods']).split(',').map((m) => m.trim().toUpperCase());
    for (const m of methods) if (m !== 'REGISTER' && m !== 'OPTIONS') throw new UsageError(`--publish-methods: unknown method "${m}"`);
    options.publishWindow = {
      startMs: parseDurationMs(argv['publish-start'] as string, '--publish-start'),
      lengthMs: parseDurationMs(argv['publish-length'] as string, '--publish-length'),
      mode: argv['publish-mode'] as 'forbidden' | 'stale-credentials',
      methods: methods as ('REGISTER' | 'OPTIONS')[],
    };
  }
  if (argv.delay || argv.jitter) {
    options.delay = {
      fixedMs: argv.delay ? parseDurationMs(argv.delay as string, '--delay') : 0,
      jitterMs: argv.jitter ? parseDurationMs(argv.jitter as string, '--jitter') : 0,
    };
  }
  if (argv.loss !== undefined) {
    const loss = argv.loss as number;
    if (!(loss >= 0 && loss <= 1)) throw new UsageError(`--loss must be between 0 and 1, got ${loss}`);
    options.lossRate = loss;
  }
  if (argv['max-concurrent-challenges'] !== undefined) {
    const max = argv['max-concurrent-challenges'] as number;
    if (!(Number.isInteger(max) && max >= 0)) throw new UsageError(`--max-concurrent-challenges must be an integer >= 0, got ${max}`);
    options.maxConcurrentChallenges = max;
  }
  if (argv['challenge-timeout'] !== undefined) {
    const ms = parseDurationMs(argv['challenge-timeout'] as string, '--challenge-timeout');
    if (!(ms > 0)) throw new UsageError('--challenge-timeout must be longer than 0');
    options.challengeTimeoutMs = ms;
  }
  if (argv.allowlist !== undefined) {
    const entries = String(argv.allowlist).split(',').map((e) => e.trim()).filter((e) => e !== '');
    if (entries.length === 0) throw new UsageError('--allowlist: expected addresses or CIDRs like 127.0.0.1,10.0.0.0/8');
    for (const entry of entries) {
      const why = allowlistEntryError(entry);
      if (why) throw new UsageError(`--allowlist: ${why}`);
    }
    options.allowlist = entries;
  }
  return options;
}
