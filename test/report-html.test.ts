// The HTML report in a real headless Chromium: a report rendered from a real run against the embedded
// trunk (with a publish window, so 403s happen) loads from file:// with no console error and no request
// besides the page itself, every chart's canvas holds its series' colours, the totals table lists 403
// with the reason phrase the trunk sent, and the publish mark is drawn where the model says. A
// sweep-shaped result renders its table and chart; hostile strings stay text.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASS_COLORS, MARK_COLORS } from '../src/report/html-page-script.js';
import { renderHtml } from '../src/report/html.js';
import { buildReportModel } from '../src/report/model.js';
import type { RunResult } from '../src/report/result.js';
import type { SweepResult } from '../src/report/scenario-result.js';
import { executeRun } from '../src/run/execute.js';
import { CHROMIUM_ARGS, chromiumPath } from './helpers/chromium-available.js';
import { runRequest } from './helpers/run-request.js';

const executablePath = chromiumPath();
const HOSTILE = '</script><img src="http://127.0.0.1:9/x.png" onerror="console.error(1)">';

// The page's globals, typed just enough for these checks (the project compiles without the DOM lib).
// Type assertions vanish when playwright serializes the callbacks, so they run as plain JS in the page.
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
interface Cell {
  textContent: string | null;
}
interface Row extends Cell {
  className: string;
  querySelector(sel: string): Cell | null;
  querySelectorAll(sel: string): ArrayLike<Cell>;
}
interface PageGlobals {
  document: { querySelector(sel: string): Canvas | null };
  sipstormReport?: { charts: { id: string; uplot: { bbox: { top: number; height: number } } }[] };
}

interface LoadedPage {
  page: Page;
  consoleErrors: string[];
  foreignRequests: string[];
}

function hex(color: string): [number, number, number] {
  const n = parseInt(color.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Pixels of the chart's canvas within +-12 per channel of each colour. */
async function colourCounts(page: Page, chartId: string, colours: string[]): Promise<number[]> {
  return page.evaluate(
    ({ chartId, rgb }) => {
      const canvas = (globalThis as unknown as PageGlobals).document.querySelector(`#${chartId} canvas`);
      if (!canvas) throw new Error(`no canvas in #${chartId}`);
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      const counts = rgb.map(() => 0);
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 200) continue;
        rgb.forEach(([r, g, b], k) => {
          if (Math.abs(data[i] - r) <= 12 && Math.abs(data[i + 1] - g) <= 12 && Math.abs(data[i + 2] - b) <= 12) counts[k]++;
        });
      }
      return counts;
    },
    { chartId, rgb: colours.map(hex) },
  );
}

describe('chromiumPath', () => {
  it('finds the browser, skips on a developer machine without it, and fails in CI without it', () => {
    const lines: string[] = [];
    expect(chromiumPath({}, (p) => p === '/usr/bin/chromium', (l) => lines.push(l))).toBe('/usr/bin/chromium');
    expect(chromiumPath({ SIPSTORM_CHROMIUM: '/opt/c' }, (p) => p === '/opt/c')).toBe('/opt/c');
    expect(chromiumPath({}, () => false, (l) => lines.push(l))).toBeNull();
    expect(lines).toEqual(['skipping browser tests: /usr/bin/chromium not found (install it with: sudo apt-get install chromium)']);
    expect(() => chromiumPath({ CI: 'true' }, () => false)).toThrow(/chromium is required in CI/);
  });
});

