// The HTML report's own stylesheet (uPlot's is inlined beside it). System fonts, no external assets.
export const PAGE_CSS = `
:root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #ffffff; --soft: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--soft); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 20px 24px 40px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
.facts { margin: 0 0 16px; color: var(--muted); }
h2 { font-size: 18px; margin: 28px 0 10px; }
h3 { font-size: 15px; margin: 22px 0 8px; }
section { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; margin: 16px 0; }
figure { margin: 12px 0; min-width: 0; }
figcaption { margin-bottom: 6px; }
figcaption span { color: var(--muted); font-size: 12px; margin-left: 6px; }
.chart { width: 100%; min-height: 120px; }
.chart.empty { display: flex; align-items: center; justify-content: center; color: var(--muted); background: var(--soft); border-radius: 6px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; align-items: start; }
.grid2 > * { min-width: 0; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); gap: 10px; margin: 4px 0 8px; }
.kpi { background: var(--soft); border-radius: 6px; padding: 8px 10px; border-left: 4px solid #c7ccd4; }
.kpi span { display: block; color: var(--muted); font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.kpi b { font-size: 18px; font-variant-numeric: tabular-nums; }
.kpi.ok { border-left-color: #3a9d5d; } .kpi.bad { border-left-color: #d62728; } .kpi.warn { border-left-color: #ff8c1a; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; font-size: 13px; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); font-size: 12px; padding-bottom: 4px; }
th, td { padding: 4px 6px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-weight: 600; font-size: 12px; color: var(--muted); white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.noresp td { color: var(--muted); font-style: italic; }
tr.recommended td { background: #eef8f0; font-weight: 600; }
tr.failed td { background: #fdf0f0; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.marks { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 18px; padding: 0; margin: 4px 0 0; color: var(--muted); font-size: 12px; }
.marks .line { display: inline-block; width: 0; height: 12px; border-left: 3px solid; margin-right: 6px; vertical-align: -2px; }
.marks li[data-mark-kind="publish"] { color: var(--fg); font-weight: 600; }
.pass, .fail, .pick, .badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.pass { background: #e3f4e8; color: #1d6b38; } .fail { background: #fde4e4; color: #a3161b; } .pick { background: #e3f4e8; color: #1d6b38; }
.recommendation { font-size: 15px; }
.warning { background: #fff4e0; border-left: 4px solid #ff8c1a; padding: 6px 10px; margin: 6px 0; }
.note { color: var(--muted); font-size: 12px; }
details { margin: 10px 0; } summary { cursor: pointer; font-weight: 600; }
code { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
pre { margin: 0; max-height: 8em; overflow: auto; font-size: 11px; white-space: pre-wrap; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
.u-legend { font-size: 12px; }
`;
