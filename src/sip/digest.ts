// HTTP Digest for SIP (RFC 2617, RFC 7616, RFC 8760): MD5, SHA-256, SHA-512/256 and their -sess
// variants; qop "auth" or none. Client side (challenge -> Authorization) and server side (verify).
import { createHash, timingSafeEqual } from 'node:crypto';
import { unquote } from './headers.js';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256', 'SHA-512-256-sess'];

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  qop: string[];
  stale: boolean;
  proxy: boolean;
}

export interface DigestAuthorization {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  cnonce?: string;
  nc?: string;
  qop?: string;
  opaque?: string;
}

const HASH: Record<DigestAlgorithm, string> = {
  MD5: 'md5', 'MD5-sess': 'md5', 'SHA-256': 'sha256', 'SHA-256-sess': 'sha256',
  // SHA-512/256 is its own function (distinct initial values), not a truncated SHA-512.
  'SHA-512-256': 'sha512-256', 'SHA-512-256-sess': 'sha512-256',
};

function canonicalAlgorithm(text: string | undefined): DigestAlgorithm | null {
  if (text === undefined || text === '') return 'MD5'; // RFC 2617: absent means MD5
  const upper = text.toUpperCase();
  for (const a of DIGEST_ALGORITHMS) if (a.toUpperCase() === upper) return a;
  return null;
}

function h(algorithm: DigestAlgorithm, data: string): string {
  return createHash(HASH[algorithm]).update(data, 'utf8').digest('hex');
}

/** Parses `Digest k=v, k="v", ...` into lower-case keys; null if not Digest. */
function parseAuthParams(headerValue: string): Record<string, string> | null {
  const text = headerValue.trim();
  if (!/^digest\s/i.test(text)) return null;
  const params: Record<string, string> = {};
  let i = 6;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === ',')) i++;
    const eq = text.indexOf('=', i);
    if (eq < 0) break;
    const key = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    let value: string;
    if (text[i] === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      value = unquote(text.slice(i, Math.min(j + 1, n)));
      i = j + 1;
    } else {
      let j = text.indexOf(',', i);
      if (j < 0) j = n;
      value = text.slice(i, j).trim();
      i = j;
    }
    if (key) params[key] = value;
  }
  return params;
}

export function parseChallenge(headerValue: string, proxy: boolean): DigestChallenge | null {
  const p = parseAuthParams(headerValue);
  if (!p || p.nonce === undefined || p.realm === undefined) return null;
  const algorithm = canonicalAlgorithm(p.algorithm);
  if (!algorithm) return null;
  const challenge: DigestChallenge = {
    realm: p.realm,
    nonce: p.nonce,
    algorithm,
    qop: p.qop ? p.qop.split(',').map((q) => q.trim().toLowerCase()).filter(Boolean) : [],
    stale: (p.stale ?? '').toLowerCase() === 'true',
    proxy,
  };
  if (p.opaque !== undefined) challenge.opaque = p.opaque;
  return challenge;
}

export function formatChallenge(c: Omit<DigestChallenge, 'proxy'>): string {
  let out = `Digest realm="${c.realm}", nonce="${c.nonce}", algorithm=${c.algorithm}`;
  if (c.qop.length > 0) out += `, qop="${c.qop.join(',')}"`;
  if (c.opaque !== undefined) out += `, opaque="${c.opaque}"`;
  if (c.stale) out += ', stale=true';
  return out;
}

/** nc: 8 lower-case hex digits (RFC 7616 3.4). */
export function formatNc(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

export function digestResponse(p: {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  cnonce?: string;
  nc?: string;
  qop?: 'auth';
}): string {
  const alg = p.algorithm;
  let ha1 = h(alg, `${p.username}:${p.realm}:${p.password}`);
  if (alg.endsWith('-sess')) ha1 = h(alg, `${ha1}:${p.nonce}:${p.cnonce ?? ''}`);
  const ha2 = h(alg, `${p.method}:${p.uri}`);
  return p.qop ? h(alg, `${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) : h(alg, `${ha1}:${p.nonce}:${ha2}`);
}

export function buildAuthorization(ch: DigestChallenge, username: string, password: string, method: string, uri: string, nc: number, cnonce: string): string {
  const qop = ch.qop.includes('auth') ? 'auth' : undefined;
  const ncText = formatNc(nc);
  const sess = ch.algorithm.endsWith('-sess');
  const response = digestResponse({
    algorithm: ch.algorithm, username, realm: ch.realm, password, method, uri, nonce: ch.nonce,
    cnonce: qop || sess ? cnonce : undefined, nc: ncText, qop,
  });
  let out = `Digest username="${username}", realm="${ch.realm}", nonce="${ch.nonce}", uri="${uri}", response="${response}", algorithm=${ch.algorithm}`;
  if (qop) out += `, cnonce="${cnonce}", qop=auth, nc=${ncText}`;
  else if (sess) out += `, cnonce="${cnonce}"`;
  if (ch.opaque !== undefined) out += `, opaque="${ch.opaque}"`;
  return out;
}

export function parseAuthorization(headerValue: string): DigestAuthorization | null {
  const p = parseAuthParams(headerValue);
  if (!p) return null;
  const { username, realm, nonce, uri, response } = p;
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) return null;
  const algorithm = canonicalAlgorithm(p.algorithm);
  if (!algorithm) return null;
  const a: DigestAuthorization = { username, realm, nonce, uri, response, algorithm };
  if (p.cnonce !== undefined) a.cnonce = p.cnonce;
  if (p.nc !== undefined) a.nc = p.nc;
  if (p.qop !== undefined) a.qop = p.qop;
  if (p.opaque !== undefined) a.opaque = p.opaque;
  return a;
}

export function verifyAuthorization(a: DigestAuthorization, password: string, method: string): boolean {
  if (a.qop !== undefined && (a.qop.toLowerCase() !== 'auth' || !a.nc || !a.cnonce)) return false;
  const expected = digestResponse({
    algorithm: a.algorithm, username: a.username, realm: a.realm, password, method, uri: a.uri, nonce: a.nonce,
    cnonce: a.cnonce, nc: a.nc, qop: a.qop ? 'auth' : undefined,
  });
  const given = Buffer.from(a.response.toLowerCase(), 'latin1');
  const want = Buffer.from(expected, 'latin1');
  return given.length === want.length && timingSafeEqual(given, want);
}
