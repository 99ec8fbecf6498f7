// `--trace FILE`: the full SIP exchange of chosen agents in ngrep's text form, which sngrep (`sngrep -I`)
// and people used to `ngrep -W byline` read directly:
//
//   U 2026/11/23 12:00:00.123456 127.0.0.1:40000 -> 127.0.0.1:5060
//   REGISTER sip:127.0.0.1 SIP/2.0
//   ...headers...
//   <blank line>
//
// (U = UDP, T = TCP; local time with microseconds, as ngrep prints it; IPv6 as [addr]:port.) Digest
// secrets never reach the file: Authorization / Proxy-Authorization keep only username, realm, uri,
// algorithm, qop and nc (every other parameter value is redacted: response, nonce, cnonce, opaque...),
// challenges lose nonce and opaque, Authentication-Info its nextnonce, rspauth and cnonce, and every
// other line goes through redactCredentials (src/shared/redact.ts).
// The engine decides once per agent with shouldTrace() and calls sent()/received() only for those.
import { closeSync, openSync, writeSync } from 'node:fs';
import { REDACTED, redactCredentials } from '../shared/redact.js';
import { realClock, type Clock } from '../shared/clock.js';
import type { Endpoint } from '../transport/transport.js';

export interface SipTraceOptions {
  file: string;
  /** User names to trace (`agent0003`); with `sample` both select. */
  agents?: readonly string[];
  /** Fraction 0..1 of agents to trace, chosen by a fixed hash of the agent index (the same agents every run). */
  sample?: number;
  protocol?: 'udp' | 'tcp';
  /** Our address when a call gives none. */
  local?: Endpoint;
  clock?: Clock;
}

/** Buffered text is written out past this size (and on close). */
const FLUSH_BYTES = 64 * 1024;

export class SipTrace {
  private readonly fd: number;
  private readonly agents: ReadonlySet<string>;
  private readonly sample: number;
  private readonly letter: string;
  private readonly local: Endpoint;
  /** Wall-clock microseconds at clock origin: clock us -> time of day. */
  private readonly wallOffsetUs: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private closed = false;
  messages = 0;

  constructor(opts: SipTraceOptions) {
    const clock = opts.clock ?? realClock;
    this.wallOffsetUs = Date.now() * 1000 - clock.nowUs();
    this.agents = new Set(opts.agents ?? []);
    this.sample = Math.min(1, Math.max(0, opts.sample ?? 0));
    this.letter = opts.protocol === 'tcp' ? 'T' : 'U';
    this.local = opts.local ?? { host: '0.0.0.0', port: 0 };
    this.fd = openSync(opts.file, 'w');
  }

  /** Called once per agent at set-up; the engine keeps the answer. */
  shouldTrace(agentIndex: number, user: string): boolean {
    if (this.agents.has(user)) return true;
    return this.sample > 0 && sampleHash(agentIndex) < this.sample;
  }

  sent(agentIndex: number, buf: Buffer, remote: Endpoint, atUs: number, local: Endpoint = this.local): void {
    this.write(atUs, local, remote, buf);
  }

  received(agentIndex: number, buf: Buffer, remote: Endpoint, atUs: number, local: Endpoint = this.local): void {
    this.write(atUs, remote, local, buf);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }

