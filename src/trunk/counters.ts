// What the trunk received and answered, per transaction (absorbed retransmissions are counted apart),
// so a client's own counts can be reconciled against it exactly.
export interface TrunkCounters {
  /** Requests by method: new transactions only (a retransmission is not a new request). */
  received: Record<string, number>;
  /** Final responses by status code ("200" -> n). */
  answered: Record<string, number>;
  /** "REGISTER 200" -> n. */
  byMethodStatus: Record<string, number>;
  /** Datagrams dropped by the loss switch (a retransmission of a dropped request can be dropped again). */
  dropped: number;
  /** Datagrams or stream messages that did not parse, or were responses. */
  malformed: number;
  /** Retransmitted requests answered again from the response cache (or held while their answer is delayed). */
  retransmissionsAbsorbed: number;
  /** Live bindings (AORs registered and not expired). */
  bindings: number;
}

export class CounterSet {
  received: Record<string, number> = {};
  /** method -> status -> n; flattened in snapshot() so the hot path builds no "METHOD status" strings. */
  private byMethod: Record<string, Record<number, number>> = {};
  dropped = 0;
  malformed = 0;
  retransmissionsAbsorbed = 0;

  countRequest(method: string): void {
    this.received[method] = (this.received[method] ?? 0) + 1;
  }

  countAnswer(method: string, status: number): void {
    const row = this.byMethod[method] ?? (this.byMethod[method] = {});
    row[status] = (row[status] ?? 0) + 1;
  }

  reset(): void {
    this.received = {};
    this.byMethod = {};
    this.dropped = 0;
    this.malformed = 0;
    this.retransmissionsAbsorbed = 0;
  }

  snapshot(bindings: number): TrunkCounters {
    const answered: Record<string, number> = {};
    const byMethodStatus: Record<string, number> = {};
    for (const [method, row] of Object.entries(this.byMethod)) {
      for (const [status, n] of Object.entries(row)) {
        answered[status] = (answered[status] ?? 0) + n;
        byMethodStatus[`${method} ${status}`] = n;
      }
    }
    return {
      received: { ...this.received },
      answered,
      byMethodStatus,
      dropped: this.dropped,
      malformed: this.malformed,
      retransmissionsAbsorbed: this.retransmissionsAbsorbed,
      bindings,
    };
  }
}
