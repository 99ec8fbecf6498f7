// External peers (SIPp, Kamailio): in CI (CI=true) a missing one is a failure; on a developer
// machine the suite skips with one line saying how to install it.
import { execFileSync } from 'node:child_process';

export function hasTool(command: string, installHint: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`${command} is required in CI but not installed (${installHint})`);
    console.log(`skipping ${command} tests: not installed (${installHint})`);
    return false;
  }
}
