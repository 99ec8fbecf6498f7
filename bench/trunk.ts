// How fast the embedded trunk answers: the trunk runs in this process, a child process blasts it over
// loopback UDP at fixed rates (batched per 1 ms tick, due counts from the start), and we print the
// answered rate and the trunk's CPU microseconds per request (process.cpuUsage of this process only,
// so the sender's cost is not counted).
//   npm run build && node dist/bench/trunk.js [--method OPTIONS|REGISTER|REGISTER-401] [--rates 10000,20000,40000] [--seconds 3] [--io batch|dgram]
// OPTIONS: keep-alive to a known AOR, answered 200 without auth. REGISTER: a valid Authorization
// replayed (nonce reuse) -> digest verify + binding update + 200. REGISTER-401: no Authorization -> challenge.
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { pathToFileURL } from 'node:url';
import { buildAuthorization, parseChallenge, type DigestAlgorithm } from '../src/sip/digest.js';
import { getHeader } from '../src/sip/headers.js';
import { parseSipMessage } from '../src/sip/parser.js';
import { realClock } from '../src/shared/clock.js';
import { defaultCredentials } from '../src/shared/credentials.js';
import { Registrar } from '../src/trunk/registrar.js';
import { EmbeddedTrunk } from '../src/trunk/server.js';
import type { UdpIo } from '../src/trunk/udp-listener.js';

type Method = 'OPTIONS' | 'REGISTER' | 'REGISTER-401';
const USERS = 1000;
const SOCKETS = 4;
const BRANCH_DIGITS = 12;

interface SenderStep {
  rate: number;
  seconds: number;
}
interface SenderReport {
  sent: number;
  received: number;
  byStatus: Record<string, number>;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

// ---------------------------------------------------------------- sender (child process)

function request(method: 'OPTIONS' | 'REGISTER', user: string, port: number, localPort: number, authorization?: string): string {
  const uri = method === 'REGISTER' ? 'sip:127.0.0.1' : `sip:${user}@127.0.0.1`;
  return (
    `${method} ${uri} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bK${'#'.repeat(BRANCH_DIGITS)};rport\r\n` +
    'Max-Forwards: 70\r\n' +
    `From: <sip:${user}@127.0.0.1>;tag=f${user}\r\n` +
    `To: <sip:${user}@127.0.0.1>\r\n` +
    `Call-ID: bench-${user}@127.0.0.1\r\n` +
    `CSeq: 2 ${method}\r\n` +
    (method === 'REGISTER' ? `Contact: <sip:${user}@127.0.0.1:${localPort}>;expires=3600\r\nExpires: 3600\r\n` : '') +
    (authorization ? `Authorization: ${authorization}\r\n` : '') +
    `User-Agent: sipstorm-bench\r\nContent-Length: 0\r\n\r\n`
  );
}

async function sender(port: number, method: Method): Promise<void> {
  const sockets: Socket[] = [];
  const report: SenderReport = { sent: 0, received: 0, byStatus: {} };
  const statusCounts = new Uint32Array(700);
  for (let i = 0; i < SOCKETS; i++) {
    const s = createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    s.on('message', (m) => {
      report.received++;
      statusCounts[(m[8] - 48) * 100 + (m[9] - 48) * 10 + (m[10] - 48)]++;
    });
    sockets.push(s);
  }
  // One template per (user, socket); the branch placeholder is overwritten per send.
  const templates: { buf: Buffer; at: number }[][] = [];
  for (let s = 0; s < SOCKETS; s++) templates.push([]);
  for (let u = 0; u < USERS; u++) {
    const user = `agent${String(u).padStart(4, '0')}`;
    let authorization: string | undefined;
    if (method === 'REGISTER') authorization = await authorize(sockets[0], port, user);
    for (let s = 0; s < SOCKETS; s++) {
      const text = request(method === 'OPTIONS' ? 'OPTIONS' : 'REGISTER', user, port, sockets[s].address().port, authorization);
      templates[s].push({ buf: Buffer.from(text), at: text.indexOf('#'.repeat(BRANCH_DIGITS)) });
    }
  }
  report.received = 0;
  statusCounts.fill(0);
  process.send!({ ready: true });

  let seq = 0;
  const sendOne = () => {
    const s = seq % SOCKETS;
    const t = templates[s][(seq >>> 2) % USERS];
    const buf = Buffer.allocUnsafe(t.buf.length);
    t.buf.copy(buf);
    buf.write(seq.toString(16).padStart(BRANCH_DIGITS, '0'), t.at, 'latin1');
    sockets[s].send(buf, port, '127.0.0.1');
    seq++;
    report.sent++;
  };
  process.on('message', (msg: SenderStep | { stop: true }) => {
    if ('stop' in msg) {
      for (const s of sockets) s.close();
      process.exit(0);
    }
    const step = msg;
    report.sent = 0;
    report.received = 0;
    statusCounts.fill(0);
    const t0 = performance.now();
    const total = Math.round(step.rate * step.seconds);
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * step.rate));
      while (report.sent < due) sendOne();
      if (report.sent < total) setTimeout(tick, 1);
      else
        setTimeout(() => {
          report.byStatus = {};
          statusCounts.forEach((n, code) => {
            if (n) report.byStatus[code] = n;
          });
          process.send!(report);
        }, 300); // late answers
    };
    tick();
  });
}