  private write(atUs: number, from: Endpoint, to: Endpoint, buf: Buffer): void {
    if (this.closed) return;
    const message = redactSipMessage(buf.toString('utf8')).replace(/\r\n/g, '\n');
    // The message keeps its own blank line (end of headers); one more separates entries, as ngrep prints.
    const text = `${this.letter} ${formatTime(this.wallOffsetUs + atUs)} ${endpoint(from)} -> ${endpoint(to)}\n${message}${message.endsWith('\n') ? '' : '\n'}\n`;
    this.pending.push(text);
    this.pendingBytes += text.length;
    this.messages++;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** Fibonacci hashing of the index to [0, 1): spread evenly, and the same agents each run. */
function sampleHash(index: number): number {
  return (Math.imul(index + 1, 0x9e3779b1) >>> 0) / 2 ** 32;
}

/** "agent0003,agent0007" -> names; "5%" or "0.05" -> a fraction. Throws a message naming the flag. */
export function parseTraceAgents(text: string): string[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new Error(`--trace-agents: expected user names like agent0003,agent0007, got "${text}"`);
  return names;
}

export function parseTraceSample(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const value = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(value > 0 && value <= 1)) throw new Error(`--trace-sample: expected a share of agents like 5% or 0.05, got "${text}"`);
  return value;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** ngrep's timestamp: local time, `YYYY/MM/DD HH:MM:SS.uuuuuu`. */
export function formatTime(epochUs: number): string {
  const d = new Date(Math.floor(epochUs / 1000));
  const micros = Math.floor(epochUs) % 1_000_000;
  return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(micros, 6)}`;
}

function endpoint(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** Digest parameters whose values may stay in a credentials header; anything else is redacted. */
const KEEP_IN_CREDENTIALS = new Set(['username', 'realm', 'uri', 'algorithm', 'qop', 'nc', 'userhash']);
/** Parameters redacted in challenges and Authentication-Info; the rest stays. */
const DROP_IN_CHALLENGE = new Set(['nonce', 'opaque', 'nextnonce', 'rspauth', 'cnonce', 'response']);
const HEADER = /^([A-Za-z][\w-]*)([ \t]*:[ \t]*)(.*)$/;
const PARAM = /([\w-]+)([ \t]*=[ \t]*)("(?:[^"\\]|\\.)*"?|[^\s,]+)/g;

/**
 * A SIP message with its digest secrets blanked: see the file comment. Header names, parameter names
 * and layout stay, so the trace still reads like the wire.
 */
export function redactSipMessage(text: string): string {
  const lines = text.split('\n');
  let inHeaders = true;
  let current: 'credentials' | 'challenge' | 'other' = 'other';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const bare = line.replace(/\r$/, '');
    if (i > 0 && inHeaders && bare === '') {
      inHeaders = false;
      continue;
    }
    if (!inHeaders || i === 0) {
      lines[i] = redactCredentials(line);
      continue;
    }
    const folded = /^[ \t]/.test(line);
    if (!folded) {
      const name = HEADER.exec(bare)?.[1].toLowerCase() ?? '';
      current =
        name === 'authorization' || name === 'proxy-authorization'
          ? 'credentials'
          : name === 'www-authenticate' || name === 'proxy-authenticate' || name === 'authentication-info' || name === 'proxy-authentication-info'
            ? 'challenge'
            : 'other';
    }
    if (current === 'other') lines[i] = redactCredentials(line);
    else lines[i] = redactParams(line, folded, current === 'credentials' ? (p) => !KEEP_IN_CREDENTIALS.has(p) : (p) => DROP_IN_CHALLENGE.has(p));
  }
  return lines.join('\n');
}

function redactParams(line: string, folded: boolean, drop: (param: string) => boolean): string {
  const cr = line.endsWith('\r') ? '\r' : '';
  const bare = cr ? line.slice(0, -1) : line;
  const m = folded ? null : HEADER.exec(bare);
  const head = m ? m[1] + m[2] : '';
  const value = bare.slice(head.length);
  // Basic or Bearer carry the secret as one token: nothing of it stays.
  if (m && /^(basic|bearer)\b/i.test(value)) return `${head}${value.split(/\s+/)[0]} ${REDACTED}${cr}`;
  const redacted = value.replace(PARAM, (all, key: string, sep: string, v: string) => {
    if (!drop(key.toLowerCase())) return all;
    return `${key}${sep}${v.startsWith('"') ? `"${REDACTED}"` : REDACTED}`;
  });
  return head + redacted + cr;
}
