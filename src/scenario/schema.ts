// The scenario file's schema (zod 4) and its transform into the normalised Scenario (types.ts).
// Objects are strict, so a misspelt key is an error rather than a silently ignored setting.
// Cross-field rules (names unique, T0 present when used, agent ranges within the count) run in the
// final transform, i.e. only once every field is individually valid. Relative file paths are
// resolved by the loader (load.ts), which knows the file's directory.
//
// Defaults (all in one place for reference):
//   name: the file name without extension   seed: 1 (plans are reproducible by default)
//   unregister: true                        hooks: []          transport: {} (the run's defaults)
//   agents.expires: 3600 s                  phases[i].name: "<type>-<i+1>"
//   phases: action auto (login for burst), burst jitter uniform, replay compression 1,
//     agents {from} without {to} -> to = agents.count
//   throttle.perAgent: burst max(1, rate), whenEmpty delay
//   throttle.concurrency: whenFull queue, queueLimit 10 x limit
//   retry: on forbidden, throttled, overload, timeout; maxAttempts 3; honourRetryAfter true;
//     exponential base 500ms, cap 30s; policy none -> on [], maxAttempts 1, honourRetryAfter false
//   hooks[i]: name "hook-<i+1>", timeout 10s, kamailio params []
//   sweep.maxRejectRate: 1%
import * as z from 'zod';
import { OUTCOME_CLASSES, type OutcomeClass } from '../shared/outcome.js';
import { parseTarget } from '../transport/target.js';
import type { HookAction, HookSpec, RetryOn, RetrySpec, Scenario, ThrottleSpec } from './types.js';
import { duration, hookAt, int, rate, share, shown, t0, tagMessage } from './fields.js';
import { parseDuration } from './units.js';
import { phase } from './phases.js';
import { trunkOptions, trunkSwitches } from './trunk-schema.js';

export const RETRY_ON: readonly RetryOn[] = ['forbidden', 'throttled', 'overload', 'timeout', 'transport_error', 'auth_failed'];
const DEFAULT_RETRY_ON: RetryOn[] = ['forbidden', 'throttled', 'overload', 'timeout'];

// SIP's Expires is in seconds, so a bare number (or digits) here is seconds; "1h" works too.
const expires = z
  .union([z.number(), z.string()], { error: (iss) => `expected seconds or a duration like 1h, got ${shown(iss.input)}` })
  .transform((v, ctx) => {
    const withUnit = typeof v === 'string' && !/^\s*\d+\s*$/.test(v) ? parseDuration(v) : undefined;
    const seconds = withUnit ? (withUnit.ok ? withUnit.value / 1000 : NaN) : Number(v);
    if (Number.isInteger(seconds) && seconds >= 1) return seconds;
    ctx.issues.push({ code: 'custom', message: `expected whole seconds >= 1 or a duration like 1h, got ${shown(v)}`, input: v });
    return z.NEVER;
  })
  .describe('Requested registration lifetime: seconds, or a duration like 1h (default 3600)');

const agents = z
  .strictObject({
    count: int('How many simulated agents (distinct identities)', 1),
    userTemplate: z.string().min(1).optional().describe('User names; {n:4} is the zero-padded agent number'),
    passwordTemplate: z.string().min(1).optional().describe('Passwords; {n:4} as above'),
    credentials: z.string().min(1).optional().describe('CSV user,password[,domain] (relative to the scenario file); overrides the templates'),
    domain: z.string().min(1).optional().describe('SIP domain (default: the target host)'),
    // SIP's Expires is in seconds, so a bare number here is seconds; "1h" works too.
    expires: expires.optional(),
    userAgent: z.string().min(1).optional().describe('User-Agent header'),
    kind: z.enum(['core', 'softphone']).optional().describe("core (sipstorm's own agents, default) or softphone (sip.js UserAgent + Registerer over ws/wss)"),
    tokenUrl: z.string().min(1).optional().describe('Softphones: POST credentials here for a token before each login; "embedded" = the embedded trunk'),
  })
  .describe('The simulated user agents');

