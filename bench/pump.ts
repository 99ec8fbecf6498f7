// `npm run bench:pump`: CPU per wake-up of the batched loop's tick, an empty callback every few ms in an
// otherwise idle process: setInterval against the addon's uv timer (native/pump.c, src/run/pump.ts),
// with every tick through a loop turn (`turn`, SIPSTORM_PUMP=turn) and holding between ticks (`native`).
// Each kind runs in its own child pinned to core 0, alternating, PUMP_REPS rounds; CPU is the child's
// own process.cpuUsage over a window that starts after a second of warm-up.
import { execFileSync, fork } from 'node:child_process';
import { startPump } from '../src/run/pump.js';
import { loadUdpBatch } from '../src/transport/native.js';

const REPS = Number(process.env.PUMP_REPS ?? 5);
const SECONDS = Number(process.env.PUMP_SECONDS ?? 5);
const TICKS_MS = (process.env.PUMP_TICKS ?? '2,4').split(',').map(Number);
type Kind = 'setInterval' | 'turn' | 'native';
const KINDS: Kind[] = ['setInterval', 'turn', 'native'];

interface ChildResult {
  wakes: number;
  cpuUs: number;
}

async function child(kind: Kind, tickMs: number): Promise<void> {
  let wakes = 0;
  const tick = () => void wakes++;
  // The same switch the engine's pump obeys.
  if (kind === 'setInterval') process.env.SIPSTORM_PUMP = 'interval';
  if (kind === 'turn') process.env.SIPSTORM_PUMP = 'turn';
  const pump = startPump(tickMs, tick);
  if (pump.native !== (kind !== 'setInterval')) throw new Error(`asked for ${kind}, got ${pump.native ? 'native' : 'setInterval'}`);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const cpu0 = process.cpuUsage();
  wakes = 0;
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const cpu = process.cpuUsage(cpu0);
  const result: ChildResult = { wakes, cpuUs: cpu.user + cpu.system };
  pump.stop();
  process.send!(result);
}

function runChild(kind: Kind, tickMs: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const c = fork(process.argv[1], ['--child', kind, String(tickMs)], { stdio: 'inherit' });
    c.once('message', (m) => resolve(m as ChildResult));
    c.once('error', reject);
    c.once('exit', (code) => code !== 0 && reject(new Error(`child exited ${code}`)));
    // Pin after start: taskset on the child pid keeps fork's IPC channel.
    try {
      execFileSync('taskset', ['-p', '-c', '0', String(c.pid)], { stdio: 'ignore' });
    } catch {
      // Without taskset the figures are noisier, not wrong.
    }
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  if (!loadUdpBatch()) {
    console.log('native addon unavailable: nothing to compare (run npm run build:native)');
    return;
  }
  console.log(`== idle tick: CPU per wake-up, ${REPS} rounds of ${SECONDS} s per kind, alternating ==`);
  for (const tickMs of TICKS_MS) {
    const per: Record<Kind, number[]> = { setInterval: [], turn: [], native: [] };
    for (let r = 0; r < REPS; r++) {
      for (const kind of KINDS) {
        const { wakes, cpuUs } = await runChild(kind, tickMs);
        per[kind].push(cpuUs / wakes);
      }
    }
    const si = median(per.setInterval);
    const tu = median(per.turn);
    const na = median(per.native);
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
    console.log(
      `tick ${tickMs} ms  setInterval ${si.toFixed(1)} us/wake (${fmt(per.setInterval)})  turn ${tu.toFixed(1)} (${fmt(per.turn)})  ` +
        `native ${na.toFixed(1)} (${fmt(per.native)})  native/setInterval ${(na / si).toFixed(2)}  native/turn ${(na / tu).toFixed(2)}`,
    );
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as Kind, Number(process.argv[4]));
else await main();
