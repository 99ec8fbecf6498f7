// Client CPU per request/response: node:dgram against the native batching addon (udp-batch.ts).
//   npm run build:native && npm run build && node dist/bench/udp-batch.js
// A dgram echo server runs in a child process pinned to core 1; this process pins itself (all threads)
// to core 0. Each run offers a constant rate from a timer tick (due count computed from the start, not
// chained), warms up 1 s, then measures process.cpuUsage() over a steady window (BENCH_SECONDS, 5 s)
// divided by the responses received in that window. Env: BENCH_RATES (2000,5000,20000), BENCH_TICKS
// (batch tick lengths in ms, 1,2), BENCH_SOCKETS (4).
//   dgram:     one socket.send() per message, responses as 'message' events, 1 ms setTimeout tick
//   batch Nms: send() queues, then per tick one flush() (sendmmsg) and one drain() (recvmmsg)
// Latency (mean, from the send to the receive time: the 'message' event for dgram, the kernel
// timestamp for batch) shows the batching does not hide time in the tick.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { realClock } from '../src/shared/clock.js';
import { udpBatchUnavailableReason } from '../src/transport/native.js';
import { parseTarget } from '../src/transport/target.js';
import { createUdpBatchTransport } from '../src/transport/udp-batch.js';

const RATES = (process.env.BENCH_RATES ?? '2000,5000,20000').split(',').map(Number);
const WINDOW_S = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_S = 1;
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 4);
const BATCH_TICKS_MS = (process.env.BENCH_TICKS ?? '1,2').split(',').map(Number);
const REQUEST_BYTES = 450;
const HAVE_TASKSET = existsSync('/usr/bin/taskset');

interface Mode {
  name: string;
  kind: 'dgram' | 'batch';
  tickMs: number;
}
const MODES: Mode[] = [
  { name: 'dgram, 1 ms tick', kind: 'dgram', tickMs: 1 },
  ...BATCH_TICKS_MS.map((ms): Mode => ({ name: `batch, ${ms} ms tick`, kind: 'batch', tickMs: ms })),
];

interface Row {
  mode: string;
  rate: number;
  achieved: number;
  cpuUsPerTx: number;
  meanLatencyUs: number;
  lost: number;
}

const SERVER = `
const s = require('node:dgram').createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(0, '127.0.0.1', () => console.log(s.address().port));
`;

async function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const args = ['-e', SERVER];
  const child = HAVE_TASKSET ? spawn('taskset', ['-c', '1', process.execPath, ...args]) : spawn(process.execPath, args);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`echo server exited ${code}`)));
  });
  return { child, port };
}

/** Sequence number in bytes 0..3 of each request, echoed back; sent times kept in a ring. */
const RING = 1 << 20;
const sentAt = new Float64Array(RING);

interface Driver {
  send(seq: number): void;
  tick(): void;
  close(): Promise<void>;
}

async function dgramDriver(port: number, onResponse: (seq: number, rxUs: number) => void): Promise<Driver> {
  const sockets: Socket[] = [];
  for (let i = 0; i < SOCKETS; i++) {
    const s = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    await new Promise<void>((ok) => s.bind(0, '127.0.0.1', () => ok()));
    await new Promise<void>((ok) => s.connect(port, '127.0.0.1', () => ok()));
    s.on('message', (m) => onResponse(m.readUInt32LE(0), realClock.nowUs()));
    sockets.push(s);
  }
  return {
    send(seq) {
      // A fresh buffer per message, as a generator building requests would have.
      const msg = Buffer.alloc(REQUEST_BYTES, 0x61);
      msg.writeUInt32LE(seq >>> 0, 0);
      sockets[seq % SOCKETS].send(msg);
    },
    tick() {},
    close: async () => {
      for (const s of sockets) s.close();
    },
  };
}

async function batchDriver(port: number, onResponse: (seq: number, rxUs: number) => void): Promise<Driver> {
  const t = await createUdpBatchTransport(
    { target: parseTarget(`udp:127.0.0.1:${port}`), sockets: SOCKETS },
    {
      onMessage: () => {},
      onMessageAt: (data, _slot, rxUs) => onResponse(data.readUInt32LE(0), rxUs),
      onSlotError: (slot, reason) => console.error(`slot ${slot}: ${reason}`),
    },
  );
  return {
    send(seq) {
      const msg = Buffer.alloc(REQUEST_BYTES, 0x61);
      msg.writeUInt32LE(seq >>> 0, 0);
      t.send(seq % SOCKETS, msg);
    },
    tick() {
      t.flush();
      t.drain();
    },
    close: () => t.close(),
  };
}

