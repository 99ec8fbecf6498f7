// Buffer-based SIP parser for requests and responses. It never throws: every failure is a classified
// ParseFailure (counted as `malformed`), carrying the top Via branch and CSeq method when they could
// still be read, so the matching transaction fails as malformed instead of timing out.
//
// Speed: one latin1 decode (bytes == chars, so body offsets are byte offsets), then index arithmetic
// with indexOf/charCodeAt. Header values are recorded as spans of that text and become strings only
// when somebody reads msg.headers (a 200 OK to OPTIONS never does): the hot fields (branch, CSeq,
// Call-ID, Content-Length) are read from their spans directly. A head holding
// non-ASCII bytes that are valid UTF-8 (display names, reason phrases) is decoded again as UTF-8 and
// re-scanned (rare); invalid UTF-8 stays latin1 so no byte is lost.
import { isAscii, isUtf8 } from 'node:buffer';
import { COMPACT_BY_CODE, getParam } from './headers.js';
import type { ParseErrorKind, ParseFailure, ParseResult, SipHeader, SipMessage } from './message.js';

export const MAX_MESSAGE_BYTES = 65_536;
const EMPTY = Buffer.alloc(0);

/** RFC 3261 token characters (methods, header names). */
const TOKEN = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") TOKEN[ch.charCodeAt(0)] = 1;

