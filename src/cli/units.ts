// Parsing of human units on the command line: durations ("30s", "500ms", "2m"), rates ("1000/s",
// "5/s", "300/m"), limits ("5/s" with optional burst "5/s:10"). Pure; errors name the flag.

export class UsageError extends Error {}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(text: string | number, flag: string): number {
  if (typeof text === 'number') {
    if (Number.isFinite(text) && text >= 0) return text * 1000;
    throw new UsageError(`${flag}: expected a duration like 30s, 500ms or 2m, got ${text}`);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) throw new UsageError(`${flag}: expected a duration like 30s, 500ms or 2m, got "${text}"`);
  return Number(match[1]) * DURATION_UNITS[match[2] ?? 's'];
}

const RATE_UNITS: Record<string, number> = { s: 1, m: 1 / 60, h: 1 / 3600 };

/** Per second. */
export function parseRate(text: string | number, flag: string): number {
  if (typeof text === 'number') {
    if (Number.isFinite(text) && text > 0) return text;
    throw new UsageError(`${flag}: expected a positive rate like 1000/s, got ${text}`);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|m|h))?\s*$/.exec(text);
  if (!match || Number(match[1]) <= 0) throw new UsageError(`${flag}: expected a positive rate like 1000/s or 300/m, got "${text}"`);
  return Number(match[1]) * RATE_UNITS[match[2] ?? 's'];
}

/** A token-bucket limit: "5/s" (burst = max(1, rate)) or "5/s:10" (burst 10). */
export function parseLimit(text: string, flag: string): { rate: number; burst: number } {
  const [ratePart, burstPart] = String(text).split(':');
  const rate = parseRate(ratePart, flag);
  if (burstPart === undefined) return { rate, burst: Math.max(1, Math.ceil(rate)) };
  const burst = Number(burstPart);
  if (!Number.isInteger(burst) || burst < 1) throw new UsageError(`${flag}: burst after ':' must be a positive integer, got "${burstPart}"`);
  return { rate, burst };
}

/** "403=throttled,503=overload" -> {403: 'throttled', 503: 'overload'}. */
export function parseClassMap(text: string, flag: string, isClass: (c: string) => boolean): Record<number, string> {
  const map: Record<number, string> = {};
  for (const entry of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^(\d{3})=([a-z_]+)$/.exec(entry);
    if (!match || !isClass(match[2])) throw new UsageError(`${flag}: expected CODE=class pairs like 403=throttled, got "${entry}"`);
    map[Number(match[1])] = match[2];
  }
  return map;
}
