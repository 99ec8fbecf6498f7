// Runs the built CLI (dist/, made by `npm test`'s build step) as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/sipstorm.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { timeoutMs?: number; onSpawn?: (child: ChildProcess) => void } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sipstorm ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 30_000} ms\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    opts.onSpawn?.(child);
  });
}

/** Starts `sipstorm serve` and resolves once it prints its listening line (whole, with every listener). */
export function startServe(args: string[]): Promise<{ child: ChildProcess; port: number; controlPort?: number; line: string; stop: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let started = false;
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    child.stdout.on('data', (d) => {
      stdout += d;
      const line = stdout.split('\n').slice(0, -1).find((l) => l.includes('listening on ')); // whole lines only
      const m = line === undefined ? null : /listening on \S+ (\[[^\]]+\]|[^\s:]+):(\d+)/.exec(line);
      const control = line === undefined ? null : /control API http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m && !started) {
        started = true;
        child.removeAllListeners('exit');
        resolve({
          child,
          port: Number(m[2]),
          controlPort: control ? Number(control[1]) : undefined,
          line: line!,
          stop: () =>
            new Promise((done) => {
              child.on('exit', () => done(stdout));
              child.kill('SIGINT');
            }),
        });
      }
    });
  });
}