function isToken(s: string, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

function fail(kind: ParseErrorKind, detail: string, viaBranch?: string, cseqMethod?: string): ParseFailure {
  const failure: ParseFailure = { ok: false, kind, detail };
  if (viaBranch) failure.viaBranch = viaBranch;
  if (cseqMethod) failure.cseqMethod = cseqMethod;
  return failure;
}

export function parseSipMessage(buf: Buffer): ParseResult {
  try {
    return parse(buf);
  } catch (err) {
    // Defence in depth: the code below is written not to throw; if it ever does, the run goes on.
    return fail('bad_header', `parser error: ${(err as Error).message}`);
  }
}

// Scratch results of scanHead. The parser is synchronous and not re-entrant, so module state is safe
// and saves an object per parse.
let startError = '';
let badHeader = '';
let viaAt = -1;
let cseqAt = -1;
let callIdAt = -1;
let lengthAt = -1;
let headEnd = 0;
let bodyStart = 0;
let sawEmptyLine = false;
// Headers of the last scan: canonical names and trimmed value spans [start, end) of the scanned text.
let headerCount = 0;
let scanNames: string[] = [];
let scanSpans: number[] = [];
// Folded continuation lines (rare): header index, start, end of each trimmed part, in order.
let scanFolds: number[] = [];

/**
 * A parsed message whose `headers` are made from the recorded spans on first read. Assigning
 * `headers` replaces them, as on a plain object.
 */
class ParsedMessage implements SipMessage {
  kind: 'request' | 'response' = 'response';
  method = '';
  requestUri = '';
  status = 0;
  reason = '';
  viaBranch = '';
  cseq = 0;
  cseqMethod = '';
  callId = '';
  body: Buffer = EMPTY;
  private list: SipHeader[] | null = null;
  private text = '';
  private names: string[] = [];
  private spans: number[] = [];

  get headers(): SipHeader[] {
    if (this.list === null) {
      const list: SipHeader[] = new Array(this.names.length);
      for (let i = 0; i < list.length; i++) list[i] = { name: this.names[i], value: this.valueAt(i) };
      this.list = list;
      this.text = '';
    }
    return this.list;
  }

  set headers(list: SipHeader[]) {
    this.list = list;
    this.text = '';
  }

  /** Keeps the last scan as spans over `text`; folded lines (rare) are joined into the list at once. */
  adoptScan(text: string): void {
    this.names = scanNames.slice(0, headerCount);
    this.spans = scanSpans.slice(0, 2 * headerCount);
    this.text = text;
    this.list = null;
    if (scanFolds.length === 0) return;
    const list = this.headers;
    for (let f = 0; f < scanFolds.length; f += 3) {
      const part = spanText(text, scanFolds[f + 1], scanFolds[f + 2]);
      const h = list[scanFolds[f]];
      if (part) h.value = h.value ? `${h.value} ${part}` : part;
    }
  }

  firstNamed(name: string): string | undefined {
    const count = this.list !== null ? this.list.length : this.names.length;
    for (let i = 0; i < count; i++) if (this.nameAt(i) === name) return this.valueAt(i);
    return undefined;
  }

  valuesNamed(name: string): string[] {
    const out: string[] = [];
    const count = this.list !== null ? this.list.length : this.names.length;
    for (let i = 0; i < count; i++) if (this.nameAt(i) === name) out.push(this.valueAt(i));
    return out;
  }

  /** Value of header i (the hot fields), without making the list when it is not made yet. */
  valueAt(i: number): string {
    return this.list !== null ? this.list[i].value : spanText(this.text, this.spans[2 * i], this.spans[2 * i + 1]);
  }

  private nameAt(i: number): string {
    return this.list !== null ? this.list[i].name : this.names[i];
  }
}

function spanText(text: string, from: number, to: number): string {
  return from === to ? '' : text.slice(from, to);
}

function parse(buf: Buffer): ParseResult {
  const length = buf.length;
  if (length === 0) return fail('empty', 'empty message');
  if (length > MAX_MESSAGE_BYTES) return fail('too_large', `${length} bytes`);

  const text = buf.toString('latin1', 0, length);
  // CRLFs before the start line are ignored (RFC 3261 7.5); a bare CRLF keep-alive is 'empty'.
  let pos = 0;
  while (pos < length) {
    const c = text.charCodeAt(pos);
    if (c !== 13 && c !== 10) break;
    pos++;
  }
  if (pos === length) return fail('empty', 'only line breaks');

  const msg = new ParsedMessage();
  scanHead(text, pos, length, msg);
  msg.adoptScan(text);
  // No empty line: a datagram cut short, unless it merely ends after a complete last header line.
  const cut = !sawEmptyLine && text.charCodeAt(length - 1) !== 10;
  if (!isAscii(buf) && !isAscii(buf.subarray(0, headEnd)) && isUtf8(buf.subarray(pos, headEnd))) {
    // Header values as proper strings (digest hashes UTF-8). Not UTF-8: latin1 keeps every byte.
    const byteBodyStart = bodyStart;
    const utf8 = buf.toString('utf8', pos, headEnd);
    scanHead(utf8, 0, utf8.length, msg);
    msg.adoptScan(utf8);
    bodyStart = byteBodyStart;
  }

  const viaValue = viaAt >= 0 ? msg.valueAt(viaAt) : '';
  const viaBranch = viaValue ? (getParam(viaValue, 'branch') ?? '') : '';
  msg.viaBranch = viaBranch;
  const cseqText = cseqAt >= 0 ? msg.valueAt(cseqAt) : '';
  const cseq = cseqText ? parseCseq(cseqText) : -1;
  const cseqMethod = cseqText ? cseqMethodOf(cseqText) : '';

  if (startError) return fail('bad_start_line', startError, viaBranch, cseqMethod);
  if (cut) return fail('truncated', 'no empty line after the headers', viaBranch, cseqMethod);
  if (badHeader) return fail('bad_header', badHeader, viaBranch, cseqMethod);
  if (!viaValue) return fail('missing_header', 'no Via', viaBranch, cseqMethod);
  if (!cseqText) return fail('missing_header', 'no CSeq', viaBranch, cseqMethod);
  if (cseq < 0 || !cseqMethod) return fail('bad_cseq', 'CSeq is not "number METHOD"', viaBranch, cseqMethod);
  msg.cseq = cseq;
  msg.cseqMethod = cseqMethod;
  msg.callId = callIdAt >= 0 ? msg.valueAt(callIdAt) : '';
  if (!msg.callId) return fail('missing_header', 'no Call-ID', viaBranch, cseqMethod);

  let contentLength = -1;
  if (lengthAt >= 0) {
    contentLength = parseDigits(msg.valueAt(lengthAt), 9);
    if (contentLength < 0) return fail('bad_content_length', 'Content-Length is not a number', viaBranch, cseqMethod);
  }
  // Content-Length counts bytes. Without it (datagrams) the body is the rest of the datagram.
  const available = length - bodyStart;
  if (contentLength < 0) msg.body = available > 0 ? buf.subarray(bodyStart) : EMPTY;
  else if (contentLength > available) return fail('truncated', `Content-Length ${contentLength} > ${available} bytes`, viaBranch, cseqMethod);
  else if (contentLength > 0) msg.body = buf.subarray(bodyStart, bodyStart + contentLength);
  return { ok: true, message: msg };
}

/** Start line and headers of `text` from `pos` up to the first empty line (or `limit`). */
function scanHead(text: string, pos: number, limit: number, msg: SipMessage): void {
  startError = badHeader = '';
  viaAt = cseqAt = callIdAt = lengthAt = -1;
  headEnd = bodyStart = limit;
  sawEmptyLine = false;
  headerCount = 0;
  if (scanFolds.length > 0) scanFolds = [];

  let nl = text.indexOf('\n', pos);
  if (nl < 0) nl = limit;
  let end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
  startLine(text, pos, end, msg);
  pos = nl + 1;

  while (pos < limit) {
    nl = text.indexOf('\n', pos);
    if (nl < 0) nl = limit;
    end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    if (end === pos) {
      sawEmptyLine = true;
      headEnd = pos;
      bodyStart = nl + 1 < limit ? nl + 1 : limit;
      return;
    }
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) {
      // Folded continuation (RFC 3261 7.3.1): joined to the previous value with a single space.
      if (headerCount === 0) badHeader ||= 'continuation line before any header';
      else {
        const from = skipWs(text, pos, end);
        scanFolds.push(headerCount - 1, from, trimEnd(text, from, end));
      }
    } else {
      // Name: token characters, optional SP/HTAB, then the colon (one scan; no indexOf per line).
      let k = pos;
      for (; k < end; k++) {
        const c = text.charCodeAt(k);
        if (c >= 128 || TOKEN[c] === 0) break;
      }
      const nameEnd = k;
      while (k < end && isWs(text.charCodeAt(k))) k++;
      if (k >= end || text.charCodeAt(k) !== 58 /* : */) badHeader ||= 'header line without "name:"';
      else if (nameEnd === pos) badHeader ||= 'empty header name';
      else {
        const name = headerName(text, pos, nameEnd);
        const from = skipWs(text, k + 1, end);
        const to = trimEnd(text, from, end);
        // Hot fields by position: read after the loop, once folding has completed the values.
        const at = headerCount;
        if (name === 'via') {
          if (viaAt < 0) viaAt = at;
        } else if (name === 'cseq') {
          if (cseqAt < 0) cseqAt = at;
        } else if (name === 'call-id') {
          if (callIdAt < 0) callIdAt = at;
        } else if (name === 'content-length') {
          if (lengthAt < 0) lengthAt = at;
        }
        scanNames[at] = name;
        scanSpans[2 * at] = from;
        scanSpans[2 * at + 1] = to;
        headerCount++;
      }
    }
    pos = nl + 1;
  }
}

