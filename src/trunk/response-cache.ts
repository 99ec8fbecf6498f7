// Answers to recent UDP transactions, keyed by the top Via branch, so a retransmitted request gets
// the same bytes again without re-running any decision (RFC 3261 17.2.2, Timer J = 64*T1).
//
// Why not a Map<string, {buffer, ...}>: at 30k requests/s a 32 s window is ~10^6 live entries, and
// every entry's key, Buffer and record are promoted to the old generation; measured, that GC work
// doubled the trunk's CPU per request and made it drop a quarter of a 15 s OPTIONS blast. Here an
// entry is bytes in one ring Buffer plus numbers in typed arrays, found through an open-addressing
// hash table (linear probing, backward-shift deletion): no JS object per request. Entries are
// evicted oldest first: after the TTL, when slots run out, or when the ring needs their bytes.
// Pure: times are passed in.

const EMPTY = 0; // table cell value: no entry (cells hold slot + 1)
const MAX_KEY_BYTES = 255;

export interface ResponseCacheOptions {
  /** Most entries held at once (rounded up to a power of two). */
  slots: number;
  /** Bytes for keys + responses; untouched pages cost no memory until the ring first reaches them. */
  bytes: number;
  ttlUs: number;
}

export class ResponseCache {
  private readonly ring: Buffer;
  private readonly cap: number;
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly off: Uint32Array;
  private readonly keyLen: Uint8Array;
  /** Response length + 1; 0 = the request was dropped (no response). */
  private readonly respLen: Uint32Array;
  private readonly hash: Uint32Array;
  private readonly atUs: Float64Array;
  private readonly dueUs: Float64Array;
  /** Entry ids grow forever; an entry lives in slot id % cap. Live ids are [first, next). */
  private first = 0;
  private next = 0;
  private head = 0;
  private readonly ttlUs: number;
  /** Set by a get() that found a response: when that response may go out. */
  hitDueUs = 0;

  constructor(opts: ResponseCacheOptions) {
    this.cap = 2 ** Math.ceil(Math.log2(Math.max(2, opts.slots)));
    this.table = new Int32Array(this.cap * 2);
    this.mask = this.cap * 2 - 1;
    this.off = new Uint32Array(this.cap);
    this.keyLen = new Uint8Array(this.cap);
    this.respLen = new Uint32Array(this.cap);
    this.hash = new Uint32Array(this.cap);
    this.atUs = new Float64Array(this.cap);
    this.dueUs = new Float64Array(this.cap);
    this.ring = Buffer.allocUnsafe(Math.max(4096, opts.bytes));
    this.ttlUs = opts.ttlUs;
  }

  get size(): number {
    return this.next - this.first;
  }

  /**
   * undefined: unknown branch. null: known, but dropped (no response was sent). A Buffer: the
   * response (a copy: the ring may be overwritten while a send is queued); `hitDueUs` says when it
   * may go out (a delayed response must not be overtaken by its retransmission's answer).
   */
  get(branch: string, nowUs: number): Buffer | null | undefined {
    this.expire(nowUs);
    const slot = this.find(branch, fnv(branch));
    if (slot < 0) return undefined;
    const len = this.respLen[slot];
    if (len === 0) return null;
    this.hitDueUs = this.dueUs[slot];
    const start = this.off[slot] + this.keyLen[slot];
    return Buffer.from(this.ring.subarray(start, start + len - 1));
  }

  /** Records the answer (or null for a drop) to `branch`, replacing an earlier entry for it. */
  set(branch: string, response: Buffer | null, nowUs: number, dueUs: number): void {
    if (branch.length > MAX_KEY_BYTES) return; // not a branch any sane client makes; answered, not cached
    const h = fnv(branch);
    const known = this.find(branch, h);
    if (known >= 0) this.remove(known);
    const need = branch.length + (response ? response.length : 0);
    if (need > this.ring.length) return;
    if (this.size === this.cap) this.evictOldest();
    if (this.head + need > this.ring.length) {
      // Wrap (never split an entry). The tail [head, end) still holds the previous lap's entries, the
      // oldest of all: they go first, or the next lap would overwrite live bytes behind their backs.
      while (this.size > 0 && this.off[this.first % this.cap] >= this.head) this.evictOldest();
      this.head = 0;
    }
    // Evict entries of the previous lap whose bytes this one overwrites (they are the oldest).
    while (this.size > 0) {
      const o = this.off[this.first % this.cap];
      if (o < this.head || o >= this.head + need) break;
      this.evictOldest();
    }
    const slot = this.next % this.cap;
    this.next++;
    const at = this.head;
    // Byte loop and TypedArray.set: cheaper than Buffer#write / Buffer#copy for a few hundred bytes.
    const ring = this.ring;
    for (let k = 0; k < branch.length; k++) ring[at + k] = branch.charCodeAt(k);
    if (response) ring.set(response, at + branch.length);
    this.head += need;
    this.off[slot] = at;
    this.keyLen[slot] = branch.length;
    this.respLen[slot] = response ? response.length + 1 : 0;
    this.hash[slot] = h;
    this.atUs[slot] = nowUs;
    this.dueUs[slot] = dueUs;
    let i = h & this.mask;
    while (this.table[i] !== EMPTY) i = (i + 1) & this.mask;
    this.table[i] = slot + 1;
  }

  clear(): void {
    this.table.fill(EMPTY);
    this.first = this.next = this.head = 0;
  }

  private expire(nowUs: number): void {
    while (this.size > 0 && nowUs - this.atUs[this.first % this.cap] >= this.ttlUs) this.evictOldest();
  }

  /** Slot of the live entry for `branch`, or -1. */
  private find(branch: string, h: number): number {
    const n = branch.length;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const cell = this.table[i];
      if (cell === EMPTY) return -1;
      const slot = cell - 1;
      if (this.hash[slot] !== h || this.keyLen[slot] !== n) continue;
      const o = this.off[slot];
      let k = 0;
      while (k < n && this.ring[o + k] === (branch.charCodeAt(k) & 0xff)) k++;
      if (k === n) return slot;
    }
  }

  private evictOldest(): void {
    const slot = this.first % this.cap;
    this.first++;
    this.unlink(slot);
  }

  /** Takes a live entry out of the table. Its bytes stay until overwritten; if it is the oldest, first moves on. */
  private remove(slot: number): void {
    this.unlink(slot);
    // Mark it dead in place: keep FIFO order simple by leaving the id and letting eviction skip it.
    this.respLen[slot] = 0;
    this.hash[slot] = 0;
    this.keyLen[slot] = 0;
  }

  private unlink(slot: number): void {
    let i = this.hash[slot] & this.mask;
    while (this.table[i] !== slot + 1) {
      if (this.table[i] === EMPTY) return; // already removed (a replaced entry reaching the front)
      i = (i + 1) & this.mask;
    }
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    const mask = this.mask;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const cell = this.table[j];
      if (cell === EMPTY) break;
      const ideal = this.hash[cell - 1] & mask;
      const stays = i <= j ? ideal > i && ideal <= j : ideal > i || ideal <= j;
      if (stays) continue;
      this.table[i] = cell;
      i = j;
    }
    this.table[i] = EMPTY;
  }
}

/** FNV-1a over the UTF-16 code units. */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
