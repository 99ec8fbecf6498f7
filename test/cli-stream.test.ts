// The built CLI over TLS and WSS: `sipstorm serve --tls-port/--wss-port` with its generated lab
// certificate, and `sipstorm run` against it with --insecure, with --ca, and with neither.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sipstorm-cli-stream-'));
let serve: { child: ChildProcess; line: string; ports: Record<string, number>; ca: string; stop: () => Promise<string> };

/** Starts `sipstorm serve` and parses its listener line: every transport's port and the CA to trust. */
async function startStreamServe(args: string[]): Promise<typeof serve> {
  const started = await startServe(args);
  const ports: Record<string, number> = {};
  for (const m of started.line.matchAll(/([a-z+]+) 127\.0\.0\.1:(\d+)/g)) for (const t of m[1].split('+')) ports[t] = Number(m[2]);
  const ca = /TLS certificate (\S+)/.exec(started.line)?.[1] ?? '';
  return { child: started.child, line: started.line, ports, ca, stop: started.stop };
}

beforeAll(async () => {
  serve = await startStreamServe(['--users', '100', '--min-expires', '1', '--tls-port', '0', '--wss-port', '0']);
});
afterAll(async () => {
  if (!serve) return;
  await serve.stop();
  // The generated key and certificate go with the trunk.
  expect(existsSync(serve.ca)).toBe(false);
});

describe('sipstorm serve / run over TLS and WSS', () => {
  it('serve lists every listener and the generated certificate to trust', () => {
    expect(Object.keys(serve.ports).sort()).toEqual(['tcp', 'tls', 'udp', 'wss']);
    expect(serve.line).toMatch(/self-signed, generated for this run: pass it to sipstorm run --ca, or use --insecure/);
    expect(readFileSync(serve.ca, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('run --target wss:... --insecure: REGISTER with digest, exit 0, connection set-up reported', async () => {
    const json = join(dir, 'wss.json');
    const r = await runCli(['run', '--target', `wss:127.0.0.1:${serve.ports.wss}/`, '--insecure', '--agents', '5', '--rate', '20/s', '--duration', '1s', '--method', 'REGISTER', '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.config.transport).toBe('wss');
    expect(result.target).toBe(`wss:127.0.0.1:${serve.ports.wss}/`);
    expect(result.operations.byClass.ok).toBeGreaterThanOrEqual(5);
    expect(result.operations.byClass.ok + result.operations.byClass.dropped).toBe(20);
    expect(result.extra.transportStats.connectUs.count).toBe(5);
    expect(r.stderr).toMatch(/connections: 5 set up \(p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms\)/);
  });

  it('run --target tls:... --ca CERT: ok; without --ca or --insecure the probe names the certificate problem (exit 1)', async () => {
    const ok = await runCli(['run', '--target', `tls:127.0.0.1:${serve.ports.tls}`, '--ca', serve.ca, '--agents', '3', '--rate', '15/s', '--duration', '600ms', '--method', 'OPTIONS', '--json', join(dir, 'tls.json')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'tls.json'), 'utf8')).operations.byClass.ok).toBeGreaterThanOrEqual(3);
    const refused = await runCli(['run', '--target', `tls:127.0.0.1:${serve.ports.tls}`, '--agents', '1', '--rate', '1/s', '--duration', '1s']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is not usable: connect failed: tls: self-signed certificate/);
  });

  it('--ca, --insecure and --sni are refused for targets without TLS', async () => {
    const r = await runCli(['run', '--target', `udp:127.0.0.1:${serve.ports.udp}`, '--insecure', '--duration', '1s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--insecure applies to tls: and wss: targets, not udp:/);
  });
});
