import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { AnchorError, nextWallClock } from '../src/schedule/anchor.js';

const CHICAGO = 'America/Chicago';
const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString();

describe('nextWallClock: weekly "Fri 16:00"', () => {
  it('from a Friday 15:59 it is the same day; from 16:01 the next Friday; at 16:00 exactly, now', () => {
    // 2026-10-23 is a Friday; Chicago is on CDT (UTC-5).
    expect(iso(nextWallClock('Fri 16:00', CHICAGO, at('2026-10-23T20:59:00Z')))).toBe('2026-10-23T21:00:00.000Z');
    expect(iso(nextWallClock('Fri 16:00', CHICAGO, at('2026-10-23T21:00:00Z')))).toBe('2026-10-23T21:00:00.000Z');
    expect(iso(nextWallClock('Fri 16:00', CHICAGO, at('2026-10-23T21:01:00Z')))).toBe('2026-10-30T21:00:00.000Z');
  });

  it('the week DST ends (Sun 2026-11-01): Friday 16:00 is 16:00 CST, not 15:00', () => {
    // From Friday 2026-10-30 16:01 CDT, across the change, to Friday 2026-11-06 16:00 CST (UTC-6).
    expect(iso(nextWallClock('Fri 16:00', CHICAGO, at('2026-10-30T21:01:00Z')))).toBe('2026-11-06T22:00:00.000Z');
    expect(iso(nextWallClock('fri 16:00', CHICAGO, at('2026-10-30T20:59:00Z')))).toBe('2026-10-30T21:00:00.000Z');
    expect(iso(nextWallClock('Friday 16:00', CHICAGO, at('2026-11-01T05:30:00Z')))).toBe('2026-11-06T22:00:00.000Z');
  });

  it('the week DST starts (Sun 2026-03-08): Friday 16:00 is 16:00 CDT, not 17:00', () => {
    expect(iso(nextWallClock('Fri 16:00', CHICAGO, at('2026-03-06T21:59:00Z')))).toBe('2026-03-06T22:00:00.000Z');
    expect(iso(nextWallClock('Fri 16:00', CHICAGO, at('2026-03-06T22:01:00Z')))).toBe('2026-03-13T21:00:00.000Z');
  });

  it('Europe/Berlin the week DST ends (Sun 2026-10-25)', () => {
    expect(iso(nextWallClock('Fri 16:00', 'Europe/Berlin', at('2026-10-23T14:01:00Z')))).toBe('2026-10-30T15:00:00.000Z');
  });

  it('a time skipped by spring-forward moves forward by the gap', () => {
    // 02:30 does not exist on 2026-03-08 in Chicago (02:00 CST -> 03:00 CDT): 03:30 CDT.
    expect(iso(nextWallClock('Sun 02:30', CHICAGO, at('2026-03-07T18:00:00Z')))).toBe('2026-03-08T08:30:00.000Z');
    expect(iso(nextWallClock('2026-03-08 02:30', CHICAGO, at('2026-03-01T00:00:00Z')))).toBe('2026-03-08T08:30:00.000Z');
  });

  it('a time repeated by fall-back is its first occurrence at or after now', () => {
    // 01:30 happens at 06:30Z (CDT) and again at 07:30Z (CST) on 2026-11-01.
    expect(iso(nextWallClock('Sun 01:30', CHICAGO, at('2026-10-31T18:00:00Z')))).toBe('2026-11-01T06:30:00.000Z');
    expect(iso(nextWallClock('Sun 01:30', CHICAGO, at('2026-11-01T06:45:00Z')))).toBe('2026-11-01T07:30:00.000Z');
    expect(iso(nextWallClock('Sun 01:30', CHICAGO, at('2026-11-01T07:31:00Z')))).toBe('2026-11-08T07:30:00.000Z');
    expect(iso(nextWallClock('2026-11-01 01:30', CHICAGO, at('2026-11-01T06:45:00Z')))).toBe('2026-11-01T07:30:00.000Z');
  });

  it('is the first moment at or after now whose local weekday and time match (property)', () => {
    const weekdays = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2028, 0, 1) }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.constantFrom(CHICAGO, 'Europe/Berlin', 'Australia/Sydney', 'UTC', 'Asia/Kolkata'),
        (nowMs, wd, hour, minute, tz) => {
          const spec = `${weekdays[wd]} ${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
          const got = nextWallClock(spec, tz, new Date(nowMs)).getTime();
          expect(got).toBeGreaterThanOrEqual(nowMs);
          expect(got - nowMs).toBeLessThanOrEqual(7 * 86_400_000 + 3_600_000);
          const local = DateTime.fromMillis(got, { zone: tz });
          expect(local.weekday).toBe(wd + 1);
          // Equal, or later by a spring-forward gap when the time does not exist that day.
          const shift = (local.hour * 60 + local.minute) - (hour * 60 + minute);
          if (shift !== 0) {
            expect(shift).toBe(60);
            expect(DateTime.fromMillis(got - 2 * 3_600_000, { zone: tz }).offset).toBe(local.offset - 60); // a spring-forward just before
          }
          // The same wall-clock time a calendar week earlier was already past: this is the next one.
          expect(local.minus({ weeks: 1 }).toMillis()).toBeLessThan(nowMs);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('nextWallClock: a date "2026-11-27 16:00"', () => {
  it('is that moment in the zone', () => {
    expect(iso(nextWallClock('2026-11-27 16:00', CHICAGO, at('2026-01-01T00:00:00Z')))).toBe('2026-11-27T22:00:00.000Z');
    expect(iso(nextWallClock('2026-07-03T16:00:30', CHICAGO, at('2026-01-01T00:00:00Z')))).toBe('2026-07-03T21:00:30.000Z');
  });

  it('in the past is an error', () => {
    expect(() => nextWallClock('2026-11-27 16:00', CHICAGO, at('2026-11-27T22:00:01Z'))).toThrow(
      new AnchorError('t0.at: "2026-11-27 16:00" America/Chicago is in the past (now 2026-11-27 16:00:01)'),
    );
  });
});

describe('nextWallClock: bad input', () => {
  it('names the field and what was expected', () => {
    const now = at('2026-01-01T00:00:00Z');
    expect(() => nextWallClock('Fri 16:00', 'Mars/Olympus', now)).toThrow(/t0\.tz: unknown time zone "Mars\/Olympus"/);
    expect(() => nextWallClock('Fry 16:00', CHICAGO, now)).toThrow(/t0\.at: unknown weekday "Fry"/);
    expect(() => nextWallClock('Fri 24:00', CHICAGO, now)).toThrow(/t0\.at: "Fri 24:00" is not a time of day/);
    expect(() => nextWallClock('2026-02-30 16:00', CHICAGO, now)).toThrow(/t0\.at: "2026-02-30 16:00" is not a date and time/);
    expect(() => nextWallClock('next friday', CHICAGO, now)).toThrow(/t0\.at: expected a weekly time like "Fri 16:00" or a date like "2026-11-27 16:00"/);
  });
});
