// zod schemas of the scenario file's value types (durations, rates, shares, jitter, T0, hook
// moments). Each accepts the friendly spelling and outputs the normalised number or object. The
// string branches carry a `pattern` so editors using the exported JSON Schema flag a typo early.
import * as z from 'zod';
import { IANAZone } from 'luxon';
import type { JitterSpec, T0Spec } from './types.js';
import {
  DURATION_HINT,
  DURATION_PATTERN,
  HOOK_AT_HINT,
  RATE_HINT,
  RATE_PATTERN,
  SHARE_PATTERN,
  parseDuration,
  parseHookAt,
  parseRateValue,
  parseShare,
  parseWallClock,
  type Parsed,
} from './units.js';

/** How a value is shown in a message: strings quoted, the rest as YAML would print them. */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a mapping';
  return String(value);
}

/** The message of a discriminated union whose tag (`type`, `policy`) is missing or unknown. */
export function tagMessage(tag: string, values: readonly string[], input: unknown): string {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return `expected a mapping with ${tag}: ${values.join('|')}, got ${shown(input)}`;
  const value = (input as Record<string, unknown>)[tag];
  return value === undefined ? `required: one of ${values.join(', ')}` : `expected one of ${values.join(', ')}, got ${shown(value)}`;
}

function fromParsed<T>(parse: (v: string | number) => Parsed<T>) {
  return (value: string | number, ctx: z.core.$RefinementCtx<string | number>): T => {
    const result = parse(value);
    if (result.ok) return result.value;
    ctx.issues.push({ code: 'custom', message: result.message, input: value });
    return z.NEVER;
  };
}

/** number | patterned string, checked and converted by `parse`. */
function friendly<T>(pattern: string, hint: string, parse: (v: string | number) => Parsed<T>, description: string) {
  const bad = (input: unknown) => (input === undefined ? `required: ${hint}` : `expected ${hint}, got ${shown(input)}`);
  return z
    .union([z.number({ error: (iss) => bad(iss.input) }), z.string().regex(new RegExp(pattern), { error: (iss) => bad(iss.input) })], {
      error: (iss) => bad(iss.input),
    })
    .transform(fromParsed(parse))
    .describe(description);
}

/** Milliseconds. `min`: the smallest value allowed (inclusive unless `exclusive`). */
export function duration(description: string, min = 0, exclusive = false) {
  return friendly(
    DURATION_PATTERN,
    DURATION_HINT,
    (v) => {
      const ms = parseDuration(v);
      if (!ms.ok) return ms;
      const good = exclusive ? ms.value > min : ms.value >= min;
      return good ? ms : { ok: false, message: `must be ${exclusive ? '>' : '>='} ${min} ms, got ${shown(v)}` };
    },
    `${description} (${DURATION_HINT})`,
  );
}

/** Per second. */
export function rate(description: string, allowZero = false) {
  return friendly(RATE_PATTERN, RATE_HINT, (v) => parseRateValue(v, allowZero), `${description} (${RATE_HINT})`);
}

/** 0..1. */
export function share(description: string) {
  return friendly(SHARE_PATTERN, 'a share like 80% or 0.8', parseShare, `${description} (80% or 0.8)`);
}

export function int(description: string, min: number) {
  return z
    .number({ error: (iss) => `expected a whole number, got ${shown(iss.input)}` })
    .int({ error: (iss) => `expected a whole number, got ${shown(iss.input)}` })
    .min(min, { error: (iss) => `must be >= ${min}, got ${shown(iss.input)}` })
    .describe(description);
}

/** A 0..1 share of the window (sigma or mean of a jitter distribution); > 0. */
const windowShare = (description: string) =>
  share(description).refine((v) => v > 0, { error: 'must be > 0' });

const cdfPoints = z
  .array(z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)], { error: 'expected a point [x, F] with both within 0..1' }))
  .min(2, { error: 'a CDF needs at least 2 points' })
  .superRefine((points, ctx) => {
    for (let i = 1; i < points.length; i++) {
      if (points[i][0] < points[i - 1][0] || points[i][1] < points[i - 1][1])
        ctx.issues.push({ code: 'custom', message: 'x and F must both be non-decreasing', path: [i], input: points[i] });
    }
    // A CDF over the window: all the mass is inside it, so F goes from 0 to 1.
    if (points[0][1] !== 0) ctx.issues.push({ code: 'custom', message: 'the first point must have F = 0', path: [0, 1], input: points[0][1] });
    const last = points.length - 1;
    if (points[last][1] !== 1) ctx.issues.push({ code: 'custom', message: 'the last point must have F = 1', path: [last, 1], input: points[last][1] });
  })
  .describe('Piecewise-linear CDF over the window: [[x, F], ...], x and F within 0..1, both non-decreasing, F from 0 to 1');

