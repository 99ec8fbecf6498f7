import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DIGEST_ALGORITHMS, DigestSigner, buildAuthorization, digestResponse, formatChallenge, formatNc, parseAuthorization, parseChallenge,
  userhashOf, verifyAuthorization, type DigestAlgorithm, type DigestChallenge,
} from '../src/sip/digest.js';

// RFC 7616 section 3.9.1 (the challenge and credentials as printed there).
const RFC7616 = {
  username: 'Mufasa', password: 'Circle of Life', realm: 'http-auth@example.org', method: 'GET', uri: '/dir/index.html',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS', nc: '00000001', qop: 'auth' as const,
};
const RFC7616_CHALLENGE = (algorithm: string) =>
  `Digest\r\n realm="http-auth@example.org",\r\n qop="auth, auth-int",\r\n algorithm=${algorithm},\r\n nonce="${RFC7616.nonce}",\r\n opaque="${RFC7616.opaque}"`.replace(/\r\n/g, '');

/** Independent reference: createHash, written out from the RFC 7616 3.4.1 formulas. */
function reference(alg: DigestAlgorithm, p: { username: string; realm: string; password: string; method: string; uri: string; nonce: string; cnonce: string; nc: string; qop?: string }): string {
  const name = alg.startsWith('MD5') ? 'md5' : alg.startsWith('SHA-256') ? 'sha256' : 'sha512-256';
  const H = (s: string) => createHash(name).update(Buffer.from(s, 'utf8')).digest('hex');
  let a1 = H(`${p.username}:${p.realm}:${p.password}`);
  if (alg.endsWith('-sess')) a1 = H(`${a1}:${p.nonce}:${p.cnonce}`);
  const a2 = H(`${p.method}:${p.uri}`);
  return p.qop ? H(`${a1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${a2}`) : H(`${a1}:${p.nonce}:${a2}`);
}

