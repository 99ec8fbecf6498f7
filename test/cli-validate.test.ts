// `sipstorm validate` and `sipstorm schema` as users call them (the built CLI; `npm run build` first).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/scenarios/', import.meta.url));
const BUNDLED = fileURLToPath(new URL('../scenarios/', import.meta.url));
const good = join(FIXTURES, 'all-phases.yaml');
const bad = join(FIXTURES, 'many-errors.yaml');

describe('sipstorm validate', () => {
  it('a valid file: "FILE: ok (N phases, M agents)", exit 0', async () => {
    const r = await runCli(['validate', good]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${good}: ok (7 phases, 100 agents)\n`);
    expect(r.stderr).toBe('');
  });

  it('every bundled scenario validates', async () => {
    const files = readdirSync(BUNDLED).filter((f) => f.endsWith('.yaml')).map((f) => join(BUNDLED, f));
    const r = await runCli(['validate', ...files]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(files.length);
  });

  it('an invalid file among valid ones: every issue as file:line:column: path: message on stderr, exit 2', async () => {
    const r = await runCli(['validate', good, bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(`${good}: ok (7 phases, 100 agents)\n`);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      `${bad}:5:10: agents.count: expected a whole number, got "ten"`,
      expect.stringMatching(new RegExp(`^${bad}:6:3: agents\\.colour: unknown key "colour"`)),
      expect.stringMatching(new RegExp(`^${bad}:7:27: t0\\.tz: unknown time zone "Europe/Atlantis"`)),
      `${bad}:10:15: phases[0].duration: expected a duration like 30s, 500ms, 2m or a number of milliseconds, got "10x"`,
      `${bad}:14:5: phases[2].to: required: a rate like 10/s, 600/min or a number per second`,
      '1 of 2 scenario files invalid',
    ]);
  });

  it('a YAML syntax error and a missing file are reported, not crashed on', async () => {
    const indent = join(FIXTURES, 'bad-indent.yaml');
    const missing = join(FIXTURES, 'nope.yaml');
    const r = await runCli(['validate', indent, missing]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${indent}:8:1: Sequence item without - indicator\n`);
    expect(r.stderr).toContain(`${missing}: cannot read the scenario file (ENOENT)\n`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('no file named is a usage error (exit 2)', async () => {
    const r = await runCli(['validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Not enough non-option arguments/);
  });
});

describe('sipstorm schema', () => {
  it('prints the JSON Schema of scenario files as parseable JSON', async () => {
    const r = await runCli(['schema']);
    expect(r.code, r.stderr).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.title).toBe('sipstorm scenario');
    expect(schema.type).toBe('object');
    expect(schema.required).toEqual(['agents', 'phases']);
    expect(schema.properties.phases.items.oneOf.map((o: { properties: { type: { const: string } } }) => o.properties.type.const)).toEqual([
      'constant', 'ramp', 'steps', 'poisson', 'burst', 'replay', 'idle',
    ]);
  });
});
