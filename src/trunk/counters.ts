// What the trunk received and answered, per transaction (absorbed retransmissions are counted apart),
// so a client's own counts can be reconciled against it exactly.
export interface TrunkCounters {
  /** Requests by method: new transactions only (a retransmission is not a new request). */
  received: Record<string, number>;
  /** Final responses by status code ("200" -> n). */
  answered: Record<string, number>;
  /** "REGISTER 200" -> n. */
  byMethodStatus: Record<string, number>;
  /**
   * Answers other than 2xx by "status reason" ("403 IP whitelist" -> n), the same keys as a run's
   * byReason: tells apart which switch answered a 403. Absent when there were none.
   */
  byReason?: Record<string, number>;
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
  /** status -> reason -> n for answers >= 300, flattened in snapshot() likewise. */
  private byStatusReason: Record<number, Record<string, number>> = {};
  dropped = 0;
  malformed = 0;
  retransmissionsAbsorbed = 0;

  countRequest(method: string): void {
    this.received[method] = (this.received[method] ?? 0) + 1;
  }

  countAnswer(method: string, status: number, reason: string): void {
    const row = this.byMethod[method] ?? (this.byMethod[method] = {});
    row[status] = (row[status] ?? 0) + 1;
    if (status < 300) return;
    const reasons = this.byStatusReason[status] ?? (this.byStatusReason[status] = {});
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  }

  reset(): void {
    this.received = {};
    this.byMethod = {};
    this.byStatusReason = {};
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
    let byReason: Record<string, number> | undefined;
    for (const [status, reasons] of Object.entries(this.byStatusReason)) {
      for (const [reason, n] of Object.entries(reasons)) (byReason ??= {})[`${status} ${reason}`] = n;
    }
    return {
      received: { ...this.received },
      answered,
      byMethodStatus,
      ...(byReason && { byReason }),
      dropped: this.dropped,
      malformed: this.malformed,
      retransmissionsAbsorbed: this.retransmissionsAbsorbed,
      bindings,
    };
  }
}
