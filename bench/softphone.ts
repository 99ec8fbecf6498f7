// Softphone agents (sip.js UserAgent + Registerer each, one WebSocket each) in one process: how many,
// at what memory per agent and CPU per registration. The embedded trunk runs in a child process (so
// its CPU and memory are not counted), and each transport's fleet in a fresh child process of its own
// (so one fleet's grown heap does not hide the next one's memory).
//   npm run bench:softphone        BENCH_AGENTS=300 (default)  BENCH_ROUNDS=3 (re-REGISTER rounds)
// Per transport (ws, then wss with the trunk's lab certificate as CA), a fresh fleet of N agents:
//   login    every agent at once: connect + REGISTER -> 401 -> REGISTER -> 200 (the login storm)
//   refresh  BENCH_ROUNDS rounds of every agent re-REGISTERing at once on its open socket (sip.js
//            resends its last Authorization while the nonce is fresh: one transaction, 200)
// Printed: registrations/s (wall), CPU us per registration (this process: user + system), RSS and
// heap per agent (after a GC, delta from the baseline before the fleet), and the outcome classes.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { identitiesFromTemplates } from '../src/run/identities.js';
import { SoftphoneFleet } from '../src/softphone/fleet.js';
import { EmbeddedTrunk } from '../src/trunk/server.js';

interface TrunkReady {
  ws: number;
  wss: number;
  certPath: string;
}

interface Step {
  transport: 'ws' | 'wss';
  phase: 'login' | 'refresh';
  registrations: number;
  ok: number;
  wallMs: number;
  perSecond: number;
  cpuUsPerRegistration: number;
  rssPerAgentKb: number;
  heapPerAgentKb: number;
  byClass: Record<string, number>;
}

async function trunkChild(agents: number): Promise<void> {
  const trunk = await EmbeddedTrunk.start({ port: 0, users: agents, minExpires: 1, transports: ['ws', 'wss'] });
  process.send!({ ws: trunk.addresses.ws!.port, wss: trunk.addresses.wss!.port, certPath: trunk.tlsCertificate!.certPath } satisfies TrunkReady);
  process.on('message', async () => {
    await trunk.stop();
    process.exit(0);
  });
}

const gc = (globalThis as { gc?: () => void }).gc;

function memory(): { rss: number; heap: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

async function measure(fleet: SoftphoneFleet, agents: number, run: () => void): Promise<{ wallMs: number; cpuUs: number; ok: number; byClass: Record<string, number> }> {
  const before = { ...fleet.doneByClass };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  run();
  await fleet.whenIdle(60_000);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const byClass: Record<string, number> = {};
  for (const [cls, n] of Object.entries(fleet.doneByClass)) if (n - before[cls as keyof typeof before] > 0) byClass[cls] = n - before[cls as keyof typeof before];
  if (fleet.busy > 0) throw new Error(`${fleet.busy} of ${agents} operations still open after 60 s`);
  return { wallMs, cpuUs: cpu.user + cpu.system, ok: byClass.ok ?? 0, byClass };
}

async function benchTransport(transport: 'ws' | 'wss', ready: TrunkReady, agents: number, rounds: number): Promise<Step[]> {
  const base = memory();
  const fleet = new SoftphoneFleet();
  const url = `${transport}://127.0.0.1:${transport === 'ws' ? ready.ws : ready.wss}/`;
  fleet.start(identitiesFromTemplates(agents, 'agent{n:4}', 'secret{n:4}', '127.0.0.1'), {
    target: url,
    expires: 3600,
    socket: transport === 'wss' ? { ca: readFileSync(ready.certPath, 'utf8') } : undefined,
    retry: null,
    refresh: false,
  });
  const steps: Step[] = [];
  const step = (phase: Step['phase'], m: Awaited<ReturnType<typeof measure>>, registrations: number) => {
    const mem = memory();
    steps.push({
      transport,
      phase,
      registrations,
      ok: m.ok,
      wallMs: Math.round(m.wallMs),
      perSecond: Math.round((registrations / m.wallMs) * 1000),
      cpuUsPerRegistration: Math.round(m.cpuUs / registrations),
      rssPerAgentKb: Math.round((mem.rss - base.rss) / agents / 1024),
      heapPerAgentKb: Math.round(((mem.heap - base.heap) / agents / 1024) * 10) / 10,
      byClass: m.byClass,
    });
  };
  const all = () => {
    const now = fleet.clock.nowUs();
    for (let i = 0; i < agents; i++) fleet.register(i, now);
  };
  step('login', await measure(fleet, agents, all), agents);
  let total = { wallMs: 0, cpuUs: 0, ok: 0, byClass: {} as Record<string, number> };
  for (let r = 0; r < rounds; r++) {
    const m = await measure(fleet, agents, all);
    total = { wallMs: total.wallMs + m.wallMs, cpuUs: total.cpuUs + m.cpuUs, ok: total.ok + m.ok, byClass: addCounts(total.byClass, m.byClass) };
  }
  if (rounds > 0) step('refresh', total, agents * rounds);
  await fleet.stop({ unregister: false, drainMs: 5000 });
  return steps;
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

async function main(): Promise<void> {
  const agents = Number(process.env.BENCH_AGENTS ?? 300);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  if (process.argv.includes('--trunk')) return trunkChild(agents);
  const fleetAt = process.argv.indexOf('--fleet');
  if (fleetAt > 0) {
    const [transport, ready] = JSON.parse(process.argv[fleetAt + 1]) as ['ws' | 'wss', TrunkReady];
    process.send!(await benchTransport(transport, ready, agents, rounds));
    return;
  }
  if (!(agents > 0 && rounds >= 0)) throw new Error('BENCH_AGENTS must be > 0 and BENCH_ROUNDS >= 0');
  const child = fork(process.argv[1], ['--trunk'], { stdio: 'inherit', env: process.env });
  const ready = await new Promise<TrunkReady>((resolve) => child.once('message', (m) => resolve(m as TrunkReady)));
  const steps: Step[] = [];
  try {
    for (const transport of ['ws', 'wss'] as const) {
      const fleet = fork(process.argv[1], ['--fleet', JSON.stringify([transport, ready])], { stdio: 'inherit', env: process.env, execArgv: process.execArgv });
      steps.push(...(await new Promise<Step[]>((resolve, reject) => {
        fleet.once('message', (m) => resolve(m as Step[]));
        fleet.once('exit', (code) => reject(new Error(`${transport} fleet exited with ${code} before reporting`)));
      })));
    }
  } finally {
    child.send({ stop: true });
  }
  console.log(`softphone agents (sip.js 0.21 over ws), ${agents} agents per fleet process, trunk in its own process${gc ? '' : ' (no --expose-gc: memory figures include garbage)'}`);
  console.log('transport phase    registrations   ok    wall ms   reg/s  CPU us/reg  RSS KB/agent  heap KB/agent  classes');
  for (const s of steps) {
    console.log(
      `${s.transport.padEnd(9)} ${s.phase.padEnd(8)} ${String(s.registrations).padStart(13)} ${String(s.ok).padStart(4)} ${String(s.wallMs).padStart(10)} ${String(s.perSecond).padStart(7)} ${String(s.cpuUsPerRegistration).padStart(11)} ${String(s.rssPerAgentKb).padStart(13)} ${String(s.heapPerAgentKb).padStart(14)}  ${JSON.stringify(s.byClass)}`,
    );
  }
  if (process.env.BENCH_OUT) console.log(JSON.stringify({ agents, rounds, steps }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
