import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentIndexOf, parseReplay, readReplayFile, ReplayError } from '../src/schedule/replay.js';
import { AGENT_ACTIONS } from '../src/scenario/types.js';

describe('parseReplay', () => {
  it('reads rows with an optional header, comments, blank lines, CRLF, user names and register = login', () => {
    const text = ['# incident 2026-10-30', 'offset_ms,agent,action', '', '0,agent0042,register', '  12.5 , 7 , OPTIONS  ', '# a gap', '900,"sip:agent0003@pbx.example",', '1000,3'].join('\r\n');
    expect(parseReplay(text, 'i.csv')).toEqual([
      { offsetMs: 0, agent: 42, action: 'login', line: 4 },
      { offsetMs: 12.5, agent: 7, action: 'options', line: 5 },
      { offsetMs: 900, agent: 3, line: 7 },
      { offsetMs: 1000, agent: 3, line: 8 },
    ]);
  });

  it('without a header the columns are offset_ms,agent,action; a header may reorder them', () => {
    expect(parseReplay('5,1,unregister\n', 'a.csv')).toEqual([{ offsetMs: 5, agent: 1, action: 'unregister', line: 1 }]);
    expect(parseReplay('agent,action,offset_ms\nagent0009,refresh,250\n', 'b.csv')).toEqual([{ offsetMs: 250, agent: 9, action: 'refresh', line: 2 }]);
  });

  it('every action word is accepted, case-insensitive', () => {
    const rows = parseReplay(['login', 'register', 'refresh', 'options', 'unregister', 'auto', 'LOGIN'].map((a, i) => `${i},0,${a}`).join('\n'), 'x.csv');
    expect(rows.map((r) => r.action)).toEqual(['login', 'login', 'refresh', 'options', 'unregister', 'auto', 'login']);
  });

  it('errors read file:line: field: message', () => {
    const cases: [string, string][] = [
      ['offset_ms,agent,action\n0,1,login\nsoon,2,login\n', 'r.csv:3: offset_ms: expected milliseconds >= 0, got "soon"'],
      ['# c\n\n-5,1,login\n', 'r.csv:3: offset_ms: expected milliseconds >= 0, got "-5"'],
      ['0,1,login\n1,,login\n', 'r.csv:2: agent: expected a 0-based index or a user name with its number (agent0042), got ""'],
      ['0,user1x2,login\n', 'r.csv:1: agent: expected a 0-based index or a user name with its number (agent0042), got "user1x2"'],
      ['0,-3,login\n', 'r.csv:1: agent: expected a 0-based index or a user name with its number (agent0042), got "-3"'],
      ['0,1,invite\n', 'r.csv:1: action: unknown action "invite" (login, register, refresh, options, unregister, auto)'],
      ['0,1,login,extra\n', 'r.csv:1: row: 4 fields, expected at most 3 (offset_ms,agent,action)'],
      ['when,agent\n', 'r.csv:1: header: unknown column "when" (expected offset_ms, agent, action)'],
      ['agent,action\n1,login\n', 'r.csv:1: header: the "offset_ms" column is missing'],
      ['offset_ms,agent,agent\n', 'r.csv:1: header: column "agent" given twice'],
      ['# only comments\n\n', 'r.csv: no rows (expected lines offset_ms,agent,action)'],
    ];
    for (const [text, message] of cases) {
      expect(() => parseReplay(text, 'r.csv'), text).toThrow(new ReplayError(message));
    }
  });

  it('rows written out and parsed back are the same rows (property)', () => {
    const row = fc.record({
      offsetMs: fc.integer({ min: 0, max: 86_400_000 }),
      agent: fc.integer({ min: 0, max: 99_999 }),
      action: fc.option(fc.constantFrom(...AGENT_ACTIONS), { nil: undefined }),
      name: fc.boolean(),
      comment: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.boolean(), fc.array(row, { minLength: 1, maxLength: 30 }), (header, rows) => {
        const lines: string[] = header ? ['offset_ms,agent,action'] : [];
        const expected = [];
        for (const r of rows) {
          if (r.comment) lines.push('# note', '');
          lines.push(`${r.offsetMs},${r.name ? `agent${String(r.agent).padStart(4, '0')}` : r.agent},${r.action ?? ''}`);
          expected.push({ offsetMs: r.offsetMs, agent: r.agent, ...(r.action ? { action: r.action } : {}), line: lines.length });
        }
        expect(parseReplay(lines.join('\n'), 'p.csv')).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('agentIndexOf', () => {
  it('maps an index or the one number in a user name', () => {
    expect(agentIndexOf('0')).toBe(0);
    expect(agentIndexOf('0042')).toBe(42);
    expect(agentIndexOf('agent0042')).toBe(42);
    expect(agentIndexOf('sips:agent17@example.com')).toBe(17);
    expect(agentIndexOf('agent')).toBeUndefined();
    expect(agentIndexOf('a1b2')).toBeUndefined();
    expect(agentIndexOf('1.5')).toBeUndefined();
  });
});

describe('readReplayFile', () => {
  it('reads a file from disk; a missing file is an error naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipstorm-replay-'));
    const file = join(dir, 'incident.csv');
    writeFileSync(file, 'offset_ms,agent,action\n0,agent0001,login\n');
    expect(readReplayFile(file)).toEqual([{ offsetMs: 0, agent: 1, action: 'login', line: 2 }]);
    expect(() => readReplayFile(join(dir, 'nope.csv'))).toThrow(`${join(dir, 'nope.csv')}: cannot read the replay file (ENOENT)`);
  });
});
