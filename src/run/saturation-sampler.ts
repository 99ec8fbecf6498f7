// Measures, around one run, what tells whether the generator itself was saturated: the kernel's UDP
// receive-buffer drops (/proc/net/snmp, /proc/net/snmp6), process CPU over wall time, and the peak of
// outstanding transactions the engine notes. The engine calls start() before the load and finish()
// after it and puts the figures into result.extra.saturation (src/report/saturation.ts reads them).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { SaturationFigures } from '../report/saturation.js';

export type { SaturationFigures } from '../report/saturation.js';

export interface SamplerOptions {
  /** Where /proc is (tests point it at a fixture directory). */
  procRoot?: string;
}

export class SaturationSampler {
  private outstandingPeak = 0;
  private readonly rcvbufBefore: number | null;
  private readonly cpuStart = process.cpuUsage();
  private readonly wallStart = performance.now();

  private constructor(private readonly procRoot: string) {
    this.rcvbufBefore = readRcvbufErrors(procRoot);
  }

  static start(opts: SamplerOptions = {}): SaturationSampler {
    return new SaturationSampler(opts.procRoot ?? '/proc');
  }

  /** Cheap enough for every progress tick or transaction start: one compare. */
  note(outstanding: number): void {
    if (outstanding > this.outstandingPeak) this.outstandingPeak = outstanding;
  }

  finish(): SaturationFigures {
    const cpu = process.cpuUsage(this.cpuStart);
    const wallMs = performance.now() - this.wallStart;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const after = readRcvbufErrors(this.procRoot);
    const known = this.rcvbufBefore !== null && after !== null;
    return {
      rcvbufErrorsBefore: this.rcvbufBefore,
      rcvbufErrorsAfter: after,
      rcvbufErrors: known ? Math.max(0, after - this.rcvbufBefore!) : 0,
      cpuShare: wallMs > 0 ? round3(cpuMs / wallMs) : 0,
      cpuMs: round3(cpuMs),
      wallMs: round3(wallMs),
      outstandingPeak: this.outstandingPeak,
    };
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * RcvbufErrors of UDP over IPv4 (/proc/net/snmp: a `Udp:` header line, then a `Udp:` value line) plus
 * Udp6RcvbufErrors (/proc/net/snmp6: `name value` lines). Null when neither is readable (not Linux,
 * a sandbox); a missing snmp6 (IPv6 disabled) counts as 0.
 */
export function readRcvbufErrors(procRoot = '/proc'): number | null {
  const v4 = readUdp4(procRoot);
  const v6 = readUdp6(procRoot);
  if (v4 === null && v6 === null) return null;
  return (v4 ?? 0) + (v6 ?? 0);
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function readUdp4(procRoot: string): number | null {
  const text = readText(`${procRoot}/net/snmp`);
  if (text === null) return null;
  const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return null;
  const names = lines[0].trim().split(/\s+/);
  const values = lines[1].trim().split(/\s+/);
  const i = names.indexOf('RcvbufErrors');
  const n = i > 0 ? Number(values[i]) : NaN;
  return Number.isFinite(n) ? n : null;
}

function readUdp6(procRoot: string): number | null {
  const text = readText(`${procRoot}/net/snmp6`);
  if (text === null) return null;
  const m = /^Udp6RcvbufErrors\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}
