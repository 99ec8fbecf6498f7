// Request and response builders. One string concatenation and one Buffer.from per message: the
// send path runs at transaction rate, so no header maps or intermediate arrays here; an agent keeps a
// RequestTemplate per method so its fixed headers are formatted once. Encoded as
// UTF-8 (the parser decodes a non-ASCII head as UTF-8, and digest hashes UTF-8), so a display name
// or user name outside ASCII survives a round trip.
import type { SipMessage } from './message.js';
import { getParam, splitList } from './headers.js';
import { flatten } from '../shared/flat-string.js';
import { encodeUtf8 } from '../shared/slab-encoder.js';

export interface RequestParams {
  method: 'REGISTER' | 'OPTIONS';
  requestUri: string;
  viaProtocol: string;
  viaHost: string;
  viaPort: number;
  branch: string;
  fromUri: string;
  fromTag: string;
  toUri: string;
  callId: string;
  cseq: number;
  contactUri?: string;
  expires?: number;
  authorization?: { proxy: boolean; value: string };
  userAgent: string;
  maxForwards?: number;
}

function bracketHost(host: string): string {
  return host.includes(':') && host.charCodeAt(0) !== 91 ? `[${host}]` : host;
}

// Pieces every agent's template has alike: one flat copy, so each agent's own copy dies young.
const SHARED_MAX = 64;
const sharedPieces = new Map<string, string>();
function shared(piece: string): string {
  const kept = sharedPieces.get(piece);
  if (kept !== undefined) return kept;
  if (sharedPieces.size >= SHARED_MAX) return flatten(piece);
  sharedPieces.set(piece, flatten(piece));
  return piece;
}

export function buildRequest(p: RequestParams): Buffer {
  return new RequestTemplate(p).build(p.branch, p.cseq, p.expires, p.authorization);
}

/** What stays the same between one identity's requests of one method from one local address. */
export type RequestFixed = Omit<RequestParams, 'branch' | 'cseq' | 'expires' | 'authorization'>;

/**
 * The request format, with the parts that never change between an agent's requests (request line,
 * Via host, From, To, Call-ID, Contact URI, User-Agent) put together once: a request then costs a
 * few concatenations instead of twenty. buildRequest goes through it, so there is one format.
 */
export class RequestTemplate {
  /** The local address the Via was made with: a reconnect from another port needs a new template. */
  readonly viaHost: string;
  readonly viaPort: number;
  private readonly head: string;
  private readonly mid: string;
  private readonly cseqTail: string;
  private readonly contact: string | undefined;
  private readonly tail: string;

  // Only the flattened pieces are kept (not `fixed`): a template lives as long as its agent, and at
  // 10,000 agents the parameters' concatenation trees were ~1 KB each of heap the scavenger copied.
  constructor(fixed: RequestFixed) {
    const p = fixed;
    this.viaHost = p.viaHost;
    this.viaPort = p.viaPort;
    this.head = flatten(
      `${p.method} ${p.requestUri} SIP/2.0\r\n` +
        `Via: SIP/2.0/${p.viaProtocol} ${bracketHost(p.viaHost)}${p.viaPort > 0 ? `:${p.viaPort}` : ''};branch=`,
    );
    this.mid = flatten(`;rport\r\nMax-Forwards: ${p.maxForwards ?? 70}\r\nFrom: <${p.fromUri}>;tag=${p.fromTag}\r\nTo: <${p.toUri}>\r\nCall-ID: ${p.callId}\r\nCSeq: `);
    this.cseqTail = shared(` ${p.method}\r\n`);
    this.contact = p.contactUri === undefined ? undefined : flatten(`Contact: <${p.contactUri}>`);
    this.tail = shared(`User-Agent: ${p.userAgent}\r\nContent-Length: 0\r\n\r\n`);
  }

  /** UTF-8 (the parser decodes a non-ASCII head as UTF-8, and digest hashes UTF-8). */
  build(branch: string, cseq: number, expires?: number, authorization?: { proxy: boolean; value: string }): Buffer {
    let s = this.head + branch + this.mid + cseq + this.cseqTail;
    if (this.contact !== undefined) s += expires !== undefined ? `${this.contact};expires=${expires}\r\n` : `${this.contact}\r\n`;
    if (expires !== undefined) s += `Expires: ${expires}\r\n`;
    if (authorization) s += `${authorization.proxy ? 'Proxy-Authorization' : 'Authorization'}: ${authorization.value}\r\n`;
    return encodeUtf8(s + this.tail);
  }
}

const DISPLAY_NAMES: Record<string, string> = {
  via: 'Via', from: 'From', to: 'To', 'call-id': 'Call-ID', cseq: 'CSeq',
};

export interface ResponseOptions {
  toTag?: string;
  /** Source of the request: sets received= (and rport= when the client asked for rport) on the top Via. */
  received?: { host: string; port: number };
  extraHeaders?: string[];
}

/** A response to `req` (RFC 3261 8.2.6): Via, From, To, Call-ID and CSeq copied; To gets a tag. */
export function buildResponse(req: SipMessage, status: number, reason: string, opts: ResponseOptions = {}): Buffer {
  let s = `SIP/2.0 ${status} ${reason}\r\n`;
  let firstVia = true;
  for (const h of req.headers) {
    const display = DISPLAY_NAMES[h.name];
    if (!display) continue;
    let value = h.value;
    if (h.name === 'via' && firstVia) {
      firstVia = false;
      if (opts.received) value = stampVia(value, opts.received);
    } else if (h.name === 'to' && opts.toTag !== undefined && getParam(value, 'tag') === undefined) {
      value = `${value};tag=${opts.toTag}`;
    }
    s += `${display}: ${value}\r\n`;
  }
  if (opts.extraHeaders) for (const line of opts.extraHeaders) s += `${line}\r\n`;
  s += 'Content-Length: 0\r\n\r\n';
  return Buffer.from(s, 'utf8');
}

/**
 * RFC 3261 18.2.1 and RFC 3581 on the top Via: received= set to the source host (replacing one
 * already there), and a bare `;rport` filled in with the source port.
 */
function stampVia(via: string, from: { host: string; port: number }): string {
  // Only the first element of a comma-joined Via is stamped; split only when there is a comma.
  let top = via;
  let rest = '';
  if (via.indexOf(',') >= 0) {
    const parts = splitList(via);
    top = parts[0] ?? via;
    rest = parts.length > 1 ? `, ${parts.slice(1).join(', ')}` : '';
  }
  let stamped = top.replace(/;\s*rport\s*(?=;|$)/i, `;rport=${from.port}`);
  if (getParam(stamped, 'received') !== undefined) stamped = stamped.replace(/;\s*received\s*=\s*[^;,]*/i, '');
  return `${stamped};received=${from.host}${rest}`;
}
