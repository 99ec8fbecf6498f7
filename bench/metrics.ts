// Cost of the metrics hot path and of snapshots. Run: npm run build && node dist/bench/metrics.js
// Prints ns per recordOutcome / recordSent (target: well under 500 ns), snapshot + JSON time for 20
// series, merge time, build-result time, and the snapshot size.
import { MetricsRecorder } from '../src/metrics/recorder.js';
import { mergeSnapshots } from '../src/metrics/snapshot.js';
import { buildRunResult } from '../src/report/result.js';
import { OUTCOME_CLASSES, type OutcomeClass } from '../src/shared/outcome.js';

const now = (): bigint => process.hrtime.bigint();

/** Latencies drawn once (log-uniform 50 us .. 30 s) so the loop measures recording, not Math.random. */
function latencies(n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(50 * Math.exp(Math.random() * Math.log(600_000)));
  return out;
}

function benchRecordOutcome(ops: number): number {
  const r = new MetricsRecorder({ startUs: 0 });
  const lat = latencies(8192);
  const methods = ['REGISTER', 'OPTIONS'];
  const classes: OutcomeClass[] = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'forbidden', 'throttled', 'overload', 'timeout'];
  const statuses = [200, 200, 200, 200, 200, 200, 403, 429, 503, 0];
  const reasons = ['OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'Forbidden', 'Too Many Requests', 'Service Unavailable', ''];
  // Completions arrive in time order, 40 us apart (25k/s), as the engine reports them (doneUs = now),
  // so the timeline rolls over seconds as in a real run.
  const run = (n: number, offset: number) => {
    for (let i = 0; i < n; i++) {
      const k = i % 10;
      const done = 40_000_000 + (offset + i) * 40;
      const intended = done - lat[i & 8191];
      r.recordOutcome(methods[i & 1], classes[k], statuses[k], reasons[k], intended, intended + 30, done);
    }
  };
  run(200_000, 0); // warm up (JIT, lazily created series)
  const t0 = now();
  run(ops, 200_000);
  return Number(now() - t0) / ops;
}

function benchRecordSent(ops: number): number {
  const r = new MetricsRecorder({ startUs: 0 });
  for (let i = 0; i < 200_000; i++) r.recordSent('REGISTER', i * 40, (i & 15) === 0);
  const t0 = now();
  for (let i = 0; i < ops; i++) r.recordSent(i & 1 ? 'OPTIONS' : 'REGISTER', (200_000 + i) * 40, (i & 15) === 0);
  return Number(now() - t0) / ops;
}

/** A recorder with `series` populated series (methods x classes) and a 60 s timeline. */
function populated(series: number, perSeries: number): MetricsRecorder {
  const methods = ['REGISTER', 'OPTIONS'];
  const r = new MetricsRecorder({ startUs: 0, methods });
  const lat = latencies(perSeries);
  // In completion-time order across all series, as a run produces them.
  for (let i = 0; i < perSeries; i++) {
    const done = Math.floor((i / perSeries) * 60_000_000);
    for (let s = 0; s < series; s++) {
      const method = methods[s % 2];
      const cls = OUTCOME_CLASSES[Math.floor(s / 2) % OUTCOME_CLASSES.length];
      if (cls === 'dropped') continue;
      const intended = done - lat[(i + s) % perSeries];
      r.recordOutcome(method, cls, 200, 'OK', intended, intended + 20, done);
      r.recordSent(method, intended, false);
    }
  }
  return r;
}

function time<T>(fn: () => T, reps: number): { ms: number; value: T } {
  let value = fn();
  const t0 = now();
  for (let i = 0; i < reps; i++) value = fn();
  return { ms: Number(now() - t0) / 1e6 / reps, value };
}

function main(): void {
  const ops = 2_000_000;
  const outcomeNs = benchRecordOutcome(ops);
  const sentNs = benchRecordSent(ops);
  console.log(`recordOutcome: ${outcomeNs.toFixed(0)} ns/call (${ops.toLocaleString('en-US')} calls, 2 methods, 5 classes, 25k/s timeline)`);
  console.log(`recordSent:    ${sentNs.toFixed(0)} ns/call`);

  const rec = populated(20, 20_000);
  const snap = time(() => rec.snapshot(), 5);
  const json = time(() => JSON.stringify(snap.value), 5);
  console.log(
    `snapshot (20 series x 20k values, 60 s timeline): ${snap.ms.toFixed(1)} ms, JSON ${json.ms.toFixed(2)} ms, ` +
      `${(json.value.length / 1024).toFixed(1)} KiB, ${Object.keys(snap.value.histograms).length} series`,
  );
  const other = populated(20, 20_000).snapshot();
  const merge = time(() => mergeSnapshots(snap.value, other), 3);
  console.log(`mergeSnapshots of two such snapshots: ${merge.ms.toFixed(1)} ms`);
  const result = time(
    () =>
      buildRunResult(merge.value, {
        tool: { name: 'sipstorm', version: 'bench' },
        target: 'udp:127.0.0.1:5060',
        startedAt: new Date(),
        durationMs: 60_000,
        config: { agents: 1, rate: 1, method: 'REGISTER', transport: 'udp' },
        generator: { cpuUserMs: 0, cpuSystemMs: 0, maxRssBytes: 0 },
      }),
    3,
  );
  console.log(`buildRunResult from it: ${result.ms.toFixed(1)} ms`);
  const verdict = outcomeNs < 500 ? 'OK' : 'OVER BUDGET';
  console.log(`target recordOutcome < 500 ns: ${verdict}`);
}

main();
