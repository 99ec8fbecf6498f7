// The per-second timeline as CSV, wide: one row per second, one column per series. The columns are a
// public contract (README "CSV timeline"): every outcome class is always a column, in OUTCOME_CLASSES
// order, so a spreadsheet or a pipeline can address them by name whatever happened in the run.
import { OUTCOME_CLASSES } from '../shared/outcome.js';
import type { ReportModel, RunModel } from './model-types.js';

export const CSV_COLUMNS: readonly string[] = ['t', 'sent', 'retransmissions', 'completed', ...OUTCOME_CLASSES, 'p50_ms', 'p99_ms'];
/** A sweep's CSV has this extra first column: the setting the row's run used. */
export const CSV_SWEEP_COLUMN = 'setting';

function cell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function rowsOf(run: RunModel, prefix: string[]): string[] {
  const tl = run.timeline;
  return tl.t.map((t, i) =>
    [
      ...prefix,
      String(t),
      String(tl.sent[i]),
      String(tl.retransmissions[i]),
      String(tl.completed[i]),
      ...OUTCOME_CLASSES.map((c) => String(tl.byClass[c][i])),
      tl.p50Ms[i] === null ? '' : String(tl.p50Ms[i]),
      tl.p99Ms[i] === null ? '' : String(tl.p99Ms[i]),
    ].join(','),
  );
}

/** RFC 4180 style (comma, CRLF-free "\n" lines, quotes only where needed), with a header line. */
export function renderCsv(model: ReportModel): string {
  if (model.kind === 'sweep') {
    const lines = [[CSV_SWEEP_COLUMN, ...CSV_COLUMNS].join(',')];
    for (const run of model.runs) lines.push(...rowsOf(run, [cell(run.name)]));
    return `${lines.join('\n')}\n`;
  }
  const lines = [CSV_COLUMNS.join(','), ...model.runs.flatMap((run) => rowsOf(run, []))];
  return `${lines.join('\n')}\n`;
}
