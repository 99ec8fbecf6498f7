// A RunRequest for executeRun with the CLI's defaults, so a test names only what it is about.
import type { RunRequest } from '../../src/run/execute.js';

export function runRequest(over: Partial<RunRequest> = {}): RunRequest {
  return {
    agents: 10,
    rate: 100,
    durationMs: 1000,
    method: 'REGISTER',
    expires: 3600,
    userTemplate: 'agent{n:4}',
    passwordTemplate: 'secret{n:4}',
    t1Ms: 500,
    t2Ms: 4000,
    t4Ms: 5000,
    sockets: 2,
    unregister: true,
    ...over,
  };
}
