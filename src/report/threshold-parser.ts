// The threshold grammar (`--threshold`, a scenario's `thresholds:`): a scanner and a recursive-descent
// parser into a small AST, and the printer that turns an AST back into canonical text. Pure.
//
//   threshold := metric filters? op number unit?
//   metric    := ('uncorrected.' | 'corrected.')? latency | 'rate(' target ')' | 'count(' target ')'
//   latency   := 'p(' number ')' | 'p' number | 'max' | 'min' | 'mean'
//   target    := outcome class | status code 100..699
//   filters   := '{' key '=' value (',' key '=' value)* '}'   key: phase | method | setting
//   op        := '<' | '<=' | '>' | '>=' | '==' | '!='
//   unit      := 'ms' | 's' | 'us' (latency; ms when absent) | '%' (rate)
//
// Numbers are kept as normalized decimal text so evaluation compares exact rationals, never floats.
import { OUTCOME_CLASSES, isOutcomeClass, type OutcomeClass } from '../shared/outcome.js';

export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type LatencyUnit = 'ms' | 's' | 'us';
export type Unit = LatencyUnit | '%';

/** A decimal number as text: no sign, no leading zeros, no trailing fraction zeros ("0.01", "200"). */
export type Decimal = string;

export type Metric =
  | { kind: 'latency'; stat: 'percentile'; percentile: Decimal; uncorrected: boolean }
  | { kind: 'latency'; stat: 'max' | 'min' | 'mean'; uncorrected: boolean }
  | { kind: 'rate' | 'count'; target: { cls: OutcomeClass } | { status: number } };

export interface Filters {
  phase?: string;
  method?: string;
  setting?: string;
}

export interface ThresholdAst {
  metric: Metric;
  filters: Filters;
  op: CompareOp;
  limit: Decimal;
  unit: Unit | null;
}

export class ThresholdSyntaxError extends Error {
  constructor(
    readonly expression: string,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`threshold "${expression}": column ${column}: ${detail}`);
    this.name = 'ThresholdSyntaxError';
  }
}

