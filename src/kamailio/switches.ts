// The bundled Kamailio's fault switches: the embedded trunk's TrunkSwitches patch, mapped onto the
// integer keys of Kamailio's htable `sw` (see docker/kamailio/kamailio.cfg), and back. Pure.
import type { TrunkSwitches } from '../trunk/config.js';
import { parseDurationMs, parseLimit, UsageError } from '../cli/units.js';

/** One `htable.seti sw <key> <value>` write. */
export type SwitchWrite = readonly [key: string, value: number];

/** What the `sw` table holds, decoded (all times absolute, epoch ms). */
export interface KamailioSwitchState {
  auth: boolean;
  optionsAuth: boolean;
  users: number;
  aorLimit: { rate: number; burst: number; code: number; retryAfterS?: number } | null;
  globalLimit: { rate: number; burst: number; retryAfterS?: number } | null;
  publishWindow: { startEpochMs: number; endEpochMs: number; mode: 'forbidden' | 'stale-credentials'; methods: ('REGISTER' | 'OPTIONS')[] } | null;
  delay: { fixedMs: number; jitterMs: number } | null;
  lossRate: number;
  /** Epoch seconds at which Kamailio started (the origin of its millisecond clock). */
  t0: number;
}

// Kamailio 5.6 config arithmetic is 32-bit signed: keep every product in the bucket code below 2^31.
const MAX_RATE = 1_000_000;
const MAX_BURST = 500_000;
const MAX_DELAY_MS = 600_000;

/** Switches Kamailio can only take at start (module parameters), not over RPC. */
const START_ONLY: (keyof TrunkSwitches)[] = ['algorithm', 'qop', 'nonceTtlMs', 'minExpires', 'maxExpires'];

/**
 * The writes for a patch (`null` turns a switch off, `undefined` leaves it). Enabling keys are
 * written last and disabling keys first, so a half-applied patch never runs with stale parameters.
 * `t0` is Kamailio's start second, `nowMs` the epoch ms the publish window is anchored to (like the
 * trunk, a window set at run time starts `startMs` after this moment).
 */
export function switchWrites(patch: TrunkSwitches, t0: number, nowMs: number): { writes: SwitchWrite[]; flush: string[] } {
  for (const key of START_ONLY) {
    if (patch[key] !== undefined) throw new UsageError(`Kamailio switch "${key}" is a module parameter: it cannot change at run time`);
  }
  const off: SwitchWrite[] = [];
  const params: SwitchWrite[] = [];
  const on: SwitchWrite[] = [];
  const flush: string[] = [];
  if (patch.auth !== undefined) params.push(['auth', patch.auth ? 1 : 0]);
  if (patch.optionsAuth !== undefined) params.push(['options_auth', patch.optionsAuth ? 1 : 0]);
  if (patch.aorLimit !== undefined) {
    // Like the trunk, a new limit starts every bucket full.
    flush.push('aor_tok', 'aor_ts');
    if (patch.aorLimit === null) off.push(['aor_rate_m', 0]);
    else {
      const l = patch.aorLimit;
      checkLimit('aorLimit', l.rate, l.burst);
      if (![429, 403, 503].includes(l.code)) throw new UsageError(`aorLimit.code must be 429, 403 or 503, got ${l.code}`);
      off.push(['aor_rate_m', 0]);
      params.push(['aor_burst', l.burst], ['aor_code', l.code], ['aor_retry', retry(l.retryAfterS)]);
      on.push(['aor_rate_m', rateMilli(l.rate)]);
    }
  }
  if (patch.globalLimit !== undefined) {
    flush.push('g');
    if (patch.globalLimit === null) off.push(['g_rate_m', 0]);
    else {
      const l = patch.globalLimit;
      checkLimit('globalLimit', l.rate, l.burst);
      off.push(['g_rate_m', 0]);
      params.push(['g_burst', l.burst], ['g_retry', retry(l.retryAfterS)]);
      on.push(['g_rate_m', rateMilli(l.rate)]);
    }
  }
  if (patch.publishWindow !== undefined) {
    off.push(['pub_mode', 0]);
    const w = patch.publishWindow;
    if (w !== null) {
      if (!(w.startMs >= 0 && w.lengthMs > 0)) throw new UsageError('publishWindow needs startMs >= 0 and lengthMs > 0');
      if (w.mode !== 'forbidden' && w.mode !== 'stale-credentials') throw new UsageError(`publishWindow.mode must be forbidden or stale-credentials`);
      let methods = 0;
      for (const m of w.methods) {
        if (m === 'REGISTER') methods |= 1;
        else if (m === 'OPTIONS') methods |= 2;
        else throw new UsageError(`publishWindow.methods: unknown method ${String(m)}`);
      }
      if (methods === 0) throw new UsageError('publishWindow.methods must list REGISTER and/or OPTIONS');
      const startEpochMs = nowMs + w.startMs;
      const startMs = startEpochMs - t0 * 1000;
      const endMs = startMs + w.lengthMs;
      if (endMs >= 2 ** 31) throw new UsageError('publishWindow ends too far from Kamailio start (24 days)');
      params.push(['pub_start_ms', Math.round(startMs)], ['pub_end_ms', Math.round(endMs)], ['pub_start_s', Math.floor(startEpochMs / 1000)], ['pub_methods', methods]);
      on.push(['pub_mode', w.mode === 'forbidden' ? 1 : 2]);
    }
  }
  if (patch.delay !== undefined) {
    const fixed = patch.delay?.fixedMs ?? 0;
    const jitter = patch.delay?.jitterMs ?? 0;
    for (const [name, v] of [['delay', fixed], ['jitter', jitter]] as const) {
      if (!(v >= 0 && v <= MAX_DELAY_MS)) throw new UsageError(`${name} must be within 0..${MAX_DELAY_MS} ms, got ${v}`);
    }
    on.push(['delay_ms', Math.round(fixed)], ['jitter_ms', Math.round(jitter)]);
  }
  if (patch.lossRate !== undefined) {
    if (!(patch.lossRate >= 0 && patch.lossRate <= 1)) throw new UsageError(`loss must be within 0..1, got ${patch.lossRate}`);
    on.push(['loss_ppm', Math.round(patch.lossRate * 1_000_000)]);
  }
  return { writes: [...off, ...params, ...on], flush };
}

