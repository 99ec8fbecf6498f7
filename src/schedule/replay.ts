// Replay files: rows `offset_ms,agent,action` taken from a real incident's logs. A header line is
// optional (when present its names may reorder the columns), `#` starts a comment line, blank lines
// are skipped. Errors read `file:line: field: message` so the user can go straight to the row.
import { readFileSync } from 'node:fs';
import type { AgentAction } from '../scenario/types.js';

export interface ReplayRow {
  /** Milliseconds from the start of the incident (before compression). */
  offsetMs: number;
  /** 0-based agent index. */
  agent: number;
  /** Absent when the row leaves the action empty: the phase's action applies. */
  action?: AgentAction;
  /** 1-based line in the file, for later messages (e.g. an agent beyond the scenario's count). */
  line: number;
}

export class ReplayError extends Error {}

const ACTION_WORDS: Readonly<Record<string, AgentAction>> = {
  login: 'login',
  register: 'login',
  refresh: 'refresh',
  options: 'options',
  unregister: 'unregister',
  auto: 'auto',
};

type Column = 'offset_ms' | 'agent' | 'action';
const HEADER_NAMES: Readonly<Record<string, Column>> = {
  offset_ms: 'offset_ms',
  offset: 'offset_ms',
  ms: 'offset_ms',
  agent: 'agent',
  user: 'agent',
  action: 'action',
  method: 'action',
};
const DEFAULT_COLUMNS: readonly Column[] = ['offset_ms', 'agent', 'action'];

export function parseReplay(text: string, file: string): ReplayRow[] {
  const rows: ReplayRow[] = [];
  let columns: readonly Column[] | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(',').map(unquote);
    if (!columns) {
      // The first data-looking line decides: a non-numeric first field is a header.
      if (!/^[-+.\d]/.test(fields[0])) {
        columns = headerColumns(fields, file, lineNo);
        continue;
      }
      columns = DEFAULT_COLUMNS;
    }
    rows.push(parseRow(fields, columns, file, lineNo));
  }
  if (rows.length === 0) throw new ReplayError(`${file}: no rows (expected lines offset_ms,agent,action)`);
  return rows;
}

/** Reads and parses a replay file; a missing or unreadable file is a ReplayError naming it. */
export function readReplayFile(file: string): ReplayRow[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ReplayError(`${file}: cannot read the replay file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseReplay(text, file);
}

/**
 * The 0-based index an agent field names: "42", or a user name with one number in it ("agent0042",
 * also as sip:agent0042@host). Anything else (two numbers, a sign) is not guessed at.
 */
export function agentIndexOf(field: string): number | undefined {
  const user = field.replace(/^sips?:/i, '').split('@')[0];
  const digits = /^\d+$/.test(user) ? user : /^[A-Za-z_][^\d]*(\d+)\D*$/.exec(user)?.[1];
  if (digits === undefined) return undefined;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : undefined;
}

function headerColumns(fields: string[], file: string, line: number): Column[] {
  const columns: Column[] = [];
  for (const name of fields) {
    const column = HEADER_NAMES[name.toLowerCase()];
    if (!column) throw new ReplayError(`${file}:${line}: header: unknown column "${name}" (expected offset_ms, agent, action)`);
    if (columns.includes(column)) throw new ReplayError(`${file}:${line}: header: column "${name}" given twice`);
    columns.push(column);
  }
  for (const needed of ['offset_ms', 'agent'] as const) {
    if (!columns.includes(needed)) throw new ReplayError(`${file}:${line}: header: the "${needed}" column is missing`);
  }
  return columns;
}

function parseRow(fields: string[], columns: readonly Column[], file: string, line: number): ReplayRow {
  if (fields.length > columns.length) {
    throw new ReplayError(`${file}:${line}: row: ${fields.length} fields, expected at most ${columns.length} (${columns.join(',')})`);
  }
  const value = (column: Column): string => fields[columns.indexOf(column)] ?? '';

  const offsetText = value('offset_ms');
  const offsetMs = Number(offsetText);
  if (offsetText === '' || !Number.isFinite(offsetMs) || offsetMs < 0) {
    throw new ReplayError(`${file}:${line}: offset_ms: expected milliseconds >= 0, got "${offsetText}"`);
  }

  const agentText = value('agent');
  const agent = agentText === '' ? undefined : agentIndexOf(agentText);
  if (agent === undefined) {
    throw new ReplayError(`${file}:${line}: agent: expected a 0-based index or a user name with its number (agent0042), got "${agentText}"`);
  }

  const actionText = value('action').toLowerCase();
  const action = actionText === '' ? undefined : ACTION_WORDS[actionText];
  if (actionText !== '' && !action) {
    throw new ReplayError(`${file}:${line}: action: unknown action "${actionText}" (login, register, refresh, options, unregister, auto)`);
  }
  return action ? { offsetMs, agent, action, line } : { offsetMs, agent, line };
}

function unquote(field: string): string {
  const t = field.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
}
