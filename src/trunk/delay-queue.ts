// Responses held back by the delay switch: a binary min-heap on due time (ties in arrival order), so
// the server keeps ONE timer armed for the earliest due response instead of a setTimeout per
// response. Pure: times are passed in.

interface Entry<T> {
  dueUs: number;
  seq: number;
  item: T;
}

export class DelayQueue<T> {
  private heap: Entry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Due time of the earliest entry, or Infinity when empty. */
  nextDueUs(): number {
    return this.heap.length > 0 ? this.heap[0].dueUs : Infinity;
  }

  push(dueUs: number, item: T): void {
    const h = this.heap;
    const e: Entry<T> = { dueUs, seq: this.seq++, item };
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(e, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = e;
  }

  /** Removes and hands to `fn` every entry due at or before `nowUs`, earliest first. Returns how many. */
  popDue(nowUs: number, fn: (item: T) => void): number {
    let n = 0;
    while (this.heap.length > 0 && this.heap[0].dueUs <= nowUs) {
      fn(this.pop());
      n++;
    }
    return n;
  }

  clear(): void {
    this.heap = [];
  }

  private pop(): T {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r], h[l]) ? r : l;
        if (!before(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top.item;
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.dueUs < b.dueUs || (a.dueUs === b.dueUs && a.seq < b.seq);
}
