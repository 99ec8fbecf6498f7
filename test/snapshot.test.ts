import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHistogram, summarize } from '../src/metrics/histogram.js';
import { MetricsRecorder } from '../src/metrics/recorder.js';
import { emptyHistogramEncoded, mergeAllSnapshots, mergeSnapshots, type MetricsSnapshot } from '../src/metrics/snapshot.js';
import { metricEvent, replay, START } from './metrics-fixtures.js';

const recorder = () => new MetricsRecorder({ startUs: START });

describe('mergeSnapshots', () => {
  it('equals recording everything into one recorder, for any split of the events', () => {
    fc.assert(
      fc.property(fc.array(metricEvent, { maxLength: 120 }), fc.nat(), (events, cut) => {
        const k = events.length === 0 ? 0 : cut % (events.length + 1);
        const a = replay(recorder(), events.slice(0, k)).snapshot();
        const b = replay(recorder(), events.slice(k)).snapshot();
        const whole = replay(recorder(), events).snapshot();
        expect(mergeSnapshots(a, b)).toEqual(whole);
        // Order of the operands does not matter either.
        expect(mergeSnapshots(b, a)).toEqual(whole);
      }),
      { numRuns: 40 },
    );
  });

  it('survives JSON (the worker/shard boundary) and merges three parts', () => {
    fc.assert(
      fc.property(fc.array(metricEvent, { minLength: 3, maxLength: 90 }), (events) => {
        const third = Math.floor(events.length / 3);
        const parts = [events.slice(0, third), events.slice(third, 2 * third), events.slice(2 * third)].map(
          (part) => JSON.parse(JSON.stringify(replay(recorder(), part).snapshot())) as MetricsSnapshot,
        );
        expect(mergeAllSnapshots(parts)).toEqual(replay(recorder(), events).snapshot());
      }),
      { numRuns: 15 },
    );
  });

  it('adds counters, histograms and timelines of disjoint series', () => {
    const a = recorder();
    const b = recorder();
    a.recordOutcome('REGISTER', 'ok', 200, 'OK', START, START, START + 1_000);
    b.recordOutcome('REGISTER', 'ok', 200, 'OK', START, START, START + 3_000);
    b.recordOutcome('OPTIONS', 'throttled', 429, 'Too Many Requests', START, START, START + 3_500_000);
    a.recordMalformed('truncated');
    b.recordMalformed('truncated');
    const m = mergeSnapshots(a.snapshot(), b.snapshot());
    expect(m.methods.REGISTER.byClass.ok).toBe(2);
    expect(m.methods.OPTIONS.byReason).toEqual({ '429 Too Many Requests': 1 });
    expect(m.malformed).toEqual({ truncated: 2 });
    expect(summarize(decodeHistogram(m.histograms['REGISTER.ok'].corrected))).toMatchObject({ count: 2, min: 1, max: 3.001 });
    expect(m.timeline).toHaveLength(4);
    expect(m.timeline[0].completed).toBe(2);
    expect(m.timeline[3].byClass.throttled).toBe(1);
    expect(m.sendLag).toBe(emptyHistogramEncoded());
  });

  it('rejects an empty list', () => {
    expect(() => mergeAllSnapshots([])).toThrow(/at least one/);
  });
});
