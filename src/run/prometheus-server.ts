// `--prometheus PORT`: GET /metrics on loopback while a run goes. The server starts before the run (so a
// bad port fails before any load) and is attached to the engine's recorder once it exists; each scrape
// reads the recorder's counters (MetricsRecorder.liveCounts), nothing is pushed from the hot path.
import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { isIP } from 'node:net';
import type { LiveCounts } from '../metrics/live-view.js';
import { LATENCY_BUCKETS_US, PROMETHEUS_CONTENT_TYPE, renderExposition } from '../report/prometheus.js';

/** What a scrape reads; RunEngine provides both (engine.metrics, engine.transactions.outstanding). */
export interface LiveMetricsSource {
  liveCounts(boundsUs: readonly number[]): LiveCounts;
  outstanding(): number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || (isIP(host) === 4 && host.startsWith('127.'));
}

export class PrometheusServer {
  private source: LiveMetricsSource | null = null;
  private startedAtMs = 0;
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  scrapes = 0;

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  /** Listens on host:port (loopback only: a metrics endpoint has no business on a public interface). */
  static async start(port: number, host = '127.0.0.1'): Promise<PrometheusServer> {
    if (!isLoopbackHost(host)) throw new Error(`--prometheus: refusing to listen on ${host}: only loopback (127.0.0.1, ::1)`);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--prometheus: expected a port 0..65535, got ${port}`);
    let self: PrometheusServer | null = null;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(req.method === 'GET' ? 404 : 405, { 'content-type': 'text/plain' }).end('GET /metrics\n');
        return;
      }
      res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(self!.render());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`--prometheus: cannot listen on ${host}:${port}: ${err.code ?? err.message}`)));
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    self = new PrometheusServer(server, host, typeof address === 'object' && address ? address.port : port);
    self.loopDelay.enable();
    return self;
  }

  /** From now on scrapes read this source (a run's engine). */
  attach(source: LiveMetricsSource): void {
    this.source = source;
    this.startedAtMs = Date.now();
  }

  render(): string {
    this.scrapes++;
    // The histogram holds whole timer periods (>= the 10 ms resolution): the lag is the excess.
    const p99 = this.loopDelay.percentile(99);
    const lagSeconds = Number.isFinite(p99) && p99 > 0 ? Math.max(0, p99 / 1e9 - 0.01) : 0;
    this.loopDelay.reset();
    const source = this.source;
    return renderExposition(source ? source.liveCounts(LATENCY_BUCKETS_US) : null, {
      outstanding: source ? source.outstanding() : 0,
      eventLoopLagSeconds: Math.round(lagSeconds * 1e6) / 1e6,
      elapsedSeconds: source ? (Date.now() - this.startedAtMs) / 1000 : 0,
    });
  }

  async close(): Promise<void> {
    this.loopDelay.disable();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
