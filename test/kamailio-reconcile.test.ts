// Reconciliation: sipstorm's own counts of a run equal the bundled Kamailio's counters, exactly, for
// every answer a fault switch produces (200, the 401 challenges, 403 wrong password, 403 publish
// window, 429 per-AOR limit, 503 global limit) and for timeouts under the loss switch.
//
// The rules (each case below checks them against a delta of `stats.get_statistics`, taken before and
// after the run, never by resetting Kamailio):
// - replies by code: Kamailio's `answered` (script:rpl_<code>, fed by sl/tm local-response events)
//   == sipstorm's `transactions.byStatus` (every response received, challenges and absorbed
//   retransmitted finals included). Not sl:*_replies: sl also counts the JSON-RPC HTTP answers.
// - requests by method: Kamailio counts every datagram it read (core:rcv_requests_<method>), so
//   received[m] == methods[m].transactions.sent + retransmissions (unregisters are REGISTERs).
// - through executeRun / the CLI, the pre-run OPTIONS probe adds +1 OPTIONS and +1 200 that sipstorm's
//   result does not hold; RunEngine alone sends no probe.
// - loss: every datagram Kamailio read is dropped or answered once, so dropped == sent + retransmissions
//   - sum(byStatus), always. Which were first transmissions Kamailio cannot know, so sipstorm's timeouts
//   are matched through its retransmissions: timeouts == dropped - retransmissions, exact while no
//   answer is slower than T1 (else a retransmission of an answered request is answered too).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KamailioServer } from '../src/kamailio/server.js';
import { diffStats, type KamailioStats } from '../src/kamailio/stats.js';
import type { RunResult } from '../src/report/result.js';
import { RunEngine, type MethodMode } from '../src/run/engine.js';
import { executeRun } from '../src/run/execute.js';
import { identitiesFromTemplates } from '../src/run/identities.js';
import type { TrunkSwitches } from '../src/trunk/config.js';
import { freeKamailioPort, kamailioAvailable } from './helpers/kamailio-available.js';
import { runRequest } from './helpers/run-request.js';

const HAVE_KAMAILIO = kamailioAvailable();
const HOST = '127.0.0.1';


