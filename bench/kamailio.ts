// `npm run bench:kamailio`: sipstorm and SIPp against the same bundled Kamailio in one run, at the same
// offered transaction rates, REGISTER with digest and OPTIONS; then a step search for each
// generator's knee (highest offered rate with < 0.1% failures).
//
// Measured as bench/bench.ts does: in a steady window (after warm-up, before the end) the generator's
// utime+stime from /proc/<pid>/stat, divided by the SIP requests Kamailio received in that window
// (core:rcv_requests_* over JSON-RPC), so both generators are judged by the same counter. Kamailio's
// CPU is the sum over all its processes (its process group and the main PID's children). Generators
// are pinned to core 0, every Kamailio process to core 1.
//
// Env: BENCH_RATES (1000,3000), BENCH_SECONDS (15), BENCH_METHODS (REGISTER,OPTIONS),
// BENCH_KNEE_RATES (4000,8000,12000,16000,20000,25000,30000,40000), BENCH_KNEE_SECONDS (8), BENCH_KNEE_REFINE
// (bisection steps after the first failing rate, 1), BENCH_AGENTS (sipstorm agents; default one per
// transaction/s, so each agent sends once a second), BENCH_USERS (SIPp's CSV, 10000),
// BENCH_KAMAILIO_PORT (5975), BENCH_KAMAILIO_CHILDREN (4), BENCH_NO_KNEE=1, BENCH_RATES= (empty: knee
// only), BENCH_OUT (results/bench-kamailio.json).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLK_TCK, cpuTicks, HAVE_SIPP, HAVE_TASKSET, pinned, procStat, rcvbufErrors, waitExit } from './proc.js';
import { sippCallCounts, sippCommand, writeSippUsers } from './sipp.js';
import { KamailioServer } from '../src/kamailio/server.js';
import { diffStats, type KamailioStats } from '../src/kamailio/stats.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli/main.js');
const WORK = join(tmpdir(), `sipstorm-bench-kamailio-${process.pid}`);
const env = process.env;
const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);
const PORT = Number(env.BENCH_KAMAILIO_PORT ?? 5975);
const RATES = list(env.BENCH_RATES ?? '1000,3000').map(Number);
const SECONDS = Number(env.BENCH_SECONDS ?? 15);
const METHODS = list(env.BENCH_METHODS ?? 'REGISTER,OPTIONS') as Method[];
const KNEE_RATES = list(env.BENCH_KNEE_RATES ?? '4000,8000,12000,16000,20000,25000,30000,40000').map(Number);
const KNEE_SECONDS = Number(env.BENCH_KNEE_SECONDS ?? 8);
const KNEE_REFINE = Number(env.BENCH_KNEE_REFINE ?? 1);
const USERS = Number(env.BENCH_USERS ?? 10000);
const CHILDREN = Number(env.BENCH_KAMAILIO_CHILDREN ?? 4);

type Method = 'OPTIONS' | 'REGISTER';
type Generator = 'sipstorm' | 'sipp';

interface Sample {
  generator: Generator;
  method: Method;
  /** Transactions per second offered (SIPp REGISTER: calls/s x 2). */
  offeredRate: number;
  /** Requests Kamailio received per second in the steady window. */
  achievedRate: number;
  windowTransactions: number;
  /** The generator's own count: sipstorm operations not ok (dropped included), SIPp failed calls. */
  attempted: number;
  failures: number;
  failureRate: number;
  /** sipstorm: its failed operations by outcome class (dropped = an arrival for an agent still busy). */
  failuresByClass?: Record<string, number>;
  genCpuUsPerTx: number;
  kamailioCpuUsPerTx: number;
  /** The generator's own figure over its whole run (sipstorm: result.generator.cpuUsPerTransaction). */
  genSelfCpuUsPerTx?: number;
  /** sipstorm's UDP I/O path (result.config.io). */
  io?: string;
  rcvbufErrors: number;
  /** Kamailio's replies by code over the whole run (start to exit). */
  kamailioAnswered: Record<string, number>;
}

/** Every Kamailio process: its process group (it runs detached) and the main PID's children. */
function kamailioPids(main: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const s = procStat(pid);
    if (s && (pid === main || s.pgrp === main || s.ppid === main)) pids.push(pid);
  }
  return pids;
}

const kamailioTicks = (main: number) => kamailioPids(main).reduce((a, pid) => a + cpuTicks(pid), 0);

const requestsOf = (s: KamailioStats) => Object.values(s.received).reduce((a, b) => a + b, 0);

/**
 * sipstorm agents for a rate: one arrival per agent per second, so its 401s fall in the warm-up. Its
 * first second therefore offers twice the rate (each agent's first REGISTER is challenged): near
 * Kamailio's capacity that burst overflows Kamailio's socket, and an agent whose REGISTER waits for a
 * second retransmission is still busy at its next arrival (counted `dropped`, a failure).
 */
