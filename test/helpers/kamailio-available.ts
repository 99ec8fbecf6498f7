// Whether the Kamailio suite can run: in CI (CI=true) a missing kamailio is a failure; on a
// developer machine the suite skips with one line saying how to install it.
import { assertPortFree, findKamailio, INSTALL_HINT } from '../../src/kamailio/server.js';

export function kamailioAvailable(
  find: () => string | null = findKamailio,
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (line) => console.log(line),
): boolean {
  if (find()) return true;
  if (env.CI === 'true') throw new Error(`kamailio is required in CI but not installed (${INSTALL_HINT})`);
  log(`skipping Kamailio tests: kamailio is not installed (${INSTALL_HINT})`);
  return false;
}

/**
 * A free SIP port for a test Kamailio in [from, to) (default 5180-5199), skipping `taken`. Kamailio
 * needs fixed ports it can bind itself, and suites running side by side must not pick the same one.
 */
export async function freeKamailioPort(opts: { from?: number; to?: number; taken?: number[] } = {}): Promise<number> {
  const from = opts.from ?? 5180;
  const to = opts.to ?? 5200;
  for (let port = from; port < to; port++) {
    if (opts.taken?.includes(port)) continue;
    try {
      await assertPortFree('127.0.0.1', port);
      return port;
    } catch {
      // next
    }
  }
  throw new Error(`no free port in ${from}-${to - 1}`);
}
