// Live progress on stderr: on a TTY one line rewritten in place every second; otherwise (CI logs, a pipe)
// a plain line every few seconds; nothing with --quiet (the caller then passes no progress handler).
import type { ProgressSample } from '../run/engine.js';

/**
 * What the line shows. The engine's sample may carry, beyond ProgressSample: `byStatus` (final status
 * counts so far; without it 403/429/503 are the forbidden/throttled/overload classes, equal unless
 * --class-map moves codes) and `lastSecondP99Ms` (corrected p99 of the operations completed since the
 * previous sample; without it the column shows "-").
 */
export type LiveProgressSample = ProgressSample & {
  byStatus?: Readonly<Record<string, number>>;
  lastSecondP99Ms?: number | null;
};

export interface ProgressPrinterOptions {
  /** Non-TTY: one line at most this often (default 5 s). */
  plainEveryMs?: number;
}

const status = (s: LiveProgressSample, code: number, fallback: number): number => (s.byStatus ? (s.byStatus[String(code)] ?? 0) : fallback);

function formatP99(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return ms < 10 ? ms.toFixed(2) : ms < 1000 ? ms.toFixed(1) : ms.toFixed(0);
}

/** One progress line from this sample and the previous one (rates over the time between them). */
export function formatProgressLine(sample: LiveProgressSample, previous: LiveProgressSample | null): string {
  const dt = (sample.elapsedMs - (previous?.elapsedMs ?? 0)) / 1000;
  const perS = (now: number, before: number) => (dt > 0 ? Math.max(0, (now - before) / dt) : 0);
  const sentPerS = perS(sample.dispatched, previous?.dispatched ?? 0);
  const okPerS = perS(sample.done.ok, previous?.done.ok ?? 0);
  const d = sample.done;
  return (
    `${(sample.elapsedMs / 1000).toFixed(0).padStart(4)}s  sent/s ${sentPerS.toFixed(0).padStart(6)}  ok/s ${okPerS.toFixed(0).padStart(6)}  ` +
    `403 ${status(sample, 403, d.forbidden)}  429 ${status(sample, 429, d.throttled)}  503 ${status(sample, 503, d.overload)}  ` +
    `timeout ${d.timeout}  dropped ${d.dropped}  p99(1s) ${formatP99(sample.lastSecondP99Ms)} ms  outstanding ${sample.outstanding}`
  );
}

export function progressPrinter(
  stream: Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean },
  opts: ProgressPrinterOptions = {},
): { onProgress: (s: ProgressSample) => void; end: () => void } {
  const tty = stream.isTTY === true;
  const every = opts.plainEveryMs ?? 5000;
  let lastPlain = -Infinity;
  let previous: LiveProgressSample | null = null;
  let shown = false;
  return {
    onProgress(sample: LiveProgressSample) {
      const line = formatProgressLine(sample, previous);
      previous = sample;
      if (tty) {
        // Carriage return + erase line: the same line rewritten, no scrolling.
        stream.write(`\r\x1b[2K${line}`);
        shown = true;
      } else if (sample.elapsedMs - lastPlain >= every) {
        lastPlain = sample.elapsedMs;
        stream.write(`${line}\n`);
      }
    },
    end() {
      if (tty && shown) stream.write('\r\x1b[2K');
    },
  };
}

/** SIGINT stops sending and lets the run finish its bookkeeping; a second SIGINT exits at once. */
export function interruptSignal(onSecond: () => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) return onSecond();
    process.stderr.write('\ninterrupted: stopping, draining outstanding transactions (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
