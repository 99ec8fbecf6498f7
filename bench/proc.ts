// What the benchmarks read from the OS: per-process CPU from /proc, UDP receive-buffer drops, core
// pinning. Both generators and servers are measured the same way through these.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (getconf CLK_TCK). */
export const CLK_TCK = 100;
export const HAVE_TASKSET = existsSync('/usr/bin/taskset');
export const HAVE_SIPP = existsSync('/usr/bin/sipp');

/** Runs `cmd` pinned to one core (when taskset exists) so generator and server do not share one. */
export function pinned(core: number, cmd: string, args: string[]): [string, string[]] {
  return HAVE_TASKSET ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
}

/** utime+stime, ppid and process group of a PID from /proc/<pid>/stat (proc(5)). */
export function procStat(pid: number): { ticks: number; ppid: number; pgrp: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ticks: Number(f[11]) + Number(f[12]), ppid: Number(f[1]), pgrp: Number(f[2]) };
  } catch {
    return null; // exited meanwhile
  }
}

export const cpuTicks = (pid: number): number => procStat(pid)?.ticks ?? 0;

/** The kernel's count of UDP datagrams dropped for a full receive buffer (all sockets). */
export function rcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

export function waitExit(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code ?? -1));
  });
}
