// The embedded trunk's TLS, WS and WSS listeners over real loopback sockets, driven by raw clients
// (node:tls + the stream framer, the `ws` package) so the listeners are checked on their own, apart
// from sipstorm's client transports.
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildRequest } from '../src/sip/builder.js';
import type { SipMessage } from '../src/sip/message.js';
import { parseSipMessage } from '../src/sip/parser.js';
import { StreamFramer } from '../src/transport/framing.js';
import { writeLabCertificate } from '../src/trunk/self-signed.js';
import { EmbeddedTrunk, type TrunkStartOptions } from '../src/trunk/server.js';
import { plannedListeners } from '../src/trunk/stream-listeners.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

let n = 0;
function options(via: string, user = 'agent0001'): Buffer {
  return buildRequest({
    method: 'OPTIONS', requestUri: `sip:${user}@127.0.0.1`, viaProtocol: via, viaHost: '127.0.0.1', viaPort: 0,
    branch: `z9hG4bKsl${++n}`, fromUri: `sip:${user}@127.0.0.1`, fromTag: 'ft', toUri: `sip:${user}@127.0.0.1`,
    callId: `c${n}`, cseq: 1, userAgent: 'raw-test',
  });
}

function parse(data: Buffer | string): SipMessage {
  const r = parseSipMessage(Buffer.isBuffer(data) ? data : Buffer.from(data));
  if (!r.ok) throw new Error(r.detail);
  return r.message;
}

async function startTrunk(extra: Partial<TrunkStartOptions> = {}): Promise<EmbeddedTrunk> {
  const trunk = await EmbeddedTrunk.start({ users: 10, ...extra, port: extra.port ?? 0 });
  cleanup.push(() => trunk.stop());
  return trunk;
}

function openWs(url: string, opts: WebSocket.ClientOptions = {}, protocols: string[] = ['sip']): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, opts);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`ws: ${res.statusCode}`)));
    cleanup.push(() => ws.terminate());
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, binary) => resolve({ data: data as Buffer, binary })));
}

