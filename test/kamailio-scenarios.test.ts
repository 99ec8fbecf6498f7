// The bundled scenarios against the bundled Kamailio (a real registrar): the file's `trunk:` hooks set
// Kamailio's switches over JSON-RPC (--kamailio-rpc), so the same collision shows on a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort, KamailioServer } from '../src/kamailio/server.js';
import { executeScenario, prepareScenario } from '../src/run/scenario-run.js';
import { runSweep } from '../src/run/sweep.js';
import { loadScenario } from '../src/scenario/load.js';
import { scaleScenario } from '../src/scenario/scale.js';
import { parseTarget } from '../src/transport/target.js';
import { kamailioAvailable } from './helpers/kamailio-available.js';

const HAVE_KAMAILIO = kamailioAvailable();
const file = (name: string) => new URL(`../scenarios/${name}`, import.meta.url).pathname;

describe.skipIf(!HAVE_KAMAILIO)('bundled scenarios against the bundled Kamailio', () => {
  let kam: KamailioServer;
  beforeAll(async () => {
    // Time-compressed scenarios refresh every few seconds: Kamailio must accept short Expires.
    kam = await KamailioServer.start({ port: await freeTcpPort(), wssPort: 0, users: 100, sharedMemoryMb: 256, children: 2, minExpires: 1 });
  }, 30_000);
  afterAll(async () => {
    await kam?.stop();
  });

  const run = async (name: string, scale: number, agents: number) => {
    const scenario = scaleScenario(loadScenario(file(name)), scale);
    const prepared = prepareScenario(scenario, { agents, target: parseTarget(`udp:127.0.0.1:${kam.info.port}`), kamailioRpc: kam.info.rpcUrl });
    return (await executeScenario(prepared)).result;
  };

  it('friday-publish: Kamailio refuses pre-publish nonces with 403 inside the window only; re-logins succeed', async () => {
    await kam.set({ publishWindow: null });
    const r = await run('friday-publish.yaml', 0.1, 40);
    expect(r.hooks?.[0]).toMatchObject({ name: 'publish', ok: true });
    const t0 = r.marks!.find((m) => m.name === 'T0')!.tMs;
    expect(r.methods.REGISTER.operations.byClass.forbidden).toBeGreaterThan(0);
    for (const t of r.timeline.filter((e) => e.byClass.forbidden > 0)) {
      expect(t.t).toBeGreaterThanOrEqual(Math.floor(t0 / 1000));
      expect(t.t).toBeLessThanOrEqual(Math.ceil((t0 + 6000) / 1000));
    }
    expect(r.phases!.find((p) => p.name === 'login')!.operations.byClass.ok).toBe(40);
    expect(r.methods.OPTIONS.operations.byClass.forbidden).toBe(0);
    expect(r.attempts!.recoveryMs).not.toBeNull();
  }, 60_000);

  it('shift-swap-options: the swap-burst OPTIONS get 403 from Kamailio during the window', async () => {
    await kam.set({ publishWindow: null });
    const r = await run('shift-swap-options.yaml', 0.2, 40);
    const swap = r.phases!.find((p) => p.name === 'swap')!.operations;
    expect(swap.byClass.forbidden / swap.attempted).toBeGreaterThan(0.5);
    expect(r.phases!.find((p) => p.name === 'after')!.operations.byClass.forbidden).toBe(0);
  }, 60_000);

  it('webrtc-softphone-publish over WSS: Kamailio has no token endpoint, so the publish is its REGISTER window (403); softphones back off and all recover', async () => {
    await kam.set({ publishWindow: null });
    const loaded = scaleScenario(loadScenario(file('webrtc-softphone-publish.yaml')), 0.1);
    // The same softphones and timing, adapted to what Kamailio can do: no tokens; the publish refuses REGISTER with 403.
    const scenario = {
      ...loaded,
      agents: { ...loaded.agents, tokenUrl: undefined },
      retry: { ...loaded.retry!, on: [...loaded.retry!.on, 'forbidden' as const] },
      hooks: loaded.hooks.map((h) => ({ ...h, action: { kind: 'trunk' as const, switches: { publishWindow: { startMs: 0, lengthMs: 3000, mode: 'forbidden', methods: ['REGISTER'] } } } })),
    };
    const prepared = prepareScenario(scenario, {
      agents: 20,
      target: parseTarget(`wss:127.0.0.1:${kam.info.wssPort}/`),
      tls: { caFile: kam.info.caPath! },
      kamailioRpc: kam.info.rpcUrl,
    });
    const r = (await executeScenario(prepared)).result;
    expect(r.hooks?.[0]).toMatchObject({ ok: true });
    expect(r.operations.byClass.forbidden).toBeGreaterThan(0);
    const t0 = r.marks!.find((m) => m.name === 'T0')!.tMs;
    for (const t of r.timeline.filter((e) => e.byClass.forbidden > 0)) {
      expect(t.t).toBeGreaterThanOrEqual(Math.floor(t0 / 1000));
      expect(t.t).toBeLessThanOrEqual(Math.ceil((t0 + 3000) / 1000) + 1);
    }
    const recovery = (r.extra.softphone as { recovery: { recovered: number; stillFailing: number } }).recovery;
    expect(recovery.stillFailing).toBe(0);
    expect(recovery.recovered).toBeGreaterThan(0);
  }, 90_000);

  it("throttle-sweep: each setting starts from the file's trunk switches on Kamailio; 429 ~0 below its per-AOR limit, growing above", async () => {
    const loaded = loadScenario(file('throttle-sweep.yaml'));
    const scenario = {
      ...loaded,
      phases: loaded.phases.map((p) => (p.type === 'constant' ? { ...p, durationMs: 2000 } : p.type === 'burst' ? { ...p, windowMs: 500 } : p)),
      sweep: { ...loaded.sweep!, perAgentRates: [5, 20] },
    };
    const sweep = await runSweep(scenario, { target: parseTarget(`udp:127.0.0.1:${kam.info.port}`), kamailioRpc: kam.info.rpcUrl }, undefined);
    const [at5, at20] = sweep.rows;
    expect(at5.throttledPct).toBe(0);
    expect(at20.throttledPct).toBeGreaterThan(20);
    expect(sweep.recommendation.perAgentRate).toBe(5);
    // The file's limit is what Kamailio ran with (read back from its switch table).
    expect((await kam.switches()).aorLimit).toMatchObject({ rate: 10, code: 429 });
  }, 90_000);
});
