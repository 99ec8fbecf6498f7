// UTF-8 encoding of outgoing messages into slabs of our own, instead of Buffer.from's shared 8 KB pool.
// Why: a REGISTER with digest is ~650 bytes, so the pool ran out every dozen requests, and each new
// pool was an ArrayBuffer malloc'ed now and freed by the GC later. Measured with perf at 2,000
// REGISTER/s: ~1 us per request in pool setup and ~1 us in malloc/free churn, on the generator's core.
// A slab is only ever appended to, so a returned Buffer's bytes never change while it is alive; a slab
// is freed once no message cut from it is referenced (a transaction keeps its request for Timer E).

const SLAB_BYTES = 256 * 1024;
// Longer messages (rare: a big body) get a Buffer of their own rather than waste a slab's tail.
const MAX_IN_SLAB = SLAB_BYTES / 16;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

/** `text` as UTF-8, the same bytes as Buffer.from(text, 'utf8'). */
export function encodeUtf8(text: string): Buffer {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units).
  const worst = text.length * 3;
  if (worst > MAX_IN_SLAB) return Buffer.from(text, 'utf8');
  if (used + worst > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const start = used;
  const written = slab.write(text, start, 'utf8');
  // 8-byte aligned starts: the copies into the send queue stay word-aligned.
  used = (start + written + 7) & ~7;
  return slab.subarray(start, start + written);
}
