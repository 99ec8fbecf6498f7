// Cost of the transaction timers: the TimerWheel against one setTimeout per transaction, in the
// pattern transactions use it (arm Timer E/F at send, cancel when the response arrives a few ms later).
//   node dist/bench/timers.js            (after `npm run build`)
// 1. tight loop: ns per schedule+cancel pair with a steady population of outstanding timers;
// 2. real time at 20k transactions/s for a few seconds: process CPU per transaction above a baseline
//    that runs the same loop without timers, with some Timer E firings and re-arming;
// 3. memory held by 640k outstanding timers (20k/s against a dead target for Timer F = 32 s).
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { NO_TIMER, TimerWheel, type TimerHandle } from '../src/schedule/timer-wheel.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const RATE = Number(process.env.TIMERS_RATE ?? 20_000);
const SECONDS = Number(process.env.TIMERS_SECONDS ?? 4);
const T1_US = 500_000;

interface FakeTx {
  id: number;
  timer: TimerHandle;
  timeout: NodeJS.Timeout | undefined;
}

function onTimer(_tx: FakeTx): void {
  // A retransmission would go here; in these runs timers are cancelled before they are due.
}

function nowNs(): bigint {
  return process.hrtime.bigint();
}

// 1. Tight loop ----------------------------------------------------------------------------------
function tight(kind: 'wheel' | 'setTimeout', pairs: number, population: number): number {
  const ring: FakeTx[] = [];
  for (let i = 0; i < population; i++) ring.push({ id: i, timer: NO_TIMER, timeout: undefined });
  const wheel = new TimerWheel<FakeTx>(1000, 1024, 0);
  let nowUs = 0;
  const perTick = Math.max(1, Math.round(RATE / 1000)); // transactions per 1 ms tick at RATE
  const t0 = nowNs();
  for (let i = 0; i < pairs; i++) {
    const tx = ring[i % population];
    // The response to the transaction sent `population` sends ago arrives: cancel, then reuse the slot.
    if (kind === 'wheel') {
      wheel.cancel(tx.timer);
      tx.timer = wheel.schedule(tx, nowUs + T1_US);
      if (i % perTick === 0) {
        nowUs += 1000;
        wheel.advance(nowUs, onTimer);
      }
    } else {
      if (tx.timeout !== undefined) clearTimeout(tx.timeout);
      tx.timeout = setTimeout(onTimer, 500, tx);
    }
  }
  const elapsed = Number(nowNs() - t0);
  for (const tx of ring) if (tx.timeout !== undefined) clearTimeout(tx.timeout);
  return elapsed / pairs;
}

// 2. Real time at RATE ---------------------------------------------------------------------------
// Most responses arrive 1-20 ms after the send; LATE_SHARE arrive after 2 s, so their Timer E fires
// at 500 ms and 1500 ms and is re-armed (doubling), as a lossy target makes happen.
const LATE_SHARE = 0.05;

interface RtTx extends FakeTx {
  intervalUs: number;
  dueUs: number;
  retransmits: number;
}

async function realTime(kind: 'wheel' | 'setTimeout' | 'baseline'): Promise<{ cpuUsPerTx: number; retransmits: number }> {
  gc();
  const wheel = new TimerWheel<RtTx>(1000, 1024, 0);
  const origin = nowNs();
  const nowUs = () => Number((nowNs() - origin) / 1000n);
  let retransmits = 0;
  const fireWheel = (tx: RtTx) => {
    retransmits++;
    tx.intervalUs *= 2;
    tx.dueUs += tx.intervalUs;
    tx.timer = wheel.schedule(tx, tx.dueUs);
  };
  const fireTimeout = (tx: RtTx) => {
    retransmits++;
    tx.intervalUs *= 2;
    tx.timeout = setTimeout(fireTimeout, tx.intervalUs / 1000, tx);
  };
  // Answers wait in per-millisecond buckets (a ring longer than the 2 s late answers), so the
  // simulation's own bookkeeping stays O(1) per transaction and does not drown the timer cost.
  const RING = 4096;
  const answers: RtTx[][] = Array.from({ length: RING }, () => []);
  let answeredMs = 0;
  let pending = 0;
  let sent = 0;
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const total = RATE * SECONDS;
  const cpu0 = process.cpuUsage();
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (kind === 'wheel') wheel.advance(nowUs(), fireWheel);
    }, 5);
    const tick = () => {
      const now = nowUs();
      const nowMs = Math.floor(now / 1000);
      const due = Math.min(total, Math.floor((now * RATE) / 1e6));
      for (; sent < due; sent++) {
        const tx: RtTx = { id: sent, timer: NO_TIMER, timeout: undefined, intervalUs: T1_US, dueUs: now + T1_US, retransmits: 0 };
        if (kind === 'wheel') tx.timer = wheel.schedule(tx, tx.dueUs);
        else if (kind === 'setTimeout') tx.timeout = setTimeout(fireTimeout, T1_US / 1000, tx);
        const latencyMs = rand() < LATE_SHARE ? 2000 : 1 + Math.floor(rand() * 20);
        answers[(nowMs + latencyMs) % RING].push(tx);
        pending++;
      }
      for (; answeredMs <= nowMs; answeredMs++) {
        const bucket = answers[answeredMs % RING];
        for (const tx of bucket) {
          if (kind === 'wheel') wheel.cancel(tx.timer);
          else if (kind === 'setTimeout') clearTimeout(tx.timeout);
        }
        pending -= bucket.length;
        bucket.length = 0;
      }
      if (sent >= total && pending === 0) {
        clearInterval(poll);
        resolve();
      } else setTimeout(tick, 1);
    };
    tick();
  });
  const cpu = process.cpuUsage(cpu0);
  return { cpuUsPerTx: (cpu.user + cpu.system) / total, retransmits };
}

