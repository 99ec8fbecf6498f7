import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSipMessage } from '../src/sip/parser.js';
import { buildRequest, buildResponse, type RequestParams } from '../src/sip/builder.js';
import { getHeader, getHeaderValues, getParam, parseNameAddr, canonicalHeaderName } from '../src/sip/headers.js';
import type { SipMessage } from '../src/sip/message.js';

function ok(text: string | Buffer): SipMessage {
  const r = parseSipMessage(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'));
  if (!r.ok) throw new Error(`expected a parse, got ${r.kind}: ${r.detail}`);
  return r.message;
}

const OK_200 =
  'SIP/2.0 200 OK\r\n' +
  'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport=5070;received=127.0.0.1\r\n' +
  'From: <sip:agent0001@127.0.0.1>;tag=1\r\nTo: <sip:agent0001@127.0.0.1>;tag=2\r\n' +
  'Call-ID: c1@h\r\nCSeq: 7 REGISTER\r\nContact: <sip:agent0001@127.0.0.1:5070>;expires=60\r\nContent-Length: 0\r\n\r\n';

describe('parser', () => {
  it('reads a status line, the hot fields and every header in order', () => {
    const m = ok(OK_200);
    expect(m.kind).toBe('response');
    expect([m.status, m.reason, m.viaBranch, m.cseq, m.cseqMethod, m.callId]).toEqual([200, 'OK', 'z9hG4bKabc', 7, 'REGISTER', 'c1@h']);
    expect(m.headers.map((h) => h.name)).toEqual(['via', 'from', 'to', 'call-id', 'cseq', 'contact', 'content-length']);
  });

  it('reads a request line', () => {
    const m = ok('OPTIONS sip:agent0001@127.0.0.1 SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bKx\r\ni: a\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n');
    expect([m.kind, m.method, m.requestUri]).toEqual(['request', 'OPTIONS', 'sip:agent0001@127.0.0.1']);
  });

  it('expands compact names, any case', () => {
    const m = ok('SIP/2.0 401 Unauthorized\r\nV: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:a@b>;tag=1\r\nt: <sip:a@b>\r\nI: x\r\ncseq: 2 REGISTER\r\nm: <sip:a@c>\r\nL: 0\r\n\r\n');
    expect(m.viaBranch).toBe('z9hG4bK1');
    expect(m.callId).toBe('x');
    expect(getHeader(m, 'Contact')).toBe('<sip:a@c>');
    expect(getHeader(m, 'm')).toBe('<sip:a@c>');
    expect(canonicalHeaderName('K')).toBe('supported');
  });

  it('joins folded lines and splits repeated and comma-joined headers', () => {
    const m = ok(
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKtop,\r\n SIP/2.0/UDP b;branch=z9hG4bKb\r\nVia: SIP/2.0/TCP c;branch=z9hG4bKc\r\n' +
        'Call-ID: x\r\nCSeq: 1\r\n\t OPTIONS\r\nWWW-Authenticate: Digest realm="a,b", nonce="1"\r\nContent-Length: 0\r\n\r\n',
    );
    expect(m.viaBranch).toBe('z9hG4bKtop');
    expect(m.cseqMethod).toBe('OPTIONS');
    expect(getHeaderValues(m, 'via')).toHaveLength(3);
    expect(getHeaderValues(m, 'www-authenticate')).toEqual(['Digest realm="a,b", nonce="1"']);
  });

  it('counts Content-Length in bytes, not characters', () => {
    const body = 'h\u00e9llo \u2603'; // 11 bytes in UTF-8, 8 characters
    const text = `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    expect(ok(text).body.toString('utf8')).toBe(body);
    const short = text.replace(`Content-Length: ${Buffer.byteLength(body)}`, `Content-Length: ${Buffer.byteLength(body) + 3}`);
    expect(parseSipMessage(Buffer.from(short))).toMatchObject({ ok: false, kind: 'truncated' });
  });

  it('tolerates bare LF line ends', () => {
    expect(ok(OK_200.replace(/\r\n/g, '\n')).status).toBe(200);
  });

  it('classifies malformed input and keeps the branch when it can', () => {
    expect(parseSipMessage(Buffer.alloc(0))).toMatchObject({ ok: false, kind: 'empty' });
    expect(parseSipMessage(Buffer.from('SIP/2.0 abc OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\nCSeq: 3 OPTIONS\r\n\r\n'))).toMatchObject({
      ok: false,
      kind: 'bad_start_line',
      viaBranch: 'z9hG4bKq',
      cseqMethod: 'OPTIONS',
    });
    expect(parseSipMessage(Buffer.from(OK_200.replace('CSeq: 7 REGISTER', 'CSeq: seven')))).toMatchObject({ ok: false, kind: 'bad_cseq' });
    expect(parseSipMessage(Buffer.from(OK_200.replace('Call-ID: c1@h\r\n', '')))).toMatchObject({ ok: false, kind: 'missing_header' });
    expect(parseSipMessage(Buffer.from(OK_200.replace('Content-Length: 0', 'Content-Length: -1')))).toMatchObject({ ok: false, kind: 'bad_content_length' });
    expect(parseSipMessage(Buffer.from(OK_200.replace('SIP/2.0 200', 'SIP/2.0 999')))).toMatchObject({ ok: false, kind: 'bad_start_line' });
    expect(parseSipMessage(Buffer.alloc(70_000, 65))).toMatchObject({ ok: false, kind: 'too_large' });
  });
});

describe('header helpers', () => {
  it('reads params after the URI, not inside it', () => {
    expect(getParam('<sip:a@b;expires=1>;expires=60', 'expires')).toBe('60');
    expect(getParam('<sip:a@b;expires=1>', 'expires')).toBeUndefined();
    expect(getParam('SIP/2.0/UDP h:1;rport;Branch=z9hG4bKa', 'branch')).toBe('z9hG4bKa');
    expect(getParam('SIP/2.0/UDP h:1;rport;branch=x', 'rport')).toBe('');
  });

  it('parses name-addr forms', () => {
    expect(parseNameAddr('"Agent 1" <sip:a@b>;tag=9')).toEqual({ displayName: 'Agent 1', uri: 'sip:a@b', params: { tag: '9' } });
    expect(parseNameAddr('sip:a@b;tag=9')).toEqual({ displayName: undefined, uri: 'sip:a@b', params: { tag: '9' } });
    expect(parseNameAddr('<sip:a@b')).toBeNull();
  });
});

const token = fc.stringMatching(/^[a-zA-Z0-9]{1,12}$/);
const requestParams: fc.Arbitrary<RequestParams> = fc.record({
  method: fc.constantFrom('REGISTER' as const, 'OPTIONS' as const),
  requestUri: token.map((t) => `sip:${t}@example.org`),
  viaProtocol: fc.constantFrom('UDP', 'TCP'),
  viaHost: fc.constantFrom('127.0.0.1', '::1', 'host.example'),
  viaPort: fc.integer({ min: 1, max: 65535 }),
  branch: token.map((t) => `z9hG4bK${t}`),
  fromUri: token.map((t) => `sip:${t}@example.org`),
  fromTag: token,
  toUri: token.map((t) => `sip:${t}@example.org`),
  callId: token.map((t) => `${t}@h`),
  cseq: fc.integer({ min: 1, max: 2 ** 31 }),
  contactUri: fc.option(token.map((t) => `sip:${t}@127.0.0.1:5060`), { nil: undefined }),
  expires: fc.option(fc.integer({ min: 0, max: 86400 }), { nil: undefined }),
  authorization: fc.option(fc.record({ proxy: fc.boolean(), value: token.map((t) => `Digest username="${t}"`) }), { nil: undefined }),
  userAgent: fc.constant('sipstorm/test'),
});

describe('builder', () => {
  it('round-trips every field through the parser (property)', () => {
    fc.assert(
      fc.property(requestParams, (p) => {
        const m = ok(buildRequest(p));
        expect([m.method, m.requestUri, m.viaBranch, m.cseq, m.cseqMethod, m.callId]).toEqual([p.method, p.requestUri, p.branch, p.cseq, p.method, p.callId]);
        expect(getHeader(m, 'via')).toContain(p.viaHost.includes(':') ? `[${p.viaHost}]:${p.viaPort}` : `${p.viaHost}:${p.viaPort}`);
        expect(getParam(getHeader(m, 'from')!, 'tag')).toBe(p.fromTag);
        if (p.expires !== undefined) expect(getHeader(m, 'expires')).toBe(String(p.expires));
        if (p.authorization) expect(getHeader(m, p.authorization.proxy ? 'proxy-authorization' : 'authorization')).toBe(p.authorization.value);
      }),
      { numRuns: 300 },
    );
  });

  it('builds a response that copies the dialog fields and stamps received/rport', () => {
    const req = ok(
      buildRequest({
        method: 'REGISTER', requestUri: 'sip:h', viaProtocol: 'UDP', viaHost: '127.0.0.1', viaPort: 5999, branch: 'z9hG4bKr',
        fromUri: 'sip:a@h', fromTag: 'ft', toUri: 'sip:a@h', callId: 'cid', cseq: 4, userAgent: 'x',
      }),
    );
    const res = ok(buildResponse(req, 401, 'Unauthorized', { toTag: 'tt', received: { host: '127.0.0.2', port: 6000 }, extraHeaders: ['Retry-After: 2'] }));
    expect([res.status, res.viaBranch, res.cseq, res.cseqMethod, res.callId]).toEqual([401, 'z9hG4bKr', 4, 'REGISTER', 'cid']);
    const via = getHeader(res, 'via')!;
    expect(getParam(via, 'rport')).toBe('6000');
    expect(getParam(via, 'received')).toBe('127.0.0.2');
    expect(getParam(getHeader(res, 'to')!, 'tag')).toBe('tt');
    expect(getHeader(res, 'retry-after')).toBe('2');
  });
});
