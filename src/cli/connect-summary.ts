// One line on connection set-up for stream targets (tcp, tls, ws, wss): how many connections came up
// and how long that took, and why the others did not (a transport_error alone does not say).
import type { TransportStats } from '../transport/transport.js';

export function connectSummary(stats: TransportStats | undefined): string | undefined {
  const c = stats?.connectUs;
  if (c === undefined || (c.count === 0 && c.failures === 0)) return undefined;
  const ms = (us: number) => (us / 1000).toFixed(us < 10_000 ? 2 : 1);
  let line = `connections: ${c.count} set up`;
  if (c.count > 0) line += ` (p50 ${ms(c.p50Us)} ms, p99 ${ms(c.p99Us)} ms, max ${ms(c.maxUs)} ms)`;
  if (stats?.reconnects) line += `, ${stats.reconnects} reconnects`;
  const failures = Object.entries(stats?.handshakeFailures ?? {}).sort((a, b) => b[1] - a[1]);
  if (failures.length > 0) {
    line += `; ${c.failures} failed: ${failures.map(([reason, n]) => `${reason} (${n})`).join(', ')}`;
    if (failures.some(([reason]) => reason.startsWith('tls: '))) line += ' [a lab server with a self-signed certificate: --ca CERT.pem or --insecure]';
  }
  return line;
}
