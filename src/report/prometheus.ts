// The Prometheus text exposition (format 0.0.4) of a run in progress. Kept by hand rather than with
// prom-client: prom-client keeps a global default registry and its own counters that the engine would
// have to increment on the hot path, and adds a dependency; here a scrape reads the recorder's own
// counters (MetricsRecorder.liveCounts) and formats ~10 metric families in ~100 lines. Pure.
import type { LiveCounts } from '../metrics/live-view.js';

/** Latency bucket upper bounds in seconds: loopback sub-ms up to Timer F (32 s). */
export const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 32] as const;
export const LATENCY_BUCKETS_US: readonly number[] = LATENCY_BUCKETS_S.map((s) => Math.round(s * 1e6));

export interface LiveGauges {
  /** Client transactions in flight now. */
  outstanding: number;
  /** Event-loop lag p99 over the last scrape interval, seconds. */
  eventLoopLagSeconds: number;
  /** Seconds since the run started. */
  elapsedSeconds: number;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Label values: backslash, double quote and newline escaped (exposition format rules). */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string>): string {
  const parts = Object.entries(pairs).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Go-style float text: integers without a fraction, +Inf spelled as Prometheus wants. */
function num(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Number.isNaN(x)) return 'NaN';
  return String(x);
}

class Family {
  readonly lines: string[];
  constructor(name: string, type: 'counter' | 'gauge' | 'histogram', help: string) {
    this.lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  }
  sample(name: string, pairs: Record<string, string>, value: number): this {
    this.lines.push(`${name}${labels(pairs)} ${num(value)}`);
    return this;
  }
}

export function renderExposition(live: LiveCounts | null, gauges: LiveGauges): string {
  const families: Family[] = [];
  const ops = new Family('sipstorm_operations_total', 'counter', 'Operations (one REGISTER/OPTIONS incl. its digest retry) by method and outcome class.');
  const responses = new Family('sipstorm_responses_total', 'counter', 'Responses received on the wire by method and status (provisional and 401/407 included).');
  const sent = new Family('sipstorm_transactions_sent_total', 'counter', 'Requests put on the wire once each (digest retries included, retransmissions not).');
  const retrans = new Family('sipstorm_retransmissions_total', 'counter', 'Extra copies sent by Timer E.');
  const latency = new Family('sipstorm_operation_latency_seconds', 'histogram', 'Operation latency from the intended send time (coordinated-omission corrected), HDR precision.');
  families.push(ops, responses, sent, retrans, latency);
  if (live) {
    for (const o of live.operations) ops.sample('sipstorm_operations_total', { method: o.method, class: o.cls }, o.count);
    for (const r of live.responses) responses.sample('sipstorm_responses_total', { method: r.method, status: r.status }, r.count);
    for (const s of live.sent) sent.sample('sipstorm_transactions_sent_total', { method: s.method }, s.count);
    for (const s of live.retransmissions) retrans.sample('sipstorm_retransmissions_total', { method: s.method }, s.count);
    for (const l of live.latency) {
      live.boundsUs.forEach((bound, i) => latency.sample('sipstorm_operation_latency_seconds_bucket', { method: l.method, le: num(bound / 1e6) }, l.cumulative[i]));
      latency.sample('sipstorm_operation_latency_seconds_bucket', { method: l.method, le: '+Inf' }, l.count);
      latency.sample('sipstorm_operation_latency_seconds_sum', { method: l.method }, l.sumUs / 1e6);
      latency.sample('sipstorm_operation_latency_seconds_count', { method: l.method }, l.count);
    }
  }
  families.push(
    new Family('sipstorm_outstanding_transactions', 'gauge', 'Client transactions in flight.').sample('sipstorm_outstanding_transactions', {}, gauges.outstanding),
    new Family('sipstorm_send_lag_p99_seconds', 'gauge', 'p99 of actual minus intended send time since the start (the generator keeping its schedule).').sample(
      'sipstorm_send_lag_p99_seconds',
      {},
      (live?.sendLagP99Us ?? 0) / 1e6,
    ),
    new Family('sipstorm_event_loop_lag_seconds', 'gauge', 'Event-loop lag p99 over the last scrape interval.').sample('sipstorm_event_loop_lag_seconds', {}, gauges.eventLoopLagSeconds),
    new Family('sipstorm_run_elapsed_seconds', 'gauge', 'Seconds since the run started (0 before it starts).').sample('sipstorm_run_elapsed_seconds', {}, gauges.elapsedSeconds),
  );
  return `${families.map((f) => f.lines.join('\n')).join('\n')}\n`;
}