/** One challenge per user; the Authorization is then replayed (nonce reuse within the nonce TTL). */
function authorize(socket: Socket, port: number, user: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Buffer) => {
      const parsed = parseSipMessage(m);
      if (!parsed.ok || parsed.message.status !== 401) return;
      socket.off('message', onMessage);
      const challenge = parseChallenge(getHeader(parsed.message, 'www-authenticate') ?? '', false);
      if (!challenge) return reject(new Error('no challenge'));
      resolve(buildAuthorization(challenge, user, `secret${user.slice(5)}`, 'REGISTER', 'sip:127.0.0.1', 1, 'c0ffee'));
    };
    socket.on('message', onMessage);
    const text = request('REGISTER', user, port, socket.address().port).replace('#'.repeat(BRANCH_DIGITS), `a${user}`);
    socket.send(Buffer.from(text), port, '127.0.0.1');
  });
}

// ---------------------------------------------------------------- trunk side (parent)

function waitFor<T>(child: ChildProcess, pred: (m: unknown) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (!pred(m)) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

export async function benchTrunk(method: Method, rates: number[], seconds: number, algorithm: DigestAlgorithm = 'MD5', udpIo?: UdpIo) {
  const trunk = await EmbeddedTrunk.start({ port: 0, users: USERS, transports: ['udp'], algorithm, nonceTtlMs: 3_600_000, udpIo });
  const child = fork(process.argv[1], ['--sender', String(trunk.address.port), '--method', method], { stdio: 'inherit' });
  await waitFor(child, (m) => (m as { ready?: boolean }).ready === true);
  const rows = [];
  for (const rate of rates) {
    trunk.resetCounters();
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    child.send({ rate, seconds } satisfies SenderStep);
    const report = await waitFor<SenderReport>(child, (m) => typeof (m as SenderReport).sent === 'number');
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    const c = trunk.counters();
    const handled = Object.values(c.received).reduce((a, b) => a + b, 0);
    const cpuUs = cpu.user + cpu.system;
    rows.push({
      method,
      rate,
      sent: report.sent,
      handled,
      answeredBack: report.received,
      lossPct: (100 * (report.sent - report.received)) / Math.max(1, report.sent),
      achieved: Math.round(handled / seconds),
      cpuUsPerReq: cpuUs / Math.max(1, handled),
      cpuPct: (100 * cpuUs) / 1e6 / wallS,
      elu: elu.utilization,
      statuses: report.byStatus,
      heapMB: process.memoryUsage().heapUsed / 1048576,
      rssMB: process.memoryUsage().rss / 1048576,
    });
  }
  child.send({ stop: true });
  await trunk.stop();
  return rows;
}

/**
 * The trunk's own work per request without sockets: parse + decide + build (+ digest verify), on one
 * request buffer whose branch is rewritten each time (so the retransmission cache never hits).
 */
export function inProcessUs(method: 'OPTIONS' | 'REGISTER', n = 200_000): number {
  const registrar = new Registrar(realClock, new Map(defaultCredentials(USERS).map((c) => [c.user, c.password])), '127.0.0.1', { nonceTtlMs: 3_600_000 });
  const source = { host: '127.0.0.1', port: 5999 };
  let authorization: string | undefined;
  if (method === 'REGISTER') {
    const first = parseSipMessage(Buffer.from(request('REGISTER', 'agent0001', 5060, 5999).replace('#'.repeat(BRANCH_DIGITS), 'a'.repeat(BRANCH_DIGITS))));
    const res = first.ok ? registrar.handle(first.message, source) : null;
    const parsed = res ? parseSipMessage(res) : null;
    const challenge = parsed?.ok ? parseChallenge(getHeader(parsed.message, 'www-authenticate') ?? '', false) : null;
    if (!challenge) throw new Error('no challenge');
    authorization = buildAuthorization(challenge, 'agent0001', 'secret0001', 'REGISTER', 'sip:127.0.0.1', 1, 'c0ffee');
  }
  const text = request(method, 'agent0001', 5060, 5999, authorization);
  const buf = Buffer.from(text);
  const at = text.indexOf('#'.repeat(BRANCH_DIGITS));
  let ok = 0;
  const run = (count: number, base: number) => {
    for (let i = 0; i < count; i++) {
      buf.write((base + i).toString(16).padStart(BRANCH_DIGITS, '0'), at, 'latin1');
      const parsed = parseSipMessage(buf);
      if (parsed.ok && registrar.handle(parsed.message, source)) ok++;
    }
  };
  run(20_000, 0); // warm-up
  const t0 = process.hrtime.bigint();
  run(n, 1_000_000);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  if (ok !== n + 20_000) throw new Error(`in-process bench: ${ok} answers`);
  return us;
}

async function main(): Promise<void> {
  const method = arg('method', 'OPTIONS') as Method;
  if (process.argv.includes('--sender')) return sender(Number(arg('sender', '0')), method);
  const rates = arg('rates', '10000,20000,30000,40000').split(',').map(Number);
  const seconds = Number(arg('seconds', '3'));
  if (method !== 'REGISTER-401') console.log(`in-process (parse + decide + build, no sockets): ${inProcessUs(method).toFixed(2)} us per ${method}`);
  const io = process.argv.includes('--io') ? (arg('io', 'batch') as UdpIo) : undefined;
  console.log(`embedded trunk, ${method} over loopback UDP (io ${io ?? 'default'}), ${seconds} s per rate, trunk process CPU only`);
  console.log('  target/s   sent     handled  lost%   achieved/s  trunk CPU us/req  CPU%   ELU   heap/rss MB  statuses');
  for (const r of await benchTrunk(method, rates, seconds, arg('algorithm', 'MD5') as DigestAlgorithm, io)) {
    console.log(
      `  ${String(r.rate).padStart(8)} ${String(r.sent).padStart(7)} ${String(r.handled).padStart(9)}  ${r.lossPct.toFixed(2).padStart(5)}  ${String(r.achieved).padStart(10)}` +
        `  ${r.cpuUsPerReq.toFixed(2).padStart(15)}  ${r.cpuPct.toFixed(0).padStart(4)}  ${r.elu.toFixed(2)}  ${r.heapMB.toFixed(0).padStart(4)}/${r.rssMB.toFixed(0).padEnd(5)}  ${JSON.stringify(r.statuses)}`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
