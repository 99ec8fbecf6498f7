// Runs one shell hook: `sh -c command` in its own process group, the tail of stdout+stderr kept, and a
// timeout that sends SIGTERM to the whole group, then SIGKILL after a grace period (killing only `sh`
// would leave `sleep` or `docker` children holding the output pipes open). Never rejects.
import { spawn } from 'node:child_process';
import { redactCredentials } from '../shared/redact.js';

/** What a recorded output keeps at most (characters). */
export const OUTPUT_LIMIT_CHARS = 4096;
/** Raw output kept while the command runs; redaction needs whole lines, so more than the limit. */
const RAW_TAIL_CHARS = 16 * 1024;
/** After the shell exits, how long background children may keep the pipes before we stop reading. */
const PIPE_DRAIN_MS = 200;
/** After SIGKILL, how long to wait for the exit before giving up on the process. */
const KILL_WAIT_MS = 1000;

export interface ShellResult {
  /** Exit status when the shell exited by itself. */
  exitCode?: number;
  /** The signal that ended it, if one did. */
  signal?: string;
  timedOut: boolean;
  /** Tail of stdout+stderr, credentials redacted, at most OUTPUT_LIMIT_CHARS. */
  output: string;
  /** Why it could not be started or waited for. */
  error?: string;
}

export function runShell(command: string, timeoutMs: number, killGraceMs: number): Promise<ShellResult> {
  return new Promise<ShellResult>((resolve) => {
    let raw = '';
    let cut = false;
    let timedOut = false;
    let killSignal: NodeJS.Signals | undefined;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(fn, ms);
      t.unref();
      timers.push(t);
    };

    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const collect = (chunk: string) => {
      raw += chunk;
      if (raw.length > 2 * RAW_TAIL_CHARS) {
        raw = raw.slice(-RAW_TAIL_CHARS);
        cut = true;
      }
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);

    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      child.stdout.destroy();
      child.stderr.destroy();
      const result: ShellResult = { timedOut, output: tailOutput(raw, cut) };
      if (exited?.code !== null && exited?.code !== undefined) result.exitCode = exited.code;
      const signal = exited?.signal ?? (timedOut ? killSignal : undefined);
      if (signal) result.signal = signal;
      if (error) result.error = error;
      resolve(result);
    };

    const killGroup = (signal: NodeJS.Signals) => {
      killSignal = signal;
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // ESRCH: the group is already gone
      }
    };

    child.on('error', (err) => finish(`cannot run sh: ${err.message}`));
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      later(PIPE_DRAIN_MS, () => finish()); // a background child may hold the pipes: stop reading soon
    });
    child.on('close', () => finish());

    if (child.pid === undefined) return; // 'error' follows
    later(timeoutMs, () => {
      if (exited) return;
      timedOut = true;
      killGroup('SIGTERM');
      later(killGraceMs, () => {
        if (exited) return;
        killGroup('SIGKILL');
        later(KILL_WAIT_MS, () => finish(`process group ${child.pid} did not exit after SIGKILL`));
      });
    });
  });
}

/**
 * The last OUTPUT_LIMIT_CHARS of the output, credentials redacted. Redaction runs before the final cut
 * (so a cut cannot split a key from its secret), and a line the raw buffer cut into is dropped whole.
 */
export function tailOutput(raw: string, cutBefore: boolean): string {
  let text = raw.length > RAW_TAIL_CHARS ? raw.slice(-RAW_TAIL_CHARS) : raw;
  let cut = cutBefore || text.length < raw.length;
  if (cut) {
    const nl = text.indexOf('\n');
    // No newline at all: drop a generous head instead, past any key=secret pair the cut could split.
    text = nl >= 0 ? text.slice(nl + 1) : text.slice(1024);
  }
  text = redactCredentials(text);
  if (text.length > OUTPUT_LIMIT_CHARS) {
    text = text.slice(-OUTPUT_LIMIT_CHARS);
    const nl = text.indexOf('\n');
    if (nl >= 0 && nl < text.length - 1) text = text.slice(nl + 1);
    cut = true;
  }
  return cut ? `…${text}` : text;
}