const transport = z
  .strictObject({
    sockets: int('UDP sockets shared by the agents', 1).optional(),
    connections: int('TCP connections', 1).optional(),
    io: z.enum(['batch', 'dgram']).optional().describe('UDP I/O: batch (native) or dgram'),
    tick: duration('Batched UDP loop period (1..50 ms)', 1).refine((ms) => ms <= 50, { error: 'must be <= 50 ms' }).optional(),
    t1: duration('RFC 3261 T1', 0, true).optional(),
    t2: duration('RFC 3261 T2', 0, true).optional(),
    t4: duration('RFC 3261 T4', 0, true).optional(),
    ca: z.string().min(1).optional().describe('tls/wss: PEM file of the CA to trust (relative to the scenario file)'),
    insecure: z.boolean().optional().describe('tls/wss: skip certificate checks (self-signed lab servers)'),
    sni: z.string().min(1).optional().describe('tls/wss: server name for SNI and the certificate check'),
  })
  .describe('Transport tuning (the run flags of the same names)');

const throttle = z
  .strictObject({
    perAgent: z
      .strictObject({
        rate: rate('Requests per second per agent'),
        burst: z.number().min(1, { error: 'must be >= 1' }).optional().describe('Bucket size (default max(1, rate))'),
        whenEmpty: z.enum(['delay', 'drop']).default('delay').describe('delay the operation until a token comes, or drop it'),
      })
      .optional(),
    concurrency: z
      .strictObject({
        limit: int('Operations in flight at most', 1),
        whenFull: z.enum(['queue', 'drop']).default('queue'),
        queueLimit: int('Queued operations at most (default 10 x limit)', 0).optional(),
      })
      .optional(),
  })
  .transform(
    (t): ThrottleSpec => ({
      ...(t.perAgent ? { perAgent: { rate: t.perAgent.rate, burst: t.perAgent.burst ?? Math.max(1, t.perAgent.rate), whenEmpty: t.perAgent.whenEmpty } } : {}),
      ...(t.concurrency ? { concurrency: { ...t.concurrency, queueLimit: t.concurrency.queueLimit ?? 10 * t.concurrency.limit } } : {}),
    }),
  )
  .describe('Client-side pacing: per-agent token bucket and a global concurrency cap');

const retryCommon = {
  on: z.array(z.enum(RETRY_ON as [RetryOn, ...RetryOn[]])).optional().describe(`Classes that trigger a retry (default ${DEFAULT_RETRY_ON.join(', ')})`),
  maxAttempts: int('Attempts in all, the first included (default 3)', 1).optional(),
  honourRetryAfter: z.boolean().optional().describe("Wait at least the response's Retry-After (default true)"),
};

export const retry = z
  .discriminatedUnion(
    'policy',
    [
      z.strictObject({ policy: z.literal('none') }),
      z.strictObject({ policy: z.literal('fixed'), delay: duration('Wait between attempts'), ...retryCommon }),
      z.strictObject({
        policy: z.literal('exponential'),
        base: duration('First delay cap (default 500ms)').optional(),
        cap: duration('Largest delay (default 30s)').optional(),
        ...retryCommon,
      }),
    ],
    { error: (iss) => tagMessage('policy', ['none', 'fixed', 'exponential'], iss.input) },
  )
  .transform((r, ctx): RetrySpec => {
    if (r.policy === 'none') return { policy: { kind: 'none' }, on: [], maxAttempts: 1, honourRetryAfter: false };
    const common = { on: r.on ?? [...DEFAULT_RETRY_ON], maxAttempts: r.maxAttempts ?? 3, honourRetryAfter: r.honourRetryAfter ?? true };
    if (r.policy === 'fixed') return { policy: { kind: 'fixed', delayMs: r.delay }, ...common };
    const baseMs = r.base ?? 500;
    const capMs = r.cap ?? 30_000;
    if (capMs < baseMs) ctx.issues.push({ code: 'custom', message: `must be >= base (${baseMs} ms)`, path: ['cap'], input: r.cap });
    return { policy: { kind: 'exponential', baseMs, capMs }, ...common };
  })
  .describe('Retry policy after a failed attempt: none, fixed {delay}, or exponential {base, cap} with full jitter');

