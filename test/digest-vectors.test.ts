import { describe, expect, it } from 'vitest';
import {
  buildAuthorization, digestResponse, formatChallenge, formatNc, parseAuthorization, parseChallenge, verifyAuthorization,
  DIGEST_ALGORITHMS,
} from '../src/sip/digest.js';

// RFC 7616 section 3.9.1.
const RFC = {
  username: 'Mufasa', password: 'Circle of Life', realm: 'http-auth@example.org', method: 'GET', uri: '/dir/index.html',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', nc: '00000001', qop: 'auth' as const,
};

describe('digest (RFC 2617 / 7616 / 8760)', () => {
  it('matches the RFC 7616 3.9.1 MD5 and SHA-256 vectors', () => {
    expect(digestResponse({ ...RFC, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
    expect(digestResponse({ ...RFC, algorithm: 'SHA-256' })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('uses SHA-512/256 proper (not truncated SHA-512)', () => {
    const r = digestResponse({ ...RFC, algorithm: 'SHA-512-256' });
    expect(r).toHaveLength(64);
    expect(r).not.toBe(digestResponse({ ...RFC, algorithm: 'SHA-256' }));
  });

  it('formats nc as 8 lower-case hex digits', () => {
    expect(formatNc(1)).toBe('00000001');
    expect(formatNc(255)).toBe('000000ff');
  });

  it('parses challenges: algorithm, qop list, stale, opaque; rejects non-Digest', () => {
    const c = parseChallenge('Digest realm="r", nonce="n", opaque="o", algorithm=SHA-256, qop="auth,auth-int", stale=TRUE', false)!;
    expect(c).toEqual({ realm: 'r', nonce: 'n', opaque: 'o', algorithm: 'SHA-256', qop: ['auth', 'auth-int'], stale: true, proxy: false });
    expect(parseChallenge('Digest realm="r", nonce="n"', true)).toMatchObject({ algorithm: 'MD5', qop: [], stale: false, proxy: true });
    expect(parseChallenge('Basic realm="r"', false)).toBeNull();
    expect(parseChallenge('Digest realm="r", nonce="n", algorithm=SHA-1', false)).toBeNull();
  });

  for (const algorithm of DIGEST_ALGORITHMS) {
    for (const qop of [['auth'], []]) {
      it(`client and server agree: ${algorithm}, qop ${qop.join() || 'none'}`, () => {
        const challenge = parseChallenge(formatChallenge({ realm: 'lab', nonce: 'abc123', algorithm, qop, stale: false }), false)!;
        const header = buildAuthorization(challenge, 'agent0007', 'secret0007', 'REGISTER', 'sip:127.0.0.1', 3, 'c0ffee');
        const auth = parseAuthorization(header)!;
        expect(auth).toMatchObject({ username: 'agent0007', realm: 'lab', nonce: 'abc123', uri: 'sip:127.0.0.1', algorithm });
        if (qop.length) expect(auth).toMatchObject({ qop: 'auth', nc: '00000003', cnonce: 'c0ffee' });
        expect(verifyAuthorization(auth, 'secret0007', 'REGISTER')).toBe(true);
        expect(verifyAuthorization(auth, 'wrong', 'REGISTER')).toBe(false);
        expect(verifyAuthorization(auth, 'secret0007', 'OPTIONS')).toBe(false);
      });
    }
  }
});
