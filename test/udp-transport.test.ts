import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTarget } from '../src/transport/target.js';
import type { Transport } from '../src/transport/transport.js';
import { recorder } from './helpers/transport-recorder.js';
import { createTransport } from '../src/transport/index.js';
import { createUdpTransport } from '../src/transport/udp.js';


/** Echoes every datagram back to its sender, prefixed with the sender's port. */
async function echoServer(host: string): Promise<{ socket: Socket; port: number; seen: Set<number> }> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const seen = new Set<number>();
  socket.on('message', (msg, rinfo) => {
    seen.add(rinfo.port);
    socket.send(Buffer.concat([Buffer.from(`${rinfo.port}|`), msg]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { socket, port: socket.address().port, seen };
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('UDP transport', () => {
  it.each([
    ['IPv4', '127.0.0.1', 'udp:127.0.0.1'],
    ['IPv6', '::1', 'udp:[::1]'],
  ])('exchanges datagrams with a loopback echo server over %s, one socket per slot', async (_name, host, prefix) => {
    const server = await echoServer(host);
    cleanup.push(() => void server.socket.close());
    const events = recorder();
    const t = await createUdpTransport({ target: parseTarget(`${prefix}:${server.port}`), sockets: 3 }, events);
    cleanup.push(() => t.close());
    expect(t).toMatchObject({ protocol: 'udp', reliable: false, viaProtocol: 'UDP', slots: 3 });
    const ports = [0, 1, 2].map((s) => t.advertised(s));
    for (const p of ports) expect(p.host).toBe(host);
    expect(new Set(ports.map((p) => p.port)).size).toBe(3);

    for (let slot = 0; slot < 3; slot++) t.send(slot, Buffer.from(`hello from ${slot}`));
    await events.waitFor(3);
    for (const m of events.messages) {
      // The reply arrives on the slot whose socket sent it, from the server's address.
      expect(m.data).toBe(`${ports[m.slot].port}|hello from ${m.slot}`);
      expect(m.from).toEqual({ host, port: server.port });
    }
    expect(new Set(events.messages.map((m) => m.slot))).toEqual(new Set([0, 1, 2]));
    expect(server.seen).toEqual(new Set(ports.map((p) => p.port)));
    expect(t.stats()).toMatchObject({ sent: 3, received: 3, sendErrors: 0 });
    expect(events.errors).toEqual([]);
  });

  it('raises SO_RCVBUF/SO_SNDBUF and reads back what the kernel granted', async () => {
    const server = await echoServer('127.0.0.1');
    cleanup.push(() => void server.socket.close());
    const small = await createUdpTransport({ target: parseTarget(`udp:127.0.0.1:${server.port}`), sockets: 1, bufferBytes: 64 * 1024 }, recorder());
    cleanup.push(() => small.close());
    const big = await createUdpTransport({ target: parseTarget(`udp:127.0.0.1:${server.port}`), sockets: 1 }, recorder());
    cleanup.push(() => big.close());
    // Linux reports double the request (bookkeeping overhead), capped by net.core.rmem_max.
    expect(small.bufferSizes().recv).toBeGreaterThanOrEqual(64 * 1024);
    expect(big.bufferSizes().recv).toBeGreaterThan(small.bufferSizes().recv);
    expect(big.bufferSizes().send).toBeGreaterThan(small.bufferSizes().send);
  });

  it('ignores CRLF keep-alive datagrams', async () => {
    const server = createSocket('udp4');
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    cleanup.push(() => void server.close());
    server.on('message', (_m, rinfo) => {
      server.send('\r\n\r\n', rinfo.port, rinfo.address);
      server.send('SIP/2.0 200 OK\r\n\r\n', rinfo.port, rinfo.address);
    });
    const events = recorder();
    const t = await createUdpTransport({ target: parseTarget(`udp:127.0.0.1:${server.address().port}`), sockets: 1 }, events);
    cleanup.push(() => t.close());
    t.send(0, Buffer.from('ping'));
    await events.waitFor(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(events.messages.map((m) => m.data)).toEqual(['SIP/2.0 200 OK\r\n\r\n']);
    expect(t.stats().received).toBe(1);
  });

  it('reports a closed target port (ICMP unreachable) as a slot error, never a throw', async () => {
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const deadPort = probe.address().port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const events = recorder();
    const t = await createUdpTransport({ target: parseTarget(`udp:127.0.0.1:${deadPort}`), sockets: 2 }, events);
    cleanup.push(() => t.close());
    t.send(1, Buffer.from('anyone?'));
    await events.waitFor(1, 'errors');
    expect(events.errors[0]).toEqual({ slot: 1, reason: 'ECONNREFUSED' });
    expect(t.stats().sendErrors).toBeGreaterThanOrEqual(1);
  });

  it('send() after close() does not throw and reports asynchronously', async () => {
    const server = await echoServer('127.0.0.1');
    cleanup.push(() => void server.socket.close());
    const events = recorder();
    const t = await createUdpTransport({ target: parseTarget(`udp:127.0.0.1:${server.port}`), sockets: 1 }, events);
    await t.close();
    expect(() => t.send(0, Buffer.from('late'))).not.toThrow();
    await new Promise((r) => setTimeout(r, 10));
    expect(t.stats().sendErrors).toBe(1);
    expect(events.errors).toEqual([]); // closed transports stay quiet
  });
});

describe('createTransport', () => {
  it('builds udp and refuses a protocol it does not know', async () => {
    const server = await echoServer('127.0.0.1');
    cleanup.push(() => void server.socket.close());
    const t: Transport = await createTransport(parseTarget(`udp:127.0.0.1:${server.port}`), { slots: 2 }, recorder());
    cleanup.push(() => t.close());
    expect(t.protocol).toBe('udp');
    expect(t.slots).toBe(2);
    const sctp = { ...parseTarget('udp:127.0.0.1:5060'), protocol: 'sctp' } as unknown as ReturnType<typeof parseTarget>;
    await expect(createTransport(sctp, { slots: 1 }, recorder())).rejects.toThrow(/sctp/);
  });
});
