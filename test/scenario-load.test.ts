// The scenario loader: friendly YAML -> normalised Scenario, every issue at once with its
// file:line:column and path, relative files, the JSON Schema export, wall-clock T0.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadScenario, parseScenario, ScenarioError } from '../src/scenario/load.js';
import { scenarioJsonSchema } from '../src/scenario/json-schema.js';
import { parseDuration, parseRateValue } from '../src/scenario/units.js';
import type { Scenario } from '../src/scenario/types.js';
import { schemaErrors } from './helpers/json-schema-lite.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/scenarios/', import.meta.url));
const BUNDLED = fileURLToPath(new URL('../scenarios/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);
const INLINE = fixture('inline.yaml');

/** A scenario with 10 agents plus `rest`, parsed as if it were test/fixtures/scenarios/inline.yaml. */
const load = (rest: string): Scenario => parseScenario(`agents: {count: 10}\n${rest}`, INLINE);

/** The issues of a text as "line:column path: message". */
function issuesOf(text: string, file = INLINE): string[] {
  try {
    parseScenario(text, file);
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return err.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
  }
  throw new Error('expected the scenario to be invalid');
}

describe('valid scenarios load to normalised values', () => {
  it('constant: friendly units and defaults (name, action auto, seed 1, unregister, expires 3600)', () => {
    const s = load('phases:\n  - {type: constant, duration: 2m, rate: 600/min}\n');
    expect(s).toEqual({
      file: INLINE,
      name: 'inline',
      transport: {},
      agents: { count: 10, expires: 3600 },
      phases: [{ type: 'constant', name: 'constant-1', action: 'auto', durationMs: 120_000, rate: 10 }],
      hooks: [],
      seed: 1,
      unregister: true,
    });
  });

  it('ramp from 0, steps, poisson with an agent range, idle', () => {
    const s = load(
      [
        'phases:',
        '  - {type: ramp, duration: 30s, from: 0, to: 50/s, agents: {share: 80%}}',
        '  - {type: steps, from: 10/s, step: 5, steps: 4, stepDuration: 1500}',
        '  - {type: poisson, duration: 0.5s, rate: 3600/h, action: options, agents: {from: 2}}',
        '  - {name: pause, type: idle, duration: 1h}',
      ].join('\n'),
    );
    expect(s.phases).toEqual([
      { type: 'ramp', name: 'ramp-1', action: 'auto', agents: { share: 0.8 }, durationMs: 30_000, fromRate: 0, toRate: 50 },
      { type: 'steps', name: 'steps-2', action: 'auto', fromRate: 10, stepRate: 5, steps: 4, stepMs: 1500 },
      { type: 'poisson', name: 'poisson-3', action: 'options', agents: { from: 2, to: 10 }, durationMs: 500, rate: 1 },
      { type: 'idle', name: 'pause', durationMs: 3_600_000 },
    ]);
  });

  it('burst: login by default, every jitter spelling with its default parameters', () => {
    const jitters = ['uniform', 'normal', 'exponential', '{normal: {sigma: 10%}}', '{exponential: {mean: 0.5}}', '{cdf: [[0, 0], [0.2, 0.9], [1, 1]]}'];
    const s = load(`t0: {offset: 5s}\nphases:\n${jitters.map((j) => `  - {type: burst, window: 2s, anchor: t0, seed: 7, jitter: ${j}}`).join('\n')}\n`);
    expect(s.phases.map((p) => (p.type === 'burst' ? p.jitter : undefined))).toEqual([
      { kind: 'uniform' },
      { kind: 'normal', sigma: 1 / 6 },
      { kind: 'exponential', mean: 1 / 4 },
      { kind: 'normal', sigma: 0.1 },
      { kind: 'exponential', mean: 0.5 },
      { kind: 'cdf', points: [[0, 0], [0.2, 0.9], [1, 1]] },
    ]);
    expect(s.phases[0]).toEqual({ type: 'burst', name: 'burst-1', anchor: 't0', seed: 7, action: 'login', windowMs: 2000, jitter: { kind: 'uniform' } });
    expect(load('phases: [{type: burst, window: 1s}]').phases[0]).toMatchObject({ jitter: { kind: 'uniform' } });
  });

  it('replay: the file is resolved against the scenario file, compression defaults to 1', () => {
    const s = load('phases: [{type: replay, file: incident.csv}]');
    expect(s.phases[0]).toEqual({ type: 'replay', name: 'replay-1', file: fixture('incident.csv'), compression: 1 });
  });

  it('the fixture with every section loads to the documented normalised form', () => {
    const s = loadScenario(fixture('all-phases.yaml'));
    expect(s.phases.map((p) => `${p.name}:${p.type}`)).toEqual(['warm:constant', 'ramp-2:ramp', 'steps-3:steps', 'poisson-4:poisson', 'burst-5:burst', 'replay-6:replay', 'idle-7:idle']);
    expect(s.transport).toEqual({ sockets: 2, io: 'dgram', tickMs: 2, t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });
    expect(s.agents).toEqual({ count: 100, credentials: fixture('users.csv'), expires: 3600 });
    expect(s.classMap).toEqual({ 403: 'throttled', 503: 'overload' });
    expect(s.t0).toEqual({ offsetMs: 30_000 });
    expect(s.throttle).toEqual({ perAgent: { rate: 2, burst: 2, whenEmpty: 'delay' }, concurrency: { limit: 50, whenFull: 'drop', queueLimit: 500 } });
    expect(s.retry).toEqual({ policy: { kind: 'exponential', baseMs: 1000, capMs: 30_000 }, on: ['forbidden', 'throttled'], maxAttempts: 3, honourRetryAfter: true });
    expect(s.hooks).toEqual([
      {
        name: 'publish',
        at: { from: 't0', offsetMs: 0 },
        action: { kind: 'trunk', switches: { publishWindow: { startMs: 0, lengthMs: 30_000, mode: 'forbidden', methods: ['REGISTER', 'OPTIONS'] }, allowlist: ['127.0.0.1', '10.0.0.0/8'] } },
        timeoutMs: 10_000,
      },
      { name: 'hook-2', at: { from: 't0', offsetMs: -2000 }, action: { kind: 'shell', command: 'echo before' }, timeoutMs: 10_000 },
      { name: 'hook-3', at: { from: 'start', offsetMs: 30_000 }, action: { kind: 'kamailio', method: 'htable.flush', params: ['auth'] }, timeoutMs: 2000 },
    ]);
    expect(s.trunk).toEqual({ users: 100, realm: 'lab', nonceTtlMs: 30_000, aorLimit: { rate: 5, burst: 5, code: 429 }, lossRate: 0.01, maxConcurrentChallenges: 64 });
    expect(s.sweep).toEqual({
      perAgentRates: [2, 5, 10],
      retries: [
        { name: 'none', retry: { policy: { kind: 'none' }, on: [], maxAttempts: 1, honourRetryAfter: false } },
        { name: 'fixed', retry: { policy: { kind: 'fixed', delayMs: 1000 }, on: ['forbidden', 'throttled', 'overload', 'timeout'], maxAttempts: 2, honourRetryAfter: true } },
      ],
      maxRejectRate: 0.01,
    });
    expect([s.seed, s.unregister, s.thresholds, s.target]).toEqual([42, false, ['p(99)<200'], 'udp:127.0.0.1:5080']);
  });

  it('t0 at a wall-clock time in a zone; expires as a duration', () => {
    const s = parseScenario('agents: {count: 1, expires: 2m}\nt0: {at: "fri 16:00", tz: America/Chicago}\nphases: [{type: idle, duration: 1s}]', INLINE);
    expect(s.t0).toEqual({ at: 'fri 16:00', tz: 'America/Chicago' });
    expect(s.agents.expires).toBe(120);
    expect(load('t0: {at: "2025-01-10 16:00", tz: UTC}\nphases: [{type: idle, duration: 1}]').t0).toEqual({ at: '2025-01-10 16:00', tz: 'UTC' });
  });

  it('every bundled scenario in scenarios/ is valid', () => {
    const files = readdirSync(BUNDLED).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(() => loadScenario(join(BUNDLED, f)), f).not.toThrow();
  });
});

describe('invalid scenarios: every issue at once, with line, column and path', () => {
  it('a wrong type, an unknown key, a bad duration, a bad time zone and a missing field in phase 3', () => {
    let error: ScenarioError | undefined;
    try {
      loadScenario(fixture('many-errors.yaml'));
    } catch (err) {
      error = err as ScenarioError;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    const file = fixture('many-errors.yaml');
    expect(error!.issues).toEqual([
      { file, line: 5, column: 10, path: 'agents.count', message: 'expected a whole number, got "ten"' },
      { file, line: 6, column: 3, path: 'agents.colour', message: expect.stringMatching(/^unknown key "colour" \(allowed: count, userTemplate, .*\)$/) },
      { file, line: 7, column: 27, path: 't0.tz', message: expect.stringMatching(/^unknown time zone "Europe\/Atlantis"/) },
      { file, line: 10, column: 15, path: 'phases[0].duration', message: expect.stringMatching(/^expected a duration like 30s.*, got "10x"$/) },
      { file, line: 14, column: 5, path: 'phases[2].to', message: expect.stringMatching(/^required: a rate like 10\/s/) },
    ]);
    // The message is one line per issue: file:line:column: path: message.
    expect(error!.message.split('\n')).toHaveLength(5);
    expect(error!.message.split('\n')[3]).toBe(`${file}:10:15: phases[0].duration: expected a duration like 30s, 500ms, 2m or a number of milliseconds, got "10x"`);
  });

  it('a YAML syntax error (bad indentation) is reported at its line', () => {
    const file = fixture('bad-indent.yaml');
    expect(() => loadScenario(file)).toThrow(ScenarioError);
    try {
      loadScenario(file);
    } catch (err) {
      expect((err as ScenarioError).issues).toEqual([{ file, line: 8, column: 1, path: '', message: 'Sequence item without - indicator' }]);
    }
  });

  it('missing replay and credentials files name the field and line', () => {
    const file = fixture('missing-files.yaml');
    expect(issuesOf(readFileSync(file, 'utf8'), file)).toEqual([
      `4:16 agents.credentials: credentials file not found: ${fixture('no-such-users.csv')}`,
      `7:11 phases[0].file: replay file not found: ${fixture('data/no-such-incident.csv')}`,
    ]);
  });

  it('unknown phase fields are rejected, with a suggestion for a near miss', () => {
    expect(issuesOf('agents: {count: 1}\nphases:\n  - type: burst\n    window: 1s\n    rate: 5/s\n  - type: constant\n    duration: 1s\n    rtae: 5\n')).toEqual([
      '5:5 phases[0].rate: unknown key "rate" (allowed: type, name, anchor, seed, action, agents, window, jitter)',
      '6:5 phases[1].rate: required: a rate like 10/s, 600/min or a number per second',
      '8:5 phases[1].rtae: unknown key "rtae" (did you mean "rate"?)',
    ]);
    // idle draws no agents, so `action` is not one of its fields.
    expect(issuesOf('agents: {count: 1}\nphases: [{type: idle, duration: 1s, action: login}]')).toEqual([
      '2:37 phases[0].action: unknown key "action" (allowed: type, name, anchor, seed, duration)',
    ]);
  });

  it('phase type, retry policy and top-level keys', () => {
    expect(issuesOf('agents: {count: 1}\nphases:\n  - {type: flood}\n  - {duration: 1s}\nretry: {policy: linear}\nphase: []')).toEqual([
      '3:12 phases[0].type: expected one of constant, ramp, steps, poisson, burst, replay, idle, got "flood"',
      '4:5 phases[1].type: required: one of constant, ramp, steps, poisson, burst, replay, idle',
      '5:17 retry.policy: expected one of none, fixed, exponential, got "linear"',
      '6:1 phase: unknown key "phase" (did you mean "phases"?)',
    ]);
    expect(issuesOf('agents: {count: 1}\nphases: []')).toEqual(['2:9 phases: needs at least one phase']);
    expect(issuesOf('')).toEqual(['1:1 : expected a mapping, got null']);
  });

  it('cross-field rules: unique names, T0 needed by anchor and hooks, agent ranges, retry cap', () => {
    const text = [
      'agents: {count: 10}',
      'phases:',
      '  - {name: a, type: idle, duration: 1s}',
      '  - {name: a, type: constant, duration: 1s, rate: 1, anchor: t0, agents: {from: 5, to: 11}}',
      '  - {type: burst, window: 1s, agents: {from: 4, to: 4}}',
      'hooks:',
      '  - {at: T0+1s, shell: "true"}',
      '  - {at: 5s, shell: "true", kamailio: {method: x}}',
      'retry: {policy: exponential, base: 2s, cap: 1s}',
    ].join('\n');
    // Field-level problems first: cross-field rules run once every field is valid on its own.
    expect(issuesOf(text)).toEqual(['8:5 hooks[1]: needs exactly one of shell, trunk, kamailio (got 2)', '9:45 retry.cap: must be >= base (2000 ms)']);
    const fieldsFixed = text.replace(', kamailio: {method: x}', '').replace('cap: 1s', 'cap: 3s');
    expect(issuesOf(fieldsFixed)).toEqual([
      '4:12 phases[1].name: duplicate phase name "a" (also phases[0])',
      '4:62 phases[1].anchor: anchor: t0 needs a t0 in the scenario',
      '4:88 phases[1].agents.to: must be <= agents.count (10)',
      '5:46 phases[2].agents.from: must be < to (4)',
      '7:10 hooks[0].at: a T0 moment needs a t0 in the scenario',
    ]);
  });

  it('t0, hook moments, class map and trunk switches are checked', () => {
    expect(
      issuesOf(
        [
          'agents: {count: 1}',
          't0: {at: "Fri 25:00"}',
          'phases: [{type: idle, duration: 1s}]',
          'hooks: [{at: T0+soon, shell: x}, {at: 1s, trunk: {auth: false}}]',
          'classMap: {"99": ok, 404: fine}',
          'trunk: {aorLimit: {rate: 0}, allowlist: [10.0.0.0/33], turbo: true}',
        ].join('\n'),
      ),
    ).toEqual([
      '2:10 t0.at: expected "Ddd HH:MM" (e.g. "Fri 16:00") or "YYYY-MM-DD HH:MM", got "Fri 25:00"',
      '4:14 hooks[0].at: expected T0, T0+5s, T0-2s, or +30s (from the start), got "T0+soon"',
      '5:12 classMap["99"]: expected a SIP status code 100..699, got "99"',
      '5:27 classMap["404"]: expected one of ok, forbidden, throttled, overload, auth_failed, client_error, server_error, global_error, timeout, transport_error, malformed, dropped, got "fine"',
      '6:26 trunk.aorLimit.rate: expected a rate like 10/s, 600/min or a number per second (> 0), got 0',
      '6:42 trunk.allowlist[0]: "10.0.0.0/33": prefix length must be 0..32',
      expect.stringMatching(/^6:56 trunk.turbo: unknown key "turbo" \(allowed: auth, optionsAuth, .*, allowlist, tokenFault, tokenTtlS, tokenRetryAfterS, users, realm, seed\)$/),
    ]);
    // t0 with `at` but no tz, and the trunk's own rules (maxExpires under the default minExpires 60).
    expect(issuesOf('agents: {count: 1}\nt0: {at: "Fri 16:00"}\ntrunk: {maxExpires: 30}\nphases: [{type: idle, duration: 1s}]')).toEqual([
      '2:5 t0.tz: required with at (an IANA zone like America/Chicago or UTC)',
      '3:8 trunk: trunk switch minExpires/maxExpires out of order',
    ]);
    expect(issuesOf('agents: {count: 1}\nhooks: [{at: 1s, shell: a, kamailio: {method: m}}]\nphases: [{type: idle, duration: 1s}]')).toEqual([
      '2:9 hooks[0]: needs exactly one of shell, trunk, kamailio (got 2)',
    ]);
  });

  it('a bad password value is not echoed in the message', () => {
    expect(issuesOf('agents: {count: 1, passwordTemplate: 987654}\nphases: [{type: idle, duration: 1s}]')).toEqual(['1:38 agents.passwordTemplate: expected a string']);
  });

  it('an unreadable file is a ScenarioError naming it', () => {
    const file = fixture('does-not-exist.yaml');
    expect(() => loadScenario(file)).toThrow(`${file}: cannot read the scenario file (ENOENT)`);
  });
});

describe('properties', () => {
  const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  const RATE_DIV = { s: 1, sec: 1, m: 60, min: 60, h: 3600 } as const;

  it('a duration written with any unit loads as the same milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom(...(Object.keys(UNIT_MS) as (keyof typeof UNIT_MS)[])), (n, unit) => {
        const ms = n * UNIT_MS[unit];
        expect(parseDuration(`${n}${unit}`)).toEqual({ ok: true, value: ms });
        expect(parseDuration(ms)).toEqual({ ok: true, value: ms });
        const s = load(`phases: [{type: idle, duration: ${n}${unit}}, {type: idle, duration: ${ms}}]`);
        expect(s.phases.map((p) => (p.type === 'idle' ? p.durationMs : -1))).toEqual([ms, ms]);
      }),
      { numRuns: 200 },
    );
  });

  it('a rate written per s, min or h loads as the same rate per second', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(...(Object.keys(RATE_DIV) as (keyof typeof RATE_DIV)[])), (n, unit) => {
        const parsed = parseRateValue(`${n}/${unit}`, false);
        expect(parsed.ok && parsed.value).toBeCloseTo(n / RATE_DIV[unit], 9);
        const s = load(`phases: [{type: constant, duration: 1s, rate: ${n}/${unit}}]`);
        expect(s.phases[0].type === 'constant' && s.phases[0].rate).toBeCloseTo(n / RATE_DIV[unit], 9);
      }),
      { numRuns: 200 },
    );
  });

  it('any document loads or throws a ScenarioError whose issues point inside the file; never a crash', () => {
    const valid = parseYaml(readFileSync(fixture('all-phases.yaml'), 'utf8')) as Record<string, unknown>;
    const keys = Object.keys(valid);
    const mutated = fc.tuple(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 })).map(([k, v]) => stringifyYaml({ ...valid, [k]: v }));
    const anyText = fc.oneof(mutated, fc.jsonValue({ maxDepth: 3 }).map((v) => stringifyYaml(v)), fc.string({ maxLength: 200 }));
    fc.assert(
      fc.property(anyText, (text) => {
        const lineCount = text.split('\n').length;
        try {
          parseScenario(text, INLINE);
        } catch (err) {
          if (!(err instanceof ScenarioError)) throw err;
          expect(err.issues.length).toBeGreaterThan(0);
          for (const issue of err.issues) {
            expect(issue.line).toBeGreaterThanOrEqual(1);
            expect(issue.line).toBeLessThanOrEqual(lineCount);
            expect(issue.column).toBeGreaterThanOrEqual(1);
            expect(issue.message.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('JSON Schema export', () => {
  const schema = scenarioJsonSchema();

  it('is a draft 2020-12 object schema with the top-level keys, strict, agents and phases required', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.title).toBe('sipstorm scenario');
    expect(typeof schema.description).toBe('string');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties as object)).toEqual([
      'name', 'description', 'target', 'transport', 'agents', 'classMap', 't0', 'phases', 'throttle', 'retry', 'hooks', 'trunk', 'thresholds', 'sweep', 'seed', 'unregister',
    ]);
    expect(schema.required).toEqual(['agents', 'phases']);
  });

  it('accepts the valid fixture and every bundled scenario, rejects typos the loader rejects', () => {
    const files = [fixture('all-phases.yaml'), ...readdirSync(BUNDLED).filter((f) => f.endsWith('.yaml')).map((f) => join(BUNDLED, f))];
    for (const f of files) expect(schemaErrors(schema, parseYaml(readFileSync(f, 'utf8'))), f).toEqual([]);
    const base = { agents: { count: 1 }, phases: [{ type: 'idle', duration: '1s' }] };
    expect(schemaErrors(schema, base)).toEqual([]);
    expect(schemaErrors(schema, { ...base, phase: [] })).toEqual(['$: unknown key phase']);
    expect(schemaErrors(schema, { ...base, phases: [{ type: 'idle', duration: '10x' }] })).not.toEqual([]);
    expect(schemaErrors(schema, { ...base, phases: [{ type: 'burst', window: '1s', rate: 5 }] })).not.toEqual([]);
    expect(schemaErrors(schema, { ...base, classMap: { '99': 'ok' } })).not.toEqual([]);
  });
});
