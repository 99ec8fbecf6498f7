// No credential leaves sipstorm: a real run through the CLI writes every output it can (JSON, CSV,
// HTML, debug NDJSON log, SIP trace of two agents, a Prometheus scrape, stdout), and none of them holds
// a password, a nonce the trunk issued, a cnonce, or a digest response seen on the wire. A UDP relay
// between sipstorm and the embedded trunk records the real values to look for.
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedTrunk } from '../src/trunk/server.js';
import { runCli, type CliResult } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sipstorm-redaction-'));
const files = {
  json: join(dir, 'run.json'),
  csv: join(dir, 'run.csv'),
  html: join(dir, 'run.html'),
  log: join(dir, 'run.ndjson'),
  stdout: join(dir, 'stdout.txt'),
  trace: join(dir, 'trace.txt'),
  metrics: join(dir, 'metrics.txt'),
};

/** Forwards datagrams client <-> trunk (one upstream socket per client port) and keeps their text. */
class Relay {
  readonly wire: string[] = [];
  private readonly upstream = new Map<number, Socket>();
  private constructor(
    private readonly front: Socket,
    private readonly trunkPort: number,
  ) {
    front.on('message', (msg, from) => {
      this.wire.push(msg.toString('utf8'));
      let up = this.upstream.get(from.port);
      if (!up) {
        up = createSocket('udp4');
        up.on('message', (reply) => {
          this.wire.push(reply.toString('utf8'));
          front.send(reply, from.port, from.address);
        });
        this.upstream.set(from.port, up);
      }
      up.send(msg, this.trunkPort, '127.0.0.1');
    });
  }
  static async start(trunkPort: number): Promise<Relay> {
    const front = createSocket('udp4');
    await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
    return new Relay(front, trunkPort);
  }
  get port(): number {
    return this.front.address().port;
  }
  close(): void {
    for (const s of this.upstream.values()) s.close();
    this.front.close();
  }
}

let trunk: EmbeddedTrunk;
let relay: Relay;
let run: CliResult;

beforeAll(async () => {
  trunk = await EmbeddedTrunk.start({ port: 0, users: 20, minExpires: 1 });
  relay = await Relay.start(trunk.address.port);
  let scraped: Promise<void> | null = null;
  run = await runCli(
    [
      'run', '--target', `udp:127.0.0.1:${relay.port}`, '--agents', '10', '--rate', '40/s', '--duration', '1500ms', '--method', 'auto', '--expires', '1',
      '--json', files.json, '--csv', files.csv, '--html', files.html, '--log-level', 'debug',
      '--trace', files.trace, '--trace-agents', 'agent0003,agent0007', '--prometheus', '0',
    ],
    {
      timeoutMs: 60_000,
      onSpawn: (child) => {
        let err = '';
        child.stderr!.on('data', (d) => {
          err += d;
          const m = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(err);
          if (m && !scraped) {
            scraped = new Promise((r) => setTimeout(r, 800))
              .then(() => fetch(m[1]))
              .then((res) => res.text())
              .then((text) => writeFileSync(files.metrics, text));
          }
        });
      },
    },
  );
  await scraped;
  writeFileSync(files.log, run.stderr);
  writeFileSync(files.stdout, run.stdout);
}, 90_000);

afterAll(async () => {
  relay?.close();
  await trunk?.stop();
});

describe('credentials never reach an output', () => {
  it('no password, nonce, cnonce or digest response in any file the run wrote', () => {
    expect(run.code, run.stderr).toBe(0);
    const param = (name: string) => [...new Set(relay.wire.flatMap((m) => [...m.matchAll(new RegExp(`\\b${name}="([^"]+)"`, 'g'))].map((x) => x[1])))];
    const nonces = param('nonce');
    const cnonces = param('cnonce');
    const responses = param('response');
    // The run really authenticated (and refreshed with Expires 1): many distinct secrets to look for.
    expect(nonces.length).toBeGreaterThan(5);
    expect(responses.length).toBeGreaterThan(10);
    expect(relay.wire.some((m) => /secret\d{4}/.test(m))).toBe(false); // digest never sends the password itself

    // Every output exists and holds what it should, so an empty file cannot pass for a clean one.
    for (const [name, file] of Object.entries(files)) expect(existsSync(file), name).toBe(true);
    const text = Object.fromEntries(Object.entries(files).map(([name, file]) => [name, readFileSync(file, 'utf8')]));
    expect(JSON.parse(text.json).operations.attempted).toBeGreaterThanOrEqual(60); // 60 arrivals + binding refreshes
    expect(text.log.split('\n').some((l) => l.startsWith('{') && JSON.parse(l).level >= 20)).toBe(true);
    expect(text.metrics).toMatch(/sipstorm_operations_total\{method="REGISTER",class="ok"\} \d+/);
    expect(text.stdout).toMatch(/REGISTER/);
    expect(text.html.length).toBeGreaterThan(1000);
    expect(text.csv.split('\n').length).toBeGreaterThan(1);

    for (const [name, content] of Object.entries(text)) {
      expect(content, name).not.toMatch(/secret\d{4}/);
      expect(content, name).not.toMatch(/response="(?!\[redacted\])/);
      for (const v of [...nonces, ...cnonces, ...responses]) expect(content.includes(v), `${name} holds ${v}`).toBe(false);
    }
  });

  it('the trace holds the two chosen agents, redacted', () => {
    const trace = readFileSync(files.trace, 'utf8');
    const users = new Set([...trace.matchAll(/^From: <sip:(agent\d{4})@/gm)].map((m) => m[1]));
    expect([...users].sort()).toEqual(['agent0003', 'agent0007']);
    expect(trace).toMatch(/^U \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/m);
    expect(trace).toMatch(/^Authorization: Digest username="agent000[37]", realm="[^"]+", nonce="\[redacted\]"/m);
    expect(trace).toMatch(/^SIP\/2.0 401 /m);
  });
});
