// Generator saturation: the warnings read from a result, and the sampler against /proc (a fixture and
// the real kernel, with a real receive-buffer overflow on loopback).
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MetricsRecorder } from '../src/metrics/recorder.js';
import { buildRunResult, type RunResult } from '../src/report/result.js';
import { saturationWarnings, type SaturationFigures } from '../src/report/saturation.js';
import { readRcvbufErrors, SaturationSampler } from '../src/run/saturation-sampler.js';

function result(generator: Partial<RunResult['generator']>, saturation?: Partial<SaturationFigures>, tickMs?: number): RunResult {
  const r = buildRunResult(new MetricsRecorder({ startUs: 0 }).snapshot(), {
    tool: { name: 'sipstorm', version: 'test' },
    target: 'udp:127.0.0.1:5060',
    startedAt: new Date(0),
    durationMs: 1000,
    config: { agents: 1, rate: 1, method: 'REGISTER', transport: 'udp', ...(tickMs !== undefined ? { tickMs } : {}) },
    generator: { cpuUserMs: 0, cpuSystemMs: 0, maxRssBytes: 0 },
    extra: saturation ? { saturation: { rcvbufErrorsBefore: 0, rcvbufErrorsAfter: 0, rcvbufErrors: 0, cpuShare: 0.1, cpuMs: 100, wallMs: 1000, outstandingPeak: 3, ...saturation } } : {},
  });
  return { ...r, generator: { ...r.generator, ...generator } };
}

describe('saturationWarnings', () => {
  it('says nothing for a generator within its limits, or without sampler figures', () => {
    expect(saturationWarnings(result({ sendLagP99Ms: 5, eventLoopLagP99Ms: 20 }, { cpuShare: 0.9 }))).toEqual([]);
    expect(saturationWarnings(result({}))).toEqual([]);
  });

  it('judges send lag beyond the batched tick: an arrival waits up to one tick by design', () => {
    expect(saturationWarnings(result({ sendLagP99Ms: 9 }, undefined, 4))).toEqual([]);
    const w = saturationWarnings(result({ sendLagP99Ms: 9.001 }, undefined, 4));
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/send lag p99 was 9.001 ms \(over 9 ms: 5 ms beyond the 4 ms tick\)/);
  });

  it('one sentence per sign, each saying the figures describe the tool', () => {
    const w = saturationWarnings(result({ sendLagP99Ms: 5.001, eventLoopLagP99Ms: 20.5 }, { cpuShare: 0.97, rcvbufErrors: 12 }));
    expect(w).toHaveLength(4);
    expect(w[0]).toMatch(/send lag p99 was 5.001 ms \(over 5 ms\)/);
    expect(w[1]).toMatch(/event-loop lag p99 was 20.5 ms \(over 20 ms\)/);
    expect(w[2]).toMatch(/97 % of one CPU core/);
    expect(w[3]).toMatch(/dropped 12 datagrams \(RcvbufErrors/);
    for (const s of w) expect(s).toMatch(/the figures describe the tool, not the target/);
  });
});

describe('SaturationSampler', () => {
  it('reads RcvbufErrors from snmp (IPv4) and snmp6 (IPv6) and reports the growth', () => {
    const root = mkdtempSync(join(tmpdir(), 'sipstorm-proc-'));
    mkdirSync(join(root, 'net'));
    const snmp = (rcvbuf: number) =>
      'Ip: Forwarding DefaultTTL\nIp: 1 64\n' +
      'Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n' +
      `Udp: 100 2 ${rcvbuf} 90 ${rcvbuf} 0 0 0 0\nUdpLite: InDatagrams RcvbufErrors\nUdpLite: 0 999\n`;
    writeFileSync(join(root, 'net', 'snmp'), snmp(40));
    writeFileSync(join(root, 'net', 'snmp6'), 'Udp6InDatagrams                 \t7\nUdp6RcvbufErrors                \t2\nUdpLite6RcvbufErrors 50\n');
    const sampler = SaturationSampler.start({ procRoot: root });
    writeFileSync(join(root, 'net', 'snmp'), snmp(45));
    writeFileSync(join(root, 'net', 'snmp6'), 'Udp6RcvbufErrors 9\n');
    sampler.note(4);
    sampler.note(17);
    sampler.note(2);
    const f = sampler.finish();
    expect(f).toMatchObject({ rcvbufErrorsBefore: 42, rcvbufErrorsAfter: 54, rcvbufErrors: 12, outstandingPeak: 17 });
    // Unreadable /proc: unknown, not zero.
    const none = SaturationSampler.start({ procRoot: join(root, 'absent') }).finish();
    expect(none).toMatchObject({ rcvbufErrorsBefore: null, rcvbufErrorsAfter: null, rcvbufErrors: 0 });
  });

  it('CPU share: a busy loop is near a core, a sleep near nothing', async () => {
    const busy = SaturationSampler.start();
    const until = Date.now() + 300;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    const b = busy.finish();
    const idle = SaturationSampler.start();
    await new Promise((r) => setTimeout(r, 300));
    const i = idle.finish();
    expect(x).toBeGreaterThan(0);
    expect(b.wallMs).toBeGreaterThanOrEqual(299);
    expect(b.cpuShare).toBeGreaterThan(0.3); // the machine is shared: not necessarily the whole core
    expect(i.cpuShare).toBeLessThan(0.2);
    expect(b.cpuShare).toBeGreaterThan(i.cpuShare);
  });

  it.skipIf(!existsSync('/proc/net/snmp'))('sees a real receive-buffer overflow on loopback', async () => {
    const sink = createSocket({ type: 'udp4', recvBufferSize: 4096 });
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
    const port = sink.address().port;
    // A separate process floods the socket while this one's event loop is blocked, so nothing reads it.
    const blaster = spawn(
      process.execPath,
      [
        '-e',
        `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(1200);let n=0;` +
          `process.stdin.once('data',()=>{const go=()=>{for(let i=0;i<50;i++)s.send(b,${port},'127.0.0.1');if(++n<40)setImmediate(go);else setTimeout(()=>process.exit(0),50)};go()});`,
      ],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    await new Promise((r) => setTimeout(r, 300)); // let it start
    const sampler = SaturationSampler.start();
    expect(readRcvbufErrors()).not.toBeNull();
    blaster.stdin!.write('go\n');
    const until = Date.now() + 600;
    while (Date.now() < until) {
      /* block: the kernel buffer fills and overflows */
    }
    await new Promise((r) => blaster.on('exit', r));
    const f = sampler.finish();
    sink.close();
    expect(f.rcvbufErrors).toBeGreaterThan(0);
    expect(f.rcvbufErrorsAfter! - f.rcvbufErrorsBefore!).toBe(f.rcvbufErrors);
    expect(saturationWarnings(result({}, f)).some((w) => w.includes(`dropped ${f.rcvbufErrors} datagrams`))).toBe(true);
  });
});
