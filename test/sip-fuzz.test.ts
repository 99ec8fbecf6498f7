// The receive path never throws: random bytes, SIP-shaped random text and mutations of valid messages
// go through the parser, the header helpers and the digest parsers. Every result is either a message
// that satisfies the parser's own invariants or a classified failure. `npm run fuzz` runs >= 1,000,000.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_MESSAGE_BYTES, parseSipMessage } from '../src/sip/parser.js';
import { parseAuthorization, parseChallenge } from '../src/sip/digest.js';
import { getHeader, getHeaderValues, getParam, parseNameAddr, splitList } from '../src/sip/headers.js';
import type { ParseErrorKind } from '../src/sip/message.js';
import { SEEDS, mutate, randomBytesOf, xorshift } from './helpers/sip-corpus.js';

const KINDS: ParseErrorKind[] = ['empty', 'bad_start_line', 'bad_header', 'missing_header', 'bad_cseq', 'bad_content_length', 'truncated', 'too_large'];

/** Parses and runs every helper on the result; checks invariants. Returns whether it parsed. */
function exercise(buf: Buffer): boolean {
  const r = parseSipMessage(buf);
  if (!r.ok) {
    expect(KINDS).toContain(r.kind);
    expect(typeof r.detail).toBe('string');
    return false;
  }
  const m = r.message;
  if (m.kind === 'response') expect(m.status >= 100 && m.status <= 699).toBe(true);
  else expect(m.method).toMatch(/^[A-Z0-9\-.!%*_+`'~]+$/);
  expect(Number.isInteger(m.cseq) && m.cseq >= 0 && m.cseq <= 0xffffffff).toBe(true);
  expect(m.cseqMethod).not.toBe('');
  expect(m.callId).not.toBe('');
  expect(m.body.length).toBeLessThanOrEqual(buf.length);
  expect(m.viaBranch).toBe(getParam(getHeader(m, 'via')!, 'branch') ?? '');
  for (const h of m.headers) {
    expect(h.name).toBe(h.name.toLowerCase());
    expect(h.value).not.toMatch(/^[ \t]|[ \t]$/); // LWS trimmed (only SP and HTAB are LWS)
    splitList(h.value);
    getParam(h.value, 'tag');
    parseNameAddr(h.value);
    parseChallenge(h.value, false);
    parseAuthorization(h.value);
  }
  getHeaderValues(m, 'via');
  getHeaderValues(m, 'contact');
  return true;
}

describe('the receive path never throws', () => {
  it('on random bytes (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => void exercise(Buffer.from(bytes))), { numRuns: 2000 });
  });

  it('on random text shaped like SIP (property)', () => {
    const name = fc.oneof(fc.constantFrom('Via', 'v', 'CSeq', 'Call-ID', 'i', 'Content-Length', 'l', 'WWW-Authenticate', 'Contact', 'm', 'To', 'From'), fc.string({ maxLength: 8 }));
    const line = fc.oneof(fc.tuple(name, fc.string({ maxLength: 60 })).map(([n, v]) => `${n}: ${v}`), fc.string({ maxLength: 60 }));
    fc.assert(
      fc.property(
        fc.constantFrom('SIP/2.0 200 OK', 'SIP/2.0 401 Unauthorized', 'REGISTER sip:h SIP/2.0', 'OPTIONS sip:h SIP/2.0', ''), fc.array(line, { maxLength: 12 }), fc.constantFrom('\r\n', '\n', '\r\n '), fc.string({ maxLength: 30 }),
        (start, lines, eol, body) => void exercise(Buffer.from(`${start}${eol}${lines.join(eol)}${eol}${eol}${body}`)),
      ),
      { numRuns: 1500 },
    );
  });

  it('on 5,000 mutations of valid messages', () => {
    const rand = xorshift(1234);
    const seeds = SEEDS.map((s) => Buffer.from(s));
    for (const seed of seeds) expect(exercise(seed)).toBe(true); // the seeds themselves are valid
    let parsed = 0;
    for (let i = 0; i < 5000; i++) if (exercise(mutate(seeds[i % seeds.length], rand, seeds))) parsed++;
    // Many mutations leave a valid message, many do not: both paths ran.
    expect(parsed).toBeGreaterThan(500);
    expect(parsed).toBeLessThan(4500);
  });

  it('on random byte strings and oversized input', () => {
    const rand = xorshift(99);
    for (let i = 0; i < 1000; i++) exercise(randomBytesOf(rand, 300));
    expect(parseSipMessage(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 10))).toMatchObject({ ok: false, kind: 'too_large' });
    // Many headers, very long lines: still a result, quickly.
    const many = `SIP/2.0 200 OK\r\n${'X-A: b\r\n'.repeat(7000)}Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n`;
    expect(exercise(Buffer.from(many))).toBe(true);
    expect(exercise(Buffer.from(`SIP/2.0 200 OK\r\nVia: ${'a;'.repeat(30000)}\r\n\r\n`))).toBe(false);
  });
});
