// Stream transports deliver bytes, not messages: one read can hold half a message or three. This cuts
// the stream into whole messages by Content-Length in BYTES (RFC 3261 18.3: on a stream a missing
// Content-Length means 0), skipping CRLF keep-alives (RFC 5626 4.4.1) between messages.
// It only frames: the parser validates. Garbage is counted in `errors` and skipped up to the next line
// that looks like a start line, so one bad message does not poison the connection for ever.
// Never throws on input.

const CR = 13;
const LF = 10;
const MAX_DEFAULT = 64 * 1024;
const EMPTY = Buffer.alloc(0);
const SIP_VERSION = Buffer.from('SIP/2.0');

export class StreamFramer {
  /** Unconsumed bytes are buf[pos..]. Views handed out by next() share memory with pushed chunks. */
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Where the search for the blank line resumes, so slowly arriving headers are not rescanned. */
  private scanFrom = 0;
  /** Length of the current message once its headers are complete, else -1. */
  private pendingTotal = -1;
  /** Body bytes of an oversized message still to be thrown away (keeps framing in sync). */
  private skipBytes = 0;
  /** True while discarding garbage: one run of garbage counts as one error. */
  private resyncing = false;
  private errorCount = 0;

  constructor(private readonly maxMessageBytes = MAX_DEFAULT) {}

  get errors(): number {
    return this.errorCount;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.buf.length - this.pos;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.skipBytes > 0) {
      const n = Math.min(this.skipBytes, chunk.length);
      this.skipBytes -= n;
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    if (this.pos >= this.buf.length) {
      this.buf = chunk; // common case: nothing pending, keep the chunk without copying
    } else {
      const rest = this.buf.subarray(this.pos);
      this.scanFrom -= this.pos;
      this.buf = Buffer.concat([rest, chunk], rest.length + chunk.length);
    }
    this.pos = 0;
  }

  /** A fresh stream (reconnect): forget everything pending. */
  reset(): void {
    this.buf = EMPTY;
    this.pos = 0;
    this.scanFrom = 0;
    this.pendingTotal = -1;
    this.skipBytes = 0;
    this.resyncing = false;
  }

  /** The next whole message, or null until more bytes arrive. Bounded: each pass consumes bytes or returns. */
  next(): Buffer | null {
    for (;;) {
      const buf = this.buf;
      if (this.pendingTotal >= 0) {
        if (buf.length - this.pos < this.pendingTotal) return null;
        const msg = buf.subarray(this.pos, this.pos + this.pendingTotal);
        this.consume(this.pendingTotal);
        return msg;
      }
      // Keep-alive CRLFs between messages.
      let p = this.pos;
      while (p < buf.length && (buf[p] === CR || buf[p] === LF)) p++;
      if (p !== this.pos) this.consume(p - this.pos);
      if (p >= buf.length) return null;

      const lineEnd = buf.indexOf(LF, p);
      if (lineEnd < 0) {
        if (buf.length - p > this.maxMessageBytes) this.garbage(buf.length - p);
        return null;
      }
      if (!looksLikeStartLine(buf, p, lineEnd)) {
        this.garbage(lineEnd + 1 - p); // drop this line and look at the next one
        continue;
      }
      this.resyncing = false;

      const headerEnd = buf.indexOf('\r\n\r\n', Math.max(this.scanFrom, p));
      if (headerEnd < 0) {
        this.scanFrom = Math.max(p, buf.length - 3);
        if (buf.length - p > this.maxMessageBytes) {
          this.error();
          this.consume(buf.length - p);
          this.resyncing = true; // the rest of it will arrive as garbage: already counted
        }
        return null;
      }
      const bodyStart = headerEnd + 4;
      const length = contentLength(buf, lineEnd + 1, headerEnd);
      if (length < 0) {
        // Unknown body size: drop the header block; a body, if any, is resynced as garbage.
        this.error();
        this.consume(bodyStart - p);
        this.resyncing = true;
        continue;
      }
      const total = bodyStart - p + length;
      if (total > this.maxMessageBytes) {
        this.error();
        const available = buf.length - p;
        if (available >= total) this.consume(total);
        else {
          this.skipBytes = total - available;
          this.consume(available);
        }
        continue;
      }
      this.pendingTotal = total;
    }
  }

  private consume(n: number): void {
    this.pos += n;
    this.pendingTotal = -1;
    this.scanFrom = this.pos;
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
      this.scanFrom = 0;
    }
  }

  private garbage(n: number): void {
    if (!this.resyncing) this.error();
    this.resyncing = true;
    this.consume(n);
  }

  private error(): void {
    this.errorCount++;
  }
}

function isTokenChar(c: number): boolean {
  // RFC 3261 token characters (alphanumerics and -.!%*_+`'~).
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d || c === 0x2e || c === 0x21 || c === 0x25 || c === 0x2a || c === 0x5f || c === 0x2b || c === 0x60 || c === 0x27 || c === 0x7e
  );
}

/** `SIP/2.0 <code> ...` or `<TOKEN> <uri> SIP/2.0`; enough to tell a message from the middle of a body. */
function looksLikeStartLine(buf: Buffer, start: number, lf: number): boolean {
  let end = lf;
  if (end > start && buf[end - 1] === CR) end--;
  const v = SIP_VERSION.length;
  if (end - start > v && buf.compare(SIP_VERSION, 0, v, start, start + v) === 0 && buf[start + v] === 0x20) return true;
  let i = start;
  while (i < end && isTokenChar(buf[i])) i++;
  if (i === start || i >= end || buf[i] !== 0x20) return false;
  return end - start > v + 2 && buf[end - v - 1] === 0x20 && buf.compare(SIP_VERSION, 0, v, end - v, end) === 0;
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

const CL_LONG = 'content-length';

/**
 * Content-Length (or compact `l`) of the header block buf[from..to): -1 if malformed or two values
 * disagree, 0 when absent (RFC 3261 18.3 for streams).
 */
function contentLength(buf: Buffer, from: number, to: number): number {
  let value = -2;
  let line = from;
  while (line < to) {
    let eol = buf.indexOf(LF, line);
    if (eol < 0 || eol > to) eol = to;
    // Header name (`content-length` or compact `l`), optional whitespace, then ':'.
    let i = line;
    const first = lower(buf[i]);
    let nameLen = 0;
    if (first === 0x6c /* l */) nameLen = 1;
    else if (first === 0x63 /* c */ && eol - i > CL_LONG.length) {
      nameLen = CL_LONG.length;
      for (let k = 1; k < CL_LONG.length; k++) {
        if (lower(buf[i + k]) !== CL_LONG.charCodeAt(k)) {
          nameLen = 0;
          break;
        }
      }
    }
    let matched = false;
    if (nameLen > 0) {
      i += nameLen;
      while (i < eol && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
      matched = i < eol && buf[i] === 0x3a;
    }
    if (matched) {
      i++;
      while (i < eol && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
      let n = 0;
      let digits = 0;
      while (i < eol && buf[i] >= 0x30 && buf[i] <= 0x39 && digits < 10) n = n * 10 + (buf[i++] - 0x30), digits++;
      while (i < eol && (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === CR)) i++;
      if (digits === 0 || i !== eol) return -1;
      if (value !== -2 && value !== n) return -1;
      value = n;
    }
    line = eol + 1;
  }
  return value === -2 ? 0 : value;
}
