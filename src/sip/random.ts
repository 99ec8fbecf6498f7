// Random identifiers from a pooled crypto buffer: one randomFillSync per few KB instead of a crypto
// call per branch/tag (branches are made at transaction rate).
import { randomBytes, randomFillSync } from 'node:crypto';

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

const BRANCH_MAGIC = 'z9hG4bK';
const BRANCH_BYTES = 12;
const branchScratch = Buffer.alloc(BRANCH_MAGIC.length + 2 * BRANCH_BYTES);
branchScratch.write(BRANCH_MAGIC, 0, 'latin1');
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * RFC 3261 magic cookie + 96 random bits (the spec asks for >= 64). Made as one flat string: the
 * cookie + hex concatenation was a cons string, and a branch is hashed and compared as the key of
 * every transaction (twice per request), which first flattened it.
 */
export function newBranch(): string {
  const at = take(BRANCH_BYTES);
  let o = BRANCH_MAGIC.length;
  for (let i = 0; i < BRANCH_BYTES; i++) {
    const b = pool[at + i];
    branchScratch[o++] = HEX_DIGITS[b >> 4];
    branchScratch[o++] = HEX_DIGITS[b & 15];
  }
  return branchScratch.toString('latin1', 0, o);
}

export function newTag(): string {
  return randomHex(8);
}

export function newCallId(host: string): string {
  return `${randomHex(16)}@${host}`;
}