const agentsFor = (rate: number) => Number(env.BENCH_AGENTS ?? Math.max(100, rate));

function startGenerator(generator: Generator, method: Method, rate: number, seconds: number, out: string): ChildProcess {
  if (generator === 'sipstorm') {
    const [cmd, args] = pinned(0, process.execPath, [
      CLI, 'run', '--target', `udp:127.0.0.1:${PORT}`, '--agents', String(agentsFor(rate)), '--rate', `${rate}/s`, '--duration', `${seconds}s`,
      '--method', method, '--quiet', '--no-unregister', '--json', out,
    ]);
    // Its stderr only matters if it fails (then printed); "result written to" would clutter the table.
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => {
      if (code !== 0) process.stderr.write(err);
    });
    return child;
  }
  const [cmd, args] = sippCommand({ port: PORT, method, rate, seconds, usersFile: join(WORK, 'users.csv'), statFile: out });
  return spawn(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'], cwd: WORK });
}

function generatorOutcome(
  generator: Generator,
  out: string,
): { attempted: number; failed: number; byClass?: Record<string, number>; selfCpu?: number; io?: string } {
  if (!existsSync(out)) return { attempted: 0, failed: 0 };
  if (generator === 'sipstorm') {
    const r = JSON.parse(readFileSync(out, 'utf8')) as {
      operations: { attempted: number; byClass: Record<string, number> };
      generator: { cpuUsPerTransaction: number };
      config: { io?: string };
    };
    const byClass = Object.fromEntries(Object.entries(r.operations.byClass).filter(([cls, n]) => cls !== 'ok' && n > 0));
    return { attempted: r.operations.attempted, failed: r.operations.attempted - r.operations.byClass.ok, byClass, selfCpu: r.generator.cpuUsPerTransaction, io: r.config.io };
  }
  return sippCallCounts(out);
}

async function measure(kam: KamailioServer, generator: Generator, method: Method, rate: number, seconds: number): Promise<Sample> {
  const out = join(WORK, `${generator}-${method}-${rate}-${seconds}.${generator === 'sipp' ? 'csv' : 'json'}`);
  rmSync(out, { force: true });
  const start = await kam.stats();
  const rcvbufBefore = rcvbufErrors();
  const child = startGenerator(generator, method, rate, seconds, out);
  if (child.pid === undefined) throw new Error(`${generator} did not start`);
  const pid = child.pid; // taskset execs the generator: the same PID
  // At least 1.5 s: a sipstorm agent's first REGISTER (401 + retry) falls in its first second.
  const warmupMs = Math.min(3000, Math.max(1500, seconds * 250));
  const windowMs = seconds * 1000 - warmupMs - Math.min(2000, seconds * 100);
  await sleep(warmupMs);
  const cpu0 = cpuTicks(pid);
  const k0 = kamailioTicks(kam.pid);
  const s0 = await kam.stats();
  await sleep(windowMs);
  const cpu1 = cpuTicks(pid);
  const k1 = kamailioTicks(kam.pid);
  const s1 = await kam.stats();
  const code = await waitExit(child);
  if (code !== 0 && generator === 'sipstorm') throw new Error(`sipstorm exited ${code}`);
  const tx = requestsOf(s1) - requestsOf(s0);
  const { attempted, failed, byClass, selfCpu, io } = generatorOutcome(generator, out);
  const perTx = (ticks: number) => (tx > 0 ? ((ticks / CLK_TCK) * 1e6) / tx : Number.NaN);
  return {
    generator,
    method,
    offeredRate: rate,
    achievedRate: Math.round(tx / (windowMs / 1000)),
    windowTransactions: tx,
    attempted,
    failures: failed,
    failureRate: attempted > 0 ? failed / attempted : 1,
    failuresByClass: byClass,
    genCpuUsPerTx: perTx(cpu1 - cpu0),
    kamailioCpuUsPerTx: perTx(k1 - k0),
    genSelfCpuUsPerTx: selfCpu,
    io,
    rcvbufErrors: rcvbufErrors() - rcvbufBefore,
    kamailioAnswered: diffStats(start, await kam.stats()).answered,
  };
}

const passes = (s: Sample) => s.failureRate < 0.001 && s.achievedRate >= s.offeredRate * 0.97;

const HEADER = 'generator  method     offered   achieved   fail %   gen us/tx   kam us/tx  rcvbufE  io';
function row(s: Sample): string {
  return [
    s.generator.padEnd(9), s.method.padEnd(9), String(s.offeredRate).padStart(7), String(s.achievedRate).padStart(9),
    (s.failureRate * 100).toFixed(3).padStart(8), s.genCpuUsPerTx.toFixed(1).padStart(10), s.kamailioCpuUsPerTx.toFixed(1).padStart(11),
    String(s.rcvbufErrors).padStart(8), ` ${s.io ?? ''}`,
  ].join('  ');
}