async function run(mode: Mode, rate: number, port: number): Promise<Row> {
  let received = 0;
  let latencySum = 0;
  let latencyN = 0;
  let measuring = false;
  const onResponse = (seq: number, rxUs: number): void => {
    received++;
    if (measuring) {
      latencySum += rxUs - sentAt[seq % RING];
      latencyN++;
    }
  };
  const driver = mode.kind === 'dgram' ? await dgramDriver(port, onResponse) : await batchDriver(port, onResponse);
  const start = realClock.nowUs();
  const endUs = start + (WARMUP_S + WINDOW_S) * 1e6;
  let sent = 0;
  let cpu0 = process.cpuUsage();
  let recv0 = 0;
  let t0 = start;
  await new Promise<void>((done) => {
    const tick = (): void => {
      const now = realClock.nowUs();
      if (!measuring && now - start >= WARMUP_S * 1e6) {
        measuring = true;
        cpu0 = process.cpuUsage();
        recv0 = received;
        t0 = now;
      }
      const due = Math.min(Math.floor(((now - start) * rate) / 1e6), Math.floor(((endUs - start) * rate) / 1e6));
      for (; sent < due; sent++) {
        sentAt[sent % RING] = now;
        driver.send(sent);
      }
      driver.tick();
      if (now >= endUs) done();
      else setTimeout(tick, mode.tickMs);
    };
    setTimeout(tick, mode.tickMs);
  });
  const cpu = process.cpuUsage(cpu0);
  const t1 = realClock.nowUs();
  const inWindow = received - recv0;
  // Let stragglers arrive before counting losses.
  for (let i = 0; i < 20; i++) {
    await sleep(10);
    driver.tick();
  }
  await driver.close();
  return {
    mode: mode.name,
    rate,
    achieved: Math.round((inWindow * 1e6) / (t1 - t0)),
    cpuUsPerTx: (cpu.user + cpu.system) / inWindow,
    meanLatencyUs: latencyN > 0 ? latencySum / latencyN : NaN,
    lost: sent - received,
  };
}

async function main(): Promise<void> {
  const reason = udpBatchUnavailableReason();
  if (reason) {
    console.error(`udp-batch bench: ${reason}`);
    process.exitCode = 1;
    return;
  }
  // All threads of this process onto core 0 (V8's and libuv's included), the server on core 1.
  if (HAVE_TASKSET) spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const server = await startServer();
  const rows: Row[] = [];
  try {
    for (const rate of RATES) {
      for (const mode of MODES) {
        const row = await run(mode, rate, server.port);
        rows.push(row);
        console.error(`${row.mode.padEnd(18)} ${String(rate).padStart(6)}/s  ${row.cpuUsPerTx.toFixed(1)} us/tx`);
      }
    }
  } finally {
    server.child.kill();
  }
  console.log(`\nClient CPU per request/response, ${SOCKETS} sockets, ${REQUEST_BYTES}-byte datagrams, ${WINDOW_S} s window${HAVE_TASKSET ? ', client core 0, server core 1' : ''}`);
  console.log(['mode'.padEnd(18), 'offered/s'.padStart(10), 'achieved/s'.padStart(11), 'CPU us/tx'.padStart(10), 'vs dgram'.padStart(9), 'mean lat us'.padStart(12), 'lost'.padStart(6)].join(' '));
  for (const r of rows) {
    const base = rows.find((b) => b.rate === r.rate && b.mode === MODES[0].name);
    const ratio = base ? (r.cpuUsPerTx / base.cpuUsPerTx).toFixed(2) : '-';
    console.log(
      [
        r.mode.padEnd(18),
        String(r.rate).padStart(10),
        String(r.achieved).padStart(11),
        r.cpuUsPerTx.toFixed(1).padStart(10),
        ratio.padStart(9),
        r.meanLatencyUs.toFixed(0).padStart(12),
        String(r.lost).padStart(6),
      ].join(' '),
    );
  }
}

await main();
