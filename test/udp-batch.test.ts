import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { realClock } from '../src/shared/clock.js';
import { loadUdpBatch, loadUdpBatchWithReason, NAME_BYTES } from '../src/transport/native.js';
import { SockaddrReader } from '../src/transport/sockaddr.js';
import { parseTarget } from '../src/transport/target.js';
import { createUdpBatchTransport, type UdpBatchTransport } from '../src/transport/udp-batch.js';

const loaded = loadUdpBatchWithReason();
const addon = loaded.addon;
if (!addon) console.warn(`udp-batch tests skipped: ${loaded.reason}`);

interface Received {
  data: string;
  slot: number;
  rxUs: number;
}

function recorder() {
  const r = {
    messages: [] as Received[],
    errors: [] as { slot: number; reason: string }[],
    onMessage(): void {
      throw new Error('onMessageAt should be preferred');
    },
    onMessageAt(data: Buffer, slot: number, rxUs: number): void {
      r.messages.push({ data: data.toString(), slot, rxUs });
    },
    onSlotError(slot: number, reason: string): void {
      r.errors.push({ slot, reason });
    },
  };
  return r;
}

/** Echoes every datagram back, prefixed with the sender's port; `delayMs` holds the replies back. */
async function echoServer(host: string, delayMs = 0): Promise<{ socket: Socket; port: number; received: () => number }> {
  // A 500-datagram burst overflows the default receive buffer (~200 KiB): ask for more.
  const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
  let received = 0;
  socket.on('message', (msg, rinfo) => {
    received++;
    const reply = Buffer.concat([Buffer.from(`${rinfo.port}|`), msg]);
    if (delayMs > 0) setTimeout(() => socket.send(reply, rinfo.port, rinfo.address), delayMs);
    else socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { socket, port: socket.address().port, received: () => received };
}

/** Drains every few ms until `until()` holds or 3 s pass. */
async function drainUntil(t: UdpBatchTransport, until: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !until(); i++) {
    await sleep(10);
    t.drain();
  }
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('native addon loader', () => {
  it('loads the built addon (required when SIPSTORM_REQUIRE_NATIVE=1, e.g. in CI)', () => {
    if (process.env.SIPSTORM_REQUIRE_NATIVE === '1') expect(loaded.reason).toBeUndefined();
    if (!addon) console.log(`skipping batched UDP transport tests: native addon not built (${loaded.reason}); npm run build:native`);
    if (addon) expect(typeof addon.sendBatch).toBe('function');
  });

  it('returns null with a reason, never throws, when the binary is missing or unloadable', () => {
    const missing = loadUdpBatchWithReason('/nonexistent/udp_batch.node');
    expect(missing.addon).toBeNull();
    expect(missing.reason).toMatch(/missing/);
    expect(loadUdpBatch('/nonexistent/udp_batch.node')).toBeNull();

    const dir = mkdtempSync(join(tmpdir(), 'udp-batch-'));
    const garbage = join(dir, 'garbage.node');
    writeFileSync(garbage, 'not an ELF file');
    const bad = loadUdpBatchWithReason(garbage);
    expect(bad.addon).toBeNull();
    expect(bad.reason).toMatch(/failed to load/);
  });

  it('the transport refuses to start without the addon, naming the reason', async () => {
    await expect(
      createUdpBatchTransport({ target: parseTarget('udp:127.0.0.1:5999'), sockets: 1, addonPath: '/nonexistent/udp_batch.node' }, recorder()),
    ).rejects.toThrow(/unavailable: .*missing/);
  });
});

describe.skipIf(!addon)('batched UDP transport (native sendmmsg/recvmmsg)', () => {
  it.each([
    ['IPv4', '127.0.0.1', 'udp:127.0.0.1'],
    ['IPv6', '::1', 'udp:[::1]'],
  ])('%s: 500 messages in one flush, all echoes drained with kernel receive times', async (_name, host, prefix) => {
    const server = await echoServer(host);
    cleanup.push(() => void server.socket.close());
    const events = recorder();
    const t = await createUdpBatchTransport({ target: parseTarget(`${prefix}:${server.port}`), sockets: 2 }, events);
    cleanup.push(() => t.close());
    expect(t).toMatchObject({ protocol: 'udp', reliable: false, viaProtocol: 'UDP', slots: 2, batched: true });
    const ports = [t.advertised(0), t.advertised(1)];
    for (const p of ports) expect(p.host).toBe(host);
    expect(ports[0].port).not.toBe(ports[1].port);

    for (let i = 0; i < 500; i++) t.send(i % 2, Buffer.from(`msg ${i} ${'x'.repeat(i % 300)}`));
    expect(t.stats().sent).toBe(0); // send() only queues
    const sentAt = realClock.nowUs();
    t.flush();
    expect(t.stats().sent).toBe(500);
    await drainUntil(t, () => events.messages.length >= 500);
    const now = realClock.nowUs();

    expect(events.messages).toHaveLength(500);
    expect(events.errors).toEqual([]);
    const seen = new Set<number>();
    for (const m of events.messages) {
      const match = /^(\d+)\|msg (\d+) (x*)$/.exec(m.data);
      expect(match).not.toBeNull();
      const i = Number(match![2]);
      seen.add(i);
      expect(match![3].length).toBe(i % 300);
      // The reply came back on the socket that sent it.
      expect(m.slot).toBe(i % 2);
      expect(Number(match![1])).toBe(ports[m.slot].port);
      expect(m.rxUs).toBeGreaterThanOrEqual(sentAt);
      expect(m.rxUs).toBeLessThanOrEqual(now);
    }
    expect(seen.size).toBe(500);
    expect(t.stats()).toMatchObject({ sent: 500, received: 500, sendErrors: 0, framingErrors: 0 });
  });

  it('rxUs is when the datagram arrived, not when drain() read it', async () => {
    const server = await echoServer('127.0.0.1');
    cleanup.push(() => void server.socket.close());
    const events = recorder();
    const t = await createUdpBatchTransport({ target: parseTarget(`udp:127.0.0.1:${server.port}`), sockets: 1 }, events);
    cleanup.push(() => t.close());
    t.send(0, Buffer.from('ping'));
    const sentAt = realClock.nowUs();
    t.flush();
    for (let i = 0; i < 100 && server.received() === 0; i++) await sleep(5);
    await sleep(20); // the echo is now waiting in the socket
    const arrivedBy = realClock.nowUs();
    await sleep(80);
    const readAt = realClock.nowUs();
    expect(t.drain()).toBe(1);
    const [m] = events.messages;
    expect(m.rxUs).toBeGreaterThanOrEqual(sentAt);
    expect(m.rxUs).toBeLessThanOrEqual(arrivedBy);
    expect(readAt - m.rxUs).toBeGreaterThanOrEqual(75_000);
  });

  it('reads back the granted buffer sizes', async () => {
    const events = recorder();
    const requested = 1 << 20;
    const t = await createUdpBatchTransport({ target: parseTarget('udp:127.0.0.1:9'), sockets: 1, bufferBytes: requested }, events);
    cleanup.push(() => t.close());
    const sizes = t.bufferSizes();
    // Linux grants min(request, rmem_max) unless privileged, and reports double what it grants.
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const wmemMax = Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
    expect(sizes.recv).toBeGreaterThanOrEqual(Math.min(requested, rmemMax));
    expect(sizes.send).toBeGreaterThanOrEqual(Math.min(requested, wmemMax));
    expect(sizes.recv).toBeLessThanOrEqual(2 * requested);
  });

  it('close() sends what was queued, then sends fail and drain reads nothing', async () => {
    const server = await echoServer('127.0.0.1');
    cleanup.push(() => void server.socket.close());
    const events = recorder();
    const t = await createUdpBatchTransport({ target: parseTarget(`udp:127.0.0.1:${server.port}`), sockets: 1 }, events);
    for (let i = 0; i < 3; i++) t.send(0, Buffer.from(`bye ${i}`));
    await t.close();
    expect(t.stats().sent).toBe(3);
    for (let i = 0; i < 100 && server.received() < 3; i++) await sleep(5);
    expect(server.received()).toBe(3);
    await sleep(20);
    expect(t.drain()).toBe(0);
    t.send(0, Buffer.from('late'));
    await sleep(1);
    expect(t.stats().sendErrors).toBe(1);
    expect(events.errors).toEqual([]); // a closed transport reports to no one
  });

  it('an unreachable port surfaces as ECONNREFUSED on the slot, and the socket stays usable', async () => {
    const events = recorder();
    // Bind and close a socket to get a port nobody listens on.
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const deadPort = probe.address().port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const t = await createUdpBatchTransport({ target: parseTarget(`udp:127.0.0.1:${deadPort}`), sockets: 1 }, events);
    cleanup.push(() => t.close());
    t.send(0, Buffer.from('anyone?'));
    t.flush();
    for (let i = 0; i < 100 && events.errors.length === 0; i++) {
      await sleep(5);
      t.drain();
    }
    expect(events.errors).toEqual([{ slot: 0, reason: 'ECONNREFUSED' }]);
    expect(t.drain()).toBe(0);
  });

  it('a datagram longer than maxDatagramBytes is a framing error, a lone CRLF is ignored', async () => {
    const server = await echoServer('127.0.0.1');
    cleanup.push(() => void server.socket.close());
    const events = recorder();
    const t = await createUdpBatchTransport({ target: parseTarget(`udp:127.0.0.1:${server.port}`), sockets: 1, maxDatagramBytes: 64 }, events);
    cleanup.push(() => t.close());
    t.send(0, Buffer.alloc(100, 'a'));
    t.send(0, Buffer.from('ok'));
    t.flush();
    await drainUntil(t, () => events.messages.length >= 1 && t.stats().framingErrors >= 1);
    expect(t.stats().framingErrors).toBe(1);
    expect(events.messages.map((m) => m.data)).toEqual([`${t.advertised(0).port}|ok`]);

    // The server prefixes its port, so send the keep-alive straight from the server's socket.
    server.socket.send(Buffer.from('\r\n'), t.advertised(0).port, '127.0.0.1');
    await sleep(20);
    expect(t.drain()).toBe(0);
    expect(t.stats().received).toBe(1);
  });

  it('watch mode delivers without drain(); onMessage is used when onMessageAt is absent', async () => {
    const server = await echoServer('127.0.0.1');
    cleanup.push(() => void server.socket.close());
    const got: { data: string; slot: number; from: unknown }[] = [];
    const t = await createUdpBatchTransport(
      { target: parseTarget(`udp:127.0.0.1:${server.port}`), sockets: 2, watch: true },
      { onMessage: (data, slot, from) => got.push({ data: data.toString(), slot, from }), onSlotError: () => {} },
    );
    cleanup.push(() => t.close());
    for (let i = 0; i < 10; i++) t.send(i % 2, Buffer.from(`w${i}`));
    t.flush();
    for (let i = 0; i < 200 && got.length < 10; i++) await sleep(5);
    expect(got).toHaveLength(10);
    expect(got[0].from).toEqual({ host: '127.0.0.1', port: server.port });
    expect(new Set(got.map((g) => g.slot))).toEqual(new Set([0, 1]));
  });

  it('the raw addon: empty socket reads 0, bad arguments throw TypeError, sends report how many went', () => {
    const a = addon!;
    const s = a.open(4, '127.0.0.1', 0, 65536, 65536);
    const peer = a.open(4, '127.0.0.1', 0, 65536, 65536);
    try {
      a.connect(s.fd, '127.0.0.1', peer.port);
      const lengths = new Uint32Array(4);
      const rx = new Float64Array(4);
      const arena = Buffer.alloc(4 * 256);
      expect(a.recvBatch(peer.fd, arena, 256, 4, lengths, rx)).toBe(0);
      expect(() => a.recvBatch(peer.fd, arena, 256, 8, lengths, rx)).toThrow(TypeError); // arena too small
      expect(() => a.sendBatch(s.fd, Buffer.alloc(4), new Uint32Array([2]), new Uint32Array([4]), 1)).toThrow(RangeError);
      const data = Buffer.from('abcdef');
      expect(a.sendBatch(s.fd, data, new Uint32Array([0, 3]), new Uint32Array([3, 3]), 2)).toBe(2);
      let n = 0;
      for (let i = 0; i < 1000 && n === 0; i++) n = a.recvBatch(peer.fd, arena, 256, 4, lengths, rx);
      expect(n).toBe(2);
      expect([arena.toString('latin1', 0, lengths[0]), arena.toString('latin1', 256, 256 + lengths[1])]).toEqual(['abc', 'def']);
      const nowMono = a.nowUs();
      expect(rx[0]).toBeLessThanOrEqual(nowMono);
      expect(nowMono - rx[0]).toBeLessThan(1_000_000);
    } finally {
      a.close(s.fd);
      a.close(peer.fd);
    }
  });

  it('the raw addon, unconnected: recvBatch reports each sender, sendBatch answers each one, sendTo reaches an address given as text', () => {
    const a = addon!;
    const server = a.open(4, '127.0.0.1', 0, 65536, 65536);
    const clients = [a.open(4, '127.0.0.1', 0, 65536, 65536), a.open(4, '127.0.0.1', 0, 65536, 65536)];
    try {
      clients.forEach((c, i) => {
        a.connect(c.fd, '127.0.0.1', server.port);
        expect(a.sendBatch(c.fd, Buffer.from(`hello ${i}`), new Uint32Array([0]), new Uint32Array([7]), 1)).toBe(1);
      });
      const arena = Buffer.alloc(4 * 256);
      const lengths = new Uint32Array(4);
      const rx = new Float64Array(4);
      const names = new Uint8Array(4 * NAME_BYTES);
      expect(() => a.recvBatch(server.fd, arena, 256, 4, lengths, rx, new Uint8Array(3 * NAME_BYTES))).toThrow(TypeError);
      let n = 0;
      for (let i = 0; i < 1000 && n < 2; i++) n += a.recvBatch(server.fd, arena.subarray(n * 256), 256, 4 - n, lengths.subarray(n), rx.subarray(n), names.subarray(n * NAME_BYTES));
      expect(n).toBe(2);
      const reader = new SockaddrReader();
      const senders = [0, 1].map((k) => `${reader.host(names, k * NAME_BYTES)}:${reader.port(names, k * NAME_BYTES)}`);
      expect(senders.sort()).toEqual(clients.map((c) => `127.0.0.1:${c.port}`).sort());
      // Answer each sender with its own message back, in one call.
      const out = Buffer.from(arena.toString('latin1', 0, lengths[0]) + arena.toString('latin1', 256, 256 + lengths[1]), 'latin1');
      expect(() => a.sendBatch(server.fd, out, new Uint32Array([0, 7]), new Uint32Array([7, 7]), 2, new Uint8Array(NAME_BYTES))).toThrow(TypeError);
      expect(a.sendBatch(server.fd, out, new Uint32Array([0, 7]), new Uint32Array([7, 7]), 2, names)).toBe(2);
      expect(a.sendTo(server.fd, Buffer.from('by text'), '127.0.0.1', clients[0].port)).toBe(7);
      const echoed = clients.map((c) => {
        const got: string[] = [];
        for (let i = 0; i < 1000 && got.length < (c === clients[0] ? 2 : 1); i++) {
          const k = a.recvBatch(c.fd, arena, 256, 4, lengths, rx);
          for (let j = 0; j < k; j++) got.push(arena.toString('latin1', j * 256, j * 256 + lengths[j]));
        }
        return got;
      });
      // Each message went back to the address it came from.
      expect(echoed).toEqual([['hello 0', 'by text'], ['hello 1']]);
    } finally {
      a.close(server.fd);
      for (const c of clients) a.close(c.fd);
    }
  });
});
