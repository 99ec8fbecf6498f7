// SIPp as the reference generator, the same way in every benchmark: users file, command line at an
// equal transaction rate, and its cumulative counters.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinned } from './proc.js';

const SCENARIOS = new URL('../../test/sipp/', import.meta.url).pathname;

/** -inf file: field0 = user, field1 = "[authentication ...]", the form SIPp's [field1] expands. */
export function writeSippUsers(file: string, count: number): void {
  const users = Array.from({ length: count }, (_, i) => {
    const n = String(i).padStart(4, '0');
    return `agent${n};[authentication username=agent${n} password=secret${n}]`;
  });
  writeFileSync(file, `SEQUENTIAL\n${users.join('\n')}\n`);
}

/**
 * SIPp pinned to core 0, offering `rate` transactions/s for `seconds`. A SIPp REGISTER "call" is two
 * transactions (401, then 200 with digest), so it runs at half the call rate.
 */
export function sippCommand(opts: { port: number; method: 'OPTIONS' | 'REGISTER'; rate: number; seconds: number; usersFile: string; statFile: string }): [string, string[]] {
  const scenario = join(SCENARIOS, opts.method === 'OPTIONS' ? 'options-client.xml' : 'register-digest.xml');
  const callRate = opts.method === 'REGISTER' ? opts.rate / 2 : opts.rate;
  return pinned(0, 'sipp', [
    `127.0.0.1:${opts.port}`, '-sf', scenario, '-inf', opts.usersFile, '-r', String(callRate), '-m', String(Math.round(callRate * opts.seconds)),
    '-buff_size', '1048576', '-i', '127.0.0.1', '-nostdin', '-trace_stat', '-stf', opts.statFile, '-fd', '1', '-timeout', `${opts.seconds + 40}s`,
    '-timeout_error', '-max_socket', '1000',
  ]);
}

/** Calls attempted and failed, from the last (cumulative) line of SIPp's -trace_stat CSV. */
export function sippCallCounts(statFile: string): { attempted: number; failed: number } {
  const lines = readFileSync(statFile, 'utf8').trim().split('\n');
  const header = lines[0].split(';');
  const last = lines[lines.length - 1].split(';');
  const col = (name: string) => Number(last[header.indexOf(name)]);
  const ok = col('SuccessfulCall(C)');
  const failed = col('FailedCall(C)');
  return { attempted: ok + failed, failed };
}
