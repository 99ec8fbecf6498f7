// Waiting client transactions by Via branch. A Map<string, Tx> hashed every branch string and, with
// a few dozen entries coming and going per tick, kept growing and shrinking its table (rehash); at
// 5,000 transactions/s that was ~5% of the generator's CPU. Here: open addressing with linear probing
// and backward-shift deletion over a table that only grows. Our own branches are `z9hG4bK` + hex, so
// their hash is read straight from hex digits; any other string (a foreign or mangled branch in a
// response) is hashed with FNV-1a, the same way on insert and lookup.

export interface Branched {
  readonly branch: string;
}

const MAGIC = 'z9hG4bK';
const HEX_HASH_DIGITS = 7; // 28 bits

export class BranchTable<T extends Branched> {
  private slots: (T | undefined)[];
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.slots = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
  }

  get(branch: string): T | undefined {
    const slots = this.slots;
    let i = branchHash(branch) & this.mask;
    for (;;) {
      const entry = slots[i];
      if (entry === undefined) return undefined;
      if (entry.branch === branch) return entry;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds `entry`, replacing one with the same branch (returned). */
  set(entry: T): T | undefined {
    if ((this.size + 1) * 2 > this.slots.length) this.grow();
    const slots = this.slots;
    let i = branchHash(entry.branch) & this.mask;
    for (;;) {
      const found = slots[i];
      if (found === undefined) break;
      if (found.branch === entry.branch) {
        slots[i] = entry;
        return found;
      }
      i = (i + 1) & this.mask;
    }
    slots[i] = entry;
    this.size++;
    return undefined;
  }

  /** Removes `entry` itself (not another entry with its branch); true if it was there. */
  delete(entry: T): boolean {
    const slots = this.slots;
    const mask = this.mask;
    let i = branchHash(entry.branch) & mask;
    for (;;) {
      const found = slots[i];
      if (found === undefined) return false;
      if (found === entry) break;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: pull later members of the probe run into the hole, so lookups never
    // stop early at it and no tombstones accumulate.
    let hole = i;
    let j = (i + 1) & mask;
    for (;;) {
      const moving = slots[j];
      if (moving === undefined) break;
      const home = branchHash(moving.branch) & mask;
      // `moving` may fill the hole unless its home lies cyclically within (hole, j].
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        slots[hole] = moving;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    slots[hole] = undefined;
    this.size--;
    return true;
  }

  *values(): IterableIterator<T> {
    for (const entry of this.slots) if (entry !== undefined) yield entry;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Array<T | undefined>(old.length * 2).fill(undefined);
    this.mask = this.slots.length - 1;
    this.size = 0;
    for (const entry of old) if (entry !== undefined) this.set(entry);
  }
}

/** Hex digits after the magic cookie when the branch has them, else FNV-1a over the whole string. */
export function branchHash(branch: string): number {
  if (branch.length >= MAGIC.length + HEX_HASH_DIGITS && branch.startsWith(MAGIC)) {
    let h = 0;
    let k = MAGIC.length;
    for (; k < MAGIC.length + HEX_HASH_DIGITS; k++) {
      const c = branch.charCodeAt(k);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (d < 0) break;
      h = (h << 4) | d;
    }
    if (k === MAGIC.length + HEX_HASH_DIGITS) return h;
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < branch.length; i++) h = Math.imul(h ^ branch.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 16)) >>> 0;
}
