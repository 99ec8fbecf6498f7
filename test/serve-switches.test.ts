// `sipstorm serve` with the issue-5 switches from the command line: the built CLI (npm run build),
// real sockets and real time.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startServe } from './helpers/cli.js';
import { openAgents, type RawAgent } from './helpers/raw-agent.js';
import type { TrunkCounters } from '../src/trunk/counters.js';

const CONCURRENT = '403 Forbidden (concurrent auth limit)';
const WHITELIST = '403 IP whitelist';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const opened: RawAgent[] = [];
afterEach(() => opened.splice(0).forEach((a) => a.close()));

describe('sipstorm serve --max-concurrent-challenges / --challenge-timeout / --allowlist', () => {
  it('the flags reach the trunk: GET /config shows them, 403 IP whitelist off the list, one handshake at a time until the timeout', async () => {
    const serve = await startServe([
      '--users', '5', '--control-port', '0', '--max-concurrent-challenges', '1', '--challenge-timeout', '500ms', '--allowlist', '127.0.0.2, 10.0.0.0/8',
    ]);
    let stdout = '';
    try {
      const config = await (await fetch(`http://127.0.0.1:${serve.controlPort}/config`)).json();
      expect(config).toMatchObject({ maxConcurrentChallenges: 1, challengeTimeoutMs: 500, allowlist: ['127.0.0.2', '10.0.0.0/8'] });
      const target = { host: '127.0.0.1', port: serve.port };
      const [outside] = await openAgents(target, 1);
      const [a, b] = await openAgents(target, 2, { bind: '127.0.0.2' }, 1);
      opened.push(outside, a, b);
      const line = async (agent: RawAgent) => {
        const m = await agent.request();
        return `${m.status} ${m.reason}`;
      };
      expect(await line(outside)).toBe(WHITELIST);
      expect(await line(a)).toBe('401 Unauthorized');
      expect(await line(b)).toBe(CONCURRENT);
      await sleep(600); // a never answered: its slot is free again
      expect(await line(b)).toBe('401 Unauthorized');
    } finally {
      stdout = await serve.stop();
    }
    const { counters } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { counters: TrunkCounters };
    expect(counters.byReason).toEqual({ [WHITELIST]: 1, [CONCURRENT]: 1, '401 Unauthorized': 2 });
  });

  it('--io picks the UDP listener (batched by default), and both answer', async () => {
    for (const [args, via] of [[[], 'recvmmsg/sendmmsg'], [['--io', 'dgram'], 'node:dgram']] as const) {
      const serve = await startServe(['--users', '2', '--no-auth', ...args]);
      try {
        expect(serve.line).toContain(`(2 users, UDP via ${via})`);
        const [agent] = await openAgents({ host: '127.0.0.1', port: serve.port }, 1);
        opened.push(agent);
        expect((await agent.request()).status).toBe(200);
      } finally {
        await serve.stop();
      }
    }
  });

  it('bad values are usage errors (exit 2) naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--allowlist', '10.0.0.0/40'], /--allowlist: "10\.0\.0\.0\/40": prefix length must be 0\.\.32/],
      [['--allowlist', 'pbx.example'], /--allowlist: "pbx\.example" is not an IPv4\/IPv6 address or CIDR/],
      [['--allowlist', ','], /--allowlist: expected addresses/],
      [['--max-concurrent-challenges', '1.5'], /--max-concurrent-challenges must be an integer >= 0/],
      [['--challenge-timeout', '0ms'], /--challenge-timeout must be longer than 0/],
      [['--io', 'epoll'], /Argument: io, Given: "epoll", Choices: "batch", "dgram"/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(['serve', '--port', '0', ...args], { timeoutMs: 20_000 })));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(cases[i][1]);
    });
  });
});