/**
 * Burst jitter: "uniform" | "normal" | "exponential", or one-key objects {normal: {sigma}},
 * {exponential: {mean}}, {cdf: [[x, F], ...]}. Defaults: normal sigma 1/6 of the window (around
 * its middle), exponential mean 1/4 of the window (from its start).
 */
export const jitter = z
  .union(
    [
      z.enum(['uniform', 'normal', 'exponential'], { error: (iss) => `expected uniform, normal, exponential or an object, got ${shown(iss.input)}` }),
      z.strictObject({ uniform: z.strictObject({}) }),
      z.strictObject({ normal: z.strictObject({ sigma: windowShare('Standard deviation as a share of the window').optional() }) }),
      z.strictObject({ exponential: z.strictObject({ mean: windowShare('Mean as a share of the window').optional() }) }),
      z.strictObject({ cdf: cdfPoints }),
    ],
    { error: (iss) => `expected uniform, normal, exponential, {normal: {sigma}}, {exponential: {mean}} or {cdf: [[x, F], ...]}, got ${shown(iss.input)}` },
  )
  .transform((j): JitterSpec => {
    const kind = typeof j === 'string' ? j : (Object.keys(j)[0] as 'uniform' | 'normal' | 'exponential' | 'cdf');
    if (kind === 'cdf') return { kind, points: (j as { cdf: [number, number][] }).cdf };
    if (kind === 'normal') return { kind, sigma: (j as { normal?: { sigma?: number } }).normal?.sigma ?? 1 / 6 };
    if (kind === 'exponential') return { kind, mean: (j as { exponential?: { mean?: number } }).exponential?.mean ?? 1 / 4 };
    return { kind: 'uniform' };
  })
  .describe('How burst arrivals spread over the window (default uniform)');

const timeZone = z
  .string()
  .refine((tz) => IANAZone.isValidZone(tz), { error: (iss) => `unknown time zone ${shown(iss.input)} (an IANA name like America/Chicago or UTC)` })
  .describe('IANA time zone, e.g. America/Chicago');

const wallClock = z
  .string()
  .superRefine((at, ctx) => {
    const parsed = parseWallClock(at);
    if (!parsed.ok) ctx.issues.push({ code: 'custom', message: parsed.message, input: at });
  })
  .describe('Wall-clock moment: "Fri 16:00" (the next one) or "2025-01-10 16:00"');

/** T0 (the publish moment): {offset: 30s} after the start, or {at: "Fri 16:00", tz: America/Chicago}. */
export const t0 = z
  .strictObject({
    offset: duration('T0 this long after the schedule start').optional(),
    at: wallClock.optional(),
    tz: timeZone.optional(),
  })
  .transform((t, ctx): T0Spec => {
    const bad = (message: string, path: string[] = []) => {
      ctx.issues.push({ code: 'custom', message, path, input: t });
      return z.NEVER;
    };
    if (t.offset !== undefined && t.at !== undefined) return bad('give either offset or at, not both');
    if (t.offset !== undefined) return t.tz === undefined ? { offsetMs: t.offset } : bad('tz goes with at, not offset', ['tz']);
    if (t.at === undefined) return bad('needs offset (e.g. 30s) or at (e.g. "Fri 16:00") with tz');
    if (t.tz === undefined) return bad('required with at (an IANA zone like America/Chicago or UTC)', ['tz']);
    return { at: t.at.trim(), tz: t.tz };
  })
  .describe('T0, the publish moment: {offset: 30s} or {at: "Fri 16:00", tz: America/Chicago}');

const DUR = '\\d+(\\.\\d+)?\\s*(ms|s|m|h)?';
export const hookAt = friendly(`^\\s*([Tt]0(\\s*[+-]\\s*${DUR})?|\\+?\\s*${DUR})\\s*$`, HOOK_AT_HINT, parseHookAt, `When the hook runs: ${HOOK_AT_HINT}`);
