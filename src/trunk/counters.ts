// What the trunk received and answered, per transaction (absorbed retransmissions are counted apart),
// so a client's own counts can be reconciled against it exactly.
export interface TrunkCounters {
  /** Requests by method (new transactions only). */
  received: Record<string, number>;
  /** Final responses by status code. */
  answered: Record<string, number>;
  /** "REGISTER 200" -> n. */
  byMethodStatus: Record<string, number>;
  /** Requests dropped by the loss switch. */
  dropped: number;
  /** Datagrams or stream messages that did not parse. */
  malformed: number;
  /** Retransmitted requests answered again from the response cache. */
  retransmissionsAbsorbed: number;
  bindings: number;
}

export class CounterSet {
  received: Record<string, number> = {};
  answered: Record<string, number> = {};
  byMethodStatus: Record<string, number> = {};
  dropped = 0;
  malformed = 0;
  retransmissionsAbsorbed = 0;

  countRequest(method: string): void {
    this.received[method] = (this.received[method] ?? 0) + 1;
  }

  countAnswer(method: string, status: number): void {
    this.answered[status] = (this.answered[status] ?? 0) + 1;
    const key = `${method} ${status}`;
    this.byMethodStatus[key] = (this.byMethodStatus[key] ?? 0) + 1;
  }

  snapshot(bindings: number): TrunkCounters {
    return {
      received: { ...this.received },
      answered: { ...this.answered },
      byMethodStatus: { ...this.byMethodStatus },
      dropped: this.dropped,
      malformed: this.malformed,
      retransmissionsAbsorbed: this.retransmissionsAbsorbed,
      bindings,
    };
  }
}
