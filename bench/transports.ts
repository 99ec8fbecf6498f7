// `npm run bench:transports`: the core path over each transport against `sipstorm serve` (its own
// process, pinned to the other core): REGISTER with digest at a fixed rate over UDP, TCP, TLS, WS and
// WSS (one connection per agent on the stream transports, as softphones have), then a WSS login storm
// (every agent opens its connection and logs in within one second) for the connection set-up rate.
// Prints registrations/s, generator CPU microseconds per transaction (steady window, the responder's
// received counter as the denominator) and connection set-up times.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLK_TCK, cpuTicks, pinned, waitExit } from './proc.js';
import { Responder } from './responder.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli/main.js');
const WORK = join(tmpdir(), `sipstorm-bench-transports-${process.pid}`);
const BASE = Number(process.env.BENCH_PORT ?? 5970);
const PORTS = { udp: BASE, tcp: BASE, tls: BASE + 1, ws: BASE + 2, wss: BASE + 3, control: BASE + 4 };
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
const STORM_AGENTS = Number(process.env.BENCH_STORM_AGENTS ?? 5000);
const TRANSPORTS = (process.env.BENCH_TRANSPORTS ?? 'udp,tcp,tls,ws,wss').split(',') as Transport[];

type Transport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

interface Connects {
  count: number;
  failures: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

interface RunFile {
  durationMs: number;
  operations: { attempted: number; byClass: Record<string, number>; okRate: number };
  extra: { transportStats?: { connectUs?: Connects } };
}

function target(t: Transport): string {
  return t === 'ws' || t === 'wss' ? `${t}:127.0.0.1:${PORTS[t]}/` : `${t}:127.0.0.1:${PORTS[t]}`;
}

function generator(t: Transport, agents: number, rate: number, seconds: number, out: string): ChildProcess {
  const tls = t === 'tls' || t === 'wss' ? ['--insecure'] : [];
  const [cmd, args] = pinned(0, process.execPath, [
    CLI, 'run', '--target', target(t), '--agents', String(agents), '--rate', `${rate}/s`, '--duration', `${seconds}s`, '--method', 'REGISTER',
    '--expires', '3600', '--quiet', '--no-unregister', '--json', out, ...tls,
  ]);
  return spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

interface Row {
  transport: Transport;
  offered: number;
  registrationsPerS: number;
  transactionsPerS: number;
  cpuUsPerTx: number;
  failures: number;
  connects?: Connects;
}

async function measure(responder: Responder, t: Transport): Promise<Row> {
  await responder.reset();
  const out = join(WORK, `${t}.json`);
  const child = generator(t, AGENTS, RATE, SECONDS, out);
  // Warm-up covers connection set-up and the first digest handshake of every agent.
  const warmupMs = Math.min(4000, SECONDS * 300);
  const windowMs = SECONDS * 1000 - warmupMs - 1500;
  await sleep(warmupMs);
  const cpu0 = cpuTicks(child.pid!);
  const rx0 = await responder.received();
  await sleep(windowMs);
  const cpu1 = cpuTicks(child.pid!);
  const rx1 = await responder.received();
  const code = await waitExit(child);
  if (code !== 0) throw new Error(`sipstorm over ${t} exited ${code}`);
  const r = JSON.parse(readFileSync(out, 'utf8')) as RunFile;
  const tx = rx1 - rx0;
  return {
    transport: t,
    offered: RATE,
    registrationsPerS: r.operations.okRate,
    transactionsPerS: Math.round(tx / (windowMs / 1000)),
    cpuUsPerTx: tx > 0 ? (((cpu1 - cpu0) / CLK_TCK) * 1e6) / tx : Number.NaN,
    failures: r.operations.attempted - (r.operations.byClass.ok ?? 0),
    connects: r.extra.transportStats?.connectUs,
  };
}

/** Every agent connects over WSS and logs in within one second: how fast connections come up. */
async function wssStorm(responder: Responder): Promise<{ agents: number; seconds: number; ok: number; connects?: Connects; cpuMs: number }> {
  await responder.reset();
  const out = join(WORK, 'storm.json');
  const child = generator('wss', STORM_AGENTS, STORM_AGENTS, 1, out);
  const cpu0 = cpuTicks(child.pid!);
  let cpu1 = cpu0;
  const sampler = setInterval(() => (cpu1 = Math.max(cpu1, cpuTicks(child.pid!))), 100);
  const code = await waitExit(child);
  clearInterval(sampler);
  if (code !== 0) throw new Error(`wss storm exited ${code}`);
  const r = JSON.parse(readFileSync(out, 'utf8')) as RunFile;
  return { agents: STORM_AGENTS, seconds: r.durationMs / 1000, ok: r.operations.byClass.ok, connects: r.extra.transportStats?.connectUs, cpuMs: ((cpu1 - cpu0) / CLK_TCK) * 1000 };
}

const ms = (us: number | undefined) => (us === undefined ? '-' : (us / 1000).toFixed(2));

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first');
  mkdirSync(WORK, { recursive: true });
  const responder = await Responder.start(
    CLI,
    ['serve', '--port', String(PORTS.udp), '--transports', 'udp,tcp,tls,ws,wss', '--tls-port', String(PORTS.tls), '--ws-port', String(PORTS.ws),
      '--wss-port', String(PORTS.wss), '--users', String(Math.max(AGENTS, STORM_AGENTS)), '--control-port', String(PORTS.control), '--min-expires', '1'],
    PORTS.control,
  );
  const rows: Row[] = [];
  let storm: Awaited<ReturnType<typeof wssStorm>> | undefined;
  try {
    console.log(`\n== REGISTER with digest, ${AGENTS} agents at ${RATE}/s for ${SECONDS} s (stream transports: one connection per agent) ==`);
    console.log('transport  regs/s ok  tx/s at trunk  gen us/tx  failures  connections  connect p50 ms  p99 ms');
    for (const t of TRANSPORTS) {
      const row = await measure(responder, t);
      rows.push(row);
      console.log(
        [t.padEnd(9), row.registrationsPerS.toFixed(0).padStart(10), String(row.transactionsPerS).padStart(13), row.cpuUsPerTx.toFixed(1).padStart(10),
          String(row.failures).padStart(9), String(row.connects?.count ?? '-').padStart(12), ms(row.connects?.p50Us).padStart(15), ms(row.connects?.p99Us).padStart(7)].join('  '),
      );
    }
    console.log(`\n== WSS login storm: ${STORM_AGENTS} agents, each its own connection, all logging in within 1 s ==`);
    storm = await wssStorm(responder);
    const c = storm.connects;
    console.log(
      `connections up: ${c?.count ?? 0} (failed ${c?.failures ?? 0}), set-up p50 ${ms(c?.p50Us)} ms, p99 ${ms(c?.p99Us)} ms, max ${ms(c?.maxUs)} ms; ` +
        `logins ok ${storm.ok} in ${storm.seconds.toFixed(1)} s of schedule; generator CPU ${storm.cpuMs.toFixed(0)} ms ` +
        `(${((storm.cpuMs * 1000) / Math.max(1, c?.count ?? 1)).toFixed(0)} us per connection + login)`,
    );
  } finally {
    responder.child.kill('SIGINT');
    await waitExit(responder.child);
  }
  mkdirSync(join(ROOT, 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'results/bench-transports.json'), JSON.stringify({ at: new Date().toISOString(), rows, storm }, null, 2));
  console.log('\nfigures written to results/bench-transports.json');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
