// Growable columns for the plan under construction: typed arrays that double when full, so a
// 20-million-arrival plan never holds an object (or a boxed number) per arrival.

export class PlanColumns {
  length = 0;
  offsetsUs: Float64Array;
  agents: Int32Array;
  actions: Uint8Array;
  phaseOf: Uint16Array;

  constructor(initialCapacity = 1024) {
    const cap = Math.max(16, initialCapacity);
    this.offsetsUs = new Float64Array(cap);
    this.agents = new Int32Array(cap);
    this.actions = new Uint8Array(cap);
    this.phaseOf = new Uint16Array(cap);
  }

  push(offsetUs: number, agent: number, action: number, phase: number): void {
    if (this.length === this.offsetsUs.length) this.grow();
    const i = this.length++;
    this.offsetsUs[i] = offsetUs;
    this.agents[i] = agent;
    this.actions[i] = action;
    this.phaseOf[i] = phase;
  }

  /** Exact-length copies, sorted by time; equal times keep their insertion order (stable). */
  finish(): { offsetsUs: Float64Array; agents: Int32Array; actions: Uint8Array; phaseOf: Uint16Array } {
    const n = this.length;
    if (isSorted(this.offsetsUs, n)) {
      return {
        offsetsUs: this.offsetsUs.slice(0, n),
        agents: this.agents.slice(0, n),
        actions: this.actions.slice(0, n),
        phaseOf: this.phaseOf.slice(0, n),
      };
    }
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const t = this.offsetsUs;
    order.sort((a, b) => t[a] - t[b] || a - b);
    const out = {
      offsetsUs: new Float64Array(n),
      agents: new Int32Array(n),
      actions: new Uint8Array(n),
      phaseOf: new Uint16Array(n),
    };
    for (let j = 0; j < n; j++) {
      const i = order[j];
      out.offsetsUs[j] = t[i];
      out.agents[j] = this.agents[i];
      out.actions[j] = this.actions[i];
      out.phaseOf[j] = this.phaseOf[i];
    }
    return out;
  }

  private grow(): void {
    const cap = this.offsetsUs.length * 2;
    this.offsetsUs = copyInto(new Float64Array(cap), this.offsetsUs);
    this.agents = copyInto(new Int32Array(cap), this.agents);
    this.actions = copyInto(new Uint8Array(cap), this.actions);
    this.phaseOf = copyInto(new Uint16Array(cap), this.phaseOf);
  }
}

function copyInto<T extends Float64Array | Int32Array | Uint8Array | Uint16Array>(target: T, source: T): T {
  target.set(source);
  return target;
}

function isSorted(values: Float64Array, n: number): boolean {
  for (let i = 1; i < n; i++) if (values[i] < values[i - 1]) return false;
  return true;
}
