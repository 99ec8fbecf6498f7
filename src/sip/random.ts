// Random identifiers from a pooled crypto buffer: one randomFillSync per few KB instead of a crypto
// call per branch/tag (branches are made at transaction rate).
import { randomBytes, randomFillSync } from 'node:crypto';
import { flatten } from '../shared/flat-string.js';

const POOL_BYTES = 8192;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

function take(bytes: number): number {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += bytes;
  return at;
}

/** `bytes` random bytes as 2*bytes lower-case hex digits. */
export function randomHex(bytes: number): string {
  bytes = Math.floor(bytes);
  if (!(bytes > 0)) return '';
  if (bytes > POOL_BYTES / 4) return randomBytes(bytes).toString('hex'); // rare; keeps the pool for ids
  const at = take(bytes);
  return pool.toString('hex', at, at + bytes);
}

/**
 * RFC 3261 magic cookie + 96 random bits (the spec asks for >= 64). Flattened: the concatenation is a
 * cons string, and a branch is hashed and compared as the key of every transaction (twice per request).
 */
export function newBranch(): string {
  return flatten(`z9hG4bK${randomHex(12)}`);
}

export function newTag(): string {
  return randomHex(8);
}

export function newCallId(host: string): string {
  return `${randomHex(16)}@${host}`;
}
