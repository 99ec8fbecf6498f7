// The bundled Kamailio, run natively from the Debian packages: started in a temp directory on a
// chosen port with docker/kamailio/kamailio.cfg (the file docker-compose uses), ready once it answers
// OPTIONS and JSON-RPC, switched and read over JSON-RPC, stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRequest } from '../sip/builder.js';
import { parseSipMessage } from '../sip/parser.js';
import { newBranch, newCallId, newTag } from '../sip/random.js';
import type { TrunkSwitches } from '../trunk/config.js';
import { KamailioRpc } from './rpc.js';
import { toKamailioStats, type KamailioStats } from './stats.js';
import { decodeSwitches, switchWrites, type KamailioSwitchState } from './switches.js';
import { prepareStreamListeners, type KamailioStreamInfo, type KamailioStreamPorts } from './stream-listeners.js';

export const INSTALL_HINT = 'apt-get install kamailio kamailio-websocket-modules kamailio-tls-modules';

export interface KamailioStartOptions extends KamailioStreamPorts {
  /** SIP port, UDP and TCP. */
  port: number;
  /** Address to bind (loopback by default). */
  host?: string;
  /** JSON-RPC over HTTP port on `host`; 0 or absent: a free port. */
  controlPort?: number;
  /** Accepted users agent0000.. (default 1000). */
  users?: number;
  /** Shared memory, MB (default 1024: less and stateful work under load answers 500). */
  sharedMemoryMb?: number;
  /** Private memory per process, MB (default 16). */
  privateMemoryMb?: number;
  /** SIP worker processes per listener (default 4). */
  children?: number;
  /** Nonce lifetime in seconds (default 30, the embedded trunk's). */
  nonceTtlS?: number;
  /** Shortest REGISTER Expires accepted, seconds (default 60; scenarios compressed in time need less). */
  minExpires?: number;
  /** Switches applied once it is ready. */
  switches?: TrunkSwitches;
  binary?: string;
  configPath?: string;
  /**
   * Keep running after this process exits (the CLI's `start`). Default false: an exit hook kills
   * it with this process. Either way it runs in its own process group, so stop() can end it whole.
   */
  keepRunning?: boolean;
  readyTimeoutMs?: number;
}

/** What a started instance needs to be found again by another process (the CLI's state file). */
export interface KamailioInstanceInfo extends KamailioStreamInfo {
  pid: number;
  host: string;
  port: number;
  controlPort: number;
  rpcUrl: string;
  dir: string;
  logPath: string;
  users: number;
  startedAt: string;
}

/** The kamailio binary (PATH, then /usr/sbin and /usr/local/sbin, which a user's PATH may lack), or null. */
export function findKamailio(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'kamailio');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

/** docker/kamailio/kamailio.cfg, found from this module whether it runs from src/ or dist/src/. */
export function defaultConfigPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'docker', 'kamailio', 'kamailio.cfg');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('docker/kamailio/kamailio.cfg not found above ' + dirname(fileURLToPath(import.meta.url)));
}

