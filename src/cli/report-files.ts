// Writes the HTML report and/or the CSV timeline of a run or sweep result (shared by `run` and `report`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderCsv } from '../report/csv.js';
import { renderHtml } from '../report/html.js';
import { buildReportModel } from '../report/model.js';
import type { RunResult } from '../report/result.js';
import type { SweepResult } from '../report/scenario-result.js';

export interface ReportFiles {
  html?: string;
  csv?: string;
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Returns the files written; one line per file on `log` (stderr: stdout carries the summary). */
export function writeReportFiles(result: RunResult | SweepResult, files: ReportFiles, log: (line: string) => void = (l) => process.stderr.write(l)): string[] {
  if (!files.html && !files.csv) return [];
  const model = buildReportModel(result);
  const written: string[] = [];
  if (files.html) {
    write(files.html, renderHtml(model));
    log(`HTML report written to ${files.html}\n`);
    written.push(files.html);
  }
  if (files.csv) {
    write(files.csv, renderCsv(model));
    log(`CSV timeline written to ${files.csv}\n`);
    written.push(files.csv);
  }
  return written;
}