const OPS: readonly CompareOp[] = ['<=', '>=', '==', '!=', '<', '>'];
const FILTER_KEYS = ['phase', 'method', 'setting'] as const;
/** Characters a bare filter value cannot hold (they end it or belong to the grammar). */
const VALUE_STOP = /[\s,{}="\\<>!]/;

/** Scanner over the text; the parser asks for what it expects next, so `10/s` can be a filter value. */
class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  fail(detail: string, at = this.pos): never {
    throw new ThresholdSyntaxError(this.text, at + 1, detail);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  peekChar(): string {
    this.skipSpace();
    return this.text[this.pos] ?? '';
  }

  expectChar(c: string, what = `"${c}"`): void {
    if (this.peekChar() !== c) this.fail(`expected ${what}${this.found()}`);
    this.pos++;
  }

  /** Letters, digits, `_` and `.` (so `uncorrected.p99.9` is one word; the parser splits it). */
  word(): { text: string; at: number } | null {
    this.skipSpace();
    const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(this.text.slice(this.pos));
    if (!m) return null;
    const at = this.pos;
    this.pos += m[0].length;
    return { text: m[0], at };
  }

  number(): { value: Decimal; at: number } {
    this.skipSpace();
    const m = /^(\d+(?:\.\d*)?|\.\d+)/.exec(this.text.slice(this.pos));
    if (!m) this.fail(`expected a number${this.found()}`);
    const at = this.pos;
    this.pos += m[0].length;
    return { value: normalizeDecimal(m[0]), at };
  }

  op(): CompareOp {
    this.skipSpace();
    for (const op of OPS) {
      if (this.text.startsWith(op, this.pos)) {
        this.pos += op.length;
        return op;
      }
    }
    return this.fail(`expected a comparison (< <= > >= == !=)${this.found()}`);
  }

  /** A filter value: "quoted" (\" and \\ escapes) or a bare run up to `,` `}` or a space. */
  value(): string {
    this.skipSpace();
    const start = this.pos;
    if (this.text[this.pos] === '"') {
      let out = '';
      for (this.pos++; this.pos < this.text.length; this.pos++) {
        const c = this.text[this.pos];
        if (c === '"') {
          this.pos++;
          if (out === '') this.fail('empty filter value', start);
          return out;
        }
        if (c === '\\' && this.pos + 1 < this.text.length) out += this.text[++this.pos];
        else out += c;
      }
      return this.fail('unterminated quoted value', start);
    }
    while (this.pos < this.text.length && !VALUE_STOP.test(this.text[this.pos])) this.pos++;
    if (this.pos === start) this.fail(`expected a filter value${this.found()}`);
    return this.text.slice(start, this.pos);
  }

  found(): string {
    this.skipSpace();
    if (this.pos >= this.text.length) return ', found the end';
    return `, found "${this.text.slice(this.pos, this.pos + 6)}"`;
  }
}

/** "007.50" -> "7.5", "0.0" -> "0", ".5" -> "0.5". */
export function normalizeDecimal(text: string): Decimal {
  let [int, frac = ''] = text.split('.');
  int = int.replace(/^0+/, '') || '0';
  frac = frac.replace(/0+$/, '');
  return frac === '' ? int : `${int}.${frac}`;
}

export function parseThreshold(text: string): ThresholdAst {
  const s = new Scanner(text);
  const metric = parseMetric(s);
  const filters = s.peekChar() === '{' ? parseFilters(s) : {};
  const op = s.op();
  const limit = s.number();
  const unit = parseUnit(s, metric);
  if (!s.atEnd()) s.fail(`unexpected "${s.text.slice(s.pos, s.pos + 6)}" after the limit`);
  return { metric, filters, op, limit: limit.value, unit };
}

function parseMetric(s: Scanner): Metric {
  const w = s.word();
  if (!w) return s.fail(`expected a metric (p(99), p99, max, min, mean, rate(...), count(...))${s.found()}`);
  let name = w.text;
  let uncorrected = false;
  let prefixed = false;
  const dot = name.indexOf('.');
  if (dot > 0 && (name.slice(0, dot) === 'uncorrected' || name.slice(0, dot) === 'corrected')) {
    uncorrected = name.slice(0, dot) === 'uncorrected';
    prefixed = true;
    name = name.slice(dot + 1);
  }
  const nameAt = w.at + (w.text.length - name.length);
  if (name === 'max' || name === 'min' || name === 'mean') return { kind: 'latency', stat: name, uncorrected };
  if (name === 'p') {
    s.expectChar('(');
    const n = s.number();
    s.expectChar(')');
    return { kind: 'latency', stat: 'percentile', percentile: checkPercentile(s, n.value, n.at), uncorrected };
  }
  const short = /^p(\d+(?:\.\d+)?)$/.exec(name);
  if (short) return { kind: 'latency', stat: 'percentile', percentile: checkPercentile(s, normalizeDecimal(short[1]), nameAt + 1), uncorrected };
  if ((name === 'rate' || name === 'count') && !prefixed) {
    s.expectChar('(');
    const target = parseTarget(s);
    s.expectChar(')');
    return { kind: name, target };
  }
  return s.fail(`unknown metric "${w.text}" (p(99), p99, max, min, mean, rate(<class>), count(<status|class>); latency ones may start with "uncorrected.")`, w.at);
}

function checkPercentile(s: Scanner, p: Decimal, at: number): Decimal {
  if (Number(p) > 100) s.fail(`percentile ${p} is above 100${p === '999' ? ' (write p(99.9))' : ''}`, at);
  return p;
}

function parseTarget(s: Scanner): { cls: OutcomeClass } | { status: number } {
  s.skipSpace();
  const at = s.pos;
  if (/\d/.test(s.peekChar())) {
    const n = s.number();
    const status = Number(n.value);
    if (!Number.isInteger(status) || status < 100 || status > 699) s.fail(`expected a status code 100..699, got ${n.value}`, at);
    return { status };
  }
  const w = s.word();
  if (!w || !isOutcomeClass(w.text)) s.fail(`expected an outcome class (${OUTCOME_CLASSES.join(', ')}) or a status code${w ? `, got "${w.text}"` : s.found()}`, at);
  return { cls: w.text as OutcomeClass };
}

function parseFilters(s: Scanner): Filters {
  s.expectChar('{');
  const filters: Filters = {};
  for (;;) {
    const w = s.word();
    if (!w || !(FILTER_KEYS as readonly string[]).includes(w.text)) {
      s.fail(`expected a filter key (${FILTER_KEYS.join(', ')})${w ? `, got "${w.text}"` : s.found()}`, w?.at);
    }
    const key = w.text as keyof Filters;
    if (filters[key] !== undefined) s.fail(`filter "${key}" given twice`, w.at);
    s.expectChar('=');
    const value = s.value();
    filters[key] = key === 'method' ? value.toUpperCase() : value;
    if (s.peekChar() === ',') {
      s.pos++;
      continue;
    }
    s.expectChar('}', '"," or "}"');
    return filters;
  }
}

function parseUnit(s: Scanner, metric: Metric): Unit | null {
  s.skipSpace();
  const at = s.pos;
  if (s.peekChar() === '%') {
    s.pos++;
    if (metric.kind !== 'rate') s.fail('"%" only goes with rate(...)', at);
    return '%';
  }
  const w = s.word();
  if (!w) return null;
  if (metric.kind !== 'latency') s.fail(`${metric.kind}(...) takes no unit${metric.kind === 'rate' ? ' (but %)' : ''}, got "${w.text}"`, at);
  if (w.text !== 'ms' && w.text !== 's' && w.text !== 'us') s.fail(`expected a unit (ms, s, us), got "${w.text}"`, at);
  return w.text as LatencyUnit;
}

/** Canonical text: parseThreshold(printThreshold(ast)) deep-equals ast. */
export function printThreshold(ast: ThresholdAst): string {
  return `${printMetric(ast.metric)}${printFilters(ast.filters)}${ast.op}${ast.limit}${ast.unit ?? ''}`;
}

function printMetric(m: Metric): string {
  if (m.kind === 'latency') {
    const prefix = m.uncorrected ? 'uncorrected.' : '';
    return prefix + (m.stat === 'percentile' ? `p(${m.percentile})` : m.stat);
  }
  return `${m.kind}(${'cls' in m.target ? m.target.cls : m.target.status})`;
}

function printFilters(f: Filters): string {
  const parts = FILTER_KEYS.filter((k) => f[k] !== undefined).map((k) => `${k}=${printValue(f[k]!)}`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function printValue(v: string): string {
  for (const c of v) if (VALUE_STOP.test(c)) return `"${v.replace(/[\\"]/g, (x) => `\\${x}`)}"`;
  return v;
}
