// A replay phase end to end: rows `offset_ms,agent,action` from an incident, compressed in time, drive
// logins, OPTIONS checks and unregistrations against the embedded trunk, which counts exactly them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeScenario, prepareScenario } from '../src/run/scenario-run.js';
import { loadScenario } from '../src/scenario/load.js';

describe('replay phase against the embedded trunk', () => {
  it('replays the incident rows in order, compressed, with their actions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipstorm-replay-'));
    // 4 agents log in, two send OPTIONS checks, agent 3 logs out; offsets in ms of the real incident.
    writeFileSync(
      join(dir, 'incident.csv'),
      ['offset_ms,agent,action', '0,agent0000,login', '200,agent0001,login', '400,agent0002,login', '600,agent0003,login',
        '1000,agent0000,options', '1200,agent0001,options', '1600,agent0003,unregister', '2000,agent0002,refresh'].join('\n'),
    );
    const file = join(dir, 'replay.yaml');
    writeFileSync(
      file,
      `agents: { count: 4, expires: 300 }
phases:
  - { name: incident, type: replay, file: incident.csv, compression: 4 }
trunk: { minExpires: 1 }
unregister: false
`,
    );
    const { result: r, trunkCounters } = await executeScenario(prepareScenario(loadScenario(file)));
    const phase = r.phases![0];
    expect(phase.plannedArrivals).toBe(8);
    expect(phase.endMs - phase.startMs).toBeGreaterThanOrEqual(499); // 2000 ms / 4
    expect(phase.endMs - phase.startMs).toBeLessThan(520);
    expect(r.methods.REGISTER.operations.byClass.ok).toBe(5); // 4 logins + 1 refresh
    expect(r.methods.OPTIONS.operations.byClass.ok).toBe(2);
    expect(r.methods.UNREGISTER.operations.byClass.ok).toBe(1);
    const counters = trunkCounters as { byMethodStatus: Record<string, number>; bindings: number };
    // Each login takes a fresh challenge: 4 x 401; the refresh reuses its nonce; the unregister too.
    expect(counters.byMethodStatus['REGISTER 401']).toBe(4);
    expect(counters.byMethodStatus['REGISTER 200']).toBe(6);
    expect(counters.byMethodStatus['OPTIONS 200']).toBeGreaterThanOrEqual(2); // + the probe
    expect(counters.bindings).toBe(3);
  }, 30_000);
});