describe('trunk listeners: TLS, WS, WSS', () => {
  it('plans listeners: a given port enables its transport; bad combinations are refused', () => {
    expect([...plannedListeners(5070, {})]).toEqual([['udp', 5070], ['tcp', 5070]]);
    expect([...plannedListeners(0, { wssPort: 8443, transports: ['udp'] })]).toEqual([['udp', 0], ['wss', 8443]]);
    expect([...plannedListeners(0, { transports: ['tls', 'ws'] })]).toEqual([['tls', 0], ['ws', 0]]);
    expect(() => plannedListeners(0, { transports: [] })).toThrow(/at least one/);
    expect(() => plannedListeners(0, { transports: ['sctp' as 'udp'] })).toThrow(/unknown "sctp"/);
    expect(() => plannedListeners(5070, { tlsPort: 5070 })).toThrow(/different ports/);
    expect(() => plannedListeners(0, { wsPort: 70000 })).toThrow(/0-65535/);
  });

  it('listens on all five transports, each on its own bound port, with a generated certificate removed at stop', async () => {
    const trunk = await EmbeddedTrunk.start({ port: 0, users: 10, transports: ['udp', 'tcp', 'tls', 'ws', 'wss'] });
    const a = trunk.addresses;
    expect(Object.keys(a).sort()).toEqual(['tcp', 'tls', 'udp', 'ws', 'wss']);
    expect(a.udp!.port).toBe(trunk.address.port);
    expect(a.tcp!.port).toBe(trunk.address.port);
    expect(new Set([a.tcp!.port, a.tls!.port, a.ws!.port, a.wss!.port]).size).toBe(4);
    const cert = trunk.tlsCertificate!;
    expect(cert.generated).toBe(true);
    expect(readFileSync(cert.certPath, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    await trunk.stop();
    expect(existsSync(cert.certPath)).toBe(false);
  });

  it('answers SIP over TLS when the client trusts the certificate, and the handshake fails when it does not', async () => {
    const trunk = await startTrunk({ port: 0, transports: ['tls'] });
    const ca = readFileSync(trunk.tlsCertificate!.certPath);
    const port = trunk.addresses.tls!.port;
    const answer = await new Promise<SipMessage>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca }, () => socket.write(options('TLS')));
      const framer = new StreamFramer();
      socket.on('data', (chunk) => {
        framer.push(chunk);
        const m = framer.next();
        if (m) {
          resolve(parse(m));
          socket.destroy();
        }
      });
      socket.on('error', reject);
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.find((h) => h.name === 'via')?.value).toMatch(/^SIP\/2\.0\/TLS .*;received=127\.0\.0\.1/);
    const refused = await new Promise<string>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port }, () => resolve('connected'));
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(refused).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('speaks SIP over WS with the sip subprotocol: one message per frame, answered as a text frame', async () => {
    const trunk = await startTrunk({ port: 0, transports: ['ws'] });
    const ws = await openWs(`ws://127.0.0.1:${trunk.addresses.ws!.port}/any/path`);
    expect(ws.protocol).toBe('sip');
    const reply = nextMessage(ws);
    ws.send(options('WS'));
    const { data, binary } = await reply;
    expect(binary).toBe(false);
    const m = parse(data);
    expect(m.status).toBe(200);
    // A binary frame and a CRLF keep-alive (ignored) work too.
    ws.send('\r\n\r\n');
    const second = nextMessage(ws);
    ws.send(options('WS'), { binary: true });
    expect(parse((await second).data).status).toBe(200);
    expect(trunk.counters()).toMatchObject({ malformed: 0 });
  });

  it('refuses a WebSocket handshake without the sip subprotocol (400) and plain HTTP (426)', async () => {
    const trunk = await startTrunk({ port: 0, transports: ['ws'] });
    const port = trunk.addresses.ws!.port;
    await expect(openWs(`ws://127.0.0.1:${port}/`, {}, [])).rejects.toThrow('ws: 400');
    await expect(openWs(`ws://127.0.0.1:${port}/`, {}, ['msrp'])).rejects.toThrow('ws: 400');
    const status = await new Promise<number>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path: '/' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(status).toBe(426);
  });

  it('speaks WSS with the generated certificate trusted as CA, refuses an untrusting client, and drops connections on demand', async () => {
    const trunk = await startTrunk({ port: 0, transports: ['wss'] });
    const url = `wss://127.0.0.1:${trunk.addresses.wss!.port}/`;
    await expect(openWs(url)).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    const ws = await openWs(url, { ca: readFileSync(trunk.tlsCertificate!.certPath) });
    const reply = nextMessage(ws);
    ws.send(options('WSS'));
    expect(parse((await reply).data).status).toBe(200);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    expect(trunk.dropConnections()).toBe(1);
    expect(await closed).toBe(1006); // no closing handshake: what a crashed server looks like
  });

  it('holds delayed answers for WS connections like for UDP', async () => {
    const trunk = await startTrunk({ port: 0, transports: ['ws'], delay: { fixedMs: 60 } });
    const ws = await openWs(`ws://127.0.0.1:${trunk.addresses.ws!.port}/`);
    const t0 = Date.now();
    const reply = nextMessage(ws);
    ws.send(options('WS'));
    expect(parse((await reply).data).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
  });

  it('uses given certificate files and leaves them in place at stop', async () => {
    const files = writeLabCertificate({ hosts: ['sip.lab.test'] });
    cleanup.push(() => files.remove());
    const trunk = await EmbeddedTrunk.start({ port: 0, users: 10, transports: ['wss'], certFile: files.certPath, keyFile: files.keyPath });
    expect(trunk.tlsCertificate).toEqual({ certPath: files.certPath, generated: false });
    const ws = await openWs(`wss://127.0.0.1:${trunk.addresses.wss!.port}/`, { ca: files.certPem, servername: 'sip.lab.test' } as WebSocket.ClientOptions);
    expect(ws.protocol).toBe('sip');
    ws.terminate();
    await trunk.stop();
    expect(existsSync(files.keyPath)).toBe(true);
    await expect(EmbeddedTrunk.start({ port: 0, users: 1, transports: ['tls'], certFile: '/nonexistent/cert.pem', keyFile: files.keyPath })).rejects.toThrow(
      /cannot read the TLS certificate \/nonexistent\/cert\.pem/,
    );
  });
});