const hook = z
  .strictObject({
    name: z.string().min(1).optional(),
    at: hookAt,
    shell: z.string().min(1).optional().describe('Shell command run at the mark'),
    trunk: trunkSwitches.optional(),
    kamailio: z
      .strictObject({
        method: z.string().min(1).describe('JSON-RPC method, e.g. htable.sets'),
        params: z.array(z.unknown()).default([]),
        url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional().describe('Default: the Kamailio sipstorm started'),
      })
      .optional(),
    timeout: duration('Give up on the hook after this long (default 10s)', 0, true).optional(),
  })
  .transform((h, ctx): Omit<HookSpec, 'name'> & { name?: string } => {
    const actions: HookAction[] = [];
    if (h.shell !== undefined) actions.push({ kind: 'shell', command: h.shell });
    if (h.trunk !== undefined) actions.push({ kind: 'trunk', switches: h.trunk });
    if (h.kamailio !== undefined) actions.push({ kind: 'kamailio', method: h.kamailio.method, params: h.kamailio.params, ...(h.kamailio.url ? { url: h.kamailio.url } : {}) });
    if (actions.length !== 1) {
      ctx.issues.push({ code: 'custom', message: `needs exactly one of shell, trunk, kamailio (got ${actions.length})`, input: h });
      return z.NEVER;
    }
    return { name: h.name, at: h.at, action: actions[0], timeoutMs: h.timeout ?? 10_000 };
  })
  .describe('Something done to the system under test at a moment');

const classMap = z
  .record(
    z.string().regex(/^[1-6]\d\d$/, { error: (iss) => `expected a SIP status code 100..699, got ${shown(iss.input)}` }),
    z.enum(OUTCOME_CLASSES as unknown as [OutcomeClass, ...OutcomeClass[]]),
  )
  .describe('Status code -> outcome class overrides, e.g. {"403": throttled}');

const sweep = z
  .strictObject({
    perAgentRates: z.array(rate('Per-agent rate')).min(1).describe('Per-agent rates to try (each overrides throttle.perAgent)'),
    retries: z.array(z.strictObject({ name: z.string().min(1), retry })).min(1).optional().describe('Named retry policies crossed with the rates'),
    maxRejectRate: share('Highest acceptable (403 + 429) share for the recommendation (default 1%)').optional(),
  })
  .describe('Sweep grid: one run per setting against a fresh trunk');

const target = z
  .string()
  .superRefine((text, ctx) => {
    try {
      parseTarget(text);
    } catch (err) {
      ctx.issues.push({ code: 'custom', message: (err as Error).message, input: text });
    }
  })
  .describe('udp:HOST:PORT or tcp:HOST:PORT; absent = the embedded trunk');

/** The file as written: what `sipstorm schema` exports (the input side of this schema). */
export const scenarioFileObject = z
  .strictObject({
    name: z.string().min(1).optional().describe('Scenario name (default: the file name)'),
    description: z.string().optional(),
    target: target.optional(),
    transport: transport.optional(),
    agents,
    classMap: classMap.optional(),
    t0: t0.optional(),
    phases: z.array(phase).min(1, { error: 'needs at least one phase' }).describe('Run one after another (or from T0 with anchor: t0)'),
    throttle: throttle.optional(),
    retry: retry.optional(),
    hooks: z.array(hook).optional(),
    trunk: trunkOptions.optional(),
    thresholds: z.array(z.string()).optional().describe('Reserved: threshold expressions such as "p(99)<200"'),
    sweep: sweep.optional(),
    seed: int('Seed of every random draw (default 1)', 0).optional(),
    unregister: z.boolean().optional().describe('Unregister every agent at the end (default true)'),
  })
  .describe('A sipstorm load scenario');

export type ScenarioFile = z.input<typeof scenarioFileObject>;

