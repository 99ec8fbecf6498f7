// The end of a run (or a merge) for a pipeline: thresholds judged into the result, failures listed on
// stderr and exit code 3; generator-saturation warnings on stderr (they do not change the exit code).
import type { RunResult } from '../report/result.js';
import { saturationWarnings } from '../report/saturation.js';
import type { SweepResult, ThresholdOutcome } from '../report/scenario-result.js';
import { checkThresholds, evaluateThresholds, parseThreshold, ThresholdSyntaxError } from '../report/thresholds.js';
import { UsageError } from './units.js';

/** A threshold failed (distinct from 1 runtime error, 2 bad input, 130 interrupted). */
export const EXIT_THRESHOLDS = 3;

/** `--threshold` may be given once, several times, or not at all. */
export function thresholdList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Bad syntax is bad input (exit 2), found before any load is sent. */
export function checkThresholdSyntax(expressions: readonly string[]): void {
  try {
    checkThresholds(expressions);
  } catch (err) {
    if (err instanceof ThresholdSyntaxError) throw new UsageError(err.message);
    throw err;
  }
}

/** Evaluates and stores the outcomes in the result (so --json carries them); [] when none given. */
export function judge(result: RunResult | SweepResult, expressions: readonly string[]): ThresholdOutcome[] {
  if (expressions.length === 0) return [];
  const outcomes = evaluateThresholds(result, expressions);
  (result as RunResult).thresholds = outcomes;
  return outcomes;
}

function formatValue(expression: string, value: number | null): string {
  if (value === null) return 'none';
  const kind = parseThreshold(expression).metric.kind;
  if (kind === 'latency') return `${value} ms`;
  if (kind === 'rate') return `${value} (${Math.round(value * 100_000) / 1000} %)`;
  return String(value);
}

/** Prints failed thresholds (or one line saying all passed); returns EXIT_THRESHOLDS when any failed. */
export function reportThresholds(outcomes: readonly ThresholdOutcome[], out: NodeJS.WritableStream): number {
  if (outcomes.length === 0) return 0;
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length === 0) {
    out.write(`thresholds: all ${outcomes.length} passed\n`);
    return 0;
  }
  const lines = failed.map((o) => `  FAIL ${o.expression}: ${o.error ?? `actual ${formatValue(o.expression, o.actual)}, limit ${formatValue(o.expression, o.limit)}`}`);
  out.write(`thresholds: ${failed.length} of ${outcomes.length} failed\n${lines.join('\n')}\n`);
  return EXIT_THRESHOLDS;
}

export function reportSaturation(result: RunResult, out: NodeJS.WritableStream): void {
  for (const w of saturationWarnings(result)) out.write(`warning: ${w}\n`);
}
