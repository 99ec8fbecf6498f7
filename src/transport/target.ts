// `--target` strings: `udp:127.0.0.1:5070`, `tcp:[::1]:5070`, `tls:sip.example.net`, `ws:127.0.0.1:8080/ws`.
// Parsed once at startup, so clarity of the error message matters more than speed.
import { isIP } from 'node:net';
import type { TargetSpec, TransportProtocol } from './transport.js';

const PROTOCOLS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

/** RFC 3261 19.1.2 defaults for SIP; ws/wss ride on HTTP(S) so they take its ports. */
const DEFAULT_PORT: Record<TransportProtocol, number> = { udp: 5060, tcp: 5060, tls: 5061, ws: 80, wss: 443 };

const FORMAT = '<udp|tcp|tls|ws|wss>:<host>[:<port>][/<path>] (IPv6 in brackets, e.g. udp:[::1]:5070)';

// RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens, optional trailing dot.
const HOSTNAME = /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

export function parseTarget(text: string): TargetSpec {
  const bad = (why: string): Error => new Error(`invalid target "${text}": ${why}; expected ${FORMAT}`);
  const input = text.trim();
  const colon = input.indexOf(':');
  if (colon <= 0) throw bad('missing transport prefix');
  const proto = input.slice(0, colon).toLowerCase() as TransportProtocol;
  if (!PROTOCOLS.includes(proto)) throw bad(`unknown transport "${input.slice(0, colon)}"`);
  let rest = input.slice(colon + 1);
  if (rest.startsWith('//')) rest = rest.slice(2); // tolerate `ws://host/path`

  let path: string | undefined;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    path = rest.slice(slash);
    rest = rest.slice(0, slash);
    if (proto !== 'ws' && proto !== 'wss') throw bad(`a path is only allowed for ws/wss`);
  }

  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw bad('unclosed "[" around the IPv6 address');
    host = rest.slice(1, close);
    if (isIP(host) !== 6) throw bad(`"${host}" is not an IPv6 address`);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw bad(`unexpected "${after}" after "]"`);
      portText = after.slice(1);
    }
  } else {
    const parts = rest.split(':');
    if (parts.length > 2) throw bad('an IPv6 address must be written in brackets');
    host = parts[0];
    portText = parts[1];
    if (host === '') throw bad('missing host');
    if (isIP(host) === 0 && !HOSTNAME.test(host)) throw bad(`"${host}" is not a valid host name or IPv4 address`);
  }

  let port = DEFAULT_PORT[proto];
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw bad(`port "${portText}" is not a number`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw bad(`port ${port} is out of range 1-65535`);
  }
  if ((proto === 'ws' || proto === 'wss') && path === undefined) path = '/';

  const hostText = isIP(host) === 6 ? `[${host}]` : host;
  const spec: TargetSpec = { protocol: proto, host, port, text: `${proto}:${hostText}:${port}${path ?? ''}` };
  if (path !== undefined) spec.path = path;
  return spec;
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped ::ffff:127.x.y.z) and `localhost`. Brackets are tolerated. */
export function isLoopback(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h === 'localhost' || h === 'localhost.' || h.endsWith('.localhost') || h.endsWith('.localhost.')) return true;
  if (h.startsWith('::ffff:')) h = h.slice(7);
  const family = isIP(h);
  if (family === 4) return h.startsWith('127.');
  if (family === 6) return isV6Loopback(h);
  return false;
}

function isV6Loopback(h: string): boolean {
  // Any spelling of ::1 (0:0:0:0:0:0:0:1, ::0001...): all groups zero but the last, which is 1.
  const halves = h.split('::');
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length > 1 && halves[1] !== '' ? halves[1].split(':') : [];
  const groups = halves.length > 1 ? [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail] : head;
  if (groups.length !== 8) return false;
  for (let i = 0; i < 7; i++) if (parseInt(groups[i], 16) !== 0) return false;
  return parseInt(groups[7], 16) === 1;
}
