// Wall-clock T0: "Fri 16:00" (the next such moment) or "2026-11-27 16:00" (that moment) in an IANA
// zone. Computed from local date and time fields in the zone, never by adding 24 h or 7 d to an
// instant, so the week DST starts or ends still lands on 16:00 local.
//
// DST edge cases, resolved the way a person reading the clock would expect:
//  - a local time that does not exist (spring-forward gap, e.g. 02:30 on 2026-03-08 in Chicago) is
//    moved forward by the gap (03:30 CDT);
//  - a local time that happens twice (fall-back, e.g. 01:30 on 2026-11-01 in Chicago) is the first
//    occurrence at or after `now` (01:30 CDT, or 01:30 CST once the first has passed).
import { DateTime, Info } from 'luxon';

export class AnchorError extends Error {}

const WEEKDAYS: Readonly<Record<string, number>> = {
  mon: 1, monday: 1, tue: 2, tues: 2, tuesday: 2, wed: 3, wednesday: 3, thu: 4, thur: 4, thurs: 4, thursday: 4,
  fri: 5, friday: 5, sat: 6, saturday: 6, sun: 7, sunday: 7,
};

const WEEKLY = /^\s*([A-Za-z]+)\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$/;
const DATED = /^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*$/;

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock moment `at` in zone `tz`, seen from `now`. */
export function nextWallClock(at: string, tz: string, now: Date): Date {
  if (!Info.isValidIANAZone(tz)) throw new AnchorError(`t0.tz: unknown time zone "${tz}" (an IANA name such as Europe/Berlin or America/Chicago)`);
  const nowMs = now.getTime();
  const weekly = WEEKLY.exec(at);
  if (weekly) {
    const weekday = WEEKDAYS[weekly[1].toLowerCase()];
    if (!weekday) throw new AnchorError(`t0.at: unknown weekday "${weekly[1]}" in "${at}" (Mon..Sun)`);
    const time = clockFields(weekly[2], weekly[3], weekly[4], at);
    const today = DateTime.fromMillis(nowMs, { zone: tz });
    // This week's day, and if that moment has passed, the same day next week (calendar days, not 7 x 24 h).
    for (const extraWeeks of [0, 1]) {
      const day = today.plus({ days: ((weekday - today.weekday + 7) % 7) + 7 * extraWeeks });
      const moment = firstOccurrenceAtOrAfter({ year: day.year, month: day.month, day: day.day, ...time }, tz, nowMs);
      if (moment !== undefined) return new Date(moment);
    }
    throw new AnchorError(`t0.at: no "${at}" found in ${tz} within two weeks`); // unreachable for real zones
  }
  const dated = DATED.exec(at);
  if (dated) {
    const local = { year: Number(dated[1]), month: Number(dated[2]), day: Number(dated[3]), ...clockFields(dated[4], dated[5], dated[6], at) };
    const check = DateTime.fromObject(local, { zone: tz });
    if (!check.isValid) throw new AnchorError(`t0.at: "${at}" is not a date and time (${check.invalidExplanation ?? check.invalidReason})`);
    const moment = firstOccurrenceAtOrAfter(local, tz, nowMs);
    if (moment === undefined) {
      throw new AnchorError(`t0.at: "${at}" ${tz} is in the past (now ${DateTime.fromMillis(nowMs, { zone: tz }).toFormat('yyyy-MM-dd HH:mm:ss')})`);
    }
    return new Date(moment);
  }
  throw new AnchorError(`t0.at: expected a weekly time like "Fri 16:00" or a date like "2026-11-27 16:00", got "${at}"`);
}

function clockFields(hour: string, minute: string, second: string | undefined, at: string): Pick<LocalTime, 'hour' | 'minute' | 'second'> {
  const h = Number(hour);
  const m = Number(minute);
  const s = second === undefined ? 0 : Number(second);
  if (h > 23 || m > 59 || s > 59) throw new AnchorError(`t0.at: "${at}" is not a time of day (00:00..23:59)`);
  return { hour: h, minute: m, second: s };
}

/**
 * Epoch ms of the local time in the zone: the earliest instant at or after `nowMs` whose wall clock
 * reads `local` (two candidates in a fall-back hour), or the gap-shifted instant when the local time
 * does not exist. Undefined when every candidate is before `nowMs`.
 */
function firstOccurrenceAtOrAfter(local: LocalTime, tz: string, nowMs: number): number | undefined {
  const resolved = DateTime.fromObject(local, { zone: tz });
  // Try each offset the zone uses within a few hours of the resolved instant.
  const asUtcMs = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  const offsets = new Set([resolved.offset, resolved.minus({ hours: 3 }).offset, resolved.plus({ hours: 3 }).offset]);
  const candidates: number[] = [];
  for (const offsetMin of offsets) {
    const ms = asUtcMs - offsetMin * 60_000;
    const back = DateTime.fromMillis(ms, { zone: tz });
    if (back.hour === local.hour && back.minute === local.minute && back.second === local.second && back.day === local.day) candidates.push(ms);
  }
  if (candidates.length === 0) candidates.push(resolved.toMillis()); // in a spring-forward gap: moved forward
  candidates.sort((a, b) => a - b);
  return candidates.find((ms) => ms >= nowMs);
}
