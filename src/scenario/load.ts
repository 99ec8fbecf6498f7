// Loads a scenario file: YAML (positions kept) -> zod schema -> normalised Scenario. Every problem
// found is reported at once, each as file:line:column: path: message, by throwing ScenarioError.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import * as z from 'zod';
import type { Scenario } from './types.js';
import { scenarioFileObject, scenarioSchema } from './schema.js';
import { allowedKeys, closest, errorMap, formatPath, positionOf, ScenarioError, type ScenarioIssue } from './issues.js';

export { ScenarioError, type ScenarioIssue } from './issues.js';

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ScenarioError([{ file: path, line: 0, column: 0, path: '', message: `cannot read the scenario file (${why})` }]);
  }
  return parseScenario(text, path);
}

/** `file` names the source in messages, gives the default name, and anchors relative paths. */
export function parseScenario(text: string, file: string): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, merge: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // The tree after a syntax error is a guess; checking its shape would add confusing issues.
    throw new ScenarioError(
      doc.errors.map((e) => ({ file, line: e.linePos?.[0].line ?? 0, column: e.linePos?.[0].col ?? 0, path: '', message: yamlMessage(e.message) })),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw new ScenarioError([{ file, line: 1, column: 1, path: '', message: (err as Error).message }]);
  }
  const result = scenarioSchema(basename(file, extname(file))).safeParse(data, { error: errorMap });
  if (!result.success) throw new ScenarioError(zodIssues(result.error.issues, { file, doc, lines, data }));

  const at = (path: PropertyKey[], message: string): ScenarioIssue => ({ file, ...positionOf(doc, lines, path), path: formatPath(path), message });
  const issues: ScenarioIssue[] = [];
  const baseDir = dirname(resolve(file));
  // Relative to the scenario file, so a scenario and its data files move together.
  const existing = (rel: string, path: PropertyKey[], what: string): string => {
    const abs = resolve(baseDir, rel);
    if (!existsSync(abs)) issues.push(at(path, `${what} not found: ${abs}`));
    else if (!statSync(abs).isFile()) issues.push(at(path, `${what} is not a file: ${abs}`));
    return abs;
  };
  const scenario: Scenario = { file, ...result.data };
  if (scenario.agents.credentials) scenario.agents = { ...scenario.agents, credentials: existing(scenario.agents.credentials, ['agents', 'credentials'], 'credentials file') };
  if (scenario.transport.ca) scenario.transport = { ...scenario.transport, ca: existing(scenario.transport.ca, ['transport', 'ca'], 'CA file') };
  scenario.phases = scenario.phases.map((p, i) => (p.type === 'replay' ? { ...p, file: existing(p.file, ['phases', i, 'file'], 'replay file') } : p));
  if (issues.length > 0) throw new ScenarioError(issues);
  return scenario;
}

/** yaml's messages repeat the position and quote the source; the first clause is the message. */
function yamlMessage(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

/** Messages echo the bad value ("got ..."); never for a field that may hold a password. */
function hideSecret(path: PropertyKey[], message: string): string {
  return path.some((seg) => /pass|secret|token/i.test(String(seg))) ? message.replace(/, got .*$/, '') : message;
}

interface Source {
  file: string;
  doc: Document;
  lines: LineCounter;
  data: unknown;
}

function zodIssues(zodList: readonly z.core.$ZodIssue[], src: Source): ScenarioIssue[] {
  const out: ScenarioIssue[] = [];
  const add = (path: PropertyKey[], message: string, onKey = false) =>
    out.push({ file: src.file, ...positionOf(src.doc, src.lines, path, onKey), path: formatPath(path), message: hideSecret(path, message) });
  for (const iss of zodList) {
    const path = [...iss.path];
    if (iss.code === 'unrecognized_keys') {
      const allowed = allowedKeys(scenarioFileObject, path, src.data);
      for (const key of iss.keys) {
        const guess = closest(key, allowed);
        const hint = guess ? ` (did you mean "${guess}"?)` : allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : '';
        add([...path, key], `unknown key "${key}"${hint}`, true);
      }
    } else if (iss.code === 'invalid_union' && !iss.discriminator && iss.errors.length > 0) {
      // A union whose options all failed: when exactly one option had the right shape (its issues
      // are deeper than a type mismatch or unknown key at the top), its issues say what is wrong.
      const fitting = iss.errors.filter((branch) => branch.every((b) => b.path.length > 0 || (b.code !== 'invalid_type' && b.code !== 'invalid_value' && b.code !== 'unrecognized_keys')));
      if (fitting.length === 1) out.push(...zodIssues(fitting[0].map((b) => ({ ...b, path: [...path, ...b.path] })), src));
      else add(path, iss.message);
    } else if (iss.code === 'invalid_key') {
      add(path, iss.issues[0]?.message ?? iss.message, true);
    } else add(path, iss.message);
  }
  // File order reads best; zod reports an object's unknown keys after its fields.
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}
