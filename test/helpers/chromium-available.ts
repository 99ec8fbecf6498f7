// Whether the browser tests can run: Debian's chromium at /usr/bin/chromium (or SIPSTORM_CHROMIUM). In CI
// (CI=true) a missing browser is a failure; on a developer machine the suite skips with one line.
import { existsSync } from 'node:fs';

export const CHROMIUM_HINT = 'install it with: sudo apt-get install chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumPath(env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync, log: (line: string) => void = (l) => console.log(l)): string | null {
  const path = env.SIPSTORM_CHROMIUM ?? '/usr/bin/chromium';
  if (exists(path)) return path;
  if (env.CI === 'true') throw new Error(`chromium is required in CI but ${path} does not exist (${CHROMIUM_HINT})`);
  log(`skipping browser tests: ${path} not found (${CHROMIUM_HINT})`);
  return null;
}