describe('RFC vectors', () => {
  it('RFC 7616 3.9.1: MD5 and SHA-256 responses', () => {
    expect(digestResponse({ ...RFC7616, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
    expect(digestResponse({ ...RFC7616, algorithm: 'SHA-256' })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('RFC 7616 3.9.1: from the printed challenge to the printed Authorization', () => {
    for (const [algorithm, response] of [
      ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
      ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
    ] as const) {
      const challenge = parseChallenge(RFC7616_CHALLENGE(algorithm), false)!;
      expect(challenge).toEqual({ realm: RFC7616.realm, nonce: RFC7616.nonce, opaque: RFC7616.opaque, algorithm, qop: ['auth', 'auth-int'], stale: false, proxy: false });
      const header = buildAuthorization(challenge, 'Mufasa', 'Circle of Life', 'GET', '/dir/index.html', 1, RFC7616.cnonce);
      expect(parseAuthorization(header)).toEqual({
        username: 'Mufasa', realm: RFC7616.realm, nonce: RFC7616.nonce, uri: '/dir/index.html', response, algorithm,
        cnonce: RFC7616.cnonce, nc: '00000001', qop: 'auth', opaque: RFC7616.opaque,
      });
      expect(verifyAuthorization(parseAuthorization(header)!, 'Circle of Life', 'GET')).toBe(true);
    }
  });

  it('RFC 2617 3.5: MD5 with qop=auth', () => {
    expect(
      digestResponse({
        algorithm: 'MD5', username: 'Mufasa', realm: 'testrealm@host.com', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', cnonce: '0a4f113b', nc: '00000001', qop: 'auth',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('SHA-512-256 is SHA-512/256 (FIPS 180-4), not SHA-512 cut to 256 bits', () => {
    // FIPS 180-4 example: SHA-512/256("abc").
    const abc = createHash('sha512-256').update('abc').digest('hex');
    expect(abc).toBe('53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23');
    // RFC 7616 3.9.2 inputs. The RFC's printed userhash and response were computed with a truncated
    // SHA-512 (reproduced below from those same inputs; errata report 4897 is about this example), so
    // a correct SHA-512/256 must give different values.
    const user = 'J\u00e4s\u00f8n Doe';
    const realm = 'api@example.org';
    const p = {
      username: user, realm, password: 'Secret, or not?', method: 'GET', uri: '/doe.json', nonce: '5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK',
      cnonce: 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v', nc: '00000001', qop: 'auth' as const,
    };
    const truncated = (s: string) => createHash('sha512').update(s, 'utf8').digest('hex').slice(0, 64);
    const ha1 = truncated(`${user}:${realm}:${p.password}`);
    const ha2 = truncated('GET:/doe.json');
    expect(truncated(`${user}:${realm}`)).toBe('488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec');
    expect(truncated(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`)).toBe('ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd');
    expect(userhashOf('SHA-512-256', user, realm)).toBe('793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b');
    expect(digestResponse({ ...p, algorithm: 'SHA-512-256' })).toBe('3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5');
    expect(digestResponse({ ...p, algorithm: 'SHA-512-256' })).toBe(reference('SHA-512-256', p));
  });

  it('RFC 7616 3.9.2 flow: userhash challenge, hashed user name, verified with the real one', () => {
    const challenge = parseChallenge(
      'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true',
      false,
    )!;
    expect(challenge).toMatchObject({ algorithm: 'SHA-512-256', userhash: true });
    const header = buildAuthorization(challenge, 'J\u00e4s\u00f8n Doe', 'Secret, or not?', 'GET', '/doe.json', 1, 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v');
    const auth = parseAuthorization(header)!;
    expect(auth).toMatchObject({ username: userhashOf('SHA-512-256', 'J\u00e4s\u00f8n Doe', 'api@example.org'), userhash: true, response: '3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5' });
    expect(verifyAuthorization(auth, 'Secret, or not?', 'GET', 'J\u00e4s\u00f8n Doe')).toBe(true);
    expect(verifyAuthorization(auth, 'Secret, or not?', 'GET')).toBe(false); // the hash is not the user name
  });
});

describe('formulas against an independent reference', () => {
  it('every algorithm, qop auth and none, -sess with cnonce (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DIGEST_ALGORITHMS), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 12 }),
        fc.stringMatching(/^[A-Za-z0-9+/=]{1,30}$/), fc.stringMatching(/^[0-9a-f]{1,16}$/), fc.integer({ min: 1, max: 0xffffffff }), fc.boolean(),
        (algorithm, username, realm, password, nonce, cnonce, nc, withQop) => {
          const p = { username, realm, password, method: 'REGISTER', uri: 'sip:example.net', nonce, cnonce, nc: formatNc(nc), qop: withQop ? ('auth' as const) : undefined };
          expect(digestResponse({ ...p, algorithm })).toBe(reference(algorithm, p));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('formats nc as 8 lower-case hex digits', () => {
    expect([formatNc(1), formatNc(255), formatNc(0xabcdef), formatNc(0xffffffff)]).toEqual(['00000001', '000000ff', '00abcdef', 'ffffffff']);
  });
});

describe('challenges', () => {
  it('parses algorithm, qop list, stale, opaque in any case and spacing; defaults to MD5', () => {
    expect(parseChallenge('Digest realm="r", nonce="n", opaque="o", algorithm=sha-256, qop="auth,auth-int", stale=TRUE', true)).toEqual({
      realm: 'r', nonce: 'n', opaque: 'o', algorithm: 'SHA-256', qop: ['auth', 'auth-int'], stale: true, proxy: true,
    });
    expect(parseChallenge('digest   nonce=abc ,realm="a \\"quoted\\", realm" , stale=false', false)).toEqual({
      realm: 'a "quoted", realm', nonce: 'abc', algorithm: 'MD5', qop: [], stale: false, proxy: false,
    });
    expect(parseChallenge('Digest realm="r", nonce="n", algorithm="SHA-512-256-sess"', false)?.algorithm).toBe('SHA-512-256-sess');
  });

  it('rejects non-Digest, unsupported algorithms and missing realm or nonce', () => {
    expect(parseChallenge('Basic realm="r"', false)).toBeNull();
    expect(parseChallenge('DigestX realm="r", nonce="n"', false)).toBeNull();
    expect(parseChallenge('Digest realm="r", nonce="n", algorithm=SHA-1', false)).toBeNull();
    expect(parseChallenge('Digest realm="r"', false)).toBeNull();
    expect(parseChallenge('Digest nonce="n"', false)).toBeNull();
    expect(parseChallenge('', false)).toBeNull();
  });

  it('formatChallenge writes the header value the brief names and parses back (property)', () => {
    expect(formatChallenge({ realm: 'lab', nonce: 'abc', algorithm: 'SHA-256', qop: ['auth'], stale: true })).toBe('Digest realm="lab", nonce="abc", algorithm=SHA-256, qop="auth", stale=true');
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }), fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom(...DIGEST_ALGORITHMS), fc.subarray(['auth', 'auth-int']),
        fc.boolean(), fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
        (realm, nonce, algorithm, qop, stale, opaque) => {
          const c = { realm, nonce, algorithm, qop, stale, ...(opaque !== undefined ? { opaque } : {}) };
          expect(parseChallenge(formatChallenge(c), false)).toEqual({ ...c, proxy: false });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Authorization, client and server', () => {
  for (const algorithm of DIGEST_ALGORITHMS) {
    for (const qop of [['auth'], [], ['auth-int']]) {
      it(`client and server agree: ${algorithm}, qop offered ${qop.join() || 'none'}`, () => {
        const challenge = parseChallenge(formatChallenge({ realm: 'lab', nonce: 'abc123', algorithm, qop, stale: false, opaque: 'op' }), true)!;
        const header = buildAuthorization(challenge, 'agent0007', 'secret0007', 'REGISTER', 'sip:127.0.0.1', 3, 'c0ffee');
        const auth = parseAuthorization(header)!;
        expect(auth).toMatchObject({ username: 'agent0007', realm: 'lab', nonce: 'abc123', uri: 'sip:127.0.0.1', algorithm, opaque: 'op' });
        if (qop.includes('auth')) expect(auth).toMatchObject({ qop: 'auth', nc: '00000003', cnonce: 'c0ffee' });
        else {
          // RFC 2069 form (auth-int is not offered back): no qop or nc; cnonce only for -sess.
          expect(auth.qop).toBeUndefined();
          expect(auth.nc).toBeUndefined();
          expect(auth.cnonce).toBe(algorithm.endsWith('-sess') ? 'c0ffee' : undefined);
        }
        expect(auth.response).toBe(reference(algorithm, { username: 'agent0007', realm: 'lab', password: 'secret0007', method: 'REGISTER', uri: 'sip:127.0.0.1', nonce: 'abc123', cnonce: 'c0ffee', nc: '00000003', qop: auth.qop }));
        expect(verifyAuthorization(auth, 'secret0007', 'REGISTER')).toBe(true);
        expect(verifyAuthorization(auth, 'wrong', 'REGISTER')).toBe(false);
        expect(verifyAuthorization(auth, 'secret0007', 'OPTIONS')).toBe(false);
        expect(verifyAuthorization({ ...auth, nonce: 'abc124' }, 'secret0007', 'REGISTER')).toBe(false);
        expect(verifyAuthorization({ ...auth, uri: 'sip:127.0.0.2' }, 'secret0007', 'REGISTER')).toBe(false);
        expect(verifyAuthorization({ ...auth, response: auth.response.toUpperCase() }, 'secret0007', 'REGISTER')).toBe(true);
        if (auth.nc) expect(verifyAuthorization({ ...auth, nc: '00000004' }, 'secret0007', 'REGISTER')).toBe(false);
      });
    }
  }

  it('any user name and password round-trip, quoting included (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }), fc.string({ unit: 'grapheme', maxLength: 16 }), fc.constantFrom(...DIGEST_ALGORITHMS), (user, password, algorithm) => {
        const challenge = { realm: 'r"e\\alm', nonce: 'n', algorithm, qop: ['auth'], stale: false, proxy: false };
        const auth = parseAuthorization(buildAuthorization(challenge, user, password, 'REGISTER', 'sip:h', 1, 'cn'))!;
        expect([auth.username, auth.realm]).toEqual([user, 'r"e\\alm']);
        expect(verifyAuthorization(auth, password, 'REGISTER')).toBe(true);
        expect(verifyAuthorization(auth, `${password}x`, 'REGISTER')).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('parseAuthorization: null without a required field; username* (RFC 8187) decoded', () => {
    const full = 'Digest username="u", realm="r", nonce="n", uri="sip:h", response="0123"';
    expect(parseAuthorization(full)).toMatchObject({ username: 'u', algorithm: 'MD5' });
    for (const field of ['username="u", ', 'realm="r", ', 'nonce="n", ', 'uri="sip:h", ', ', response="0123"']) expect(parseAuthorization(full.replace(field, ''))).toBeNull();
    expect(parseAuthorization('Basic dTpw')).toBeNull();
    expect(parseAuthorization(`${full}, algorithm=SHA-1`)).toBeNull();
    expect(parseAuthorization(full.replace('username="u"', "username*=UTF-8''J%C3%A4s%C3%B8n%20Doe"))?.username).toBe('J\u00e4s\u00f8n Doe');
  });

  it('verify refuses qop other than auth, and qop or -sess without cnonce', () => {
    const base = parseAuthorization(buildAuthorization({ realm: 'r', nonce: 'n', algorithm: 'MD5-sess', qop: ['auth'], stale: false, proxy: false }, 'u', 'p', 'REGISTER', 'sip:h', 1, 'cn'))!;
    expect(verifyAuthorization(base, 'p', 'REGISTER')).toBe(true);
    expect(verifyAuthorization({ ...base, qop: 'auth-int' }, 'p', 'REGISTER')).toBe(false);
    expect(verifyAuthorization({ ...base, cnonce: undefined }, 'p', 'REGISTER')).toBe(false);
    expect(verifyAuthorization({ ...base, nc: undefined }, 'p', 'REGISTER')).toBe(false);
    expect(verifyAuthorization({ ...base, qop: undefined, nc: undefined, cnonce: undefined }, 'p', 'REGISTER')).toBe(false);
  });
});

describe('DigestSigner (one identity, values kept between requests)', () => {
  it('equals a fresh computation after any sequence of challenges, methods, URIs and counts', () => {
    const challenge = fc.record({
      realm: fc.constantFrom('a.example', 'b.example'),
      nonce: fc.constantFrom('n1', 'n2', 'n3'),
      algorithm: fc.constantFrom(...DIGEST_ALGORITHMS),
      qop: fc.constantFrom<string[]>([], ['auth'], ['auth-int', 'auth']),
      opaque: fc.option(fc.constantFrom('o1', 'o"2'), { nil: undefined }),
      userhash: fc.option(fc.constant(true), { nil: undefined }),
    });
    const request = fc.record({
      challenge,
      method: fc.constantFrom('REGISTER', 'OPTIONS'),
      uri: fc.constantFrom('sip:a.example', 'sip:agent0001@a.example'),
      nc: fc.integer({ min: 1, max: 0xffffffff }),
      cnonce: fc.stringMatching(/^[0-9a-f]{16}$/),
    });
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 12 }), (requests) => {
        const signer = new DigestSigner('agent0001', 'secret0001');
        // Equal challenges are one object, as an agent's cached challenge is between its requests.
        const seen = new Map<string, DigestChallenge>();
        for (const r of requests) {
          const key = JSON.stringify(r.challenge);
          const ch: DigestChallenge = seen.get(key) ?? { ...r.challenge, qop: [...r.challenge.qop], stale: false, proxy: false };
          seen.set(key, ch);
          if (ch.opaque === undefined) delete ch.opaque;
          if (ch.userhash === undefined) delete ch.userhash;
          const kept = signer.authorization(ch, r.method, r.uri, r.nc, r.cnonce);
          const parsed = parseAuthorization(kept);
          expect(parsed).not.toBeNull();
          const qop = ch.qop.includes('auth') ? 'auth' : undefined;
          const cnonce = qop || ch.algorithm.endsWith('-sess') ? r.cnonce : '';
          expect(parsed!.response).toBe(reference(ch.algorithm, { username: 'agent0001', realm: ch.realm, password: 'secret0001', method: r.method, uri: r.uri, nonce: ch.nonce, cnonce, nc: formatNc(r.nc), qop }));
          expect(parsed!.realm).toBe(ch.realm);
          expect(parsed!.nonce).toBe(ch.nonce);
          expect(parsed!.uri).toBe(r.uri);
          expect(parsed!.opaque).toBe(ch.opaque);
          expect(verifyAuthorization(parsed!, 'secret0001', r.method, 'agent0001')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
