// A live progress line: one rewritten line on a TTY, a plain line every 5 s otherwise.
import type { ProgressSample } from '../run/engine.js';

export function progressPrinter(stream: NodeJS.WriteStream): { onProgress: (s: ProgressSample) => void; end: () => void } {
  const tty = stream.isTTY === true;
  let lastPlain = 0;
  let previous: ProgressSample | null = null;
  return {
    onProgress(sample) {
      const dt = previous ? (sample.elapsedMs - previous.elapsedMs) / 1000 : sample.elapsedMs / 1000;
      const sentPerS = dt > 0 ? (sample.dispatched - (previous?.dispatched ?? 0)) / dt : 0;
      const okPerS = dt > 0 ? (sample.done.ok - (previous?.done.ok ?? 0)) / dt : 0;
      previous = sample;
      const d = sample.done;
      const line =
        `${(sample.elapsedMs / 1000).toFixed(0).padStart(4)}s  sent/s ${sentPerS.toFixed(0).padStart(6)}  ok/s ${okPerS.toFixed(0).padStart(6)}  ` +
        `403 ${d.forbidden}  429 ${d.throttled}  503 ${d.overload}  timeout ${d.timeout}  dropped ${d.dropped}  outstanding ${sample.outstanding}`;
      if (tty) stream.write(`\r\x1b[2K${line}`);
      else if (sample.elapsedMs - lastPlain >= 5000) {
        lastPlain = sample.elapsedMs;
        stream.write(`${line}\n`);
      }
    },
    end() {
      if (tty) stream.write('\r\x1b[2K');
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
