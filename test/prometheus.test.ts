// --prometheus: /metrics scraped during a real run against the embedded trunk (loopback UDP); the
// exposition parses, counters only grow, and the last scrape equals the run's JSON result.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { meanUs, newLatencyHistogram, recordUs } from '../src/metrics/histogram.js';
import { cumulativeBuckets } from '../src/metrics/live-view.js';
import { MetricsRecorder } from '../src/metrics/recorder.js';
import { LATENCY_BUCKETS_US, renderExposition } from '../src/report/prometheus.js';
import type { RunResult } from '../src/report/result.js';
import { RunEngine } from '../src/run/engine.js';
import { identitiesFromTemplates } from '../src/run/identities.js';
import { isLoopbackHost, PrometheusServer } from '../src/run/prometheus-server.js';
import { EmbeddedTrunk } from '../src/trunk/server.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the 0.0.4 text format: every line a comment or `name{labels} value`. */
function parseExposition(text: string): { samples: Sample[]; types: Record<string, string> } {
  const samples: Sample[] = [];
  const types: Record<string, string> = {};
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    const type = /^# TYPE (\w+) (counter|gauge|histogram)$/.exec(line);
    if (type) {
      types[type[1]] = type[2];
      continue;
    }
    if (/^# HELP \w+ .+$/.test(line)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ([-+]?(?:\d+(?:\.\d+)?(?:e[-+]?\d+)?|\+Inf|NaN))$/.exec(line);
    expect(m, `bad exposition line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const l of (m![2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m![1], labels, value: m![3] === '+Inf' ? Infinity : Number(m![3]) });
  }
  return { samples, types };
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);

async function scrape(port: number): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const parsed = parseExposition(await res.text());
  expect(parsed.types).toMatchObject({
    sipstorm_operations_total: 'counter',
    sipstorm_responses_total: 'counter',
    sipstorm_transactions_sent_total: 'counter',
    sipstorm_retransmissions_total: 'counter',
    sipstorm_operation_latency_seconds: 'histogram',
    sipstorm_outstanding_transactions: 'gauge',
    sipstorm_send_lag_p99_seconds: 'gauge',
    sipstorm_event_loop_lag_seconds: 'gauge',
  });
  return parsed.samples;
}

describe('Prometheus /metrics', () => {
  it('is scraped during a real run; counters grow and end equal to the result', async () => {
    const trunk = await EmbeddedTrunk.start({ port: 0, users: 40, minExpires: 1 });
    cleanups.push(() => trunk.stop());
    const server = await PrometheusServer.start(0);
    cleanups.push(() => server.close());
    // Before a run is attached: a valid exposition with zero gauges and no counter samples.
    const idle = await scrape(server.port);
    expect(value(idle, 'sipstorm_operations_total')).toBe(0);

    const engine = new RunEngine({
      target: { protocol: 'udp', host: '127.0.0.1', port: trunk.address.port, text: `udp:127.0.0.1:${trunk.address.port}` },
      identities: identitiesFromTemplates(40, 'agent{n:4}', 'secret{n:4}', '127.0.0.1'),
      rate: 200,
      durationMs: 2000,
      method: 'auto',
      expires: 60,
      t1Ms: 500,
      t2Ms: 4000,
      t4Ms: 5000,
      sockets: 2,
      unregister: true,
    });
    server.attach({ liveCounts: (b) => engine.metrics.liveCounts(b), outstanding: () => engine.transactions?.outstanding ?? 0 });
    let finished: RunResult | null = null;
    const running = engine.run().then((r) => (finished = r));
    const during: Sample[][] = [];
    for (let i = 0; i < 40 && finished === null; i++) {
      await new Promise((r) => setTimeout(r, 250));
      if (finished === null) during.push(await scrape(server.port));
    }
    const result = await running;
    const last = await scrape(server.port);

    // Scraped while it ran, and the counters only grew from one scrape to the next.
    expect(during.length).toBeGreaterThanOrEqual(4);
    const ops = during.map((s) => value(s, 'sipstorm_operations_total'));
    for (let i = 1; i < ops.length; i++) expect(ops[i]).toBeGreaterThanOrEqual(ops[i - 1]);
    expect(ops[ops.length - 1]).toBeGreaterThan(ops[0]);
    expect(ops[0]).toBeLessThan(result.operations.attempted);
    const sent = during.map((s) => value(s, 'sipstorm_transactions_sent_total'));
    for (let i = 1; i < sent.length; i++) expect(sent[i]).toBeGreaterThanOrEqual(sent[i - 1]);

    // The last scrape equals the result, counter by counter.
    expect(result.operations.attempted).toBe(400);
    for (const [method, block] of Object.entries(result.methods)) {
      for (const [cls, n] of Object.entries(block.operations.byClass)) expect(value(last, 'sipstorm_operations_total', { method, class: cls }), `${method} ${cls}`).toBe(n);
      for (const [status, n] of Object.entries(block.transactions.byStatus)) expect(value(last, 'sipstorm_responses_total', { method, status }), `${method} ${status}`).toBe(n);
      expect(value(last, 'sipstorm_transactions_sent_total', { method })).toBe(block.transactions.sent);
      expect(value(last, 'sipstorm_retransmissions_total', { method })).toBe(block.transactions.retransmissions);
      const count = block.latencyMs.corrected.count;
      expect(value(last, 'sipstorm_operation_latency_seconds_count', { method })).toBe(count);
      if (count === 0) continue;
      expect(value(last, 'sipstorm_operation_latency_seconds_bucket', { method, le: '+Inf' })).toBe(count);
      // Buckets are cumulative; the one at/above max holds everything; the mean agrees with the result's.
      const buckets = last.filter((s) => s.name === 'sipstorm_operation_latency_seconds_bucket' && s.labels.method === method).map((s) => s.value);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]);
      const maxS = block.latencyMs.corrected.max / 1000;
      const firstAbove = LATENCY_BUCKETS_US.findIndex((us) => us / 1e6 >= maxS * 1.002);
      if (firstAbove >= 0) expect(buckets[firstAbove]).toBe(count);
      const sum = value(last, 'sipstorm_operation_latency_seconds_sum', { method });
      expect(sum / count).toBeCloseTo(block.latencyMs.corrected.mean / 1000, 5);
    }
    expect(value(last, 'sipstorm_responses_total', { method: 'REGISTER', status: '401' })).toBeGreaterThan(0);
    expect(value(last, 'sipstorm_outstanding_transactions')).toBe(0);
    expect(value(last, 'sipstorm_send_lag_p99_seconds')).toBeCloseTo(result.generator.sendLagP99Ms / 1000, 6);
    expect(server.scrapes).toBe(during.length + 2);
  });

  it('answers only GET /metrics, and only on loopback', async () => {
    const server = await PrometheusServer.start(0, '::1').catch(() => PrometheusServer.start(0));
    cleanups.push(() => server.close());
    const base = server.host === '::1' ? `http://[::1]:${server.port}` : `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    await expect(PrometheusServer.start(0, '0.0.0.0')).rejects.toThrow(/refusing to listen on 0.0.0.0: only loopback/);
    await expect(PrometheusServer.start(0, '192.168.1.10')).rejects.toThrow(/only loopback/);
    await expect(PrometheusServer.start(server.port, server.host)).rejects.toThrow(/cannot listen on .*EADDRINUSE/);
    expect(isLoopbackHost('127.0.0.2')).toBe(true);
    expect(isLoopbackHost('::')).toBe(false);
  });

  it('escapes label values and renders unlabelled families when nothing ran', () => {
    const r = new MetricsRecorder({ startUs: 0, methods: ['REG"IS\\TER\n'] });
    r.recordOutcome('REG"IS\\TER\n', 'ok', 200, 'OK', 0, 0, 1500);
    const text = renderExposition(r.liveCounts(LATENCY_BUCKETS_US), { outstanding: 3, eventLoopLagSeconds: 0.002, elapsedSeconds: 1 });
    expect(text).toContain('sipstorm_operations_total{method="REG\\"IS\\\\TER\\n",class="ok"} 1');
    expect(text).toContain('sipstorm_operation_latency_seconds_bucket{method="REG\\"IS\\\\TER\\n",le="0.001"} 0');
    expect(text).toContain('sipstorm_operation_latency_seconds_bucket{method="REG\\"IS\\\\TER\\n",le="0.0025"} 1');
    expect(text).toContain('sipstorm_outstanding_transactions 3');
    parseExposition(text);
  });

  it('cumulative buckets count every value at or below each bound, to HDR precision (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 40_000_000 })), { maxLength: 300 }), (values) => {
        const h = newLatencyHistogram();
        for (const v of values) recordUs(h, v);
        const b = cumulativeBuckets(h, LATENCY_BUCKETS_US);
        expect(b.count).toBe(values.length);
        LATENCY_BUCKETS_US.forEach((bound, i) => expect(b.cumulative[i]).toBe(values.filter((v) => h.lowestEquivalentValue(v) <= bound).length));
        expect(b.sumUs).toBeCloseTo(meanUs(h) * values.length, 3);
      }),
      { numRuns: 200 },
    );
  });
});