function checkLimit(name: string, rate: number, burst: number): void {
  if (!(rate >= 0.001 && rate <= MAX_RATE)) throw new UsageError(`${name}: rate must be within 0.001..${MAX_RATE}/s for Kamailio, got ${rate}`);
  if (!(Number.isInteger(burst) && burst >= 1 && burst <= MAX_BURST)) throw new UsageError(`${name}: burst must be an integer within 1..${MAX_BURST}, got ${burst}`);
}

function rateMilli(rate: number): number {
  return Math.max(1, Math.round(rate * 1000));
}

function retry(seconds: number | undefined): number {
  if (seconds === undefined) return 0;
  if (!(Number.isInteger(seconds) && seconds >= 0)) throw new UsageError(`retry-after must be whole seconds, got ${seconds}`);
  return seconds;
}

/** Decodes a `htable.dump sw` (flattened to key -> value). */
export function decodeSwitches(sw: Record<string, number>): KamailioSwitchState {
  const v = (k: string) => sw[k] ?? 0;
  const t0 = v('t0');
  const retryOf = (k: string) => (v(k) > 0 ? v(k) : undefined);
  const mode = v('pub_mode');
  const methods: ('REGISTER' | 'OPTIONS')[] = [];
  if (v('pub_methods') & 1) methods.push('REGISTER');
  if (v('pub_methods') & 2) methods.push('OPTIONS');
  return {
    auth: v('auth') !== 0,
    optionsAuth: v('options_auth') !== 0,
    users: v('users'),
    aorLimit: v('aor_rate_m') > 0 ? { rate: v('aor_rate_m') / 1000, burst: v('aor_burst'), code: v('aor_code') || 429, retryAfterS: retryOf('aor_retry') } : null,
    globalLimit: v('g_rate_m') > 0 ? { rate: v('g_rate_m') / 1000, burst: v('g_burst'), retryAfterS: retryOf('g_retry') } : null,
    publishWindow:
      mode > 0
        ? { startEpochMs: t0 * 1000 + v('pub_start_ms'), endEpochMs: t0 * 1000 + v('pub_end_ms'), mode: mode === 1 ? 'forbidden' : 'stale-credentials', methods }
        : null,
    delay: v('delay_ms') > 0 || v('jitter_ms') > 0 ? { fixedMs: v('delay_ms'), jitterMs: v('jitter_ms') } : null,
    lossRate: v('loss_ppm') / 1_000_000,
    t0,
  };
}

const ALIASES: Record<string, string> = {
  'aor-code': 'aor-limit-code',
  'aor-retry-after': 'retry-after',
  'publish': 'publish-start',
  'publish-window': 'publish-start',
};

/**
 * `set` arguments in the words of `sipstorm serve`: `aor-limit 5/s[:burst] aor-limit-code 429
 * retry-after 2 global-limit 2000/s publish-start 0s publish-length 30s publish-mode forbidden
 * publish-methods REGISTER,OPTIONS delay 20ms jitter 5ms loss 0.01 auth on|off options-auth on|off`.
 * Names may carry `--`, use `_` for `-`, or `name=value`; `off` (or `none`) turns a switch off.
 */
