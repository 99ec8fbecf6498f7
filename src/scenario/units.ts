// The friendly spellings a scenario file accepts, turned into plain numbers. Pure. Each parser
// returns the value or an error message (no throw): the zod schema turns messages into issues that
// point at the YAML line. String durations and rates reuse the command line's parsers, so a value
// means the same in a flag and in a file; the differences are that a bare number in a file is
// milliseconds (a flag's bare number is seconds), "/min" is accepted, and a rate may be 0 where the
// caller allows it (a ramp from 0).
import { parseDurationMs, parseRate } from '../cli/units.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** "30s", "500ms", "2m", "1h", "1.5s"; a bare number (YAML number or digits only) is milliseconds. */
export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*$';
export const DURATION_HINT = 'a duration like 30s, 500ms, 2m or a number of milliseconds';

export function parseDuration(value: string | number): Parsed<number> {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? ok(value) : fail(`expected ${DURATION_HINT} (>= 0), got ${value}`);
  // Digits alone are milliseconds here; parseDurationMs would read them as seconds.
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return ok(Number(value));
  try {
    return ok(parseDurationMs(value, ''));
  } catch {
    return fail(`expected ${DURATION_HINT}, got "${value}"`);
  }
}

/** "10/s", "600/min", "600/m", "36000/h"; a bare number is per second. */
export const RATE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(/\\s*(s|sec|m|min|h))?\\s*$';
export const RATE_HINT = 'a rate like 10/s, 600/min or a number per second';

export function parseRateValue(value: string | number, allowZero: boolean): Parsed<number> {
  const min = allowZero ? '>= 0' : '> 0';
  if (typeof value === 'number') {
    const good = Number.isFinite(value) && (allowZero ? value >= 0 : value > 0);
    return good ? ok(value) : fail(`expected ${RATE_HINT} (${min}), got ${value}`);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|m|min|h))?\s*$/.exec(value);
  if (!match) return fail(`expected ${RATE_HINT}, got "${value}"`);
  if (Number(match[1]) === 0) return allowZero ? ok(0) : fail(`expected ${RATE_HINT} (${min}), got "${value}"`);
  const unit = match[2] === 'min' ? 'm' : match[2] === 'sec' ? 's' : (match[2] ?? 's');
  return ok(parseRate(`${match[1]}/${unit}`, ''));
}

/** "80%" or 0.8, within 0..1. */
export const SHARE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*%\\s*$';

export function parseShare(value: string | number): Parsed<number> {
  const share = typeof value === 'number' ? value : /^\s*\d+(\.\d+)?\s*%\s*$/.test(value) ? Number(value.trim().slice(0, -1).trim()) / 100 : NaN;
  if (Number.isFinite(share) && share >= 0 && share <= 1) return ok(share);
  return fail(`expected a share like 80% or 0.8 (within 0..1), got ${typeof value === 'string' ? `"${value}"` : value}`);
}

/** A hook's moment: "T0", "T0+5s", "T0-2s" (from T0), "+30s" or "30s" (from the start), or a number of ms from the start. */
export const HOOK_AT_HINT = 'T0, T0+5s, T0-2s, or +30s (from the start)';

export function parseHookAt(value: string | number): Parsed<{ from: 't0' | 'start'; offsetMs: number }> {
  if (typeof value === 'number') {
    const ms = parseDuration(value);
    return ms.ok ? ok({ from: 'start', offsetMs: ms.value }) : fail(`expected ${HOOK_AT_HINT}, got ${value}`);
  }
  const text = value.trim();
  const t0 = /^T0\s*(?:([+-])\s*(.+))?$/i.exec(text);
  if (t0) {
    if (t0[2] === undefined) return ok({ from: 't0', offsetMs: 0 });
    const ms = parseDuration(t0[2]);
    return ms.ok ? ok({ from: 't0', offsetMs: t0[1] === '-' ? -ms.value : ms.value }) : fail(`expected ${HOOK_AT_HINT}, got "${value}"`);
  }
  const ms = text.startsWith('+') ? parseDuration(text.slice(1)) : parseDuration(text);
  return ms.ok && text !== '' ? ok({ from: 'start', offsetMs: ms.value }) : fail(`expected ${HOOK_AT_HINT}, got "${value}"`);
}

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/** A wall-clock T0: next `weekday` (1 = Monday, ISO) at hour:minute, or a fixed date. */
export type WallClock = { weekday: number; hour: number; minute: number } | { year: number; month: number; day: number; hour: number; minute: number };
export const WALL_CLOCK_HINT = '"Ddd HH:MM" (e.g. "Fri 16:00") or "YYYY-MM-DD HH:MM"';

/** "Fri 16:00" (any case) or "2025-01-10 16:00". Calendar validity of a date is checked too. */
export function parseWallClock(value: string): Parsed<WallClock> {
  const bad = fail<WallClock>(`expected ${WALL_CLOCK_HINT}, got "${value}"`);
  const time = (h: string, m: string) => (Number(h) <= 23 && Number(m) <= 59 ? { hour: Number(h), minute: Number(m) } : undefined);
  const weekly = /^\s*([A-Za-z]{3})\s+(\d{1,2}):(\d{2})\s*$/.exec(value);
  if (weekly) {
    const weekday = WEEKDAYS.findIndex((d) => d.toLowerCase() === weekly[1].toLowerCase()) + 1;
    const hm = time(weekly[2], weekly[3]);
    return weekday > 0 && hm ? ok({ weekday, ...hm }) : bad;
  }
  const dated = /^\s*(\d{4})-(\d{2})-(\d{2})\s+(\d{1,2}):(\d{2})\s*$/.exec(value);
  if (!dated) return bad;
  const [year, month, day] = [Number(dated[1]), Number(dated[2]), Number(dated[3])];
  const hm = time(dated[4], dated[5]);
  const real = new Date(Date.UTC(year, month - 1, day));
  const calendar = real.getUTCFullYear() === year && real.getUTCMonth() === month - 1 && real.getUTCDate() === day;
  return hm && calendar ? ok({ year, month, day, ...hm }) : bad;
}
