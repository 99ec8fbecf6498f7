// Whether the Kamailio suite can run: in CI (CI=true) a missing kamailio is a failure; on a
// developer machine the suite skips with one line saying how to install it.
import { findKamailio, INSTALL_HINT } from '../../src/kamailio/server.js';

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
