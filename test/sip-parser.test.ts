import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_MESSAGE_BYTES, parseSipMessage } from '../src/sip/parser.js';
import {
  COMPACT_FORMS, canonicalHeaderName, getHeader, getHeaderValues, getParam, parseNameAddr, splitList,
} from '../src/sip/headers.js';
import type { ParseFailure, SipMessage } from '../src/sip/message.js';
import { OK_200 } from './helpers/sip-corpus.js';

function ok(text: string | Buffer): SipMessage {
  const r = parseSipMessage(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'));
  if (!r.ok) throw new Error(`expected a parse, got ${r.kind}: ${r.detail}`);
  return r.message;
}

function bad(text: string | Buffer): ParseFailure {
  const r = parseSipMessage(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'));
  if (r.ok) throw new Error('expected a failure');
  return r;
}

const MIN = 'Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n';

describe('start line and hot fields', () => {
  it('reads a status line, the hot fields and every header in order', () => {
    const m = ok(OK_200);
    expect(m.kind).toBe('response');
    expect([m.status, m.reason, m.viaBranch, m.cseq, m.cseqMethod, m.callId]).toEqual([
      200, 'OK', 'z9hG4bK6f1e0c3a9b2d4e5f', 17, 'REGISTER', '0c3a9b2d4e5f6a7b8c9d0e1f2a3b4c5d@10.0.0.12',
    ]);
    expect(m.headers.map((h) => h.name)).toEqual(['via', 'from', 'to', 'call-id', 'cseq', 'contact', 'server', 'content-length']);
    expect(m.body.length).toBe(0);
  });

  it('reads a request line (method upper-cased, URI as sent)', () => {
    const m = ok(`options sip:agent0001@[::1]:5070;transport=udp SIP/2.0\r\n${MIN}\r\n`);
    expect([m.kind, m.method, m.requestUri, m.status]).toEqual(['request', 'OPTIONS', 'sip:agent0001@[::1]:5070;transport=udp', 0]);
  });

  it('keeps multi-word and empty reason phrases', () => {
    expect(ok(`SIP/2.0 503 Service Unavailable\r\n${MIN}\r\n`).reason).toBe('Service Unavailable');
    expect(ok(`SIP/2.0 429 \r\n${MIN}\r\n`).reason).toBe('');
    expect(ok(`SIP/2.0 180\r\n${MIN}\r\n`)).toMatchObject({ status: 180, reason: '' });
  });

  it('accepts status 100..699 only', () => {
    expect(ok(`SIP/2.0 100 Trying\r\n${MIN}\r\n`).status).toBe(100);
    expect(ok(`SIP/2.0 699 X\r\n${MIN}\r\n`).status).toBe(699);
    expect(bad(`SIP/2.0 099 X\r\n${MIN}\r\n`).kind).toBe('bad_start_line');
    expect(bad(`SIP/2.0 700 X\r\n${MIN}\r\n`).kind).toBe('bad_start_line');
    expect(bad(`SIP/2.0 2000 X\r\n${MIN}\r\n`).kind).toBe('bad_start_line');
    expect(bad(`SIP/3.0 200 OK\r\n${MIN}\r\n`).kind).toBe('bad_start_line');
    expect(bad(`OPTIONS sip:a SIP/2.1\r\n${MIN}\r\n`).kind).toBe('bad_start_line');
    expect(bad(`OPTIONS  SIP/2.0\r\n${MIN}\r\n`).kind).toBe('bad_start_line');
  });

  it('reads CSeq numbers up to 2^32-1 and any method token', () => {
    expect(ok(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 4294967295  register\r\n\r\n`)).toMatchObject({ cseq: 4294967295, cseqMethod: 'REGISTER' });
    expect(ok(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 0 X-CUSTOM\r\n\r\n`)).toMatchObject({ cseq: 0, cseqMethod: 'X-CUSTOM' });
  });
});

describe('header names', () => {
  it('expands every compact form, either case (RFC 3261 7.3.3 and the IANA registry)', () => {
    expect(Object.keys(COMPACT_FORMS).sort().join('')).toBe('abcdefijklmnorstuvxy');
    for (const [short, long] of Object.entries(COMPACT_FORMS)) {
      expect(canonicalHeaderName(short)).toBe(long);
      expect(canonicalHeaderName(short.toUpperCase())).toBe(long);
      const value = short === 'l' ? '0' : `value-${short}`; // Content-Length must stay a number
      const m = ok(`SIP/2.0 200 OK\r\n${MIN}${short.toUpperCase()}: ${value}\r\n\r\n`);
      expect(getHeaderValues(m, long).at(-1)).toBe(value);
      expect(getHeaderValues(m, short).at(-1)).toBe(value);
    }
    expect(canonicalHeaderName('WWW-Authenticate')).toBe('www-authenticate');
    expect(canonicalHeaderName('q')).toBe('q'); // not a compact form
  });

  it('reads the hot fields under compact and odd-case names', () => {
    const m = ok('SIP/2.0 401 Unauthorized\r\nV: SIP/2.0/UDP h;BRANCH=z9hG4bKup\r\nf: <sip:a@b>;tag=1\r\nt: <sip:a@b>\r\nI: x\r\ncSeQ: 2 REGISTER\r\nm: <sip:a@c>\r\nL: 0\r\n\r\n');
    expect([m.viaBranch, m.callId, m.cseq, m.cseqMethod]).toEqual(['z9hG4bKup', 'x', 2, 'REGISTER']);
    expect(m.headers.map((h) => h.name)).toEqual(['via', 'from', 'to', 'call-id', 'cseq', 'contact', 'content-length']);
  });

  it('allows whitespace before the colon and none after it', () => {
    const m = ok('SIP/2.0 200 OK\r\nVia  :SIP/2.0/UDP h;branch=z9hG4bKw\r\nCall-ID\t: x\r\nCSeq:1 OPTIONS\r\n\r\n');
    expect([m.viaBranch, m.callId, m.cseq]).toEqual(['z9hG4bKw', 'x', 1]);
  });

  it('rejects header lines that are not `token: value`', () => {
    expect(bad(`SIP/2.0 200 OK\r\n${MIN}No colon here\r\n\r\n`).kind).toBe('bad_header');
    expect(bad(`SIP/2.0 200 OK\r\n${MIN}Bad Name: x\r\n\r\n`).kind).toBe('bad_header');
    expect(bad(`SIP/2.0 200 OK\r\n${MIN}: x\r\n\r\n`).kind).toBe('bad_header');
    expect(bad(`SIP/2.0 200 OK\r\n ${MIN}\r\n`).kind).toBe('bad_header'); // continuation before any header
  });
});

describe('folding, repetition and lists', () => {
  it('joins folded lines (SP or HTAB) with one space, also in the hot fields', () => {
    const m = ok(
      'SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP a\r\n  ;branch=z9hG4bKfold\r\nCall-ID:\r\n\tabc\r\nCSeq: 1\r\n\t OPTIONS\r\n' +
        'WWW-Authenticate: Digest realm="r",\r\n nonce="n",\r\n\t\talgorithm=MD5\r\n\r\n',
    );
    expect([m.viaBranch, m.callId, m.cseq, m.cseqMethod]).toEqual(['z9hG4bKfold', 'abc', 1, 'OPTIONS']);
    expect(getHeader(m, 'via')).toBe('SIP/2.0/UDP a ;branch=z9hG4bKfold');
    expect(getHeader(m, 'www-authenticate')).toBe('Digest realm="r", nonce="n", algorithm=MD5');
  });

  it('splits repeated and comma-joined Via in order; the top branch is the first element', () => {
    const m = ok(
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKtop, SIP/2.0/UDP b;branch=z9hG4bKb\r\nv: SIP/2.0/TCP c;branch=z9hG4bKc\r\n' +
        'Call-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n',
    );
    expect(m.viaBranch).toBe('z9hG4bKtop');
    expect(getHeaderValues(m, 'via').map((v) => getParam(v, 'branch'))).toEqual(['z9hG4bKtop', 'z9hG4bKb', 'z9hG4bKc']);
    expect(getHeader(m, 'via')).toBe('SIP/2.0/UDP a;branch=z9hG4bKtop, SIP/2.0/UDP b;branch=z9hG4bKb');
  });

  it('does not take a branch from a second comma-joined Via when the first has none', () => {
    expect(ok(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a, SIP/2.0/UDP b;branch=z9hG4bKb\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n`).viaBranch).toBe('');
  });

  it('splits list headers only: commas in auth headers and Date stay', () => {
    const m = ok(
      `SIP/2.0 401 Unauthorized\r\n${MIN}WWW-Authenticate: Digest realm="a,b", nonce="1", qop="auth,auth-int"\r\n` +
        'WWW-Authenticate: Digest realm="c", nonce="2", algorithm=SHA-256\r\nDate: Sat, 13 Nov 2010 23:29:00 GMT\r\n' +
        'Contact: "Smith, J" <sip:j@h>;expires=60, <sip:k@h;lr>;expires=30\r\nAllow: INVITE, ACK,OPTIONS\r\nk: path, gruu\r\n\r\n',
    );
    expect(getHeaderValues(m, 'www-authenticate')).toEqual(['Digest realm="a,b", nonce="1", qop="auth,auth-int"', 'Digest realm="c", nonce="2", algorithm=SHA-256']);
    expect(getHeaderValues(m, 'date')).toEqual(['Sat, 13 Nov 2010 23:29:00 GMT']);
    expect(getHeaderValues(m, 'contact')).toEqual(['"Smith, J" <sip:j@h>;expires=60', '<sip:k@h;lr>;expires=30']);
    expect(getHeaderValues(m, 'allow')).toEqual(['INVITE', 'ACK', 'OPTIONS']);
    expect(getHeaderValues(m, 'supported')).toEqual(['path', 'gruu']);
    expect(getHeaderValues(m, 'record-route')).toEqual([]);
    expect(getHeader(m, 'record-route')).toBeUndefined();
  });
});

describe('line ends, body and sizes', () => {
  it('tolerates bare LF, mixed line ends and CRLFs before the start line', () => {
    expect(ok(OK_200.replace(/\r\n/g, '\n')).callId).toBe('0c3a9b2d4e5f6a7b8c9d0e1f2a3b4c5d@10.0.0.12');
    expect(ok(`\r\n\r\nSIP/2.0 200 OK\n${MIN}\n`).status).toBe(200);
    expect(bad('\r\n\r\n').kind).toBe('empty'); // a keep-alive
  });

  it('counts Content-Length in bytes, not characters (multi-byte UTF-8 body)', () => {
    const body = 'h\u00e9llo \u2603 \u{1F600}'; // 15 bytes, 10 UTF-16 units
    const bytes = Buffer.byteLength(body);
    expect(bytes).toBeGreaterThan(body.length);
    const text = `SIP/2.0 200 OK\r\n${MIN}Content-Length: ${bytes}\r\n\r\n${body}`;
    expect(ok(text).body.toString('utf8')).toBe(body);
    expect(bad(text.replace(`Content-Length: ${bytes}`, `Content-Length: ${bytes + 1}`))).toMatchObject({ kind: 'truncated', viaBranch: 'z9hG4bK1', cseqMethod: 'OPTIONS' });
    // Bytes past Content-Length on a datagram are ignored.
    expect(ok(text.replace(`Content-Length: ${bytes}`, 'Content-Length: 3')).body.toString('utf8')).toBe('h\u00e9');
    // Without Content-Length the body is the rest of the datagram.
    expect(ok(`SIP/2.0 200 OK\r\n${MIN}\r\n${body}`).body.toString('utf8')).toBe(body);
  });

  it('body is a view of the input buffer, not a copy', () => {
    const buf = Buffer.from(`SIP/2.0 200 OK\r\n${MIN}l: 4\r\n\r\nabcd`);
    expect(ok(buf).body.buffer).toBe(buf.buffer);
  });

  it('decodes a UTF-8 head as UTF-8 and keeps body offsets in bytes', () => {
    const m = ok(`SIP/2.0 200 D\u00e9j\u00e0 vu\r\n${MIN}From: "J\u00e4s\u00f8n \u2603" <sip:j@h>;tag=1\r\nContent-Length: 2\r\n\r\n\u00e9`);
    expect(m.reason).toBe('D\u00e9j\u00e0 vu');
    expect(parseNameAddr(getHeader(m, 'from')!)?.displayName).toBe('J\u00e4s\u00f8n \u2603');
    expect(m.body.toString('utf8')).toBe('\u00e9');
  });

  it('keeps the bytes of a head that is not UTF-8 (latin1)', () => {
    const buf = Buffer.concat([Buffer.from(`SIP/2.0 200 OK\r\n${MIN}Subject: caf`), Buffer.from([0xe9]), Buffer.from('\r\n\r\n')]);
    expect(getHeader(ok(buf), 's')).toBe('caf\u00e9');
  });

  it('classifies malformed input and keeps the branch and CSeq method when it can', () => {
    expect(bad(Buffer.alloc(0)).kind).toBe('empty');
    expect(bad('SIP/2.0 abc OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\nCSeq: 3 OPTIONS\r\n\r\n')).toMatchObject({ kind: 'bad_start_line', viaBranch: 'z9hG4bKq', cseqMethod: 'OPTIONS' });
    expect(bad(`SIP/2.0 200 OK\r\n${MIN.replace('CSeq: 1 OPTIONS', 'CSeq: seven OPTIONS')}\r\n`)).toMatchObject({ kind: 'bad_cseq', viaBranch: 'z9hG4bK1', cseqMethod: 'OPTIONS' });
    expect(bad(`SIP/2.0 200 OK\r\n${MIN.replace('CSeq: 1 OPTIONS', 'CSeq: 4294967296 OPTIONS')}\r\n`).kind).toBe('bad_cseq');
    expect(bad(`SIP/2.0 200 OK\r\n${MIN.replace('CSeq: 1 OPTIONS', 'CSeq: 1')}\r\n`).kind).toBe('bad_cseq');
    expect(bad(`SIP/2.0 200 OK\r\n${MIN.replace('Call-ID: x\r\n', '')}\r\n`)).toMatchObject({ kind: 'missing_header', viaBranch: 'z9hG4bK1' });
    expect(bad(`SIP/2.0 200 OK\r\n${MIN.replace('Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n', '')}\r\n`)).toMatchObject({ kind: 'missing_header', cseqMethod: 'OPTIONS' });
    expect(bad(`SIP/2.0 200 OK\r\n${MIN.replace('CSeq: 1 OPTIONS\r\n', '')}\r\n`).kind).toBe('missing_header');
    expect(bad(`SIP/2.0 200 OK\r\n${MIN}Content-Length: -1\r\n\r\n`).kind).toBe('bad_content_length');
    expect(bad(`SIP/2.0 200 OK\r\n${MIN}Content-Length: 1e3\r\n\r\n`).kind).toBe('bad_content_length');
    expect(bad(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 65)).kind).toBe('too_large');
  });

  it('treats a head cut mid-line as truncated, a missing final empty line after a whole line as complete', () => {
    expect(bad(`SIP/2.0 200 OK\r\n${MIN}Contact: <sip:a@`)).toMatchObject({ kind: 'truncated', viaBranch: 'z9hG4bK1', cseqMethod: 'OPTIONS' });
    expect(ok(`SIP/2.0 200 OK\r\n${MIN}`).callId).toBe('x');
  });
});

describe('getParam', () => {
  it('reads header params after the URI, not URI params inside <...>', () => {
    expect(getParam('<sip:a@b;expires=1>;expires=60', 'expires')).toBe('60');
    expect(getParam('<sip:a@b;expires=1>', 'expires')).toBeUndefined();
    expect(getParam('"x;expires=5" <sip:a@b>;tag=t', 'expires')).toBeUndefined();
    expect(getParam('"x;expires=5" <sip:a@b>;tag=t', 'tag')).toBe('t');
    expect(getParam('sip:a@b;tag=9', 'tag')).toBe('9');
  });

  it('matches names case-insensitively, unquotes values and returns "" for flags', () => {
    expect(getParam('SIP/2.0/UDP h:1;rport;Branch=z9hG4bKa', 'branch')).toBe('z9hG4bKa');
    expect(getParam('SIP/2.0/UDP h:1;rport;branch=x', 'RPORT')).toBe('');
    expect(getParam('SIP/2.0/UDP h:1 ; branch = x ;rport', 'branch')).toBe('x');
    expect(getParam('<sip:a@b>;p="a;b,c \\"d\\""', 'p')).toBe('a;b,c "d"');
    expect(getParam('<sip:a@b>;tagx=1;tag=2', 'tag')).toBe('2');
    expect(getParam('<sip:a@b>;tag', 'tag')).toBe('');
    expect(getParam('<sip:a@b>;x=1', 'tag')).toBeUndefined();
  });

  it('reads the first list element only', () => {
    expect(getParam('SIP/2.0/UDP a;branch=1, SIP/2.0/UDP b;branch=2', 'branch')).toBe('1');
    expect(getParam('SIP/2.0/UDP a, SIP/2.0/UDP b;branch=2', 'branch')).toBeUndefined();
    expect(getParam('<sip:a@b>, <sip:c@d>;expires=5', 'expires')).toBeUndefined();
    expect(getParam('"a, b" <sip:c@d>;expires=5', 'expires')).toBe('5');
  });

  it('reads IPv6 hosts and received values', () => {
    const via = 'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK6;rport=5061;received=2001:db8::9';
    expect([getParam(via, 'branch'), getParam(via, 'rport'), getParam(via, 'received')]).toEqual(['z9hG4bK6', '5061', '2001:db8::9']);
    const m = ok(`SIP/2.0 200 OK\r\nVia: ${via}\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n`);
    expect(m.viaBranch).toBe('z9hG4bK6');
  });
});

describe('parseNameAddr and splitList', () => {
  it('parses name-addr and addr-spec forms', () => {
    expect(parseNameAddr('"Agent 1" <sip:a@b>;tag=9')).toEqual({ displayName: 'Agent 1', uri: 'sip:a@b', params: { tag: '9' } });
    expect(parseNameAddr('Bob <sip:b@h;transport=tcp>;Expires=5;lr')).toEqual({ displayName: 'Bob', uri: 'sip:b@h;transport=tcp', params: { expires: '5', lr: '' } });
    expect(parseNameAddr('"a <b> \\"c\\"" <sip:x@y>')).toEqual({ displayName: 'a <b> "c"', uri: 'sip:x@y', params: {} });
    expect(parseNameAddr('sip:a@b;tag=9')).toEqual({ displayName: undefined, uri: 'sip:a@b', params: { tag: '9' } });
    expect(parseNameAddr('<sip:a@b>;p="x;y"')?.params).toEqual({ p: 'x;y' });
  });

  it('returns null without a URI', () => {
    expect(parseNameAddr('<sip:a@b')).toBeNull();
    expect(parseNameAddr('"only a name"')).toBeNull();
    expect(parseNameAddr('  ')).toBeNull();
    expect(parseNameAddr('<>')).toBeNull();
  });

  it('splits on commas outside quotes and <>', () => {
    expect(splitList('<sip:a@b;x=1,2>, "c,d" <sip:e@f> ,, g')).toEqual(['<sip:a@b;x=1,2>', '"c,d" <sip:e@f>', 'g']);
  });
});

describe('spelling does not change the parse (property)', () => {
  // The same message under random case, compact names, folding and line ends parses to the same fields.
  const spelled = (name: string, compact: string | undefined) =>
    fc.tuple(fc.boolean(), fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length })).map(([useCompact, upper]) => {
      const base = useCompact && compact ? compact : name;
      return [...base].map((ch, i) => (upper[i % upper.length] ? ch.toUpperCase() : ch.toLowerCase())).join('');
    });
  const token = fc.stringMatching(/^[A-Za-z0-9.\-_]{1,16}$/);

  it('holds for Via, Call-ID, CSeq, Content-Length and a body', () => {
    fc.assert(
      fc.property(
        spelled('Via', 'v'), spelled('Call-ID', 'i'), spelled('CSeq', undefined), spelled('Content-Length', 'l'),
        token, token, fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom('REGISTER', 'OPTIONS'),
        fc.constantFrom('\r\n', '\n'), fc.boolean(), fc.string({ unit: 'grapheme', maxLength: 20 }),
        (via, callIdName, cseqName, lengthName, branch, callId, cseq, method, eol, fold, body) => {
          const sep = fold ? `${eol} ` : ' ';
          const bytes = Buffer.byteLength(body);
          const text =
            `SIP/2.0 200 OK${eol}${via}:${sep}SIP/2.0/UDP h;branch=z9hG4bK${branch}${eol}${callIdName}:${sep}${callId}${eol}` +
            `${cseqName}: ${cseq}${sep}${method}${eol}${lengthName}:${sep}${bytes}${eol}${eol}${body}`;
          const m = ok(text);
          expect([m.viaBranch, m.callId, m.cseq, m.cseqMethod, m.body.toString('utf8')]).toEqual([`z9hG4bK${branch}`, callId, cseq, method, body]);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('header lookups on a parsed message', () => {
  // Names in several spellings (compact, odd case), values with commas, folding and repeats.
  const line = fc.tuple(
    fc.constantFrom('Contact', 'm', 'CONTACT', 'Expires', 'Retry-After', 'WWW-Authenticate', 'Supported', 'k', 'X-Custom', 'Date'),
    fc.constantFrom('<sip:a@h>;expires=60', '<sip:b@h>, <sip:c@h>;expires=5', 'Digest realm="a,b", nonce="1"', '30', '', 'path, gruu', 'x'),
    fc.boolean(),
  );
  it('answers getHeader and getHeaderValues alike before and after msg.headers is read, and after it is replaced (property)', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        const extra = lines.map(([name, value, folded]) => (folded ? `${name}: ${value}\r\n  ${value}` : `${name}: ${value}`)).join('\r\n');
        const text = `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n${extra ? `${extra}\r\n` : ''}\r\n`;
        const names = ['contact', 'expires', 'retry-after', 'www-authenticate', 'supported', 'x-custom', 'date', 'via', 'call-id', 'absent'];
        const lazy = ok(text);
        const before = names.map((n) => [getHeader(lazy, n), getHeaderValues(lazy, n)]);
        // A plain object with the same headers goes through the generic loops.
        const plain: SipMessage = { ...lazy, headers: lazy.headers };
        const after = names.map((n) => [getHeader(lazy, n), getHeaderValues(lazy, n)]);
        const generic = names.map((n) => [getHeader(plain, n), getHeaderValues(plain, n)]);
        expect(before).toEqual(generic);
        expect(after).toEqual(generic);
        lazy.headers = [{ name: 'contact', value: '<sip:z@h>' }];
        expect(getHeader(lazy, 'contact')).toBe('<sip:z@h>');
        expect(getHeader(lazy, 'via')).toBeUndefined();
        expect(getHeaderValues(lazy, 'm')).toEqual(['<sip:z@h>']);
      }),
      { numRuns: 300 },
    );
  });
});
