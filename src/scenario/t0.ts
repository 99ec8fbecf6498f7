// Wall-clock T0 (`t0: {at: "Fri 16:00", tz: America/Chicago}`) -> epoch milliseconds. The zone's
// rules (DST included) come from luxon/Intl, so "Fri 16:00" is 16:00 local on either side of a change.
import { DateTime } from 'luxon';
import { parseWallClock } from './units.js';

/**
 * The epoch ms of `at` in `tz`: for "Ddd HH:MM" the first such moment strictly after `nowMs`; for
 * "YYYY-MM-DD HH:MM" that moment, even if it is past (the caller decides what a past T0 means).
 * A local time that does not exist (skipped by a DST change) moves forward by the gap, as luxon does.
 */
export function wallClockT0Ms(at: string, tz: string, nowMs: number): number {
  const parsed = parseWallClock(at);
  if (!parsed.ok) throw new Error(`t0.at: ${parsed.message}`);
  const wall = parsed.value;
  if (!DateTime.local().setZone(tz).isValid) throw new Error(`t0.tz: unknown time zone "${tz}"`);
  if ('year' in wall) return DateTime.fromObject(wall, { zone: tz }).toMillis();
  const now = DateTime.fromMillis(nowMs, { zone: tz });
  // At most 8 candidates: today (if still ahead) through the same weekday next week.
  for (let days = 0; days <= 7; days++) {
    const day = now.plus({ days });
    if (day.weekday !== wall.weekday) continue;
    const candidate = DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: wall.hour, minute: wall.minute }, { zone: tz });
    if (candidate.toMillis() > nowMs) return candidate.toMillis();
  }
  throw new Error(`t0: no "${at}" in ${tz} within a week (unreachable)`);
}
