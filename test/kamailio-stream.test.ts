// The bundled Kamailio over TLS, WS and WSS (tls and websocket modules, a self-signed certificate
// written at start): sipstorm's engine registers with digest over each, and Kamailio's own counters
// agree; the sip subprotocol is negotiated; an untrusted certificate is a transport_error naming it.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runKamailioCli } from '../src/kamailio/cli.js';
import { KamailioServer, type KamailioInstanceInfo } from '../src/kamailio/server.js';
import { diffStats } from '../src/kamailio/stats.js';
import { tlsConfig } from '../src/kamailio/stream-listeners.js';
import type { RunResult } from '../src/report/result.js';
import { RunEngine } from '../src/run/engine.js';
import { identitiesFromTemplates } from '../src/run/identities.js';
import { parseTarget } from '../src/transport/target.js';
import type { TransportStats } from '../src/transport/transport.js';
import type { TlsClientOptions } from '../src/transport/tls-options.js';
import { freeKamailioPort, kamailioAvailable } from './helpers/kamailio-available.js';

const HAVE_KAMAILIO = kamailioAvailable();
const HOST = '127.0.0.1';


describe('kamailio tls.cfg', () => {
  it('names our certificate and key and asks nothing of clients', () => {
    const cfg = tlsConfig('/d/cert.pem', '/d/key.pem');
    expect(cfg).toContain('[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\nprivate_key = /d/key.pem\ncertificate = /d/cert.pem');
    expect(cfg).toContain('[client:default]');
  });
});

describe.skipIf(!HAVE_KAMAILIO)('sipstorm against the bundled Kamailio over tls, ws, wss', () => {
  let kam: KamailioServer;

  beforeAll(async () => {
    kam = await KamailioServer.start({ port: await freeKamailioPort(), tlsPort: 0, wsPort: 0, wssPort: 0, users: 50, sharedMemoryMb: 256, children: 2 });
  });

  afterAll(async () => {
    const dir = kam?.info.dir;
    await kam?.stop();
    if (dir) expect(existsSync(dir)).toBe(false); // certificate, key and tls.cfg with it
  });

  async function register(protocol: 'tls' | 'ws' | 'wss', tls: TlsClientOptions | undefined, agents = 3): Promise<RunResult> {
    const port = { tls: kam.info.tlsPort, ws: kam.info.wsPort, wss: kam.info.wssPort }[protocol]!;
    return new RunEngine({
      target: parseTarget(`${protocol}:${HOST}:${port}${protocol === 'tls' ? '' : '/'}`),
      identities: identitiesFromTemplates(agents, 'agent{n:4}', 'secret{n:4}', HOST),
      // 3 arrivals per agent, 300 ms apart.
      rate: agents * 3.34,
      durationMs: 900,
      method: 'REGISTER',
      expires: 3600,
      t1Ms: 500,
      t2Ms: 4000,
      t4Ms: 5000,
      sockets: agents,
      unregister: true,
      tls,
    }).run();
  }

  it('starts with every listener on its own port and the lab certificate in its directory', () => {
    const { tlsPort, wsPort, wssPort, caPath, dir } = kam.info;
    expect(new Set([kam.port, tlsPort, wsPort, wssPort]).size).toBe(4);
    expect(caPath!.startsWith(dir)).toBe(true);
    expect(readFileSync(caPath!, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it.each(['tls', 'ws', 'wss'] as const)('%s: REGISTER with digest, unregister; Kamailio counts exactly what was sent', async (protocol) => {
    const before = await kam.stats();
    const r = await register(protocol, protocol === 'ws' ? undefined : { caFile: kam.info.caPath });
    const d = diffStats(before, await kam.stats());
    expect(r.operations.attempted).toBeGreaterThanOrEqual(8);
    expect(r.operations.byClass.ok + r.operations.byClass.dropped).toBe(r.operations.attempted);
    expect(r.operations.byClass.ok).toBeGreaterThanOrEqual(6);
    expect(r.transactions.byStatus['401']).toBe(3); // one challenge per agent; the nonce is reused after
    expect(r.extra.unregister).toEqual({ attempted: 3, ok: 3, failed: 0 });
    expect(d.received.REGISTER).toBe(r.transactions.sent);
    expect(d.answered).toEqual(r.transactions.byStatus);
    expect(d.registrar.accepted).toBe(r.operations.byClass.ok + 3);
    const s = r.extra.transportStats as TransportStats;
    expect(s.connectUs!.count).toBe(3);
    expect(s.reconnects).toBe(0);
  });

  it('wss and tls with an untrusted certificate: transport_error naming it; --insecure: ok', async () => {
    const refused = await register('wss', undefined, 1);
    expect(refused.operations.byClass.ok).toBe(0);
    expect((refused.extra.transportStats as TransportStats).handshakeFailures).toEqual({ 'tls: self-signed certificate': refused.operations.byClass.transport_error });
    const insecure = await register('tls', { insecure: true }, 1);
    expect(insecure.operations.byClass.ok).toBeGreaterThanOrEqual(2);
  });

  it('negotiates the sip subprotocol, and refuses a WebSocket without it', async () => {
    const open = (protocols: string[]) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://${HOST}:${kam.info.wsPort}/`, protocols);
        ws.once('open', () => {
          resolve(`open ${ws.protocol}`);
          ws.close();
        });
        ws.once('unexpected-response', (_req, res) => {
          resolve(`refused ${res.statusCode}`);
          ws.terminate();
        });
        ws.once('error', (err) => resolve(`error ${err.message}`));
      });
    expect(await open(['sip'])).toBe('open sip');
    expect(await open([])).toMatch(/^refused 4\d\d$/);
  });
});

describe.skipIf(!HAVE_KAMAILIO)('scripts/kamailio.sh start --tls-port/--ws-port/--wss-port', () => {
  it('starts the listeners, prints them and the certificate, and a run over wss trusts it with --ca', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'sipstorm-kam-state-'));
    process.env.SIPSTORM_KAMAILIO_STATE_DIR = stateDir;
    const lines: string[] = [];
    const port = await freeKamailioPort();
    try {
      expect(await runKamailioCli(['start', '--port', String(port), '--users', '5', '--memory', '128', '--children', '1', '--wss-port', '0', '--tls-port', '0'], (l) => lines.push(l))).toBe(0);
      const info = JSON.parse(readFileSync(join(stateDir, `${port}.json`), 'utf8')) as KamailioInstanceInfo;
      expect(info.wsPort).toBeUndefined();
      expect(lines[0]).toContain(`, tls 127.0.0.1:${info.tlsPort}, wss 127.0.0.1:${info.wssPort} (5 users)`);
      expect(lines[0]).toContain(`TLS certificate ${info.caPath} (self-signed`);
      const r = await new RunEngine({
        target: parseTarget(`wss:${HOST}:${info.wssPort}/`),
        identities: identitiesFromTemplates(1, 'agent{n:4}', 'secret{n:4}', HOST),
        rate: 4, durationMs: 500, method: 'REGISTER', expires: 3600, t1Ms: 500, t2Ms: 4000, t4Ms: 5000, sockets: 1, unregister: true,
        tls: { caFile: info.caPath },
      }).run();
      expect(r.operations.byClass.ok).toBeGreaterThanOrEqual(1);
      expect(r.operations.byClass.ok + r.operations.byClass.dropped).toBe(r.operations.attempted);
    } finally {
      await runKamailioCli(['stop', '--port', String(port)], () => undefined);
      delete process.env.SIPSTORM_KAMAILIO_STATE_DIR;
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
