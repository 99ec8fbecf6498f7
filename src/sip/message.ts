// The parsed form of a SIP message. The parser (parser.ts) fills it from a Buffer and never throws:
// malformed input becomes a ParseFailure the caller counts as `malformed`.

export interface SipHeader {
  /** Canonical lower-case long name: compact forms are expanded (`v` -> `via`, `i` -> `call-id`...). */
  name: string;
  /**
   * Value with folded continuation lines joined by a single space, outer SP/HTAB trimmed. Decoded as
   * UTF-8 when the head holds valid UTF-8, else latin1 (one char per byte, nothing lost).
   */
  value: string;
}

export interface SipMessage {
  kind: 'request' | 'response';
  /** Requests: method and Request-URI; '' on responses. */
  method: string;
  requestUri: string;
  /** Responses: status code and reason phrase; 0 / '' on requests. */
  status: number;
  reason: string;
  /** Every header in order of appearance (repeated headers stay separate entries). */
  headers: SipHeader[];
  /** Fields the hot path needs, extracted during the parse. */
  viaBranch: string; // branch param of the top-most Via ('' if absent)
  cseq: number;
  cseqMethod: string;
  callId: string;
  /** Body bytes (Content-Length is in bytes, not characters). */
  body: Buffer;
  /**
   * Parsed messages answer header lookups (canonical names) without building `headers`; getHeader
   * and getHeaderValues use these when present.
   */
  firstNamed?(name: string): string | undefined;
  valuesNamed?(name: string): string[];
}

export type ParseErrorKind =
  | 'empty'
  | 'bad_start_line'
  | 'bad_header'
  | 'missing_header'
  | 'bad_cseq'
  | 'bad_content_length'
  | 'truncated'
  | 'too_large';

export interface ParseFailure {
  ok: false;
  kind: ParseErrorKind;
  detail: string;
  /** Read from a message that failed elsewhere, so its transaction can be failed as malformed. */
  viaBranch?: string;
  cseqMethod?: string;
}

export type ParseResult = { ok: true; message: SipMessage } | ParseFailure;
