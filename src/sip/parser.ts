// Buffer-based SIP parser for requests and responses. It never throws: every failure is a
// classified ParseFailure (counted as `malformed`), carrying the top Via branch and CSeq method when
// they could still be read so the matching transaction can fail as malformed instead of timing out.
import { canonicalHeaderName, getParam } from './headers.js';
import type { ParseErrorKind, ParseFailure, ParseResult, SipHeader, SipMessage } from './message.js';

export const MAX_MESSAGE_BYTES = 65_536;
const EMPTY = Buffer.alloc(0);

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

function parse(buf: Buffer): ParseResult {
  const length = buf.length;
  if (length === 0) return fail('empty', 'empty message');
  if (length > MAX_MESSAGE_BYTES) return fail('too_large', `${length} bytes`);

  // End of the header block: CRLFCRLF, tolerating bare LF line ends.
  let headEnd = buf.indexOf('\r\n\r\n');
  let bodyStart: number;
  if (headEnd >= 0) bodyStart = headEnd + 4;
  else {
    headEnd = buf.indexOf('\n\n');
    if (headEnd >= 0) bodyStart = headEnd + 2;
    else {
      headEnd = length;
      bodyStart = length;
    }
  }
  const head = buf.toString('latin1', 0, headEnd);

  let lineEnd = head.indexOf('\n');
  if (lineEnd < 0) lineEnd = head.length;
  const startLine = stripCr(head.slice(0, lineEnd));
  if (startLine.length === 0) return fail('bad_start_line', 'empty start line');

  const msg: SipMessage = {
    kind: 'response', method: '', requestUri: '', status: 0, reason: '', headers: [],
    viaBranch: '', cseq: 0, cseqMethod: '', callId: '', body: EMPTY,
  };

  // Headers first, so a bad start line can still report the branch.
  const headers = msg.headers;
  let pos = lineEnd + 1;
  let contentLength = -1;
  let topVia = '';
  let cseqText = '';
  let badHeader = '';
  let badContentLength = '';
  while (pos < head.length) {
    let end = head.indexOf('\n', pos);
    if (end < 0) end = head.length;
    const line = stripCr(head.slice(pos, end));
    pos = end + 1;
    if (line.length === 0) continue;
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) {
      // Folded continuation (RFC 3261 7.3.1): joined with a single space.
      const last = headers[headers.length - 1];
      if (!last) {
        badHeader ||= 'continuation line before any header';
        continue;
      }
      last.value = `${last.value} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      badHeader ||= `no colon in header line`;
      continue;
    }
    const rawName = line.slice(0, colon).trim();
    if (rawName.length === 0 || /[\s]/.test(rawName)) {
      badHeader ||= `bad header name`;
      continue;
    }
    headers.push({ name: canonicalHeaderName(rawName), value: line.slice(colon + 1).trim() });
  }

  // Hot fields (after folding, so a folded Via or CSeq is complete).
  for (let i = 0; i < headers.length; i++) {
    const h: SipHeader = headers[i];
    switch (h.name) {
      case 'via':
        if (!topVia) {
          const comma = topViaEnd(h.value);
          topVia = comma < 0 ? h.value : h.value.slice(0, comma);
        }
        break;
      case 'cseq':
        if (!cseqText) cseqText = h.value;
        break;
      case 'call-id':
        if (!msg.callId) msg.callId = h.value;
        break;
      case 'content-length':
        if (contentLength < 0 && !badContentLength) {
          if (/^\d{1,9}$/.test(h.value)) contentLength = Number(h.value);
          else badContentLength = h.value;
        }
        break;
    }
  }
  const viaBranch = topVia ? (getParam(topVia, 'branch') ?? '') : '';
  msg.viaBranch = viaBranch;
  const cseqMatch = /^(\d{1,10})\s+([A-Za-z!%'*+\-.`~_]+)$/.exec(cseqText);
  const cseqMethod = cseqMatch ? cseqMatch[2].toUpperCase() : cseqText.split(/\s+/)[1]?.toUpperCase();

  // Start line.
  if (startLine.startsWith('SIP/2.0 ')) {
    const m = /^SIP\/2\.0 (\d{3})(?: (.*))?$/.exec(startLine);
    if (!m) return fail('bad_start_line', 'bad status line', viaBranch, cseqMethod);
    const status = Number(m[1]);
    if (status < 100 || status > 699) return fail('bad_start_line', `status ${status} out of range`, viaBranch, cseqMethod);
    msg.status = status;
    msg.reason = (m[2] ?? '').trim();
  } else {
    const m = /^([A-Za-z!%'*+\-.`~_]+) (\S+) SIP\/2\.0$/.exec(startLine);
    if (!m) return fail('bad_start_line', 'neither a status line nor a request line', viaBranch, cseqMethod);
    msg.kind = 'request';
    msg.method = m[1].toUpperCase();
    msg.requestUri = m[2];
  }

  if (badHeader) return fail('bad_header', badHeader, viaBranch, cseqMethod);
  if (!topVia) return fail('missing_header', 'no Via', viaBranch, cseqMethod);
  if (!cseqText) return fail('missing_header', 'no CSeq', viaBranch, cseqMethod);
  if (!cseqMatch) return fail('bad_cseq', 'CSeq is not "number METHOD"', viaBranch, cseqMethod);
  const cseq = Number(cseqMatch[1]);
  if (cseq > 0xffffffff) return fail('bad_cseq', 'CSeq number above 2^32-1', viaBranch, cseqMethod);
  msg.cseq = cseq;
  msg.cseqMethod = cseqMatch[2].toUpperCase();
  if (!msg.callId) return fail('missing_header', 'no Call-ID', viaBranch, cseqMethod);
  if (badContentLength) return fail('bad_content_length', 'Content-Length is not a number', viaBranch, cseqMethod);

  // Content-Length counts bytes. Without it (datagrams) the body is the rest of the datagram.
  const available = length - bodyStart;
  if (contentLength < 0) msg.body = available > 0 ? buf.subarray(bodyStart) : EMPTY;
  else if (contentLength > available) return fail('truncated', `Content-Length ${contentLength} > ${available} bytes`, viaBranch, cseqMethod);
  else msg.body = contentLength > 0 ? buf.subarray(bodyStart, bodyStart + contentLength) : EMPTY;
  return { ok: true, message: msg };
}

function stripCr(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}

/** Index of the comma ending the first Via value (outside quotes), or -1. */
function topViaEnd(value: string): number {
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (ch === 34) quoted = !quoted;
    else if (ch === 44 && !quoted) return i;
  }
  return -1;
}
