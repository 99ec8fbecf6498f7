// sipstorm's own TLS, WS and WSS transports over real loopback sockets: the engine registering with
// digest against the embedded trunk's listeners, certificate checks (untrusted -> transport_error
// naming it, --ca / --insecure -> ok), SNI, the sip subprotocol and RFC 7118 Via/Contact, refused
// upgrades, connection set-up times, and reconnects after the server drops connections.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { RunResult } from '../src/report/result.js';
import { RunEngine, type RunOptions } from '../src/run/engine.js';
import { identitiesFromTemplates } from '../src/run/identities.js';
import { buildResponse } from '../src/sip/builder.js';
import { getHeader } from '../src/sip/headers.js';
import { parseSipMessage } from '../src/sip/parser.js';
import { createTransport } from '../src/transport/index.js';
import { parseTarget } from '../src/transport/target.js';
import type { TransportProtocol, TransportStats } from '../src/transport/transport.js';
import { generateLabCertificate, writeLabCertificate } from '../src/trunk/self-signed.js';
import { EmbeddedTrunk, type TrunkStartOptions } from '../src/trunk/server.js';
import { recorder } from './helpers/transport-recorder.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type Secure = 'tls' | 'ws' | 'wss';

async function trunk(transport: Secure, opts: Partial<TrunkStartOptions> = {}): Promise<{ t: EmbeddedTrunk; port: number; ca: string }> {
  const t = await EmbeddedTrunk.start({ port: 0, users: 50, minExpires: 1, transports: [transport], ...opts });
  cleanups.push(() => t.stop());
  return { t, port: t.addresses[transport]!.port, ca: t.tlsCertificate?.certPath ?? '' };
}

function options(protocol: TransportProtocol, port: number, overrides: Partial<RunOptions> & { agents?: number } = {}): RunOptions {
  const { agents = 5, ...rest } = overrides;
  const target = parseTarget(`${protocol}:127.0.0.1:${port}`);
  return {
    target,
    identities: identitiesFromTemplates(agents, 'agent{n:4}', 'secret{n:4}', '127.0.0.1'),
    rate: 100,
    durationMs: 300,
    method: 'REGISTER',
    expires: 60,
    t1Ms: 50,
    t2Ms: 400,
    t4Ms: 100,
    sockets: agents, // one connection per agent, as softphones do
    unregister: false,
    ...rest,
  };
}

const transportStats = (r: RunResult): TransportStats => r.extra.transportStats as TransportStats;

describe('engine over tls, ws, wss against the embedded trunk', () => {
  it.each(['tls', 'ws', 'wss'] as const)('%s: REGISTER with digest, one connection per agent, set-up times counted per connection', async (protocol) => {
    const { t, port, ca } = await trunk(protocol);
    // 4 arrivals per agent, 250 ms apart: time for a handshake and the digest round trip on a busy machine.
    const r = await new RunEngine(
      options(protocol, port, { rate: 20, durationMs: 1000, unregister: true, tls: protocol === 'ws' ? undefined : { caFile: ca } }),
    ).run();
    expect(r.operations.attempted).toBe(20);
    // An arrival that finds its agent still busy is `dropped` (never queued); nothing else may fail.
    expect(r.operations.byClass.ok + r.operations.byClass.dropped).toBe(20);
    expect(r.operations.byClass.ok).toBeGreaterThanOrEqual(15);
    expect(r.transactions.byStatus['401']).toBe(5); // one challenge per agent, then the nonce is reused
    expect(r.extra.unregister).toEqual({ attempted: 5, ok: 5, failed: 0 });
    expect(t.bindings()).toBe(0);
    const s = transportStats(r);
    expect(s).toMatchObject({ reconnects: 0, sendErrors: 0, framingErrors: 0, handshakeFailures: {} });
    expect(s.connectUs).toMatchObject({ count: 5, failures: 0 });
    expect(s.connectUs!.p50Us).toBeGreaterThan(0);
    expect(s.connectUs!.maxUs).toBeGreaterThanOrEqual(s.connectUs!.p99Us);
    expect(s.connectUs!.histogram).not.toBe('');
    // Reconciled with the trunk: every request we sent, it received, once (no retransmissions on a stream).
    const c = t.counters();
    expect(Object.values(c.received).reduce((a, b) => a + b, 0)).toBe(r.transactions.sent);
    expect(r.transactions.retransmissions).toBe(0);
    expect(r.config.transport).toBe(protocol);
  });

  it.each(['tls', 'wss'] as const)('%s: a self-signed server without --ca or --insecure -> transport_error naming the certificate problem', async (protocol) => {
    const { port, ca } = await trunk(protocol);
    const r = await new RunEngine(options(protocol, port, { agents: 2, durationMs: 500, rate: 10 })).run();
    expect(r.operations.attempted).toBe(5);
    const failed = r.operations.byClass.transport_error;
    expect(failed).toBeGreaterThanOrEqual(3);
    expect(failed + r.operations.byClass.dropped).toBe(5);
    const s = transportStats(r);
    // One handshake per operation (the agent tries again on its next one), each failing the same way.
    expect(s.handshakeFailures).toEqual({ 'tls: self-signed certificate': failed });
    expect(s.connectUs).toMatchObject({ count: 0, failures: failed });

    // The same server with --insecure, and with the certificate as CA: ok.
    for (const tls of [{ insecure: true }, { caFile: ca }]) {
      const ok = await new RunEngine(options(protocol, port, { agents: 2, durationMs: 500, rate: 10, tls })).run();
      expect(ok.operations.byClass.ok + ok.operations.byClass.dropped).toBe(5);
      expect(ok.operations.byClass.ok).toBeGreaterThanOrEqual(3);
    }
  });

  it('ws: the server dropping every connection mid-run -> the in-flight operations fail, the agents reconnect, reconnects counted', async () => {
    const { t, port } = await trunk('ws', { delay: { fixedMs: 20 } });
    const engine = new RunEngine(options('ws', port, { agents: 4, rate: 40, durationMs: 1000 }));
    let closedByServer = 0;
    // Mid-run, while answers are held back 20 ms, so some operations are likely in flight.
    const timer = setTimeout(() => (closedByServer = t.dropConnections()), 500);
    cleanups.push(() => clearTimeout(timer));
    const r = await engine.run();
    expect(closedByServer).toBe(4);
    const s = transportStats(r);
    expect(s.reconnects).toBeGreaterThanOrEqual(1);
    expect(s.reconnects).toBeLessThanOrEqual(4);
    // Every connection that came up was timed: the first four and each reconnect.
    expect(s.connectUs!.count).toBe(4 + s.reconnects);
    const { ok, transport_error: failed, dropped } = r.operations.byClass;
    expect(ok + failed + dropped).toBe(r.operations.attempted);
    // What was in flight at the drop failed at once (not 32 s later); the rest went on over new connections.
    expect(failed).toBeLessThanOrEqual(4);
    expect(ok).toBeGreaterThanOrEqual(30);
  });
});

