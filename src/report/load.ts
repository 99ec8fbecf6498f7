// Recognises parsed JSON as a run result or a sweep result, or says what is missing, so `sipstorm report`
// can tell a user which field of which file is wrong instead of failing somewhere in a renderer.
import type { RunResult } from './result.js';
import type { SweepResult } from './scenario-result.js';

export type LoadedResult = { kind: 'run'; result: RunResult } | { kind: 'sweep'; result: SweepResult };

export class ResultShapeError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields every renderer relies on; optional scenario fields are checked where they are read. */
const RUN_FIELDS: [path: string, check: (v: unknown) => boolean, expected: string][] = [
  ['schemaVersion', (v) => v === 1, 'the number 1'],
  ['tool', isObject, 'an object'],
  ['config', isObject, 'an object'],
  ['operations', isObject, 'an object'],
  ['operations.byClass', isObject, 'an object'],
  ['operations.byReason', isObject, 'an object'],
  ['operations.byStatus', isObject, 'an object'],
  ['transactions', isObject, 'an object'],
  ['latencyMs.corrected', isObject, 'an object'],
  ['latencyMs.uncorrected', isObject, 'an object'],
  ['timeline', Array.isArray, 'an array'],
  ['generator', isObject, 'an object'],
  ['durationMs', (v) => typeof v === 'number' && Number.isFinite(v), 'a number'],
];

function at(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const part of path.split('.')) cur = isObject(cur) ? cur[part] : undefined;
  return cur;
}

function checkRun(value: unknown, where: string): RunResult {
  for (const [path, check, expected] of RUN_FIELDS) {
    if (!check(at(value, path))) throw new ResultShapeError(`not a sipstorm result: ${where}${path} should be ${expected}`);
  }
  const timeline = (value as { timeline: unknown[] }).timeline;
  timeline.forEach((e, i) => {
    if (!isObject(e) || typeof e.t !== 'number' || !isObject(e.byClass)) {
      throw new ResultShapeError(`not a sipstorm result: ${where}timeline[${i}] should be an object with t and byClass`);
    }
  });
  return value as RunResult;
}

/** Throws ResultShapeError naming the first field that does not fit. */
export function classifyResult(value: unknown): LoadedResult {
  if (!isObject(value)) throw new ResultShapeError('not a sipstorm result: expected a JSON object');
  if (value.kind === 'sweep') {
    if (value.schemaVersion !== 1) throw new ResultShapeError('not a sipstorm sweep result: schemaVersion should be the number 1');
    if (!Array.isArray(value.rows)) throw new ResultShapeError('not a sipstorm sweep result: rows should be an array');
    if (!Array.isArray(value.settings)) throw new ResultShapeError('not a sipstorm sweep result: settings should be an array');
    value.rows.forEach((row, i) => {
      if (!isObject(row) || !isObject(row.setting) || typeof row.setting.name !== 'string') {
        throw new ResultShapeError(`not a sipstorm sweep result: rows[${i}].setting.name should be a string`);
      }
    });
    value.settings.forEach((s, i) => checkRun(s, `settings[${i}].`));
    return { kind: 'sweep', result: value as unknown as SweepResult };
  }
  return { kind: 'run', result: checkRun(value, '') };
}

/** Parses file text; `file` names the source in every error. */
export function parseResultText(text: string, file: string): LoadedResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ResultShapeError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  try {
    return classifyResult(value);
  } catch (err) {
    throw new ResultShapeError(`${file}: ${(err as Error).message}`);
  }
}
