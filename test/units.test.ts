import { describe, expect, it } from 'vitest';
import { parseClassMap, parseDurationMs, parseLimit, parseRate, UsageError } from '../src/cli/units.js';
import { isOutcomeClass } from '../src/shared/outcome.js';

describe('command-line units', () => {
  it('parses durations', () => {
    expect(parseDurationMs('30s', '--duration')).toBe(30_000);
    expect(parseDurationMs('500ms', '--duration')).toBe(500);
    expect(parseDurationMs('2m', '--duration')).toBe(120_000);
    expect(parseDurationMs('1.5', '--duration')).toBe(1500);
    expect(() => parseDurationMs('soon', '--duration')).toThrow(/--duration: expected a duration/);
  });

  it('parses rates per second, minute and hour', () => {
    expect(parseRate('1000/s', '--rate')).toBe(1000);
    expect(parseRate('300/m', '--rate')).toBe(5);
    expect(parseRate('250', '--rate')).toBe(250);
    expect(() => parseRate('0/s', '--rate')).toThrow(UsageError);
    expect(() => parseRate('fast', '--rate')).toThrow(/--rate/);
  });

  it('parses token-bucket limits with an optional burst', () => {
    expect(parseLimit('5/s', '--aor-limit')).toEqual({ rate: 5, burst: 5 });
    expect(parseLimit('0.5/s', '--aor-limit')).toEqual({ rate: 0.5, burst: 1 });
    expect(parseLimit('10/s:20', '--aor-limit')).toEqual({ rate: 10, burst: 20 });
    expect(() => parseLimit('10/s:x', '--aor-limit')).toThrow(/burst/);
  });

  it('parses a class map and rejects unknown classes', () => {
    expect(parseClassMap('403=throttled, 503=overload', '--class-map', isOutcomeClass)).toEqual({ 403: 'throttled', 503: 'overload' });
    expect(() => parseClassMap('403=angry', '--class-map', isOutcomeClass)).toThrow(/403=angry/);
  });
});
