// Loader for the optional native addon (native/udp_batch.c, built by `npm run build:native`). The
// addon is an optimisation, never a requirement: when it is missing (no compiler at install time, not
// Linux) or fails to load, callers get null plus the reason and fall back to node:dgram.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface UdpBatchSocket {
  fd: number;
  port: number;
  /** Granted sizes read back with getsockopt (Linux reports double the usable amount). */
  rcvbuf: number;
  sndbuf: number;
}

/** The addon's functions. Setup calls throw; sendBatch/recvBatch return -errno instead of throwing. */
export interface UdpBatchAddon {
  open(family: 4 | 6, localHost: string, localPort: number, rcvbufBytes: number, sndbufBytes: number): UdpBatchSocket;
  connect(fd: number, host: string, port: number): void;
  /**
   * sendmmsg of messages data[offsets[i], +lengths[i]) for i < count: how many went, or -errno. With
   * `names` (an unconnected socket), message i goes to the raw sockaddr at names[i * NAME_BYTES].
   */
  sendBatch(fd: number, data: Buffer, offsets: Uint32Array, lengths: Uint32Array, count: number, names?: Uint8Array): number;
  /**
   * Non-blocking recvmmsg: message i lands at arena[i * slotBytes], its real length in lengths[i]
   * (> slotBytes when truncated), its kernel receive time in rxUs[i] as CLOCK_MONOTONIC microseconds.
   * With `names`, the sender's raw sockaddr lands at names[i * NAME_BYTES] (see sockaddr.ts).
   * Returns how many (0 when nothing waits) or -errno.
   */
  recvBatch(fd: number, arena: Buffer, slotBytes: number, maxMessages: number, lengths: Uint32Array, rxUs: Float64Array, names?: Uint8Array): number;
  /** One datagram to an IP literal of the socket's family: bytes sent, or -errno. */
  sendTo(fd: number, data: Buffer, host: string, port: number): number;
  /** CLOCK_MONOTONIC now, microseconds (fractional). */
  nowUs(): number;
  /** Calls callback whenever fd is readable (libuv poll) until unwatch(fd) or close(fd). */
  watch(fd: number, callback: () => void): void;
  unwatch(fd: number): boolean;
  close(fd: number): number;
  /**
   * Calls callback every ms milliseconds (a repeating uv timer, native/pump.c) until cancel(id). With
   * hold (the default) the pump runs the next tick itself, without a loop turn, when the loop has
   * nothing else to do first.
   */
  every(ms: number, callback: () => void, hold?: boolean): number;
  /** Stops a pump started by every(); false when it was not running. */
  cancel(id: number): boolean;
  /** How many of a running pump's ticks ran held (without a loop turn); 0 for an unknown id. */
  held(id: number): number;
  /** MD5 of the text's UTF-8 bytes, 32 lower-case hex digits (native/md5.c). */
  md5Hex(text: string): string;
}

export type UdpBatchLoad = { addon: UdpBatchAddon; path: string; reason?: undefined } | { addon: null; reason: string };

const BINARY = join('build', 'Release', 'udp_batch.node');

/** Bytes per peer address in the addon's `names` arrays (a raw struct sockaddr_in or sockaddr_in6). */
export const NAME_BYTES = 32;

/** The package root: the nearest directory above this module that holds package.json (src/ and dist/src/ alike). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dirname(fileURLToPath(import.meta.url));
}

const cache = new Map<string, UdpBatchLoad>();

/**
 * Loads the addon (once per path). Never throws. `path` overrides the binary's location (tests use it
 * to exercise the failure path). The env var SIPSTORM_NO_NATIVE=1 disables it.
 */
export function loadUdpBatchWithReason(path?: string): UdpBatchLoad {
  const file = path ?? join(packageRoot(), BINARY);
  const hit = cache.get(file);
  if (hit) return hit;
  const result = tryLoad(file);
  cache.set(file, result);
  return result;
}

/** The addon, or null when it is unavailable (see loadUdpBatchWithReason for why). */
export function loadUdpBatch(path?: string): UdpBatchAddon | null {
  return loadUdpBatchWithReason(path).addon;
}

/** Why the addon is unavailable, or undefined when it loads. */
export function udpBatchUnavailableReason(path?: string): string | undefined {
  return loadUdpBatchWithReason(path).reason;
}

function tryLoad(file: string): UdpBatchLoad {
  if (process.env.SIPSTORM_NO_NATIVE === '1') return { addon: null, reason: 'disabled by SIPSTORM_NO_NATIVE=1' };
  if (process.platform !== 'linux') return { addon: null, reason: `native UDP batching is Linux-only (platform ${process.platform})` };
  if (!existsSync(file)) return { addon: null, reason: `native addon not built (${file} missing; run npm run build:native)` };
  try {
    const addon = createRequire(import.meta.url)(file) as Partial<UdpBatchAddon>;
    for (const fn of ['open', 'connect', 'sendBatch', 'recvBatch', 'sendTo', 'nowUs', 'close', 'every', 'cancel', 'held', 'md5Hex'] as const) {
      if (typeof addon[fn] !== 'function') return { addon: null, reason: `native addon ${file} lacks ${fn}() (stale build? run npm run build:native)` };
    }
    return { addon: addon as UdpBatchAddon, path: file };
  } catch (err) {
    return { addon: null, reason: `native addon ${file} failed to load: ${(err as Error).message.split('\n')[0]}` };
  }
}