// 3. Memory of many outstanding timers ------------------------------------------------------------
function memory(kind: 'wheel' | 'setTimeout', count: number): { bytesPerTimer: number; scheduleNs: number } {
  const txs: FakeTx[] = new Array(count);
  for (let i = 0; i < count; i++) txs[i] = { id: i, timer: NO_TIMER, timeout: undefined };
  gc();
  gc();
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external; // typed arrays live outside the JS heap
  };
  const before = used();
  const wheel = new TimerWheel<FakeTx>(1000, 32768, 0);
  const t0 = nowNs();
  for (let i = 0; i < count; i++) {
    const due = 32_000_000 + Math.floor(i / 20) * 1000; // 20k/s, Timer F 32 s ahead
    if (kind === 'wheel') txs[i].timer = wheel.schedule(txs[i], due);
    else txs[i].timeout = setTimeout(onTimer, 32_000, txs[i]);
  }
  const scheduleNs = Number(nowNs() - t0) / count;
  gc();
  gc();
  const held = used() - before;
  if (wheel.size !== (kind === 'wheel' ? count : 0)) throw new Error('wheel lost timers');
  for (const tx of txs) if (tx.timeout !== undefined) clearTimeout(tx.timeout);
  return { bytesPerTimer: held / count, scheduleNs };
}

async function main(): Promise<void> {
  console.log(`timer cost, node ${process.version}, rate ${RATE}/s`);
  // Warm both paths up so the JIT has settled before measuring.
  tight('wheel', 200_000, 400);
  tight('setTimeout', 200_000, 400);
  console.log('\n1. tight loop, schedule+cancel pairs (ns per pair):');
  for (const population of [400, 20_000]) {
    const w = tight('wheel', 2_000_000, population);
    const s = tight('setTimeout', 2_000_000, population);
    console.log(`   ${population.toString().padStart(6)} outstanding: wheel ${w.toFixed(0).padStart(5)} ns   setTimeout ${s.toFixed(0).padStart(5)} ns   (x${(s / w).toFixed(1)})`);
  }

  console.log(`\n2. real time, ${RATE}/s for ${SECONDS} s, ${LATE_SHARE * 100}% answered after 2 s (Timer E fires), rest after 1-20 ms;`);
  console.log('   process CPU us per transaction, median of 3 interleaved rounds:');
  const runs: Record<string, number[]> = { baseline: [], wheel: [], setTimeout: [] };
  let fired = 0;
  for (let round = 0; round < 3; round++) {
    for (const kind of ['baseline', 'wheel', 'setTimeout'] as const) {
      const r = await realTime(kind);
      runs[kind].push(r.cpuUsPerTx);
      if (kind === 'wheel') fired = r.retransmits;
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
  const base = median(runs.baseline);
  for (const kind of ['baseline', 'wheel', 'setTimeout']) {
    const m = median(runs[kind]);
    const extra = kind === 'baseline' ? '' : `   (${m >= base ? '+' : ''}${(m - base).toFixed(2)} us vs baseline)`;
    console.log(`   ${kind.padEnd(10)} median ${m.toFixed(2)} us   min ${Math.min(...runs[kind]).toFixed(2)}   runs ${runs[kind].map((x) => x.toFixed(2)).join(' ')}${extra}`);
  }
  console.log(`   (timers fired per run: ${fired}; the wheel run includes its 5 ms poll interval.`);
  console.log('    Differences smaller than the spread between runs are noise on a shared machine.)');

  const count = RATE * 32;
  console.log(`\n3. ${count} outstanding timers (dead target, Timer F = 32 s):`);
  const mw = memory('wheel', count);
  const ms = memory('setTimeout', count);
  console.log(`   wheel      ${mw.bytesPerTimer.toFixed(0).padStart(4)} bytes/timer   schedule ${mw.scheduleNs.toFixed(0)} ns`);
  console.log(`   setTimeout ${ms.bytesPerTimer.toFixed(0).padStart(4)} bytes/timer   schedule ${ms.scheduleNs.toFixed(0)} ns`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