describe('stream transports on the wire', () => {
  it.each(['tls', 'ws', 'wss'] as const)('%s over IPv6 loopback: [::1] targets, the certificate names ::1', async (protocol) => {
    const t = await EmbeddedTrunk.start({ host: '::1', port: 0, users: 5, transports: [protocol] });
    cleanups.push(() => t.stop());
    const events = recorder();
    const target = parseTarget(`${protocol}:[::1]:${t.addresses[protocol]!.port}${protocol === 'tls' ? '' : '/sip'}`);
    const transport = await createTransport(target, { slots: 1, tls: { caFile: t.tlsCertificate?.certPath } }, events);
    cleanups.push(() => transport.close());
    transport.send(0, Buffer.from(`OPTIONS sip:[::1] SIP/2.0\r\nVia: SIP/2.0/${transport.viaProtocol} [::1];branch=z9hG4bKv6\r\nFrom: <sip:a@[::1]>;tag=1\r\nTo: <sip:[::1]>\r\nCall-ID: v6\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`));
    await events.waitFor(1);
    expect(events.messages[0].data).toMatch(/^SIP\/2\.0 200 OK/);
    expect(events.messages[0].from).toEqual({ host: '::1', port: t.addresses[protocol]!.port });
    expect(transport.advertised(0).host).toBe('::1');
    expect(transport.advertised(0).port).toBeGreaterThan(0);
  });

  it('wss: the sip subprotocol is negotiated; Via WSS and Contact ;transport=ws (RFC 7118), one SIP message per text frame', async () => {
    const cert = generateLabCertificate();
    const server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem });
    const wss = new WebSocketServer({ server, handleProtocols: (p) => (p.has('sip') ? 'sip' : false) });
    const seen: { protocol: string; text: string; binary: boolean }[] = [];
    wss.on('connection', (ws) => {
      ws.on('message', (data: Buffer, binary) => {
        seen.push({ protocol: ws.protocol, text: data.toString(), binary });
        const parsed = parseSipMessage(data);
        if (parsed.ok && parsed.message.kind === 'request') ws.send(buildResponse(parsed.message, 200, 'OK', { toTag: 'x' }).toString());
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise<void>((r) => { wss.close(); server.closeAllConnections(); server.close(() => r()); }));
    const port = (server.address() as { port: number }).port;
    const r = await new RunEngine(options('wss', port, { agents: 2, rate: 20, durationMs: 100, tls: { insecure: true } })).run();
    expect(r.operations.byClass.ok).toBe(r.operations.attempted);
    expect(seen.length).toBe(r.operations.attempted);
    for (const m of seen) {
      expect(m.protocol).toBe('sip');
      expect(m.binary).toBe(false);
      const req = parseSipMessage(Buffer.from(m.text));
      if (!req.ok) throw new Error(req.detail);
      expect(getHeader(req.message, 'via')).toMatch(/^SIP\/2\.0\/WSS 127\.0\.0\.1(:\d+)?;branch=z9hG4bK/);
      expect(getHeader(req.message, 'contact')).toMatch(/^<sip:agent000\d@127\.0\.0\.1(:[1-9]\d*)?;transport=ws>/);
    }
  });

  it('ws: a refused upgrade (404) and a server that will not speak sip fail the slot with the reason', async () => {
    const http = createHttpServer((_req, res) => res.writeHead(404).end());
    http.on('upgrade', (_req, socket: Socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    const events = recorder();
    const t = await createTransport(parseTarget(`ws:127.0.0.1:${(http.address() as { port: number }).port}/sip`), { slots: 1 }, events);
    cleanups.push(() => t.close());
    t.send(0, Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'));
    await events.waitFor(1, 'errors');
    expect(events.errors).toEqual([{ slot: 0, reason: 'connect failed: ws: 404 Not Found' }]);
    expect(t.stats()).toMatchObject({ handshakeFailures: { 'ws: 404 Not Found': 1 }, sendErrors: 1 });

    const plain = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => false });
    await once(plain, 'listening');
    cleanups.push(() => new Promise<void>((r) => plain.close(() => r())));
    const events2 = recorder();
    const t2 = await createTransport(parseTarget(`ws:127.0.0.1:${(plain.address() as { port: number }).port}`), { slots: 1 }, events2);
    cleanups.push(() => t2.close());
    t2.send(0, Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'));
    await events2.waitFor(1, 'errors');
    expect(events2.errors[0].reason).toBe('connect failed: ws: Server sent no subprotocol');
  });

  it('tls: SNI is the target name by default, --sni overrides it (and is what the certificate is checked against), none for an IP', async () => {
    const cert = generateLabCertificate({ hosts: ['sip.lab.test'] });
    const names: (string | false | null)[] = [];
    const server = createTlsServer({ cert: cert.certPem, key: cert.keyPem }, (socket: TLSSocket) => {
      names.push(socket.servername);
      socket.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const files = writeLabCertificate(); // another certificate: trusting it must not do
    cleanups.push(() => files.remove());
    const ca = writeCa(cert.certPem);
    const connectOnce = async (target: string, tls: Parameters<typeof createTransport>[1]['tls']): Promise<string> => {
      const events = recorder();
      const t = await createTransport(parseTarget(target), { slots: 1, tls }, events);
      cleanups.push(() => t.close());
      t.send(0, Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'));
      await events.waitFor(1, 'errors'); // the server ends every connection at once
      return events.errors[0].reason;
    };
    expect(await connectOnce(`tls:localhost:${port}`, { caFile: ca })).toBe('connection closed by peer');
    expect(await connectOnce(`tls:127.0.0.1:${port}`, { caFile: ca, servername: 'sip.lab.test' })).toBe('connection closed by peer');
    expect(await connectOnce(`tls:127.0.0.1:${port}`, { caFile: ca })).toBe('connection closed by peer');
    // Another certificate as CA: the chain check fails, named.
    expect(await connectOnce(`tls:127.0.0.1:${port}`, { caFile: files.certPath })).toBe('connect failed: tls: self-signed certificate');
    // A name the certificate does not carry.
    expect(await connectOnce(`tls:127.0.0.1:${port}`, { caFile: ca, servername: 'other.test' })).toMatch(/^connect failed: tls: Hostname\/IP does not match certificate's altnames/);
    expect(names.slice(0, 3)).toEqual(['localhost', 'sip.lab.test', false]);
  });

  it('tls: a server that accepts TCP but never finishes the handshake -> connect timeout, counted as a failed set-up', async () => {
    const silent = createNetServer((socket) => socket.on('error', () => undefined));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const held: Socket[] = [];
    silent.on('connection', (s) => held.push(s));
    cleanups.push(() => new Promise<void>((r) => { held.forEach((s) => s.destroy()); silent.close(() => r()); }));
    const events = recorder();
    const t = await createTransport(parseTarget(`tls:127.0.0.1:${(silent.address() as { port: number }).port}`), { slots: 2, connectTimeoutMs: 150, tls: { insecure: true } }, events);
    cleanups.push(() => t.close());
    t.send(1, Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'));
    await events.waitFor(1, 'errors');
    expect(events.errors).toEqual([{ slot: 1, reason: 'connect failed: connect timeout' }]);
    expect(t.stats()).toMatchObject({ handshakeFailures: { 'connect timeout': 1 }, connectUs: { count: 0, failures: 1 } });
  });

  it('--ca with a file that is missing or holds no certificate is refused up front, naming the file', async () => {
    await expect(createTransport(parseTarget('tls:127.0.0.1:5061'), { slots: 1, tls: { caFile: '/nonexistent/ca.pem' } }, recorder())).rejects.toThrow(
      /--ca \/nonexistent\/ca\.pem: cannot read it/,
    );
    const files = writeLabCertificate();
    cleanups.push(() => files.remove());
    await expect(createTransport(parseTarget('wss:127.0.0.1:5061'), { slots: 1, tls: { caFile: files.keyPath } }, recorder())).rejects.toThrow(
      /no PEM certificate in it/,
    );
  });
});

function writeCa(pem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-ca-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.pem'), pem);
  return join(dir, 'ca.pem');
}
