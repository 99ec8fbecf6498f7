// The CLI as users call it (the issue's own command lines, shortened), over loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServe } from './helpers/cli.js';
import type { TrunkCounters } from '../src/trunk/counters.js';

const dir = mkdtempSync(join(tmpdir(), 'sipstorm-cli-'));
let serve: Awaited<ReturnType<typeof startServe>>;

beforeAll(async () => {
  serve = await startServe(['--users', '1000', '--control-port', '0', '--min-expires', '1']);
});
afterAll(async () => {
  await serve?.stop();
});

describe('sipstorm run / serve', () => {
  it('REGISTER over UDP writes the JSON contract and a summary; no password anywhere', async () => {
    const json = join(dir, 'run.json');
    const r = await runCli([
      'run', '--target', `udp:127.0.0.1:${serve.port}`, '--agents', '50', '--rate', '200/s', '--duration', '1s', '--method', 'REGISTER', '--json', json,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.schemaVersion).toBe(1);
    expect(result.tool.name).toBe('sipstorm');
    expect(result.target).toBe(`udp:127.0.0.1:${serve.port}`);
    expect(result.config).toMatchObject({ agents: 50, rate: 200, method: 'REGISTER', transport: 'udp' });
    expect(result.operations.attempted).toBe(200);
    expect(result.operations.byClass.ok).toBe(200);
    expect(result.transactions.byStatus['401']).toBe(50);
    expect(r.stdout).toMatch(/REGISTER\s+200\s+200/);
    const everything = r.stdout + r.stderr + readFileSync(json, 'utf8');
    expect(everything).not.toMatch(/secret\d{4}/);
    expect(everything).not.toMatch(/response="/);
    // The trunk agrees: REGISTERs received = 200 operations + 50 digest retries + 50 unregistrations.
    const counters = (await (await fetch(`http://127.0.0.1:${serve.controlPort}/counters`)).json()) as TrunkCounters;
    expect(counters.received.REGISTER).toBe(result.transactions.sent);
    await fetch(`http://127.0.0.1:${serve.controlPort}/reset`, { method: 'POST' });
  });

  it('OPTIONS over TCP', async () => {
    const r = await runCli(['run', '--target', `tcp:127.0.0.1:${serve.port}`, '--agents', '10', '--rate', '100/s', '--duration', '1s', '--method', 'OPTIONS', '--json', join(dir, 'tcp.json')]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(dir, 'tcp.json'), 'utf8'));
    expect(result.config.transport).toBe('tcp');
    expect(result.operations.byClass.ok).toBe(100);
  });

  it('credentials from a CSV file', async () => {
    const csv = join(dir, 'creds.csv');
    writeFileSync(csv, 'user,password\nagent0007,secret0007\nagent0008,secret0008,127.0.0.1\n');
    const r = await runCli(['run', '--target', `udp:127.0.0.1:${serve.port}`, '--credentials', csv, '--agents', '2', '--rate', '20/s', '--duration', '500ms', '--json', join(dir, 'csv.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'csv.json'), 'utf8')).operations.byClass.ok).toBe(10);
  });

  it('a bad CSV line names the file and line, not the password', async () => {
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'agent0001,secret0001\nagent0002\n');
    const r = await runCli(['run', '--target', `udp:127.0.0.1:${serve.port}`, '--credentials', csv]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${csv}:2:`);
    expect(r.stderr).not.toContain('secret0001');
  });

  it('bad flags: exit 2 with a one-line error', async () => {
    const r = await runCli(['run', '--rate', 'fast']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--rate: expected a positive rate/);
    const unknown = await runCli(['run', '--rattle', '3']);
    expect(unknown.code).toBe(2);
    const target = await runCli(['run', '--target', 'sctp:1.2.3.4']);
    expect(target.code).toBe(2);
    expect(target.stderr).toMatch(/--target/);
    const warm = await runCli(['run', '--warm-up', '-5']);
    expect(warm.code).toBe(2);
    expect(warm.stderr).toMatch(/--warm-up must be between 0 and 10000 ms, got -5/);
  });

  it('an unusable target: exit 1 with one line', async () => {
    const r = await runCli(['run', '--target', 'udp:127.0.0.1:9', '--t1', '50', '--duration', '1s']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not usable: no SIP response/);
  });

  it('SIGINT stops, drains and still writes the partial result (exit 130)', async () => {
    const json = join(dir, 'int.json');
    const r = await runCli(
      ['run', '--target', `udp:127.0.0.1:${serve.port}`, '--agents', '20', '--rate', '100/s', '--duration', '60s', '--json', json, '--quiet'],
      { onSpawn: (child) => setTimeout(() => child.kill('SIGINT'), 2000) },
    );
    expect(r.code).toBe(130);
    expect(existsSync(json)).toBe(true);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.interrupted).toBe(true);
    expect(result.operations.attempted).toBeGreaterThan(50);
    expect(result.operations.attempted).toBeLessThan(1000);
    expect(result.extra.unregister.ok).toBe(20);
    expect(r.stdout).toMatch(/interrupted/i);
  });
});

describe('sipstorm serve switches from the command line', () => {
  it('--aor-limit 5/s --aor-limit-code 429 --retry-after 2', async () => {
    const limited = await startServe(['--users', '10', '--aor-limit', '5/s', '--aor-limit-code', '429', '--retry-after', '2']);
    try {
      const json = join(dir, 'limited.json');
      const r = await runCli(['run', '--target', `udp:127.0.0.1:${limited.port}`, '--agents', '2', '--rate', '40/s', '--duration', '1s', '--method', 'OPTIONS', '--json', json]);
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(readFileSync(json, 'utf8'));
      expect(result.operations.byClass.throttled).toBeGreaterThan(10);
      expect(result.operations.byReason['429 Too Many Requests']).toBe(result.operations.byClass.throttled);
    } finally {
      const out = await limited.stop();
      expect(out).toMatch(/"429":\d+/);
    }
  });

  it('IPv6: serve on ::1 and run udp:[::1]', async () => {
    const v6 = await startServe(['--host', '::1', '--users', '5']);
    try {
      const r = await runCli(['run', '--target', `udp:[::1]:${v6.port}`, '--agents', '5', '--rate', '20/s', '--duration', '500ms', '--json', join(dir, 'v6.json')]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, 'v6.json'), 'utf8')).operations.byClass.ok).toBe(10);
    } finally {
      await v6.stop();
    }
  });
});