export function parseSwitchArgs(args: string[]): TrunkSwitches {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    let name = args[i].replace(/^--?/, '').replace(/_/g, '-').toLowerCase();
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = args[i].slice(args[i].indexOf('=') + 1);
      name = name.slice(0, eq);
    }
    if (name === 'no-auth' || name === 'no-options-auth') {
      values.set(name.slice(3), 'off');
      continue;
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new UsageError(`${name}: missing value`);
    }
    values.set(ALIASES[name] ?? name, value);
  }
  const patch: TrunkSwitches = {};
  const isOff = (v: string) => /^(off|none|no|false|0)$/i.test(v.trim());
  const bool = (name: string, v: string) => {
    if (/^(on|yes|true|1)$/i.test(v.trim())) return true;
    if (isOff(v)) return false;
    throw new UsageError(`${name}: expected on or off, got "${v}"`);
  };
  const take = (name: string) => {
    const v = values.get(name);
    values.delete(name);
    return v;
  };
  const retryText = take('retry-after');
  const retryAfterS = retryText === undefined || isOff(retryText) ? undefined : wholeSeconds(retryText);
  const auth = take('auth');
  if (auth !== undefined) patch.auth = bool('auth', auth);
  const optionsAuth = take('options-auth');
  if (optionsAuth !== undefined) patch.optionsAuth = bool('options-auth', optionsAuth);
  const aor = take('aor-limit');
  const code = take('aor-limit-code');
  if (aor !== undefined) {
    const c = code === undefined ? 429 : Number(code);
    if (c !== 429 && c !== 403 && c !== 503) throw new UsageError(`aor-limit-code: 429, 403 or 503, got "${code}"`);
    patch.aorLimit = isOff(aor) ? null : { ...parseLimit(aor, 'aor-limit'), code: c, retryAfterS };
  } else if (code !== undefined) {
    throw new UsageError('aor-limit-code goes with aor-limit (e.g. aor-limit 5/s aor-limit-code 403)');
  }
  const global = take('global-limit');
  if (global !== undefined) patch.globalLimit = isOff(global) ? null : { ...parseLimit(global, 'global-limit'), retryAfterS };
  if (retryText !== undefined && aor === undefined && global === undefined) {
    throw new UsageError('retry-after goes with aor-limit or global-limit');
  }
  const start = take('publish-start');
  const length = take('publish-length');
  const mode = take('publish-mode');
  const methods = take('publish-methods');
  if (start !== undefined && isOff(start) && start.trim() !== '0') patch.publishWindow = null;
  else if (start !== undefined || length !== undefined || mode !== undefined || methods !== undefined) {
    const m = mode ?? 'forbidden';
    if (m !== 'forbidden' && m !== 'stale-credentials') throw new UsageError(`publish-mode: forbidden or stale-credentials, got "${m}"`);
    const list = (methods ?? 'REGISTER,OPTIONS').split(',').map((s) => s.trim().toUpperCase());
    for (const x of list) if (x !== 'REGISTER' && x !== 'OPTIONS') throw new UsageError(`publish-methods: unknown method "${x}"`);
    patch.publishWindow = {
      startMs: parseDurationMs(start ?? '0s', 'publish-start'),
      lengthMs: parseDurationMs(length ?? '30s', 'publish-length'),
      mode: m,
      methods: list as ('REGISTER' | 'OPTIONS')[],
    };
  }
  const delay = take('delay');
  const jitter = take('jitter');
  if (delay !== undefined || jitter !== undefined) {
    const fixedMs = delay === undefined || isOff(delay) ? 0 : parseDurationMs(delay, 'delay');
    const jitterMs = jitter === undefined || isOff(jitter) ? 0 : parseDurationMs(jitter, 'jitter');
    patch.delay = fixedMs === 0 && jitterMs === 0 ? null : { fixedMs, jitterMs };
  }
  const loss = take('loss');
  if (loss !== undefined) {
    const x = isOff(loss) ? 0 : Number(loss);
    if (!(x >= 0 && x <= 1)) throw new UsageError(`loss: a fraction within 0..1, got "${loss}"`);
    patch.lossRate = x;
  }
  const unknown = [...values.keys()];
  if (unknown.length > 0) throw new UsageError(`unknown switch "${unknown[0]}" (aor-limit, aor-limit-code, retry-after, global-limit, publish-start, publish-length, publish-mode, publish-methods, delay, jitter, loss, auth, options-auth)`);
  return patch;
}

function wholeSeconds(text: string): number {
  const n = Number(text.replace(/s$/, ''));
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`retry-after: whole seconds, got "${text}"`);
  return n;
}