interface Load {
  agents: number;
  rate: number;
  durationMs: number;
  method: MethodMode;
  password?: string;
  unregister?: boolean;
  t1Ms?: number;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** Per method: what sipstorm put on the wire (first transmissions and retransmissions). */
function wireByMethod(result: RunResult): Record<string, number> {
  const out: Record<string, number> = { REGISTER: 0, OPTIONS: 0 };
  for (const [m, block] of Object.entries(result.methods)) out[m] = block.transactions.sent + block.transactions.retransmissions;
  return out;
}

describe.skipIf(!HAVE_KAMAILIO)("sipstorm's counts equal Kamailio's own, exactly", () => {
  let kam: KamailioServer;

  beforeAll(async () => {
    kam = await KamailioServer.start({ port: await freeKamailioPort(), users: 200, sharedMemoryMb: 256, children: 2 });
  });

  afterAll(async () => {
    await kam?.stop();
  });

  /** Applies the switches, runs RunEngine (no probe), turns them off; the run and Kamailio's delta. */
  async function run(load: Load, switches: TrunkSwitches, off: TrunkSwitches): Promise<{ result: RunResult; d: KamailioStats }> {
    await kam.set(switches);
    const before = await kam.stats();
    const t1Ms = load.t1Ms ?? 500;
    const engine = new RunEngine({
      target: { protocol: 'udp', host: HOST, port: kam.port, text: `udp:${HOST}:${kam.port}` },
      identities: identitiesFromTemplates(load.agents, 'agent{n:4}', load.password ?? 'secret{n:4}', HOST),
      rate: load.rate,
      durationMs: load.durationMs,
      method: load.method,
      expires: 3600,
      t1Ms,
      t2Ms: 4000,
      t4Ms: 5000,
      sockets: 4,
      unregister: load.unregister ?? false,
    });
    const result = await engine.run();
    const d = diffStats(before, await kam.stats());
    await kam.set(off);
    return { result, d };
  }

  /** The two rules that hold for every run without loss. */
  function expectReconciled(result: RunResult, d: KamailioStats): void {
    expect(d.answered).toEqual(result.transactions.byStatus);
    expect(d.received).toEqual(wireByMethod(result));
    expect(d.dropped).toBe(0);
    expect(result.transactions.retransmissions).toBe(0);
  }

  it('200 and the 401 challenges: REGISTER with digest, OPTIONS once registered, unregister', async () => {
    // 50 agents at 200/s for 1 s: 4 arrivals each, 250 ms apart; `auto` sends REGISTER first, then OPTIONS.
    const { result, d } = await run({ agents: 50, rate: 200, durationMs: 1000, method: 'auto', unregister: true }, {}, {});
    expectReconciled(result, d);
    expect(result.transactions.byStatus).toEqual({ '401': 50, '200': 50 + 150 + 50 });
    expect(d.received).toEqual({ REGISTER: 50 * 2 + 50, OPTIONS: 150 });
    expect(result.operations.byClass.ok).toBe(200);
    // Every 200 to a REGISTER is a save() the registrar counted (the unregisters included).
    expect(d.registrar.accepted).toBe(100);
  });

  it('through executeRun (the CLI path): the probe adds one OPTIONS and one 200', async () => {
    const before = await kam.stats();
    const { result } = await executeRun(
      runRequest({ target: { protocol: 'udp', host: HOST, port: kam.port, text: `udp:${HOST}:${kam.port}` }, agents: 40, rate: 200, durationMs: 500, method: 'OPTIONS', sockets: 4, unregister: false }),
    );
    const d = diffStats(before, await kam.stats());
    expect(result.transactions.byStatus).toEqual({ '200': 100 });
    expect(d.answered).toEqual({ '200': result.transactions.byStatus['200'] + 1 });
    expect(d.received).toEqual({ REGISTER: 0, OPTIONS: result.transactions.sent + 1 });
  });

  it('403: wrong password (after the 401) and the publish window in forbidden mode', async () => {
    const wrong = await run({ agents: 60, rate: 200, durationMs: 300, method: 'REGISTER', password: 'wrong{n:4}' }, {}, {});
    expectReconciled(wrong.result, wrong.d);
    expect(wrong.result.transactions.byStatus).toEqual({ '401': 60, '403': 60 });
    expect(wrong.result.operations.byStatus).toEqual({ '403': 60 });

    const window = { publishWindow: { startMs: 0, lengthMs: 60_000, mode: 'forbidden' as const, methods: ['REGISTER' as const, 'OPTIONS' as const] } };
    const pub = await run({ agents: 100, rate: 200, durationMs: 500, method: 'OPTIONS' }, window, { publishWindow: null });
    expectReconciled(pub.result, pub.d);
    expect(pub.result.transactions.byStatus).toEqual({ '403': 100 });
    expect(pub.result.operations.byClass.forbidden).toBe(100);
  });

  it('429: the per-AOR limit', async () => {
    // 10 agents, 20 OPTIONS each in 1 s against 2 tokens and 2/s: most are throttled.
    const { result, d } = await run(
      { agents: 10, rate: 200, durationMs: 1000, method: 'OPTIONS' },
      { aorLimit: { rate: 2, burst: 2, code: 429, retryAfterS: 1 } },
      { aorLimit: null },
    );
    expectReconciled(result, d);
    expect(result.transactions.sent).toBe(200);
    expect(result.transactions.byStatus['429']).toBeGreaterThan(100);
    expect(result.transactions.byStatus['200']).toBeGreaterThanOrEqual(20);
    expect(result.operations.byClass.throttled).toBe(result.transactions.byStatus['429']);
  });

  it('503: the global limit', async () => {
    const { result, d } = await run(
      { agents: 100, rate: 200, durationMs: 1000, method: 'OPTIONS' },
      { globalLimit: { rate: 50, burst: 10, retryAfterS: 1 } },
      { globalLimit: null },
    );
    expectReconciled(result, d);
    expect(result.transactions.sent).toBe(200);
    // About 10 + 50 pass; the rest is refused.
    expect(result.transactions.byStatus['503']).toBeGreaterThan(100);
    expect(result.transactions.byStatus['200']).toBeGreaterThanOrEqual(50);
    expect(result.operations.byClass.overload).toBe(result.transactions.byStatus['503']);
  });

  it('timeouts: the loss switch, matched through retransmissions', async () => {
    // T1 50 ms: Timer E resends at 50, 150, 350, 750, 1550, 3150 ms and Timer F ends it at 3.2 s, so
    // with 90% loss about half of the transactions lose all 7 datagrams and half get through late.
    const { result, d } = await run({ agents: 100, rate: 100, durationMs: 1000, method: 'OPTIONS', t1Ms: 50 }, { lossRate: 0.9 }, { lossRate: 0 });
    const tx = result.transactions;
    const timeouts = result.operations.byClass.timeout;
    expect(tx.sent).toBe(100);
    expect(timeouts).toBeGreaterThan(10);
    expect(tx.retransmissions).toBeGreaterThan(100);
    expect(d.answered).toEqual(tx.byStatus);
    expect(d.received).toEqual(wireByMethod(result));
    // Every datagram Kamailio read was either dropped or answered once.
    expect(d.dropped).toBe(tx.sent + tx.retransmissions - sum(tx.byStatus));
    // Kamailio cannot tell a first transmission from a retransmission, so timeouts are matched through
    // sipstorm's retransmissions: a transaction is lost when all its datagrams were dropped. Exact
    // as long as no answer is slower than T1 (a late answer would make its retransmission answered
    // too: one more response than transactions with a final); on loopback at 100/s that is none.
    expect(timeouts).toBe(d.dropped - tx.retransmissions);
    expect(sum(tx.byStatus)).toBe(tx.sent - timeouts);
  });
});
