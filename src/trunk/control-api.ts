// HTTP control API on loopback: read counters and switches, change switches while the trunk runs.
//   GET /counters   GET /config   POST /config (JSON switches; null turns one off)   POST /reset
import { createServer } from 'node:http';
import type { EmbeddedTrunk } from './server.js';
import type { TrunkSwitches } from './config.js';

export async function startControlApi(trunk: EmbeddedTrunk, port: number, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
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
    if (req.method === 'POST' && req.url === '/config') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > 65_536) req.destroy();
      });
      req.on('end', () => {
        try {
          trunk.configure(JSON.parse(body) as TrunkSwitches);
          reply(200, trunk.config());
        } catch (err) {
          reply(400, { error: (err as Error).message });
        }
      });
      return;
    }
    reply(404, { error: 'GET /counters, GET /config, POST /config, POST /reset' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
