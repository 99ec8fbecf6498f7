import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSipMessage } from '../src/sip/parser.js';
import { RequestTemplate, buildRequest, buildResponse, type RequestParams } from '../src/sip/builder.js';
import { getHeader, getHeaderValues, getParam, parseNameAddr } from '../src/sip/headers.js';
import { newBranch, newCallId, newTag, randomHex } from '../src/sip/random.js';
import type { SipMessage } from '../src/sip/message.js';

function ok(buf: Buffer | string): SipMessage {
  const r = parseSipMessage(Buffer.isBuffer(buf) ? buf : Buffer.from(buf));
  if (!r.ok) throw new Error(`expected a parse, got ${r.kind}: ${r.detail}`);
  return r.message;
}

const BASE: RequestParams = {
  method: 'REGISTER', requestUri: 'sip:example.net', viaProtocol: 'UDP', viaHost: '127.0.0.1', viaPort: 5999, branch: 'z9hG4bKr',
  fromUri: 'sip:agent0001@example.net', fromTag: 'ft', toUri: 'sip:agent0001@example.net', callId: 'cid@h', cseq: 4, userAgent: 'sipstorm/test',
};

const token = fc.stringMatching(/^[a-zA-Z0-9]{1,12}$/);
const requestParams: fc.Arbitrary<RequestParams> = fc.record({
  method: fc.constantFrom('REGISTER' as const, 'OPTIONS' as const),
  requestUri: token.map((t) => `sip:${t}@example.org`),
  viaProtocol: fc.constantFrom('UDP', 'TCP', 'TLS'),
  viaHost: fc.constantFrom('127.0.0.1', '::1', '2001:db8::17', '[::1]', 'host.example'),
  viaPort: fc.integer({ min: 1, max: 65535 }),
  branch: token.map((t) => `z9hG4bK${t}`),
  fromUri: token.map((t) => `sip:${t}@example.org`),
  fromTag: token,
  toUri: token.map((t) => `sip:${t}@example.org`),
  callId: token.map((t) => `${t}@h`),
  cseq: fc.integer({ min: 1, max: 2 ** 31 }),
  contactUri: fc.option(token.map((t) => `sip:${t}@127.0.0.1:5060`), { nil: undefined }),
  expires: fc.option(fc.integer({ min: 0, max: 86400 }), { nil: undefined }),
  authorization: fc.option(fc.record({ proxy: fc.boolean(), value: token.map((t) => `Digest username="${t}", realm="r"`) }), { nil: undefined }),
  userAgent: fc.constantFrom('sipstorm/0.1', 'sipstorm \u00e9t\u00e9 \u2603'),
  maxForwards: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
});

const bracketed = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