function startLine(text: string, from: number, end: number, msg: SipMessage): void {
  const c0 = text.charCodeAt(from);
  if ((c0 === 83 || c0 === 115) && (text.startsWith('SIP/2.0', from) || text.slice(from, from + 7).toUpperCase() === 'SIP/2.0')) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    const d = from + 8;
    if (end < d + 3 || text.charCodeAt(from + 7) !== 32) {
      startError = 'bad status line';
      return;
    }
    const status = parseDigitsIn(text, d, d + 3);
    if (status < 0 || (d + 3 < end && text.charCodeAt(d + 3) !== 32)) startError = 'bad status line';
    else if (status < 100 || status > 699) startError = `status ${status} out of range`;
    else {
      msg.status = status;
      msg.reason = d + 3 < end ? trimmed(text, d + 4, end) : '';
    }
    return;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version
  const sp1 = text.indexOf(' ', from);
  const sp2 = sp1 < 0 ? -1 : text.indexOf(' ', sp1 + 1);
  if (
    sp2 < 0 || sp2 >= end || !isToken(text, from, sp1) || sp2 === sp1 + 1 ||
    end - sp2 - 1 !== 7 || (!text.startsWith('SIP/2.0', sp2 + 1) && text.slice(sp2 + 1, end).toUpperCase() !== 'SIP/2.0')
  ) {
    startError = 'neither a status line nor a request line';
    return;
  }
  msg.kind = 'request';
  msg.method = upper(text.slice(from, sp1));
  msg.requestUri = text.slice(sp1 + 1, sp2);
}

