// Turns YAML syntax errors and zod issues into ScenarioIssues that point at a line and column of
// the file: the node at the issue's path, or (for a missing key) the mapping that lacks it.
import * as z from 'zod';
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { shown } from './fields.js';

export interface ScenarioIssue {
  file: string;
  /** 1-based; 0 when the issue is about the file as a whole (e.g. it cannot be read). */
  line: number;
  column: number;
  /** e.g. "phases[2].rate"; "" for YAML syntax errors and whole-file issues. */
  path: string;
  message: string;
}

export function formatIssue(i: ScenarioIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.column}` : i.file;
  return i.path ? `${where}: ${i.path}: ${i.message}` : `${where}: ${i.message}`;
}

/** All the issues of a file, one per line of the message. */
export class ScenarioError extends Error {
  readonly issues: ScenarioIssue[];
  constructor(issues: ScenarioIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ScenarioError';
    this.issues = issues;
  }
}

/** ["phases", 2, "rate"] -> "phases[2].rate"; keys that are not identifiers are quoted: classMap["403"]. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(seg))) out += out ? `.${String(seg)}` : String(seg);
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** Messages for the issues whose schema did not give its own (per-parse error map). */
export const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined ? 'required' : `expected ${iss.expected === 'object' ? 'a mapping' : iss.expected === 'array' ? 'a list' : `a ${iss.expected}`}, got ${shown(iss.input)}`;
    case 'invalid_value': {
      const values = iss.values.map((v) => String(v)).join(', ');
      const expected = iss.values.length === 1 ? values : `one of ${values}`;
      return iss.input === undefined ? `required: ${expected}` : `expected ${expected}, got ${shown(iss.input)}`;
    }
    case 'too_small':
      if (iss.origin === 'array') return `needs at least ${iss.minimum} item${iss.minimum === 1 ? '' : 's'}`;
      if (iss.origin === 'string') return 'must not be empty';
      return `must be ${iss.inclusive ? '>=' : '>'} ${iss.minimum}, got ${shown(iss.input)}`;
    case 'too_big':
      if (iss.origin === 'array') return `has more than ${iss.maximum} items`;
      return `must be ${iss.inclusive ? '<=' : '<'} ${iss.maximum}, got ${shown(iss.input)}`;
    case 'invalid_union':
      return `does not match any allowed form, got ${shown(iss.input)}`;
    case 'invalid_format':
      return `expected ${iss.format === 'url' ? 'a URL' : `a ${iss.format}`}, got ${shown(iss.input)}`;
    default:
      return undefined;
  }
};

function keyText(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

/** Offset of the node at `path`, or of its deepest existing ancestor. `onKey`: the key of the last pair, not its value. */
function offsetOf(doc: Document, path: readonly PropertyKey[], onKey: boolean): number {
  let node = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (let i = 0; i < path.length && node; i++) {
    if (isAlias(node)) node = (node.resolve(doc) as Node | undefined) ?? null;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(path[i]));
      if (!pair) break;
      const keyNode = pair.key as Node | null;
      const valueNode = pair.value as Node | null;
      offset = (last && onKey) || !valueNode?.range ? (keyNode?.range?.[0] ?? offset) : valueNode.range[0];
      node = valueNode;
    } else if (isSeq(node) && typeof path[i] === 'number') {
      const item = node.items[path[i] as number] as Node | undefined;
      if (!item?.range) break;
      offset = item.range[0];
      node = item;
    } else break;
  }
  return offset;
}

export function positionOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[], onKey = false): { line: number; column: number } {
  const { line, col } = lines.linePos(offsetOf(doc, path, onKey));
  return { line, column: col };
}

/** The keys a strict object at `path` accepts (for "did you mean"), found by walking the schema along the data. */
export function allowedKeys(schema: z.core.$ZodType, path: readonly PropertyKey[], data: unknown): string[] {
  let s: z.core.$ZodType | undefined = schema;
  let value = data;
  // Bounded: each step unwraps one schema layer or moves one path segment down.
  for (let i = 0, steps = 0; i <= path.length && s && steps < 256; steps++) {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    if (def.type === 'optional' || def.type === 'nullable' || def.type === 'default' || def.type === 'prefault') s = def.innerType as z.core.$ZodType;
    else if (def.type === 'pipe') s = def.in as z.core.$ZodType;
    else if (def.type === 'union') {
      const options = def.options as z.core.$ZodType[];
      const disc = def.discriminator as string | undefined;
      const tag = disc && value && typeof value === 'object' ? (value as Record<string, unknown>)[disc] : undefined;
      s = options.find((o) => {
        const shape = objectShape(o);
        if (!shape) return false;
        if (disc) return literalOf(shape[disc]) === tag;
        return Object.keys(value ?? {}).some((k) => k in shape);
      });
    } else if (i === path.length) return Object.keys(objectShape(s) ?? {});
    else if (def.type === 'object') {
      s = (def.shape as Record<string, z.core.$ZodType>)[String(path[i])];
      value = (value as Record<string, unknown> | undefined)?.[String(path[i])];
      i++;
    } else if (def.type === 'array') {
      s = def.element as z.core.$ZodType;
      value = (value as unknown[] | undefined)?.[path[i] as number];
      i++;
    } else return [];
  }
  return [];
}

function objectShape(s: z.core.$ZodType): Record<string, z.core.$ZodType> | undefined {
  let cur = s;
  for (let depth = 0; depth < 8; depth++) {
    const def = cur._zod.def as unknown as Record<string, unknown> & { type: string };
    if (def.type === 'object') return def.shape as Record<string, z.core.$ZodType>;
    if (def.type === 'pipe') cur = def.in as z.core.$ZodType;
    else if (def.type === 'optional' || def.type === 'nullable' || def.type === 'default') cur = def.innerType as z.core.$ZodType;
    else return undefined;
  }
  return undefined;
}

function literalOf(s: z.core.$ZodType | undefined): unknown {
  const def = s?._zod.def as { type: string; values?: unknown[] } | undefined;
  return def?.type === 'literal' ? def.values?.[0] : undefined;
}

/** The closest allowed key: 1 edit away for short words, 2 for longer ones (a swap of neighbours is 1). */
export function closest(word: string, candidates: string[]): string | undefined {
  const limit = word.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
