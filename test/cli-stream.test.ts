// The built CLI over TLS and WSS: `sipstorm serve --tls-port/--wss-port` with its generated lab
// certificate, and `sipstorm run` against it with --insecure, with --ca, and with neither.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sipstorm-cli-stream-'));
let serve: { child: ChildProcess; line: string; ports: Record<string, number>; ca: string };

/** Starts `sipstorm serve` and resolves with its listener line parsed. */
function startServe(args: string[]): Promise<typeof serve> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let started = false;
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    child.stdout.on('data', (d) => {
      stdout += d;
      const line = stdout.split('\n').slice(0, -1).find((l) => l.startsWith('sipstorm trunk listening on ')); // whole lines only
      if (!line || started) return;
      started = true;
      child.removeAllListeners('exit');
      const ports: Record<string, number> = {};
      for (const m of line.matchAll(/([a-z+]+) 127\.0\.0\.1:(\d+)/g)) for (const t of m[1].split('+')) ports[t] = Number(m[2]);
      const ca = /TLS certificate (\S+)/.exec(line)?.[1] ?? '';
      resolve({ child, line, ports, ca });
    });
  });
}

beforeAll(async () => {
  serve = await startServe(['--users', '100', '--min-expires', '1', '--tls-port', '0', '--wss-port', '0']);
});
afterAll(async () => {
  if (!serve) return;
  await new Promise<void>((done) => {
    serve.child.on('exit', () => done());
    serve.child.kill('SIGINT');
  });
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
