// Reads the raw struct sockaddr_in / sockaddr_in6 the native addon's recvBatch writes for each datagram
// (native/udp_batch.c, NAME_BYTES apart), as the address text node:dgram would report (rinfo.address).
// A server sees the same few peers over and over: IPv4 texts are cached by address, and the last IPv6
// address's text is kept (its formatting allocates).
import { endianness } from 'node:os';

const AF_INET = 2;
const AF_INET6 = 10;
const LITTLE_ENDIAN = endianness() === 'LE';
const MAX_CACHED = 65_536;

export class SockaddrReader {
  private readonly v4 = new Map<number, string>();
  private readonly lastV6 = new Uint8Array(16);
  private lastV6Text = '';

  /** The peer's port, or -1 for an address family other than IPv4/IPv6. */
  port(names: Uint8Array, at: number): number {
    const family = this.family(names, at);
    return family === AF_INET || family === AF_INET6 ? (names[at + 2] << 8) | names[at + 3] : -1;
  }

  /** The peer's address as text ('127.0.0.1', '::1'), or '' for another family. */
  host(names: Uint8Array, at: number): string {
    const family = this.family(names, at);
    if (family === AF_INET) {
      const key = ((names[at + 4] << 24) | (names[at + 5] << 16) | (names[at + 6] << 8) | names[at + 7]) >>> 0;
      let text = this.v4.get(key);
      if (text === undefined) {
        text = `${names[at + 4]}.${names[at + 5]}.${names[at + 6]}.${names[at + 7]}`;
        if (this.v4.size >= MAX_CACHED) this.v4.clear();
        this.v4.set(key, text);
      }
      return text;
    }
    if (family === AF_INET6) {
      if (this.lastV6Text === '' || !sameBytes(names, at + 8, this.lastV6)) {
        this.lastV6.set(names.subarray(at + 8, at + 24));
        this.lastV6Text = formatIpv6(names, at + 8);
      }
      return this.lastV6Text;
    }
    return '';
  }

  private family(names: Uint8Array, at: number): number {
    return LITTLE_ENDIAN ? names[at] | (names[at + 1] << 8) : (names[at] << 8) | names[at + 1];
  }
}

function sameBytes(bytes: Uint8Array, at: number, kept: Uint8Array): boolean {
  for (let i = 0; i < kept.length; i++) if (bytes[at + i] !== kept[i]) return false;
  return true;
}

/**
 * The text libuv (and so node:dgram) gives the 16 bytes at `at` (its inet_ntop6, from BIND): lower-case
 * hex, the first longest run of two or more zero groups as '::', and a dotted IPv4 tail for
 * IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses.
 */
export function formatIpv6(bytes: Uint8Array, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[at + 2 * i] << 8) | bytes[at + 2 * i + 1]);
  const v4 = `${bytes[at + 12]}.${bytes[at + 13]}.${bytes[at + 14]}.${bytes[at + 15]}`;
  const leadingZeros = groups.findIndex((g) => g !== 0);
  if (leadingZeros === 6) return `::${v4}`;
  if (leadingZeros === 5 && groups[5] === 0xffff) return `::ffff:${v4}`;
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
