import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamFramer } from '../src/transport/framing.js';
import { parseTarget } from '../src/transport/target.js';
import { createTcpTransport } from '../src/transport/tcp.js';
import { recorder } from './helpers/transport-recorder.js';


const msg = (tag: string, body = ''): Buffer =>
  Buffer.from(`SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK${tag}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

/**
 * Frames what it receives and answers each message with `reply(tag)` where tag is the body; answers
 * are written in awkward pieces (byte, half, two at once) so the client's framer earns its keep.
 */
async function echoServer(host: string): Promise<{ server: Server; port: number; sockets: Socket[]; received: string[] }> {
  const sockets: Socket[] = [];
  const received: string[] = [];
  let pending: Buffer[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.setNoDelay(true);
    const framer = new StreamFramer();
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      framer.push(chunk);
      for (let m = framer.next(); m !== null; m = framer.next()) {
        const text = m.toString();
        const body = text.slice(text.indexOf('\r\n\r\n') + 4);
        received.push(body);
        pending.push(msg(`r-${body}`, `echo ${body} ✓`));
      }
      const out = Buffer.concat(pending);
      pending = [];
      // Split: first byte alone, then the rest in two uneven writes.
      if (out.length > 2) {
        socket.write(out.subarray(0, 1));
        setTimeout(() => {
          socket.write(out.subarray(1, Math.floor(out.length / 2)));
          setTimeout(() => socket.write(out.subarray(Math.floor(out.length / 2))), 2);
        }, 2);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, sockets, received };
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function closeServer(s: { server: Server; sockets: Socket[] }): Promise<void> {
  for (const sock of s.sockets) sock.destroy();
  return new Promise((resolve) => s.server.close(() => resolve()));
}

describe('TCP transport', () => {
  it.each([
    ['IPv4', '127.0.0.1', 'tcp:127.0.0.1'],
    ['IPv6', '::1', 'tcp:[::1]'],
  ])('opens a connection per slot lazily, queues until connected and frames replies over %s', async (_n, host, prefix) => {
    const srv = await echoServer(host);
    cleanup.push(() => closeServer(srv));
    const events = recorder();
    const t = await createTcpTransport({ target: parseTarget(`${prefix}:${srv.port}`), connections: 3 }, events);
    cleanup.push(() => t.close());
    expect(t).toMatchObject({ protocol: 'tcp', reliable: true, viaProtocol: 'TCP', slots: 3 });
    expect(t.advertised(0)).toEqual({ host, port: 0 }); // nothing connected yet

    // Three messages on slot 0 in one go (queued while connecting), one on slot 2; slot 1 stays unused.
    t.send(0, msg('a', 'a1'));
    t.send(0, msg('b', 'a2'));
    t.send(0, msg('c', 'a3'));
    t.send(2, msg('d', 'c1'));
    await events.waitFor(4);
    expect(srv.sockets).toHaveLength(2);
    expect(srv.received.sort()).toEqual(['a1', 'a2', 'a3', 'c1']);
    const bySlot = (s: number) => events.messages.filter((m) => m.slot === s).map((m) => m.data.slice(m.data.indexOf('\r\n\r\n') + 4));
    expect(bySlot(0)).toEqual(['echo a1 ✓', 'echo a2 ✓', 'echo a3 ✓']);
    expect(bySlot(2)).toEqual(['echo c1 ✓']);
    const local0 = t.advertised(0);
    expect(local0.host).toBe(host);
    expect(srv.sockets.map((s) => s.remotePort)).toContain(local0.port);
    expect(t.stats()).toMatchObject({ sent: 4, received: 4, sendErrors: 0, reconnects: 0, framingErrors: 0 });
    expect(events.errors).toEqual([]);
  });

  it('reports a connection closed by the peer and counts the reconnect on the next send', async () => {
    const srv = await echoServer('127.0.0.1');
    cleanup.push(() => closeServer(srv));
    const events = recorder();
    const t = await createTcpTransport({ target: parseTarget(`tcp:127.0.0.1:${srv.port}`), connections: 1 }, events);
    cleanup.push(() => t.close());
    t.send(0, msg('a', 'one'));
    await events.waitFor(1);
    const firstPort = t.advertised(0).port;

    srv.sockets[0].destroy();
    await events.waitFor(1, 'errors');
    expect(events.errors[0]).toEqual({ slot: 0, reason: 'connection closed by peer' });

    t.send(0, msg('b', 'two'));
    await events.waitFor(2);
    expect(events.messages[1].data).toContain('echo two');
    expect(t.stats().reconnects).toBe(1);
    expect(t.advertised(0).port).not.toBe(firstPort);
  });

  it('turns a refused connection into a slot error and drops what was queued', async () => {
    const srv = await echoServer('127.0.0.1');
    const port = srv.port;
    await closeServer(srv);
    const events = recorder();
    const t = await createTcpTransport({ target: parseTarget(`tcp:127.0.0.1:${port}`), connections: 2 }, events);
    cleanup.push(() => t.close());
    expect(() => {
      t.send(1, msg('a', 'x'));
      t.send(1, msg('b', 'y'));
    }).not.toThrow();
    expect(events.errors).toEqual([]); // never re-entrant inside send()
    await events.waitFor(1, 'errors');
    expect(events.errors).toEqual([{ slot: 1, reason: 'connect failed: ECONNREFUSED' }]);
    expect(t.stats()).toMatchObject({ sent: 2, sendErrors: 2, reconnects: 0 });
  });

  it('counts framing errors from a peer that sends garbage, and still delivers the next message', async () => {
    const server = createServer((socket) => {
      socket.once('data', () => socket.write(Buffer.concat([Buffer.from('NOT SIP AT ALL\r\n'), msg('ok', 'fine')])));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const events = recorder();
    const port = (server.address() as { port: number }).port;
    const t = await createTcpTransport({ target: parseTarget(`tcp:127.0.0.1:${port}`), connections: 1 }, events);
    cleanup.push(() => t.close());
    t.send(0, msg('q', 'q'));
    await events.waitFor(1);
    expect(events.messages[0].data).toContain('fine');
    expect(t.stats().framingErrors).toBe(1);
  });
});
