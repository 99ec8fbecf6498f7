// The source-address allowlist (the legacy PBX's "IP whitelist"): IPv4/IPv6 addresses and CIDRs,
// compiled once into a node:net BlockList. A BlockList check costs ~2 us, too much per request at
// 20k/s, so answers are memoised per source address (a load test has few distinct sources).
import { BlockList, isIP } from 'node:net';

/** Distinct source addresses remembered; past this the memo starts over (bounded memory). */
const MEMO_LIMIT = 4096;

/** Why `entry` is not an address or CIDR ("10.0.0.0/8", "::1", "fd00::/8"), or null when it is one. */
export function allowlistEntryError(entry: unknown): string | null {
  if (typeof entry !== 'string') return `entries must be strings, got ${JSON.stringify(entry)}`;
  const [address, prefix, extra] = entry.trim().split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IPv4/IPv6 address or CIDR`;
  if (prefix === undefined) return null;
  const bits = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) return `"${entry}": prefix length must be 0..${bits}`;
  return null;
}

export class AllowList {
  private readonly list = new BlockList();
  private readonly memo = new Map<string, boolean>();

  /** Entries must have passed allowlistEntryError (config validation does that). */
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const [address, prefix] = raw.trim().split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(prefix), type);
    }
  }

  /** True when `address` (as a socket reports it, IPv4-mapped IPv6 included) is on the list. */
  allows(address: string): boolean {
    let allowed = this.memo.get(address);
    if (allowed === undefined) {
      allowed = this.check(address);
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(address, allowed);
    }
    return allowed;
  }

  private check(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false; // not an address: not on the list
    try {
      return this.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    } catch {
      return false;
    }
  }
}