/** Names seen in nearly every message, by length: matched without allocating (and interned). */
const KNOWN_BY_LENGTH: string[][] = [];
for (const name of [
  'via', 'cseq', 'from', 'to', 'call-id', 'contact', 'content-length', 'content-type', 'www-authenticate',
  'proxy-authenticate', 'authorization', 'proxy-authorization', 'max-forwards', 'user-agent', 'server', 'expires',
  'min-expires', 'retry-after', 'allow', 'supported', 'date', 'record-route', 'route', 'warning', 'require',
  'unsupported', 'accept', 'timestamp', 'event', 'allow-events', 'path', 'service-route', 'reason',
]) (KNOWN_BY_LENGTH[name.length] ??= []).push(name);

/** The canonical name for the token text[from, to): lower-case long form, compact forms expanded. */
function headerName(text: string, from: number, to: number): string {
  const length = to - from;
  if (length === 1) {
    let c = text.charCodeAt(from);
    if (c >= 65 && c <= 90) c |= 0x20;
    return COMPACT_BY_CODE[c] ?? String.fromCharCode(c);
  }
  const known = KNOWN_BY_LENGTH[length];
  if (known !== undefined) {
    for (let k = 0; k < known.length; k++) if (equalsLower(text, from, known[k])) return known[k];
  }
  return text.slice(from, to).toLowerCase();
}

/** text[at, at+lower.length) equals `lower` ignoring ASCII case (`lower` is lower-case). */
function equalsLower(text: string, at: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    let c = text.charCodeAt(at + k);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== lower.charCodeAt(k)) return false;
  }
  return true;
}

function isWs(c: number): boolean {
  return c === 32 || c === 9;
}

/** First index in [from, to) that is not SP/HTAB, or `to`. */
function skipWs(text: string, from: number, to: number): number {
  while (from < to && isWs(text.charCodeAt(from))) from++;
  return from;
}

/** End of [from, to) without trailing SP/HTAB. */
function trimEnd(text: string, from: number, to: number): number {
  while (to > from && isWs(text.charCodeAt(to - 1))) to--;
  return to;
}

function trimmed(text: string, from: number, to: number): string {
  const start = skipWs(text, from, to);
  return spanText(text, start, trimEnd(text, start, to));
}

/** Non-negative integer of 1..maxDigits digits spanning all of `value`, else -1. */
function parseDigits(value: string, maxDigits: number): number {
  if (value.length === 0 || value.length > maxDigits) return -1;
  return parseDigitsIn(value, 0, value.length);
}

function parseDigitsIn(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** CSeq = 1*DIGIT LWS Method; the number must fit 32 bits (RFC 3261 8.1.1.5). -1 if bad. */
function parseCseq(value: string): number {
  let i = 0;
  while (i < value.length && value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57) i++;
  if (i === 0 || i > 10 || i === value.length || !isWs(value.charCodeAt(i))) return -1;
  const n = parseDigitsIn(value, 0, i);
  return n > 0xffffffff ? -1 : n;
}

const COMMON_METHODS = ['REGISTER', 'OPTIONS', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'INFO', 'PRACK', 'UPDATE', 'REFER', 'PUBLISH'];

/** The method word of a CSeq value (even when its number is bad), upper-cased; '' if not a token. */
function cseqMethodOf(value: string): string {
  let i = 0;
  while (i < value.length && !isWs(value.charCodeAt(i))) i++;
  while (i < value.length && isWs(value.charCodeAt(i))) i++;
  const length = value.length - i;
  for (let k = 0; k < COMMON_METHODS.length; k++) {
    const m = COMMON_METHODS[k];
    if (m.length === length && value.startsWith(m, i)) return m; // interned, no allocation
  }
  return isToken(value, i, value.length) ? upper(value.slice(i)) : '';
}

/** toUpperCase only when needed: method names arrive upper-case almost always. */
function upper(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) return s.toUpperCase();
  }
  return s;
}