/** Ascending steps until one fails, then bisection between the last pass and the first failure. */
async function knee(kam: KamailioServer, generator: Generator, method: Method, samples: Sample[]): Promise<number> {
  const step = async (rate: number) => {
    const s = await measure(kam, generator, method, rate, KNEE_SECONDS);
    samples.push(s);
    console.log(row(s));
    return passes(s);
  };
  let good = 0;
  let bad = 0;
  for (const rate of KNEE_RATES) {
    if (await step(rate)) good = rate;
    else {
      bad = rate;
      break;
    }
  }
  for (let i = 0; i < KNEE_REFINE && bad > 0; i++) {
    const mid = Math.round((good + bad) / 2 / 250) * 250;
    if (mid <= good || mid >= bad) break;
    if (await step(mid)) good = mid;
    else bad = mid;
  }
  return good;
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first');
  mkdirSync(WORK, { recursive: true });
  writeSippUsers(join(WORK, 'users.csv'), USERS);
  const generators: Generator[] = HAVE_SIPP ? ['sipstorm', 'sipp'] : ['sipstorm'];
  if (!HAVE_SIPP) console.log('SIPp not installed (apt-get install sip-tester): sipstorm figures only, no ratio');
  const maxAgents = Math.max(USERS, ...[...RATES, ...KNEE_RATES].map(agentsFor));
  const kam = await KamailioServer.start({ port: PORT, users: maxAgents, children: CHILDREN, sharedMemoryMb: 1024 });
  const kamPids = kamailioPids(kam.pid);
  if (HAVE_TASKSET) for (const pid of kamPids) execFileSync('taskset', ['-a', '-c', '-p', '1', String(pid)], { stdio: 'ignore' });
  console.log(`kamailio pid ${kam.pid} (${kamPids.length} processes${HAVE_TASKSET ? ', pinned to core 1' : ''}) on udp:127.0.0.1:${PORT}, ${maxAgents} users`);
  const samples: Sample[] = [];
  const knees: { generator: Generator; method: Method; kneeRate: number }[] = [];
  const ratios: { method: Method; rate: number; sipstorm: number; sipp: number; ratio: number }[] = [];
  try {
    if (RATES.length > 0) {
      console.log(`\n== fixed rates, ${SECONDS} s each (transactions/s; CPU per request Kamailio received) ==`);
      console.log(HEADER);
    }
    for (const method of METHODS) {
      for (const rate of RATES) {
        for (const generator of generators) {
          const s = await measure(kam, generator, method, rate, SECONDS);
          samples.push(s);
          console.log(row(s));
        }
      }
    }
    if (RATES.length > 0 && generators.length > 1) console.log('\n== generator CPU per transaction, sipstorm / SIPp ==');
    for (const method of METHODS) {
      for (const rate of RATES) {
        const a = samples.find((s) => s.generator === 'sipstorm' && s.method === method && s.offeredRate === rate);
        const b = samples.find((s) => s.generator === 'sipp' && s.method === method && s.offeredRate === rate);
        if (!a || !b) continue;
        const ratio = a.genCpuUsPerTx / b.genCpuUsPerTx;
        ratios.push({ method, rate, sipstorm: a.genCpuUsPerTx, sipp: b.genCpuUsPerTx, ratio });
        console.log(
          `${method.padEnd(9)} ${String(rate).padStart(6)}/s  sipstorm ${a.genCpuUsPerTx.toFixed(1)} us  sipp ${b.genCpuUsPerTx.toFixed(1)} us  ratio ${ratio.toFixed(2)}` +
            `  (kamailio ${a.kamailioCpuUsPerTx.toFixed(1)} / ${b.kamailioCpuUsPerTx.toFixed(1)} us)`,
        );
      }
    }
    if (env.BENCH_NO_KNEE !== '1') {
      console.log(`\n== knee: highest offered rate with < 0.1% failures and >= 97% achieved, ${KNEE_SECONDS} s steps ==`);
      console.log(HEADER);
      for (const method of METHODS) {
        for (const generator of generators) {
          const kneeRate = await knee(kam, generator, method, samples);
          knees.push({ generator, method, kneeRate });
          console.log(`knee ${generator} ${method}: ${kneeRate}/s${kneeRate === KNEE_RATES[KNEE_RATES.length - 1] ? ' (the top step: not reached)' : ''}`);
        }
      }
    }
  } finally {
    await kam.stop();
    rmSync(WORK, { recursive: true, force: true });
  }
  const outFile = env.BENCH_OUT ?? join(ROOT, 'results/bench-kamailio.json');
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(
    outFile,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        setup: { rates: RATES, seconds: SECONDS, kneeRates: KNEE_RATES, kneeSeconds: KNEE_SECONDS, kamailioChildren: CHILDREN, kamailioProcesses: kamPids.length, pinned: HAVE_TASKSET },
        samples,
        ratios,
        knees,
      },
      null,
      2,
    ),
  );
  console.log(`\nresults written to ${outFile}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
