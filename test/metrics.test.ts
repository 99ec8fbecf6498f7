import fc from 'fast-check';
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import {
  addEncoded,
  decodeHistogram,
  encodeHistogram,
  LATENCY_MAX_US,
  libraryCountsArrayIndex,
  meanUs,
  newCoarseHistogram,
  newLatencyHistogram,
  percentileMs,
  recordUs,
  summarize,
} from '../src/metrics/histogram.js';
import { MetricsRecorder } from '../src/metrics/recorder.js';
import { MAX_TIMELINE_SECONDS, Timeline } from '../src/metrics/timeline.js';
import { OUTCOME_CLASSES } from '../src/shared/outcome.js';

/** The value HDR should report: the smallest recorded value covering `p` percent of the data. */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

describe('latency histogram', () => {
  it('computes the same bucket index as the library (fast clz32 path)', () => {
    const h = newLatencyHistogram();
    const coarse = newCoarseHistogram();
    const edges = [0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 65_535, 1 << 20, 2 ** 31 - 1, 2 ** 31, LATENCY_MAX_US];
    for (const v of edges) {
      expect(h.countsArrayIndex(v)).toBe(libraryCountsArrayIndex(h, v));
      expect(coarse.countsArrayIndex(v)).toBe(libraryCountsArrayIndex(coarse, v));
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LATENCY_MAX_US }), (v) => {
        expect(h.countsArrayIndex(v)).toBe(libraryCountsArrayIndex(h, v));
        expect(coarse.countsArrayIndex(v)).toBe(libraryCountsArrayIndex(coarse, v));
      }),
      { numRuns: 2000 },
    );
  });

  it('reports percentiles within HDR precision of a sorted array', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 120_000_000 }), { minLength: 1, maxLength: 400 }), (values) => {
        const h = newLatencyHistogram();
        for (const v of values) recordUs(h, v);
        const sorted = [...values].sort((a, b) => a - b);
        const s = summarize(h);
        expect(s.count).toBe(values.length);
        const checks: [number, number][] = [
          [s.p50, 50],
          [s.p90, 90],
          [s.p99, 99],
          [s.p999, 99.9],
          [s.max, 100],
        ];
        for (const [ms, p] of checks) {
          const exact = exactPercentile(sorted, p);
          // 3 significant digits: a bucket spans at most 1/1024 of its values.
          expect(Math.abs(ms * 1000 - exact)).toBeLessThanOrEqual(exact / 1024 + 1);
        }
        expect(Math.abs(s.min * 1000 - sorted[0])).toBeLessThanOrEqual(sorted[0] / 1024 + 1);
        expect(meanUs(h)).toBe(h.mean); // the fast loop is the library's own sum
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        expect(Math.abs(s.mean * 1000 - mean)).toBeLessThanOrEqual(mean / 1024 + 1);
      }),
      { numRuns: 100 },
    );
  });

  it('computes the mean exactly as the library does, over the whole range', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: LATENCY_MAX_US }), { minLength: 1, maxLength: 300 }), (values) => {
        for (const make of [newLatencyHistogram, newCoarseHistogram]) {
          const h = make();
          for (const v of values) recordUs(h, v);
          expect(meanUs(h)).toBe(h.mean);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('summarizes in milliseconds with 3 decimals and zeros when empty', () => {
    expect(summarize(newLatencyHistogram())).toEqual({ count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
    const h = newLatencyHistogram();
    recordUs(h, 1234);
    expect(summarize(h)).toEqual({ count: 1, min: 1.234, mean: 1.234, p50: 1.234, p90: 1.234, p99: 1.234, p999: 1.234, max: 1.234 });
    expect(percentileMs(newLatencyHistogram(), 99)).toBe(0);
  });

  it('clamps instead of throwing: negative, NaN, fractional and huge values', () => {
    const h = newLatencyHistogram();
    recordUs(h, -5);
    recordUs(h, Number.NaN);
    recordUs(h, 10.6);
    recordUs(h, 1e15);
    expect(h.totalCount).toBe(4);
    expect(h.getValueAtPercentile(50)).toBe(0);
    expect(h.getValueAtPercentile(75)).toBe(11);
    expect(h.getValueAtPercentile(100)).toBeGreaterThanOrEqual(LATENCY_MAX_US);
  });

  it('round-trips through compressed base64, full and coarse precision', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: LATENCY_MAX_US }), { maxLength: 200 }), (values) => {
        for (const make of [newLatencyHistogram, newCoarseHistogram]) {
          const h = make();
          for (const v of values) recordUs(h, v);
          const encoded = encodeHistogram(h);
          expect(encoded).toMatch(/^[A-Za-z0-9+/]+=*$/);
          const back = decodeHistogram(encoded);
          expect(back.numberOfSignificantValueDigits).toBe(h.numberOfSignificantValueDigits);
          expect(summarize(back)).toEqual(summarize(h));
          expect(encodeHistogram(back)).toBe(encoded);
          // A decoded histogram keeps recording.
          recordUs(back, 5);
          expect(back.totalCount).toBe(values.length + 1);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('decodes and adds a foreign histogram with a wider range', () => {
    const foreign = build({ lowestDiscernibleValue: 1, highestTrackableValue: 2 ** 45, numberOfSignificantValueDigits: 3, bitBucketSize: 64 });
    foreign.recordValue(2 ** 40);
    foreign.recordValue(7);
    const h = decodeHistogram(encodeIntoCompressedBase64(foreign));
    const s = summarize(h);
    expect(s.count).toBe(2);
    expect(Math.abs(s.max * 1000 - 2 ** 40) / 2 ** 40).toBeLessThan(1 / 1000);
    expect(s.min).toBe(0.007);
    // And a full-range histogram can take it in through the library's slower path.
    const ours = newLatencyHistogram();
    recordUs(ours, 3);
    const wide = decodeHistogram(encodeIntoCompressedBase64(foreign));
    wide.add(ours);
    wide.recordValue(2 ** 41); // past 32 bits: the fast index path must hand over to the library's
    expect(wide.totalCount).toBe(4);
    expect(Math.abs(summarize(wide).max * 1000 - 2 ** 41) / 2 ** 41).toBeLessThan(1 / 1000);
    expect(wide.countsArrayIndex(2 ** 41)).toBe(libraryCountsArrayIndex(wide, 2 ** 41));
  });

  it('adds encoded histograms exactly and skips empty strings', () => {
    const a = newLatencyHistogram();
    const b = newLatencyHistogram();
    const all = newLatencyHistogram();
    for (let i = 1; i <= 500; i++) {
      recordUs(i % 2 ? a : b, i * 997);
      recordUs(all, i * 997);
    }
    expect(addEncoded([encodeHistogram(a), '', encodeHistogram(b)])).toBe(encodeHistogram(all));
    expect(addEncoded(['', ''])).toBe('');
    expect(decodeHistogram('').totalCount).toBe(0);
  });
});

describe('MetricsRecorder', () => {
  it('counts reason phrases exactly however phrases interleave, with snapshots taken in between', () => {
    const outcome = fc.record({
      method: fc.constantFrom('REGISTER', 'OPTIONS'),
      status: fc.constantFrom(200, 403, 429, 503),
      reason: fc.constantFrom('OK', 'Forbidden', 'Publish In Progress', '', 'Too Many Requests'),
      snapshotAfter: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(outcome, { maxLength: 60 }), (outcomes) => {
        const r = new MetricsRecorder({ startUs: 0 });
        const expected: Record<string, Record<string, number>> = {};
        for (const o of outcomes) {
          // A fresh string each time, as the parser's slices are.
          r.recordOutcome(o.method, 'ok', o.status, o.reason.split('').join(''), 1, 1, 2);
          const key = o.reason === '' ? String(o.status) : `${o.status} ${o.reason}`;
          const counts = (expected[o.method] ??= {});
          counts[key] = (counts[key] ?? 0) + 1;
          if (o.snapshotAfter) r.snapshot();
        }
        const s = r.snapshot();
        for (const method of ['REGISTER', 'OPTIONS']) expect(s.methods[method]?.byReason ?? {}).toEqual(expected[method] ?? {});
        // A snapshot changes nothing: the next one reports the same.
        expect(r.snapshot().methods).toEqual(s.methods);
      }),
    );
  });

  it('counts classes, statuses, reasons, wire traffic and malformed datagrams exactly', () => {
    const r = new MetricsRecorder({ startUs: 1_000_000 });
    for (let i = 0; i < 7; i++) r.recordOutcome('REGISTER', 'ok', 200, 'OK', 1_000_000, 1_000_100, 1_002_000);
    r.recordOutcome('REGISTER', 'forbidden', 403, 'Forbidden', 1_000_000, 1_000_000, 1_001_000);
    r.recordOutcome('REGISTER', 'forbidden', 403, 'Publish In Progress', 1_000_000, 1_000_000, 1_001_000);
    r.recordOutcome('REGISTER', 'throttled', 429, '', 1_000_000, 1_000_000, 1_001_000);
    r.recordOutcome('OPTIONS', 'timeout', 0, '', 1_000_000, 1_000_000, 33_000_000);
    r.recordOutcome('OPTIONS', 'dropped', 0, '', 1_000_000, -1, 1_000_000);
    r.recordOutcome('OPTIONS', 'overload', 503, 'Service Unavailable', 1_000_000, 1_000_000, 1_500_000);
    for (let i = 0; i < 3; i++) r.recordSent('REGISTER', 1_000_000, false);
    r.recordSent('REGISTER', 1_500_000, true);
    r.recordSent('OPTIONS', 1_000_000, false);
    r.recordResponse('REGISTER', 401);
    r.recordResponse('REGISTER', 401);
    r.recordResponse('REGISTER', 200);
    r.recordResponse('OPTIONS', 100);
    r.recordResponse('OPTIONS', 999);
    r.recordMalformed('bad-status-line');
    r.recordMalformed('bad-status-line');
    r.recordMalformed('truncated');
    expect(r.attempted).toBe(13);

    const s = r.snapshot();
    expect(s.version).toBe(1);
    expect(Object.keys(s.methods)).toEqual(['REGISTER', 'OPTIONS']);
    const reg = s.methods.REGISTER;
    expect(reg.byClass).toEqual({ ...Object.fromEntries(OUTCOME_CLASSES.map((c) => [c, 0])), ok: 7, forbidden: 2, throttled: 1 });
    expect(reg.byStatus).toEqual({ 200: 7, 403: 2, 429: 1 });
    expect(reg.byReason).toEqual({ '200 OK': 7, '403 Forbidden': 1, '403 Publish In Progress': 1, '429': 1 });
    expect(reg.sent).toBe(3);
    expect(reg.retransmissions).toBe(1);
    expect(reg.responsesByStatus).toEqual({ 200: 1, 401: 2 });
    const opt = s.methods.OPTIONS;
    expect(opt.byClass.timeout).toBe(1);
    expect(opt.byClass.dropped).toBe(1);
    expect(opt.byClass.overload).toBe(1);
    expect(opt.byStatus).toEqual({ 503: 1 });
    expect(opt.responsesByStatus).toEqual({ 100: 1, 999: 1 });
    expect(s.malformed).toEqual({ 'bad-status-line': 2, truncated: 1 });

    // Series with operations only; dropped has empty histograms.
    expect(Object.keys(s.histograms).sort()).toEqual(
      ['OPTIONS.dropped', 'OPTIONS.overload', 'OPTIONS.timeout', 'REGISTER.forbidden', 'REGISTER.ok', 'REGISTER.throttled'].sort(),
    );
    const ok = s.histograms['REGISTER.ok'];
    expect(summarize(decodeHistogram(ok.corrected))).toMatchObject({ count: 7, p50: 2, max: 2 });
    expect(summarize(decodeHistogram(ok.uncorrected))).toMatchObject({ count: 7, p50: 1.9, max: 1.9 });
    expect(decodeHistogram(s.histograms['OPTIONS.dropped'].corrected).totalCount).toBe(0);
    expect(summarize(decodeHistogram(s.histograms['OPTIONS.timeout'].corrected)).max).toBeCloseTo(32_000, -2);
  });

  it('keeps corrected and uncorrected apart: a late send shows only in corrected', () => {
    const r = new MetricsRecorder({ startUs: 0 });
    // Intended at 0, sent 400 ms late, answered 1 ms after the send.
    r.recordOutcome('OPTIONS', 'ok', 200, 'OK', 0, 400_000, 401_000);
    const s = r.snapshot().histograms['OPTIONS.ok'];
    expect(summarize(decodeHistogram(s.corrected)).p50).toBeCloseTo(401, 0);
    expect(summarize(decodeHistogram(s.uncorrected)).p50).toBe(1);
  });

  it('records corrected but not uncorrected latency for operations never sent', () => {
    const r = new MetricsRecorder({ startUs: 0 });
    r.recordOutcome('REGISTER', 'transport_error', 0, '', 0, -1, 2_000);
    const h = r.snapshot().histograms['REGISTER.transport_error'];
    expect(decodeHistogram(h.corrected).totalCount).toBe(1);
    expect(decodeHistogram(h.uncorrected).totalCount).toBe(0);
  });

  it('adds a method on first sight and records send and event-loop lag', () => {
    const r = new MetricsRecorder({ startUs: 0, methods: ['OPTIONS'] });
    r.recordOutcome('SUBSCRIBE', 'ok', 200, 'OK', 0, 0, 10);
    for (let i = 1; i <= 100; i++) r.recordSendLag(i * 10);
    r.recordSendLag(-3);
    r.recordEventLoopLag(5_000);
    const s = r.snapshot();
    expect(Object.keys(s.methods)).toEqual(['OPTIONS', 'SUBSCRIBE']);
    expect(s.methods.SUBSCRIBE.byClass.ok).toBe(1);
    const lag = decodeHistogram(s.sendLag);
    expect(lag.totalCount).toBe(101);
    expect(percentileMs(lag, 100)).toBe(1);
    // Highest equivalent value of 5000 us at 3 digits.
    expect(percentileMs(decodeHistogram(s.eventLoopLag), 50)).toBe(5.003);
  });
});

describe('timeline', () => {
  const S = 1_000_000;

  it('bins completions by done time and sends by send time, dense with zeros in gaps', () => {
    const r = new MetricsRecorder({ startUs: 10 * S });
    r.recordSent('REGISTER', 10 * S + 5, false);
    r.recordSent('REGISTER', 10 * S + 6, false);
    r.recordSent('REGISTER', 11 * S, true);
    r.recordOutcome('REGISTER', 'ok', 200, 'OK', 10 * S, 10 * S, 10 * S + 1_000);
    r.recordOutcome('REGISTER', 'ok', 200, 'OK', 10 * S, 10 * S, 11 * S + 5_000);
    r.recordOutcome('REGISTER', 'dropped', 0, '', 13 * S, -1, 13 * S);
    r.recordOutcome('REGISTER', 'timeout', 0, '', 10 * S, 10 * S, 13 * S + 10);
    const bins = r.snapshot().timeline;
    expect(bins.map((b) => b.t)).toEqual([0, 1, 2, 3]);
    expect(bins.map((b) => b.sent)).toEqual([2, 0, 0, 0]);
    expect(bins.map((b) => b.retransmissions)).toEqual([0, 1, 0, 0]);
    expect(bins.map((b) => b.completed)).toEqual([1, 1, 0, 1]);
    expect(bins[3].byClass.dropped).toBe(1);
    expect(bins[3].byClass.timeout).toBe(1);
    expect(bins[2].latency).toBe('');
    expect(percentileMs(decodeHistogram(bins[0].latency), 50)).toBe(1.003); // 2-digit bucket of 1000 us
    expect(percentileMs(decodeHistogram(bins[1].latency), 50)).toBeCloseTo(1005, -1);
  });

  it('gives per-second p50/p99 from a coarse histogram and survives sealing and late arrivals', () => {
    const t = new Timeline(0);
    const ok = OUTCOME_CLASSES.indexOf('ok');
    // Ten seconds of 100 completions each; latency grows with the second.
    for (let sec = 0; sec < 10; sec++) {
      for (let i = 1; i <= 100; i++) t.recordOutcome(sec * S + i * 1000, ok, (sec + 1) * 1000 * i);
    }
    // A completion for second 1 arriving after second 9 was opened (outside the open ring).
    t.recordOutcome(1 * S + 1, ok, 50_000);
    const bins = t.snapshot();
    expect(bins).toHaveLength(10);
    for (const bin of bins) {
      const h = decodeHistogram(bin.latency);
      expect(h.numberOfSignificantValueDigits).toBe(2);
      expect(h.totalCount).toBe(bin.t === 1 ? 101 : 100);
      const scale = bin.t + 1;
      // 2 significant digits: within 1/128 of the exact value.
      expect(Math.abs(percentileMs(h, 99) - 99 * scale) / (99 * scale)).toBeLessThan(1 / 64);
    }
  });

  it('folds a large batch of out-of-order completions into their sealed seconds', () => {
    const t = new Timeline(0);
    const ok = OUTCOME_CLASSES.indexOf('ok');
    t.recordOutcome(20 * S, ok, 1_000);
    // 5000 late completions (more than one fold batch) spread over seconds 0..4.
    for (let i = 0; i < 5000; i++) t.recordOutcome((i % 5) * S, ok, 2_000 + (i % 5) * 1000);
    const bins = t.snapshot();
    expect(bins).toHaveLength(21);
    for (let sec = 0; sec < 5; sec++) {
      const h = decodeHistogram(bins[sec].latency);
      expect(h.totalCount).toBe(1000);
      expect(bins[sec].completed).toBe(1000);
      expect(Math.round(percentileMs(h, 50))).toBe(2 + sec);
    }
    expect(decodeHistogram(bins[20].latency).totalCount).toBe(1);
  });

  it('clamps times before the start and far in the future', () => {
    const t = new Timeline(5 * S);
    t.recordSent(0, false);
    t.recordSent(5 * S + MAX_TIMELINE_SECONDS * S * 10, false);
    expect(t.binOf(0)).toBe(0);
    expect(t.binOf(5 * S + MAX_TIMELINE_SECONDS * S * 10)).toBe(MAX_TIMELINE_SECONDS - 1);
    expect(t.length).toBe(MAX_TIMELINE_SECONDS);
  });
});
