// The global concurrency cap for softphones (throttle.concurrency, held by p-limit): a login holds
// its slot until its outcome, so with a cap of 1 and a trunk answering each request 50 ms late, ten
// logins (401 + 200 each) run one after the other; the queue wait shows in the corrected latency.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/report/result.js';
import { executeScenario, prepareScenario } from '../src/run/scenario-run.js';
import { loadScenario } from '../src/scenario/load.js';

const dir = mkdtempSync(join(tmpdir(), 'sipstorm-softphone-cap-'));
let n = 0;

async function run(throttle: string): Promise<RunResult> {
  const path = join(dir, `cap-${n++}.yaml`);
  writeFileSync(
    path,
    `agents: { count: 10, expires: 60, kind: softphone }
phases:
  - { name: login, type: burst, window: 10ms }
  - { name: hold, type: idle, duration: 500ms }
retry: { policy: none }
trunk: { minExpires: 1, algorithm: MD5, delay: { fixedMs: 50 } }
${throttle}
`,
  );
  return (await executeScenario(prepareScenario(loadScenario(path)))).result;
}

describe('softphone logins under throttle.concurrency (p-limit)', () => {
  it('without a cap the ten logins overlap: each takes about two delayed round trips', async () => {
    const r = await run('');
    expect(r.operations.byClass.ok).toBe(10);
    expect(r.latencyMs.corrected.max).toBeLessThan(700);
  }, 60_000);

  it('a cap of 1 (queue) runs them one at a time: the last waited for the nine before it', async () => {
    const r = await run('throttle: { concurrency: { limit: 1, whenFull: queue, queueLimit: 20 } }');
    expect(r.operations.byClass.ok).toBe(10);
    expect(r.latencyMs.corrected.max).toBeGreaterThan(9 * 100);
  }, 60_000);

  it('a cap of 2 that drops sheds what does not fit and counts it dropped', async () => {
    const r = await run('throttle: { concurrency: { limit: 2, whenFull: drop } }');
    expect(r.operations.byClass.dropped).toBeGreaterThan(0);
    expect(r.operations.byClass.ok + r.operations.byClass.dropped).toBe(10);
  }, 60_000);
});