describe('buildRequest', () => {
  it('round-trips every field through the parser (property)', () => {
    fc.assert(
      fc.property(requestParams, (p) => {
        const buf = buildRequest(p);
        const m = ok(buf);
        expect([m.kind, m.method, m.requestUri, m.viaBranch, m.cseq, m.cseqMethod, m.callId]).toEqual(['request', p.method, p.requestUri, p.branch, p.cseq, p.method, p.callId]);
        const via = getHeader(m, 'via')!;
        expect(via).toBe(`SIP/2.0/${p.viaProtocol} ${bracketed(p.viaHost)}:${p.viaPort};branch=${p.branch};rport`);
        expect(getParam(via, 'rport')).toBe('');
        expect(getHeader(m, 'max-forwards')).toBe(String(p.maxForwards ?? 70));
        expect(parseNameAddr(getHeader(m, 'from')!)).toEqual({ displayName: undefined, uri: p.fromUri, params: { tag: p.fromTag } });
        expect(parseNameAddr(getHeader(m, 'to')!)).toEqual({ displayName: undefined, uri: p.toUri, params: {} });
        expect(getHeader(m, 'user-agent')).toBe(p.userAgent);
        expect(getHeader(m, 'content-length')).toBe('0');
        expect(getHeader(m, 'expires')).toBe(p.expires === undefined ? undefined : String(p.expires));
        if (p.contactUri !== undefined) {
          const contact = parseNameAddr(getHeader(m, 'contact')!);
          expect(contact?.uri).toBe(p.contactUri);
          expect(contact?.params.expires).toBe(p.expires === undefined ? undefined : String(p.expires));
        } else expect(getHeader(m, 'contact')).toBeUndefined();
        expect(getHeader(m, 'authorization')).toBe(p.authorization && !p.authorization.proxy ? p.authorization.value : undefined);
        expect(getHeader(m, 'proxy-authorization')).toBe(p.authorization?.proxy ? p.authorization.value : undefined);
        // CRLF line ends only, and the blank line ends the message (Content-Length: 0).
        const text = buf.toString('utf8');
        expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
        expect(text.endsWith('\r\n\r\n')).toBe(true);
        expect(m.body.length).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('a kept RequestTemplate builds every later request exactly as a fresh buildRequest does (property)', () => {
    const variable = fc.record({
      branch: token.map((t) => `z9hG4bK${t}`),
      cseq: fc.integer({ min: 1, max: 2 ** 31 }),
      expires: fc.option(fc.integer({ min: 0, max: 86400 }), { nil: undefined }),
      authorization: fc.option(fc.record({ proxy: fc.boolean(), value: token.map((t) => `Digest username="${t}"`) }), { nil: undefined }),
    });
    fc.assert(
      fc.property(requestParams, fc.array(variable, { minLength: 1, maxLength: 6 }), (fixed, requests) => {
        const template = new RequestTemplate(fixed);
        for (const r of requests) {
          const kept = template.build(r.branch, r.cseq, r.expires, r.authorization);
          expect(kept.toString('utf8')).toBe(buildRequest({ ...fixed, ...r }).toString('utf8'));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('writes a REGISTER refresh and an unregister (expires 0) in both Contact and Expires', () => {
    const text = buildRequest({ ...BASE, contactUri: 'sip:agent0001@127.0.0.1:5999', expires: 0 }).toString();
    expect(text).toContain('\r\nContact: <sip:agent0001@127.0.0.1:5999>;expires=0\r\n');
    expect(text).toContain('\r\nExpires: 0\r\n');
    expect(text.startsWith('REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKr;rport\r\nMax-Forwards: 70\r\n')).toBe(true);
  });

  it('brackets an IPv6 Via host once', () => {
    expect(buildRequest({ ...BASE, viaHost: '::1' }).toString()).toContain('Via: SIP/2.0/UDP [::1]:5999;');
    expect(buildRequest({ ...BASE, viaHost: '[::1]' }).toString()).toContain('Via: SIP/2.0/UDP [::1]:5999;');
  });
});

describe('buildResponse', () => {
  const request = (over: Partial<RequestParams> = {}) => ok(buildRequest({ ...BASE, ...over }));

  it('copies the dialog fields, tags To, stamps received and rport, adds extra headers', () => {
    const res = ok(buildResponse(request(), 401, 'Unauthorized', { toTag: 'tt', received: { host: '127.0.0.2', port: 6000 }, extraHeaders: ['WWW-Authenticate: Digest realm="r", nonce="n"', 'Retry-After: 2'] }));
    expect([res.kind, res.status, res.reason, res.viaBranch, res.cseq, res.cseqMethod, res.callId]).toEqual(['response', 401, 'Unauthorized', 'z9hG4bKr', 4, 'REGISTER', 'cid@h']);
    const via = getHeader(res, 'via')!;
    expect([getParam(via, 'rport'), getParam(via, 'received')]).toEqual(['6000', '127.0.0.2']);
    expect(getParam(getHeader(res, 'from')!, 'tag')).toBe('ft');
    expect(getParam(getHeader(res, 'to')!, 'tag')).toBe('tt');
    expect(getHeaderValues(res, 'www-authenticate')).toEqual(['Digest realm="r", nonce="n"']);
    expect(getHeader(res, 'retry-after')).toBe('2');
    expect(getHeader(res, 'content-length')).toBe('0');
    expect(getHeader(res, 'contact')).toBeUndefined(); // not copied
  });

  it('round-trips branch, CSeq, Call-ID, received and rport for any request (property)', () => {
    fc.assert(
      fc.property(requestParams, fc.integer({ min: 100, max: 699 }), fc.constantFrom('127.0.0.9', '2001:db8::9'), fc.integer({ min: 1, max: 65535 }), (p, status, host, port) => {
        const req = ok(buildRequest(p));
        const res = ok(buildResponse(req, status, 'Reason Phrase', { toTag: 'abc', received: { host, port } }));
        expect([res.status, res.viaBranch, res.cseq, res.cseqMethod, res.callId]).toEqual([status, p.branch, p.cseq, p.method, p.callId]);
        const via = getHeader(res, 'via')!;
        expect([getParam(via, 'received'), getParam(via, 'rport'), getParam(via, 'branch')]).toEqual([host, String(port), p.branch]);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps an existing To tag and adds none without toTag', () => {
    const tagged = ok('OPTIONS sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:b@h>;tag=f\r\nTo: <sip:a@h>;tag=old\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n');
    expect(getParam(getHeader(ok(buildResponse(tagged, 200, 'OK', { toTag: 'new' })), 'to')!, 'tag')).toBe('old');
    expect(getParam(getHeader(ok(buildResponse(request(), 200, 'OK')), 'to')!, 'tag')).toBeUndefined();
  });

  it('copies every Via in order and stamps only the top one; rport only when asked for', () => {
    const req = ok(
      'OPTIONS sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP p1;branch=z9hG4bKtop;received=1.1.1.1, SIP/2.0/UDP p2;branch=z9hG4bK2;rport\r\n' +
        'v: SIP/2.0/TCP p3;branch=z9hG4bK3\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n',
    );
    const res = ok(buildResponse(req, 200, 'OK', { received: { host: '10.0.0.1', port: 7000 } }));
    const vias = getHeaderValues(res, 'via');
    expect(vias).toEqual(['SIP/2.0/UDP p1;branch=z9hG4bKtop;received=10.0.0.1', 'SIP/2.0/UDP p2;branch=z9hG4bK2;rport', 'SIP/2.0/TCP p3;branch=z9hG4bK3']);
    expect(res.headers.filter((h) => h.name === 'via')).toHaveLength(2);
  });

  it('leaves the Via alone without received', () => {
    const res = ok(buildResponse(request(), 200, 'OK'));
    expect(getHeader(res, 'via')).toBe('SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKr;rport');
  });

  it('round-trips UTF-8 in copied headers', () => {
    const req = ok(Buffer.from('OPTIONS sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: "J\u00e4s\u00f8n \u2603" <sip:j@h>;tag=1\r\nTo: <sip:a@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n'));
    const res = ok(buildResponse(req, 200, 'OK'));
    expect(parseNameAddr(getHeader(res, 'from')!)?.displayName).toBe('J\u00e4s\u00f8n \u2603');
  });
});

describe('random ids', () => {
  it('makes branches with the magic cookie and 96 random bits, unique', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const b = newBranch();
      expect(b).toMatch(/^z9hG4bK[0-9a-f]{24}$/);
      seen.add(b);
    }
    expect(seen.size).toBe(5000);
  });

  it('makes tags, Call-IDs and hex of any length (also past the pool size)', () => {
    expect(newTag()).toMatch(/^[0-9a-f]{16}$/);
    expect(newCallId('::1')).toMatch(/^[0-9a-f]{32}@::1$/);
    for (const n of [0, 1, 7, 2048, 3000, 10_000]) expect(randomHex(n)).toMatch(new RegExp(`^[0-9a-f]{${2 * n}}$`));
    expect(randomHex(16)).not.toBe(randomHex(16));
  });

  it('spreads bits evenly (each hex digit roughly uniform over many draws)', () => {
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 4000; i++) for (const ch of randomHex(8)) counts[parseInt(ch, 16)]++;
    // 64,000 digits: 4,000 expected per value; 5 sigma is about 300.
    for (const c of counts) expect(Math.abs(c - 4000)).toBeLessThan(400);
  });
});
