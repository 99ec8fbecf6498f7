// Softphone agents (sip.js over ws) against the bundled Kamailio's WS and WSS listeners: digest
// registrations accepted, and Kamailio's own counters equal what the fleet put on the wire.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KamailioServer } from '../src/kamailio/server.js';
import { diffStats } from '../src/kamailio/stats.js';
import { identitiesFromTemplates } from '../src/run/identities.js';
import { SoftphoneFleet } from '../src/softphone/fleet.js';
import { freeKamailioPort, kamailioAvailable } from './helpers/kamailio-available.js';

const HAVE_KAMAILIO = kamailioAvailable();
const HOST = '127.0.0.1';


describe.skipIf(!HAVE_KAMAILIO)('softphone agents against the bundled Kamailio over ws and wss', () => {
  let kam: KamailioServer;

  beforeAll(async () => {
    kam = await KamailioServer.start({ port: await freeKamailioPort({ from: 5240, to: 5260 }), wsPort: 0, wssPort: 0, users: 50, sharedMemoryMb: 128, children: 2 });
  });

  afterAll(async () => {
    await kam?.stop();
  });

  it.each(['ws', 'wss'] as const)('%s: 10 agents register with digest and unregister; Kamailio counts exactly what was sent', async (transport) => {
    const before = await kam.stats();
    const fleet = new SoftphoneFleet();
    const port = transport === 'ws' ? kam.info.wsPort : kam.info.wssPort;
    fleet.start(identitiesFromTemplates(10, 'agent{n:4}', 'secret{n:4}', HOST), {
      target: `${transport}://${HOST}:${port}/`,
      expires: 600,
      socket: transport === 'wss' ? { ca: readFileSync(kam.info.caPath!, 'utf8') } : undefined,
      retry: null,
    });
    const now = fleet.clock.nowUs();
    for (let i = 0; i < 10; i++) fleet.register(i, now);
    await fleet.whenIdle(8000);
    const registered = fleet.counters().registered;
    await fleet.stop({ drainMs: 5000 });
    const ops = fleet.metrics.snapshot().methods.REGISTER;
    const d = diffStats(before, await kam.stats());
    expect(ops.byClass.ok).toBe(10);
    expect(registered).toBe(10);
    expect(fleet.counters().unregister).toEqual({ attempted: 10, ok: 10, failed: 0 });
    expect(d.received.REGISTER).toBe(ops.sent);
    expect(d.answered).toEqual(ops.responsesByStatus);
    expect(ops.responsesByStatus['401']).toBeGreaterThanOrEqual(10); // at least one challenge per login
    expect(d.registrar.accepted).toBe(20); // 10 bindings, 10 removals
  });
});