/** A free TCP port on `host` (the OS picks; tiny race until Kamailio binds it). */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class KamailioServer {
  readonly rpc: KamailioRpc;
  private child: ChildProcess | null;
  private exited: Promise<void>;

  private constructor(
    readonly info: KamailioInstanceInfo,
    child: ChildProcess | null,
  ) {
    this.rpc = new KamailioRpc(info.rpcUrl);
    this.child = child;
    this.exited = child ? new Promise((resolve) => child.once('exit', () => resolve())) : Promise.resolve();
  }

  get pid(): number {
    return this.info.pid;
  }

  get port(): number {
    return this.info.port;
  }

  static async start(opts: KamailioStartOptions): Promise<KamailioServer> {
    const binary = opts.binary ?? findKamailio();
    if (!binary) throw new Error(`kamailio is not installed (${INSTALL_HINT})`);
    const host = opts.host ?? '127.0.0.1';
    const users = opts.users ?? 1000;
    if (!Number.isInteger(users) || users < 1) throw new Error(`users must be a positive integer, got ${users}`);
    // Kamailio binds UDP with SO_REUSEADDR: a second instance on a busy port would start and let the
    // first one answer its probe. Refuse a busy port up front instead.
    await assertPortFree(host, opts.port);
    const controlPort = opts.controlPort || (await freeTcpPort(host));
    const configPath = opts.configPath ?? defaultConfigPath();
    const dir = mkdtempSync(join(tmpdir(), 'sipstorm-kamailio-'));
    const logPath = join(dir, 'kamailio.log');
    const hostPart = host.includes(':') ? `[${host}]` : host;
    let stream: Awaited<ReturnType<typeof prepareStreamListeners>>;
    try {
      stream = await prepareStreamListeners(opts, host, dir, freeTcpPort, assertPortFree);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const args = [
      '-f', configPath,
      '-DD', '-E',
      '-m', String(opts.sharedMemoryMb ?? 1024),
      '-M', String(opts.privateMemoryMb ?? 16),
      '-n', String(opts.children ?? 4),
      '-Y', dir,
      '-w', dir,
      '-l', `udp:${hostPart}:${opts.port}`,
      '-l', `tcp:${hostPart}:${opts.port}`,
      '-l', `tcp:${hostPart}:${controlPort}`,
      '-A', `USERS=${users}`,
      '-A', `HTTP_PORT=${controlPort}`,
      '-A', `NONCE_TTL=${opts.nonceTtlS ?? 30}`,
      '-A', `MIN_EXPIRES=${opts.minExpires ?? 60}`,
      ...stream.args,
    ];
    const logFd = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(binary, args, { cwd: dir, detached: true, stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    const pid = child.pid;
    if (pid === undefined) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`cannot run ${binary}`);
    }
    if (opts.keepRunning) child.unref();
    else {
      // Never leave one behind: a synchronous kill of its group when this process exits.
      const onExit = () => signal(-pid, 'SIGKILL');
      process.once('exit', onExit);
      child.once('exit', () => process.removeListener('exit', onExit));
    }
    const info: KamailioInstanceInfo = {
      pid,
      host,
      port: opts.port,
      controlPort,
      rpcUrl: `http://${hostPart}:${controlPort}/RPC`,
      dir,
      logPath,
      users,
      startedAt: new Date().toISOString(),
      ...stream.info,
    };
    const server = new KamailioServer(info, child);
    try {
      await server.waitReady(opts.readyTimeoutMs ?? 15_000);
      if (opts.switches) await server.set(opts.switches);
    } catch (err) {
      await server.stop({ keepDir: true });
      const tail = logTail(logPath);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${(err as Error).message}${tail ? `\nkamailio log (last lines):\n${tail}` : ''}`);
    }
    return server;
  }

  /** An instance started by another process (from the CLI's state file) or by docker (pid 0). */
  static attach(info: KamailioInstanceInfo): KamailioServer {
    return new KamailioServer(info, null);
  }

  /** Polls until Kamailio answers an OPTIONS over UDP and a JSON-RPC call, or fails early if it exits. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exitedEarly = false;
    void this.exited.then(() => (exitedEarly = true));
    const socket = createSocket(this.info.host.includes(':') ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, this.info.host, () => resolve());
      });
      let answered = false;
      socket.on('message', (data) => {
        if (parseSipMessage(data).ok) answered = true;
      });
      const hostPart = this.info.host.includes(':') ? `[${this.info.host}]` : this.info.host;
      while (!answered) {
        if (exitedEarly || !this.isRunning()) throw new Error(`kamailio exited during start (port ${this.info.port} in use, or a config error?)`);
        if (Date.now() > deadline) throw new Error(`kamailio did not answer OPTIONS on ${hostPart}:${this.info.port} within ${timeoutMs} ms`);
        const probe = buildRequest({
          method: 'OPTIONS',
          requestUri: `sip:${hostPart}:${this.info.port}`,
          viaProtocol: 'UDP',
          viaHost: this.info.host,
          viaPort: socket.address().port,
          branch: newBranch(),
          fromUri: `sip:probe@${hostPart}`,
          fromTag: newTag(),
          toUri: `sip:${hostPart}`,
          callId: newCallId(this.info.host),
          cseq: 1,
          userAgent: 'sipstorm-kamailio-probe',
        });
        socket.send(probe, this.info.port, this.info.host);
        await sleep(100);
      }
    } finally {
      socket.close();
    }
    for (;;) {
      try {
        await this.rpc.call('core.version');
        return;
      } catch (err) {
        if (exitedEarly || !this.isRunning()) throw new Error('kamailio exited during start (a port in use, or a config error?)');
        if (Date.now() > deadline) throw new Error(`kamailio JSON-RPC at ${this.info.rpcUrl} does not answer: ${(err as Error).message}`);
        await sleep(100);
      }
    }
  }

  isRunning(): boolean {
    if (this.child) return this.child.exitCode === null && this.child.signalCode === null;
    return isKamailioPid(this.info.pid, this.info.dir);
  }

  /** Applies a switch patch over JSON-RPC (the embedded trunk's TrunkSwitches words). */
  async set(patch: TrunkSwitches): Promise<void> {
    await applyKamailioSwitches(this.rpc, patch);
  }

  async switches(): Promise<KamailioSwitchState> {
    return decodeSwitches(await this.rpc.dumpTable('sw'));
  }

  async stats(): Promise<KamailioStats> {
    return toKamailioStats(await this.rpc.statistics());
  }

  /**
   * Stops it by PID: SIGTERM (Kamailio then ends its own children), SIGKILL to its process group
   * after `graceMs` if it is still there. Removes the temp directory unless `keepDir`.
   */
  async stop(opts: { graceMs?: number; keepDir?: boolean } = {}): Promise<void> {
    const { pid, dir } = this.info;
    if (pid > 0 && this.isRunning()) {
      signal(pid, 'SIGTERM');
      const deadline = Date.now() + (opts.graceMs ?? 5000);
      while (this.isRunning() && Date.now() < deadline) await sleep(50);
      if (this.isRunning()) {
        // Its process group (started with detached: true), children included.
        if (!signal(-pid, 'SIGKILL')) signal(pid, 'SIGKILL');
        if (this.child) await Promise.race([this.exited, sleep(2000)]);
      }
      // Workers exit after their main process; wait for the group to empty, kill what outlives it.
      const groupDeadline = Date.now() + 2000;
      while (signal(-pid, 0) && Date.now() < groupDeadline) await sleep(25);
      if (signal(-pid, 0)) signal(-pid, 'SIGKILL');
    }
    if (!opts.keepDir && dir.includes('sipstorm-kamailio-')) rmSync(dir, { recursive: true, force: true });
  }
}

/** Throws if `port` is taken on `host` over UDP or TCP. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  const udp = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => resolve());
    });
  } catch (err) {
    throw new Error(`port ${port} on ${host} is in use (UDP): ${(err as Error).message}`);
  } finally {
    try {
      udp.close();
    } catch {
      // never bound
    }
  }
  await new Promise<void>((resolve, reject) => {
    const tcp = createServer();
    tcp.once('error', (err) => reject(new Error(`port ${port} on ${host} is in use (TCP): ${err.message}`)));
    tcp.listen(port, host, () => tcp.close(() => resolve()));
  });
}

/** True if `pid` is alive and is a kamailio started with runtime dir `dir` (guards against PID reuse). */
export function isKamailioPid(pid: number, dir: string): boolean {
  if (!(pid > 0)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!cmdline.some((a) => a.endsWith('kamailio'))) return false;
    if (!cmdline.includes(dir)) return false;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

function logTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Applies a switch patch (the embedded trunk's TrunkSwitches words) to a running sipstorm kamailio.cfg
 * over its JSON-RPC: what `set` does, usable with only the RPC URL (scenario hooks, `--kamailio-rpc`).
 */
export async function applyKamailioSwitches(rpc: KamailioRpc, patch: TrunkSwitches): Promise<void> {
  const t0 = (await rpc.dumpTable('sw')).t0;
  if (!t0) throw new Error("kamailio switch table has no t0: is this sipstorm's kamailio.cfg?");
  const { writes, flush } = switchWrites(patch, t0, Date.now());
  for (const table of flush) await rpc.flush(table);
  for (const [key, value] of writes) await rpc.setInt('sw', key, value);
}
