// HTTP control API, loopback only: read counters and switches, change switches while the trunk runs.
//   GET /counters   GET /config   POST /config (JSON switches; null turns one off)   POST /reset
//   POST /token (a softphone's login token: token-api.ts)
// A bad patch answers 400 with the reason and changes nothing.
import { readBoundedBody } from './http-body.js';
import { createServer } from 'node:http';
import { isIP } from 'node:net';
import type { EmbeddedTrunk } from './server.js';
import type { TrunkSwitches } from './config.js';
import { handleTokenRequest } from './token-api.js';

const MAX_BODY_BYTES = 65_536;

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '::ffff:127.0.0.1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

export async function startControlApi(trunk: EmbeddedTrunk, port: number, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  // The API changes the trunk's behaviour without authentication: never expose it beyond this machine.
  if (!isLoopback(host)) throw new Error(`control API binds to loopback only, not ${host}`);
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    if (req.method === 'GET' && req.url === '/counters') return reply(200, trunk.counters());
    if (req.method === 'GET' && req.url === '/config') return reply(200, trunk.config());
    if (req.method === 'POST' && req.url === '/reset') {
      trunk.resetCounters();
      return reply(200, { reset: true });
    }
    if (req.method === 'POST' && req.url === '/token') return handleTokenRequest(req, res, trunk);
    if (req.method === 'POST' && req.url === '/config') {
      void readBoundedBody(req, MAX_BODY_BYTES).then((text) => {
        if (text === null) return reply(413, { error: `body over ${MAX_BODY_BYTES} bytes` });
        try {
          trunk.configure(JSON.parse(text) as TrunkSwitches);
          reply(200, trunk.config());
        } catch (err) {
          reply(400, { error: (err as Error).message });
        }
      });
      return;
    }
    reply(404, { error: 'GET /counters, GET /config, POST /config, POST /reset, POST /token' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
