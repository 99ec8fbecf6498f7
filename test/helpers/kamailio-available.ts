// Whether the Kamailio suite can run: in CI (CI=true) a missing kamailio is a failure; on a
// developer machine the suite skips with one line saying how to install it.
import { findKamailio, INSTALL_HINT } from '../../src/kamailio/server.js';

export function kamailioAvailable(): boolean {
  if (findKamailio()) return true;
  if (process.env.CI === 'true') throw new Error(`kamailio is required in CI but not installed (${INSTALL_HINT})`);
  console.log(`skipping Kamailio tests: kamailio is not installed (${INSTALL_HINT})`);
  return false;
}
