// A wall-clock T0: the run starts early enough that the phases before the anchored one end exactly at
// the next Friday 16:00 Chicago time that leaves room for them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareScenario } from '../src/run/scenario-run.js';
import { loadScenario } from '../src/scenario/load.js';

const dir = mkdtempSync(join(tmpdir(), 'sipstorm-t0-'));
const file = join(dir, 'friday.yaml');
writeFileSync(
  file,
  `agents: { count: 10 }
t0: { at: "Fri 16:00", tz: America/Chicago }
phases:
  - { name: login, type: burst, window: 30s }
  - { name: settle, type: idle, duration: 10s }
  - { name: publish, type: burst, anchor: t0, window: 60s }
`,
);

describe('prepareScenario with a wall-clock T0', () => {
  const scenario = loadScenario(file);

  it('starts 40 s before the coming Friday 16:00 CST (22:00 UTC) when there is room', () => {
    const run = prepareScenario(scenario, {}, new Date('2026-11-27T21:00:00Z')); // Fri 15:00 CST
    expect(run.startAt?.toISOString()).toBe('2026-11-27T21:59:20.000Z');
    expect(run.plan.t0Us).toBe(40_000_000);
  });

  it('takes the next week when the lead-in no longer fits before 16:00', () => {
    const run = prepareScenario(scenario, {}, new Date('2026-11-27T21:59:30Z')); // 30 s before 16:00: less than 40 s
    expect(run.startAt?.toISOString()).toBe('2026-12-04T21:59:20.000Z');
  });

  it('follows the DST change: before it, 16:00 CDT is 21:00 UTC', () => {
    const run = prepareScenario(scenario, {}, new Date('2026-10-30T12:00:00Z'));
    expect(run.startAt?.toISOString()).toBe('2026-10-30T20:59:20.000Z');
  });
});