/** The file -> the normalised Scenario (without `file`, which the loader sets, and with paths as written). */
export function scenarioSchema(defaultName: string) {
  return scenarioFileObject.transform((f, ctx): Omit<Scenario, 'file'> => {
    const issue = (path: (string | number)[], message: string) => ctx.issues.push({ code: 'custom', message, path, input: undefined });
    const count = f.agents.count;

    const phases = f.phases.map((p, i) => ({ ...p, name: p.name || `${p.type}-${i + 1}` }));
    const seen = new Map<string, number>();
    phases.forEach((p, i) => {
      if (seen.has(p.name)) issue(['phases', i, 'name'], `duplicate phase name "${p.name}" (also phases[${seen.get(p.name)}])`);
      else seen.set(p.name, i);
      if (p.anchor === 't0' && !f.t0) issue(['phases', i, 'anchor'], 'anchor: t0 needs a t0 in the scenario');
      if (p.type === 'ramp' && p.fromRate === 0 && p.toRate === 0) issue(['phases', i], 'a ramp from 0 to 0 has no arrivals (use idle)');
      if ('agents' in p && p.agents && p.agents.share === undefined) {
        const from = p.agents.from ?? 0;
        const to = p.agents.to ?? count;
        if (to > count) issue(['phases', i, 'agents', 'to'], `must be <= agents.count (${count})`);
        else if (from >= to) issue(['phases', i, 'agents', 'from'], `must be < to (${to})`);
        p.agents = { from, to };
      }
    });

    const hooks: HookSpec[] = (f.hooks ?? []).map((h, i) => ({ ...h, name: h.name ?? `hook-${i + 1}` }));
    const hookNames = new Set<string>();
    hooks.forEach((h, i) => {
      if (hookNames.has(h.name)) issue(['hooks', i, 'name'], `duplicate hook name "${h.name}"`);
      hookNames.add(h.name);
      if (h.at.from === 't0' && !f.t0) issue(['hooks', i, 'at'], 'a T0 moment needs a t0 in the scenario');
    });

    if (f.agents.kind === 'softphone' && f.throttle?.perAgent) {
      issue(['throttle', 'perAgent'], 'applies to core agents only: a softphone (sip.js) paces its own REGISTERs; use throttle.concurrency and retry: for softphones');
    }
    const tr = f.transport ?? {};
    if (tr.t1 !== undefined && tr.t2 !== undefined && tr.t2 < tr.t1) issue(['transport', 't2'], 'must be >= t1');
    const retryNames = new Set<string>();
    f.sweep?.retries?.forEach((r, i) => {
      if (retryNames.has(r.name)) issue(['sweep', 'retries', i, 'name'], `duplicate retry name "${r.name}"`);
      retryNames.add(r.name);
    });

    return {
      name: f.name ?? defaultName,
      ...(f.description !== undefined ? { description: f.description } : {}),
      ...(f.target !== undefined ? { target: f.target } : {}),
      transport: {
        ...(tr.sockets !== undefined ? { sockets: tr.sockets } : {}),
        ...(tr.connections !== undefined ? { connections: tr.connections } : {}),
        ...(tr.io !== undefined ? { io: tr.io } : {}),
        ...(tr.tick !== undefined ? { tickMs: tr.tick } : {}),
        ...(tr.t1 !== undefined ? { t1Ms: tr.t1 } : {}),
        ...(tr.t2 !== undefined ? { t2Ms: tr.t2 } : {}),
        ...(tr.t4 !== undefined ? { t4Ms: tr.t4 } : {}),
        ...(tr.ca !== undefined ? { ca: tr.ca } : {}),
        ...(tr.insecure !== undefined ? { insecure: tr.insecure } : {}),
        ...(tr.sni !== undefined ? { sni: tr.sni } : {}),
      },
      agents: { ...f.agents, expires: f.agents.expires ?? 3600 },
      ...(f.classMap ? { classMap: Object.fromEntries(Object.entries(f.classMap).map(([code, cls]) => [Number(code), cls])) } : {}),
      ...(f.t0 ? { t0: f.t0 } : {}),
      phases,
      ...(f.throttle ? { throttle: f.throttle } : {}),
      ...(f.retry ? { retry: f.retry } : {}),
      hooks,
      ...(f.trunk ? { trunk: f.trunk } : {}),
      ...(f.thresholds ? { thresholds: f.thresholds } : {}),
      ...(f.sweep ? { sweep: { perAgentRates: f.sweep.perAgentRates, ...(f.sweep.retries ? { retries: f.sweep.retries } : {}), maxRejectRate: f.sweep.maxRejectRate ?? 0.01 } } : {}),
      seed: f.seed ?? 1,
      unregister: f.unregister ?? true,
    };
  });
}
