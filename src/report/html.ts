// The self-contained HTML report: tables rendered here (readable without JavaScript), charts drawn in
// the page by uPlot from the embedded model. Nothing is fetched at view time: uPlot's JS and CSS are
// inlined, read from the installed package at render time. Every value is HTML-escaped.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { formatMs } from './table.js';
import { CLASS_COLORS, MARK_COLORS, PAGE_SCRIPT } from './html-page-script.js';
import { PAGE_CSS } from './html-style.js';
import type { BreakdownRow, MarkModel, RecoveryModel, ReportModel, RunModel, SweepModel, ThresholdModel } from './model-types.js';

type Cell = string | number | { html: string; cls?: string };

let assets: { js: string; css: string } | undefined;

/** uPlot's minified IIFE build and stylesheet, from the installed package (a runtime dependency). */
export function uplotAssets(): { js: string; css: string } {
  if (!assets) {
    const dir = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
    assets = { js: readFileSync(join(dir, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dir, 'uPlot.min.css'), 'utf8') };
  }
  return assets;
}

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/** JSON for a <script type="application/json">: "<" escaped so no "</script>" or "<!--" can end it early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Inline code must not contain a closing tag for the element it sits in. */
function inlineSafe(code: string, tag: 'script' | 'style'): string {
  return code.replace(new RegExp(`</${tag}`, 'gi'), `<\\/${tag}`);
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const pctText = (n: number): string => `${n.toFixed(n > 0 && n < 0.1 ? 3 : 2)} %`;
const ms = (n: number): string => `${formatMs(n)} ms`;
const seconds = (tMs: number): string => `${(tMs / 1000).toFixed(tMs % 1000 === 0 ? 0 : 1)} s`;
const num = (n: number): Cell => ({ html: escapeHtml(int(n)), cls: 'num' });
const right = (text: string): Cell => ({ html: escapeHtml(text), cls: 'num' });

function renderCell(c: Cell, tag: 'td' | 'th'): string {
  if (typeof c === 'object') return `<${tag}${c.cls ? ` class="${c.cls}"` : ''}>${c.html}</${tag}>`;
  return typeof c === 'number' ? `<${tag} class="num">${escapeHtml(int(c))}</${tag}>` : `<${tag}>${escapeHtml(c)}</${tag}>`;
}

function table(id: string, headers: Cell[], rows: { cells: Cell[]; cls?: string }[], caption?: string): string {
  const head = `<thead><tr>${headers.map((h) => renderCell(h, 'th')).join('')}</tr></thead>`;
  const body = rows.map((r) => `<tr${r.cls ? ` class="${r.cls}"` : ''}>${r.cells.map((c) => renderCell(c, 'td')).join('')}</tr>`).join('\n');
  return `<div class="scroll"><table id="${id}">${caption ? `<caption>${escapeHtml(caption)}</caption>` : ''}${head}<tbody>\n${body}\n</tbody></table></div>`;
}

function swatch(cls: keyof typeof CLASS_COLORS | string): Cell {
  const color = (CLASS_COLORS as Record<string, string>)[cls] ?? '#bbb';
  return { html: `<span class="swatch" style="background:${color}"></span>${escapeHtml(cls)}` };
}

function recoveryText(r: RecoveryModel): string {
  return r.state === 'recovered' ? seconds(r.ms ?? 0) : r.state === 'never' ? 'never' : 'no failures';
}

function kpis(run: RunModel): string {
  const t = run.totals;
  const byClass = Object.fromEntries(t.classes.map((c) => [c.name, c.count]));
  const code = (c: string) => t.statuses.filter((s) => s.code === c).reduce((n, s) => n + s.count, 0);
  const items: [string, string, string?][] = [
    ['operations', int(t.attempted)],
    ['ok', pctText(t.attempted > 0 ? (100 * byClass.ok) / t.attempted : 0), 'ok'],
    ['403', int(code('403')), code('403') > 0 ? 'bad' : undefined],
    ['429', int(code('429')), code('429') > 0 ? 'warn' : undefined],
    ['503', int(code('503')), code('503') > 0 ? 'bad' : undefined],
    ['timeouts', int(byClass.timeout), byClass.timeout > 0 ? 'bad' : undefined],
    ['p99 (corrected)', ms(t.latencyMs?.corrected?.p99 ?? 0)],
    ['achieved rate', `${t.achievedRate.toFixed(1)} /s`],
  ];
  const rec = run.recovery;
  if (rec) items.push(['recovery', recoveryText(rec), rec.state === 'never' ? 'bad' : 'ok']);
  return `<div class="kpis">${items.map(([label, value, tone]) => `<div class="kpi${tone ? ` ${tone}` : ''}"><span>${escapeHtml(label)}</span><b>${escapeHtml(value)}</b></div>`).join('')}</div>`;
}

const MARK_LABELS: Record<MarkModel['kind'], string> = { publish: '', phase: 'phase', hook: 'hook', mark: 'mark' };

function markList(marks: MarkModel[]): string {
  if (marks.length === 0) return '';
  const items = marks.map(
    (m) =>
      `<li data-mark-kind="${m.kind}" data-t-ms="${m.tMs}"><span class="line" style="border-color:${MARK_COLORS[m.kind]}"></span>` +
      `${[MARK_LABELS[m.kind], escapeHtml(m.name)].filter(Boolean).join(' ')}${m.kind === 'publish' ? ' (publish)' : ''} at ${seconds(m.tMs)}</li>`,
  );
  return `<ul class="marks">${items.join('')}</ul>`;
}

function breakdown(id: string, first: string, rows: BreakdownRow[], extra?: (r: BreakdownRow) => Cell[], extraHeaders: string[] = []): string {
  return table(
    id,
    [first, ...extraHeaders, ...['attempted', 'ok', '403', '429', '503', 'timeout', 'dropped', 'other', 'ok %', '403 %', '429 %', 'rate/s', 'p50', 'p99', 'p99 uncorr.'].map(right)],
    rows.map((r) => ({
      cells: [
        r.name,
        ...(extra ? extra(r) : []),
        ...[r.attempted, r.ok, r.s403, r.s429, r.s503, r.timeout, r.dropped, r.other].map(num),
        right(pctText(r.okPct)),
        right(pctText(r.pct403)),
        right(pctText(r.pct429)),
        right(r.achievedRate.toFixed(1)),
        right(ms(r.p50Ms)),
        right(ms(r.p99Ms)),
        right(ms(r.p99UncorrectedMs)),
      ],
    })),
  );
}

function totalsTables(run: RunModel): string {
  const t = run.totals;
  const statuses = table(
    `${run.id}-statuses`,
    ['code', 'reason phrase', right('count'), right('% of operations')],
    t.statuses.map((s) => ({ cells: [s.code === '' ? '—' : s.code, s.reason, num(s.count), right(pctText(s.pct))], cls: s.code === '' ? 'noresp' : undefined })),
    'Final outcomes: exact status codes and reason phrases as received',
  );
  const classes = table(
    `${run.id}-classes`,
    ['class', right('count'), right('%')],
    t.classes.filter((c) => c.count > 0 || c.name === 'ok').map((c) => ({ cells: [swatch(c.name), num(c.count), right(pctText(c.pct))] })),
    'By outcome class',
  );
  const lat = t.latencyMs;
  const latency = lat
    ? table(
        `${run.id}-latency-table`,
        ['latency', ...['p50', 'p90', 'p99', 'p99.9', 'max'].map(right)],
        (['corrected', 'uncorrected'] as const).map((k) => ({ cells: [k, ...[lat[k].p50, lat[k].p90, lat[k].p99, lat[k].p999, lat[k].max].map((v) => right(ms(v)))] })),
        'Corrected: from the intended send time (open-loop schedule); uncorrected: from the actual send',
      )
    : '';
  const tx = `<p class="note">Transactions: ${int(t.transactions.sent)} requests sent, ${int(t.transactions.retransmissions)} retransmissions; responses ${t.transactions.responses.map((r) => `${escapeHtml(r.code)}: ${int(r.count)}`).join(', ') || 'none'}.</p>`;
  return `<div class="grid2"><div>${statuses}</div><div>${classes}${latency}</div></div>${tx}`;
}

function thresholdsTable(id: string, thresholds: ThresholdModel[]): string {
  if (thresholds.length === 0) return '';
  const failed = thresholds.filter((t) => !t.ok).length;
  return `<h3>Thresholds: ${failed === 0 ? 'all passed' : `${failed} of ${thresholds.length} failed`}</h3>${table(
    id,
    ['result', 'threshold', right('actual'), right('limit'), 'note'],
    thresholds.map((t) => ({
      cells: [{ html: t.ok ? '<span class="pass">PASS</span>' : '<span class="fail">FAIL</span>' }, { html: `<code>${escapeHtml(t.expression)}</code>` }, right(t.actual === '' ? '—' : t.actual), right(t.limit), t.error ?? ''],
      cls: t.ok ? 'passed' : 'failed',
    })),
  )}`;
}

function kneesTables(run: RunModel): string {
  return run.knees
    .map((k, i) => {
      const knee = k.kneeRate === null ? 'below the first plateau' : `${k.kneeRate}/s`;
      const failed = k.failedAtRate === null ? 'no plateau passed the limit (the knee is above the ramp)' : `first past it at ${k.failedAtRate}/s`;
      return `<h3>Step ramp ${escapeHtml(k.phase)}: knee ${escapeHtml(knee)}</h3><p class="note">Limit ${escapeHtml(pctText(k.maxFailurePct))} failures; ${escapeHtml(failed)}.</p>${table(
        `${run.id}-knee-${i}`,
        [right('plateau rate'), right('attempted'), right('ok'), right('failures')],
        k.plateaus.map((p) => ({ cells: [right(`${p.rate}/s`), num(p.attempted), num(p.ok), right(pctText(p.failurePct))], cls: p.rate === k.failedAtRate ? 'failed' : undefined })),
      )}`;
    })
    .join('\n');
}

function attemptsTable(run: RunModel): string {
  const a = run.attempts;
  const th = run.throttle;
  const rows: [string, string][] = [];
  if (a) {
    const share = (x: { attempted: number; ok: number }) => `${int(x.ok)} of ${int(x.attempted)} ok (${pctText(x.attempted > 0 ? (100 * x.ok) / x.attempted : 0)})`;
    rows.push(['first attempts', share(a.firstAttempt)], ['after retries', share(a.eventual)], ['retries sent', int(a.retries)]);
    rows.push(['every agent registered at', a.timeToAllRegisteredMs === null ? 'never' : seconds(a.timeToAllRegisteredMs)]);
    if (run.recovery) rows.push([`every agent registered again after T0 (${seconds(run.recovery.t0Ms)})`, recoveryText(run.recovery)]);
  }
  if (th) {
    if (th.perAgent) rows.push(['per-agent throttle', `${th.perAgent.rate}/s, burst ${th.perAgent.burst}, when empty: ${th.perAgent.whenEmpty}`]);
    if (th.concurrency) rows.push(['concurrency cap', `${th.concurrency.limit}, when full: ${th.concurrency.whenFull} (queue ${th.concurrency.queueLimit})`]);
    rows.push(['held back by the throttle', `${int(th.delayed)} (delay p99 ${ms(th.delayP99Ms)})`], ['dropped by the throttle', int(th.dropped)], ['max queue', int(th.maxQueue)]);
  }
  return rows.length ? `<h3>Attempts and recovery</h3>${table(`${run.id}-attempts`, ['figure', 'value'], rows.map((r) => ({ cells: r })))}` : '';
}

function generatorTable(run: RunModel): string {
  const g = run.generator;
  const rows: [string, string][] = [
    ['CPU (user + system)', `${int(g.cpuUserMs)} + ${int(g.cpuSystemMs)} ms (${g.cpuPctOfCore.toFixed(1)} % of one core)`],
    ['CPU per transaction', `${g.cpuUsPerTransaction.toFixed(1)} µs`],
    ['event-loop lag p99', ms(g.eventLoopLagP99Ms)],
    ['send lag p99 / max', `${ms(g.sendLagP99Ms)} / ${ms(g.sendLagMaxMs)}`],
    ['max RSS', `${g.maxRssMb.toFixed(1)} MB`],
  ];
  if (g.rcvbufErrors !== undefined) rows.push(['UDP receive-buffer drops (host)', int(g.rcvbufErrors)]);
  if (g.outstandingPeak !== undefined) rows.push(['most transactions in flight', int(g.outstandingPeak)]);
  const warnings = g.warnings.map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join('');
  return `<h3>Generator saturation</h3>${warnings}${table(`${run.id}-generator`, ['figure', 'value'], rows.map((r) => ({ cells: r })))}`;
}

function hooksTable(run: RunModel): string {
  if (run.hooks.length === 0) return '';
  return `<h3>Hooks</h3>${table(
    `${run.id}-hooks`,
    ['hook', 'kind', right('at'), right('started'), right('took'), 'result', 'output'],
    run.hooks.map((h) => ({
      cells: [h.name, h.kind, right(seconds(h.atMs)), right(seconds(h.startedMs)), right(ms(h.endedMs - h.startedMs)), h.ok ? 'ok' : `failed${h.exitCode !== undefined ? ` (exit ${h.exitCode})` : ''}${h.error ? `: ${h.error}` : ''}`, { html: h.output ? `<pre>${escapeHtml(h.output)}</pre>` : '' }],
      cls: h.ok ? undefined : 'failed',
    })),
  )}`;
}

function keyValues(id: string, title: string, entries: [string, string][]): string {
  if (entries.length === 0) return '';
  return `<details><summary>${escapeHtml(title)}</summary>${table(id, ['key', 'value'], entries.map(([k, v]) => ({ cells: [k, { html: `<code>${escapeHtml(v)}</code>` }] })))}</details>`;
}

function chart(id: string, title: string, caption: string, after = ''): string {
  return `<figure><figcaption><b>${escapeHtml(title)}</b> <span>${escapeHtml(caption)}</span></figcaption><div class="chart" id="${id}"></div>${after}</figure>`;
}

function runSection(run: RunModel, sweep: boolean): string {
  const head = sweep ? `<h2>Setting ${escapeHtml(run.name)}</h2>` : '';
  const phases = run.phases.length
    ? `<h3>Per phase</h3>${breakdown(`${run.id}-phases`, 'phase', run.phases, (r) => {
        const p = run.phases.find((x) => x.name === r.name)!;
        return [p.type, right(`${seconds(p.startMs)} – ${seconds(p.endMs)}`)];
      }, ['type', 'span'])}`
    : '';
  return `<section class="run" id="${run.id}">${head}
${kpis(run)}
${chart(`${run.id}-rates`, 'Completed operations per second, by outcome class', 'stacked; vertical lines: T0 (publish), hooks, phase starts', markList(run.marks))}
<div class="grid2">
${chart(`${run.id}-latency`, 'Latency over time', 'p50 / p99 / max per second, corrected, log scale')}
${chart(`${run.id}-distribution`, 'Latency distribution', 'corrected vs uncorrected, by percentile')}
</div>
<h3>Totals</h3>${totalsTables(run)}
<h3>Per method</h3>${breakdown(`${run.id}-methods`, 'method', run.methods)}
${phases}
${kneesTables(run)}
${thresholdsTable(`${run.id}-thresholds`, run.thresholds)}
${attemptsTable(run)}
${hooksTable(run)}
${generatorTable(run)}
${keyValues(`${run.id}-config`, 'Run configuration', run.config)}
${keyValues(`${run.id}-details`, 'Engine details', run.details)}
</section>`;
}

function sweepSection(s: SweepModel): string {
  const rec = s.recommendation;
  const pick = rec.perAgentRate === null ? 'no setting met the limit' : `${rec.perAgentRate}/s per agent${rec.retry ? ` with ${rec.retry}` : ''}`;
  const rows = s.rows.map((r) => ({
    cells: [
      { html: `${escapeHtml(r.name)}${r.recommended ? ' <span class="pick">recommended</span>' : ''}` },
      num(r.attempted),
      right(pctText(r.forbiddenPct)),
      right(pctText(r.throttledPct)),
      right(pctText(r.overloadPct)),
      right(pctText(r.timeoutPct)),
      right(pctText(r.droppedPct)),
      right(r.okRate.toFixed(1)),
      right(ms(r.p50Ms)),
      right(ms(r.p99Ms)),
      right(r.timeToAllRegisteredMs === null ? 'never' : seconds(r.timeToAllRegisteredMs)),
    ] as Cell[],
    cls: r.recommended ? 'recommended' : undefined,
  }));
  return `<section id="sweep"><h2>Throttle sweep</h2>
<p class="recommendation">Recommendation: <b>${escapeHtml(pick)}</b> (max reject rate ${escapeHtml(pctText(rec.maxRejectRate * 100))}). ${escapeHtml(rec.reason)}</p>
${chart('chart-sweep', '403 % and 429 % per setting', 'share of operations rejected at each per-agent rate')}
${thresholdsTable('sweep-thresholds', s.thresholds)}
${table('sweep-table', ['setting', ...['attempted', '403 %', '429 %', '503 %', 'timeout %', 'dropped %', 'ok/s', 'p50', 'p99', 'all registered after'].map(right)], rows)}
</section>`;
}

function header(model: ReportModel): string {
  const first = model.runs[0];
  const facts = [model.tool, first ? `→ ${first.target}` : '', model.startedAt ? `started ${model.startedAt}` : '', first ? `${(first.durationMs / 1000).toFixed(1)} s of load` : '']
    .filter(Boolean)
    .map(escapeHtml)
    .join(' · ');
  const badges: string[] = [];
  if (model.runs.some((r) => r.interrupted)) badges.push('<span class="badge fail">interrupted: partial result</span>');
  const thresholds = [...(model.sweep?.thresholds ?? []), ...model.runs.flatMap((r) => r.thresholds)];
  if (thresholds.length) {
    const failed = thresholds.filter((t) => !t.ok).length;
    badges.push(failed ? `<span class="badge fail">${failed} of ${thresholds.length} thresholds failed</span>` : `<span class="badge pass">${thresholds.length === 1 ? '1 threshold' : `${thresholds.length} thresholds`} passed</span>`);
  }
  const scenario = first?.scenario?.description ? `<p class="note">${escapeHtml(first.scenario.description)}</p>` : '';
  return `<header><h1>${escapeHtml(model.title)}</h1><p class="facts">${facts} ${badges.join(' ')}</p>${scenario}</header>`;
}

export function renderHtml(model: ReportModel): string {
  const { js, css } = uplotAssets();
  const body = [header(model), model.sweep ? sweepSection(model.sweep) : '', ...model.runs.map((r) => runSection(r, model.kind === 'sweep'))].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`sipstorm report: ${model.title}`)}</title>
<style>${inlineSafe(css, 'style')}</style>
<style>${inlineSafe(PAGE_CSS, 'style')}</style>
</head><body><main>
${body}
<footer>Generated by ${escapeHtml(model.tool)}. Self-contained: no network access needed to view.</footer>
</main>
<script type="application/json" id="sipstorm-model">${scriptJson(model)}</script>
<script>${inlineSafe(js, 'script')}</script>
<script>${inlineSafe(PAGE_SCRIPT, 'script')}</script>
</body></html>
`;
}
