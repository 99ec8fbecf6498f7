// Interop with a peer nobody here wrote: SIPp answering sipstorm's OPTIONS, and SIPp registering
// with digest against `sipstorm serve`.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrunkCounters } from '../src/trunk/counters.js';
import { hasTool } from './helpers/tools.js';
import { runCli, startServe } from './helpers/cli.js';

const HAVE_SIPP = hasTool('sipp', 'apt-get install sip-tester');
const SCENARIOS = fileURLToPath(new URL('./sipp/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sipstorm-sipp-'));

function sipp(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('sipp', [...args, '-nostdin', '-i', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe.skipIf(!HAVE_SIPP)('SIPp interop', () => {
  it('SIPp as the UAS (sipp -sn uas -aa) answers sipstorm OPTIONS', async () => {
    const port = 5300 + (process.pid % 200);
    const uas = spawn('sipp', ['-sn', 'uas', '-aa', '-p', String(port), '-i', '127.0.0.1', '-nostdin', '-bind_local'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 500));
      const json = join(dir, 'uas.json');
      const r = await runCli(['run', '--target', `udp:127.0.0.1:${port}`, '--method', 'OPTIONS', '--agents', '5', '--rate', '50/s', '--duration', '1s', '--json', json]);
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(readFileSync(json, 'utf8'));
      expect(result.operations.attempted).toBe(50);
      expect(result.operations.byClass.ok).toBe(50);
    } finally {
      uas.kill('SIGKILL');
    }
  });

  it('SIPp as a REGISTER client with digest against sipstorm serve', async () => {
    const serve = await startServe(['--users', '20', '--control-port', '0']);
    try {
      const users = join(dir, 'users.csv');
      writeFileSync(users, `SEQUENTIAL\n${Array.from({ length: 20 }, (_, i) => {
        const n = String(i).padStart(4, '0');
        return `agent${n};[authentication username=agent${n} password=secret${n}]`;
      }).join('\n')}\n`);
      const r = await sipp([`127.0.0.1:${serve.port}`, '-sf', join(SCENARIOS, 'register-digest.xml'), '-inf', users, '-m', '20', '-r', '20', '-timeout', '15s']);
      expect(r.code, r.out.slice(-2000)).toBe(0); // SIPp exits 0 only when every call succeeded
      const counters = (await (await fetch(`http://127.0.0.1:${serve.controlPort}/counters`)).json()) as TrunkCounters;
      expect(counters.byMethodStatus).toEqual({ 'REGISTER 401': 20, 'REGISTER 200': 20 });
      expect(counters.bindings).toBe(20);
    } finally {
      await serve.stop();
    }
  });
});