describe.skipIf(!executablePath)('HTML report in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  let run: RunResult;
  let forbiddenReason: string;

  async function open(html: string, name: string): Promise<LoadedPage> {
    const file = join(dir, name);
    writeFileSync(file, html);
    const url = pathToFileURL(file).href;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors: string[] = [];
    const foreignRequests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('request', (r) => {
      if (r.url() !== url) foreignRequests.push(r.url());
    });
    page.on('requestfailed', (r) => foreignRequests.push(`failed: ${r.url()}`));
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).sipstormReport !== undefined);
    return { page, consoleErrors, foreignRequests };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sipstorm-html-'));
    browser = await chromium.launch({ executablePath: executablePath!, args: CHROMIUM_ARGS });
    // ~2.5 s of REGISTER at 100/s; the trunk refuses REGISTER with 403 for 700 ms about a second in.
    const outcome = await executeRun(runRequest({
      agents: 40,
      durationMs: 2500,
      io: 'dgram',
      trunk: { publishWindow: { startMs: 1200, lengthMs: 700, mode: 'forbidden', methods: ['REGISTER'] } },
    }));
    run = outcome.result;
    forbiddenReason = Object.keys(run.operations.byReason).find((k) => k.startsWith('403 '))!;
    // What a scenario run adds: T0 (here the second the 403s began) and a hook at that moment.
    const first403 = run.timeline.find((e) => e.byClass.forbidden > 0)!;
    run.marks = [{ name: 'T0', tMs: first403.t * 1000 }];
    run.hooks = [{ name: 'publish', kind: 'trunk', atMs: first403.t * 1000, startedMs: first403.t * 1000 + 5, endedMs: first403.t * 1000 + 9, ok: true }];
    run.thresholds = [
      { expression: 'count(403)==0', ok: false, actual: run.operations.byStatus['403'], limit: 0 },
      { expression: 'p99<5s', ok: true, actual: run.latencyMs.corrected.p99, limit: 5000 },
    ];
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the run really produced 403s (the premise of the rest)', () => {
    expect(run.operations.byStatus['403']).toBeGreaterThan(0);
    expect(forbiddenReason).toBe('403 Forbidden');
    expect(run.operations.byClass.ok).toBeGreaterThan(0);
  });

  it('loads with no console error and no request but the page, and draws every chart', async () => {
    const { page, consoleErrors, foreignRequests } = await open(renderHtml(buildReportModel(run)), 'run.html');
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
    for (const id of ['run-rates', 'run-latency', 'run-distribution']) {
      expect(await page.getAttribute(`#${id}`, 'data-drawn'), id).toBe('1');
    }
    const [ok, forbidden] = await colourCounts(page, 'run-rates', [CLASS_COLORS.ok, CLASS_COLORS.forbidden]);
    expect(ok).toBeGreaterThan(500);
    expect(forbidden).toBeGreaterThan(50);
    const latency = await colourCounts(page, 'run-latency', ['#2b6cb0', '#d64545']);
    expect(Math.min(...latency)).toBeGreaterThan(20);
    const distribution = await colourCounts(page, 'run-distribution', ['#2b6cb0', '#d64545']);
    expect(Math.min(...distribution)).toBeGreaterThan(50);
    await page.close();
  });

  it('lists 403 with its reason phrase in the totals, and the thresholds', async () => {
    const { page } = await open(renderHtml(buildReportModel(run)), 'totals.html');
    const rows = await page.$$eval('#run-statuses tbody tr', (trs) => (trs as unknown as Row[]).map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    const row403 = rows.find((cells) => cells[0] === '403');
    expect(row403?.[1]).toBe(forbiddenReason.slice(4));
    expect(Number(row403?.[2].replace(/,/g, ''))).toBe(run.operations.byStatus['403']);
    const thresholds = await page.$$eval('#run-thresholds tbody tr', (trs) => (trs as unknown as Row[]).map((tr) => `${tr.className}:${tr.querySelector('code')?.textContent}`));
    expect(thresholds).toEqual(['failed:count(403)==0', 'passed:p99<5s']);
    await page.close();
  });

  it('draws the publish mark as a vertical line at T0 on the rates chart', async () => {
    const { page } = await open(renderHtml(buildReportModel(run)), 'mark.html');
    const marks = JSON.parse((await page.getAttribute('#run-rates', 'data-marks')) ?? '[]') as { name: string; kind: string; x: number }[];
    const publish = marks.find((m) => m.kind === 'publish');
    expect(publish?.name).toBe('T0');
    expect(marks.some((m) => m.kind === 'hook' && m.name === 'publish')).toBe(true);
    expect(await page.textContent('li[data-mark-kind="publish"]')).toContain('T0');
    // The column at the mark's x is the publish colour over most of the plot height.
    const dark = await page.evaluate(
      ({ x, rgb }) => {
        const page = globalThis as unknown as PageGlobals;
        const chart = page.sipstormReport!.charts.find((c) => c.id === 'run-rates')!;
        const canvas = page.document.querySelector('#run-rates canvas')!;
        const { top, height } = chart.uplot.bbox;
        const column = canvas.getContext('2d').getImageData(x, top, 1, height).data;
        let n = 0;
        for (let i = 0; i < column.length; i += 4) if (Math.abs(column[i] - rgb[0]) < 40 && Math.abs(column[i + 1] - rgb[1]) < 40 && Math.abs(column[i + 2] - rgb[2]) < 40) n++;
        return n / height;
      },
      { x: publish!.x, rgb: hex(MARK_COLORS.publish) },
    );
    expect(dark).toBeGreaterThan(0.8);
    await page.close();
  });

  it('renders a sweep: its table, the recommendation and the 403/429 chart; hostile names stay text', async () => {
    const setting = (name: string, perAgentRate: number): RunResult => ({ ...run, setting: { name, perAgentRate }, config: { ...run.config, note: HOSTILE } });
    const sweep: SweepResult = {
      schemaVersion: 1,
      kind: 'sweep',
      scenario: { name: 'throttle-sweep', file: 'scenarios/throttle-sweep.yaml' },
      startedAt: run.startedAt,
      rows: [
        { setting: { name: '5/s', perAgentRate: 5 }, attempted: 500, forbiddenPct: 0.2, throttledPct: 0, overloadPct: 0, timeoutPct: 0, p50Ms: 2, p99Ms: 9, timeToAllRegisteredMs: 4000, droppedPct: 0, okRate: 99 },
        { setting: { name: HOSTILE, perAgentRate: 20 }, attempted: 500, forbiddenPct: 6.5, throttledPct: 12.25, overloadPct: 0, timeoutPct: 0.5, p50Ms: 3, p99Ms: 40, timeToAllRegisteredMs: null, droppedPct: 1, okRate: 80 },
      ],
      settings: [setting('5/s', 5), setting(HOSTILE, 20)],
      recommendation: { perAgentRate: 5, maxRejectRate: 0.01, reason: 'highest rate with under 1 % rejected' },
    };
    const { page, consoleErrors, foreignRequests } = await open(renderHtml(buildReportModel(sweep)), 'sweep.html');
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
    expect(await page.$$('img')).toHaveLength(0);
    const rows = await page.$$eval('#sweep-table tbody tr', (trs) => (trs as unknown as Row[]).map((tr) => ({ cls: tr.className, cells: Array.from(tr.querySelectorAll('td')).map((td) => td.textContent) })));
    expect(rows.map((r) => r.cells[2])).toEqual(['0.20 %', '6.50 %']);
    expect(rows.map((r) => r.cells[3])).toEqual(['0.00 %', '12.25 %']);
    expect(rows[0].cls).toBe('recommended');
    expect(rows[1].cells[0]).toBe(HOSTILE);
    expect(await page.textContent('.recommendation')).toContain('5/s per agent');
    expect(await page.getAttribute('#chart-sweep', 'data-drawn')).toBe('1');
    const [forbidden, throttled] = await colourCounts(page, 'chart-sweep', [CLASS_COLORS.forbidden, CLASS_COLORS.throttled]);
    expect(forbidden).toBeGreaterThan(20);
    expect(throttled).toBeGreaterThan(20);
    // One section per setting, each with its own charts drawn.
    for (const id of ['setting-0-rates', 'setting-1-rates']) expect(await page.getAttribute(`#${id}`, 'data-drawn')).toBe('1');
    await page.close();
  });
});
