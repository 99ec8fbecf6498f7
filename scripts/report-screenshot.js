// `npm run report:screenshot`: the README's picture of the HTML report. Runs the friday-publish scenario
// time-scaled (about 35 s against the embedded trunk) through the built CLI, exactly as a user would,
// opens the report in headless Chromium and writes docs/report.png (the top of the page: figures,
// charts and the totals, per method, per phase and thresholds tables).
//
// Env: SIPSTORM_CHROMIUM (default /usr/bin/chromium), SHOT_SCALE (time scale, default 0.2),
// SHOT_OUT (default docs/report.png), SHOT_HTML (also keep the HTML there).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const browserPath = process.env.SIPSTORM_CHROMIUM ?? '/usr/bin/chromium';
const scale = process.env.SHOT_SCALE ?? '0.2';
const out = process.env.SHOT_OUT ?? join(root, 'docs', 'report.png');
/** Threshold failures (exit 3) still produce a report worth a picture. */
const ACCEPTED_EXITS = [0, 3];

function fail(message) {
  process.stderr.write(`report:screenshot: ${message}\n`);
  process.exit(1);
}

if (!existsSync(browserPath)) fail(`${browserPath} not found (sudo apt-get install chromium, or set SIPSTORM_CHROMIUM)`);
const tmp = mkdtempSync(join(tmpdir(), 'sipstorm-screenshot-'));
const html = join(tmp, 'report.html');
try {
  const args = [join(root, 'bin', 'sipstorm.js'), 'run', join(root, 'scenarios', 'friday-publish.yaml'), '--time-scale', scale, '--quiet', '--html', html];
  process.stderr.write(`report:screenshot: sipstorm ${args.slice(1).join(' ')}\n`);
  const run = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
  if (!ACCEPTED_EXITS.includes(run.status ?? -1)) fail(`the run exited ${run.status ?? run.signal}`);

  const browser = await chromium.launch({
    executablePath: browserPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const problems = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    await page.waitForFunction(() => document.querySelectorAll('.chart[data-drawn="1"]').length >= 3, null, { timeout: 10_000 });
    if (problems.length) fail(`the page reported errors: ${problems.join('; ')}`);
    // Down to the thresholds (or the per-phase or per-method table when there are none).
    const bottom = await page.evaluate(() => {
      const last = document.querySelector('#run-thresholds') ?? document.querySelector('#run-phases') ?? document.querySelector('#run-methods');
      return Math.ceil(last.getBoundingClientRect().bottom + window.scrollY + 20);
    });
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: bottom } });
    process.stderr.write(`report:screenshot: wrote ${out} (1280x${bottom})\n`);
    if (process.env.SHOT_HTML) copyFileSync(html, process.env.SHOT_HTML);
  } finally {
    await browser.close();
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
