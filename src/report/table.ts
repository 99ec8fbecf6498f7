// The end-of-run terminal summary: a counts table and a latency table per method (+ total), the most
// frequent final status codes with their reason phrases, and a line about the generator itself.
// Plain aligned text, no colours, so it reads the same in a terminal, a CI log and a file.
import type { LatencyPair, OperationsBlock, RunResult, TransactionsBlock } from './result.js';

interface Row {
  name: string;
  operations: OperationsBlock;
  transactions: TransactionsBlock;
  latencyMs: LatencyPair;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Milliseconds with precision that suits the magnitude (sub-ms loopback figures keep 3 decimals). */
export function formatMs(ms: number): string {
  if (ms < 1) return ms.toFixed(3);
  if (ms < 100) return ms.toFixed(2);
  if (ms < 1000) return ms.toFixed(1);
  return int(ms);
}

function formatRate(perSecond: number): string {
  return perSecond < 100 ? perSecond.toFixed(2) : perSecond.toFixed(1);
}

/** Right-aligns every column but the first; columns are separated by two spaces. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths = columnWidths(rows);
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd());
}

function columnWidths(rows: readonly (readonly string[])[]): number[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return widths;
}

/** Character offset where column `index` starts in alignColumns' output. */
function columnOffset(widths: readonly number[], index: number): number {
  let offset = 0;
  for (let i = 0; i < index; i++) offset += widths[i] + 2;
  return offset;
}

const status = (ops: OperationsBlock, code: number): number => ops.byStatus[String(code)] ?? 0;

/**
 * Column meaning: ok/timeout/dropped are outcome classes; 403/429/503 are exact final status codes as
 * received (whatever class the class map gave them); other = attempted minus all of those.
 */
function countCells(row: Row): string[] {
  const ops = row.operations;
  const shown = ops.byClass.ok + status(ops, 403) + status(ops, 429) + status(ops, 503) + ops.byClass.timeout + ops.byClass.dropped;
  return [
    row.name,
    int(ops.attempted),
    int(ops.byClass.ok),
    int(status(ops, 403)),
    int(status(ops, 429)),
    int(status(ops, 503)),
    int(ops.byClass.timeout),
    int(ops.byClass.dropped),
    int(Math.max(0, ops.attempted - shown)),
    formatRate(ops.achievedRate),
    int(row.transactions.retransmissions),
  ];
}

function latencyCells(row: Row): string[] {
  const c = row.latencyMs.corrected;
  const u = row.latencyMs.uncorrected;
  return [row.name, ...[c.p50, c.p90, c.p99, c.max].map(formatMs), '|', ...[u.p50, u.p90, u.p99, u.max].map(formatMs)];
}

function rowsOf(result: RunResult): Row[] {
  const rows: Row[] = [];
  for (const [name, block] of Object.entries(result.methods ?? {})) {
    if (block.operations.attempted > 0 || block.transactions.sent > 0) rows.push({ name, ...block });
  }
  if (rows.length !== 1) rows.push({ name: 'total', operations: result.operations, transactions: result.transactions, latencyMs: result.latencyMs });
  return rows;
}

/** "200 OK 1,234 · 403 Forbidden 56": the most frequent final statuses, with a count of the rest. */
export function topStatuses(byReason: Readonly<Record<string, number>>, limit = 6): string {
  const entries = Object.entries(byReason)
    .filter(([, n]) => n > 0)
    .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  if (entries.length === 0) return 'none';
  const shown = entries.slice(0, limit).map(([key, n]) => `${key} ${int(n)}`);
  const rest = entries.slice(limit).reduce((sum, [, n]) => sum + n, 0);
  if (rest > 0) shown.push(`(${entries.length - limit} more: ${int(rest)})`);
  return shown.join(' · ');
}

function formatBytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function headerLine(r: RunResult): string {
  const cfg = r.config;
  const parts = [`${r.tool.name} ${r.tool.version}`, `-> ${r.target}`, String(cfg.method), `${int(Number(cfg.agents))} agents`];
  const rate = Number(cfg.rate);
  parts.push(`target rate ${Number.isInteger(rate) ? int(rate) : formatRate(rate)}/s for ${(r.durationMs / 1000).toFixed(1)} s`);
  if (r.interrupted) parts.push('(INTERRUPTED: partial result)');
  return parts.join('  ');
}

export function renderSummary(result: RunResult): string {
  const rows = rowsOf(result);
  const lines: string[] = [headerLine(result), ''];
  lines.push(
    ...alignColumns([
      ['operations', 'attempted', 'ok', '403', '429', '503', 'timeout', 'dropped', 'other', 'rate/s', 'retrans'],
      ...rows.map(countCells),
    ]),
  );
  lines.push('');
  const latencyRows = [['latency ms', 'p50', 'p90', 'p99', 'max', '|', 'p50', 'p90', 'p99', 'max'], ...rows.map(latencyCells)];
  const widths = columnWidths(latencyRows);
  const group = ' '.repeat(columnOffset(widths, 1)) + 'corrected';
  lines.push(group.padEnd(Math.max(columnOffset(widths, 6), group.length + 2)) + 'uncorrected');
  lines.push(...alignColumns(latencyRows));
  lines.push('(corrected: from the intended send time of the open-loop schedule; uncorrected: from the actual send)');
  lines.push('');
  lines.push(`status: ${topStatuses(result.operations.byReason)}`);
  const malformed = Object.entries(result.malformed ?? {}).filter(([, n]) => n > 0);
  if (malformed.length > 0) lines.push(`malformed datagrams: ${malformed.map(([kind, n]) => `${kind} ${int(n)}`).join(', ')}`);
  const g = result.generator;
  lines.push(
    `generator: CPU ${int(g.cpuUserMs)} ms user + ${int(g.cpuSystemMs)} ms system` +
      ` (${g.cpuUsPerTransaction.toFixed(1)} us/transaction), max RSS ${formatBytes(g.maxRssBytes)},` +
      ` event-loop lag p99 ${formatMs(g.eventLoopLagP99Ms)} ms, send lag p99 ${formatMs(g.sendLagP99Ms)} ms`,
  );
  return lines.join('\n') + '\n';
}
