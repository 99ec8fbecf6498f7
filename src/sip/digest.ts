// HTTP Digest for SIP (RFC 2617, RFC 7616, RFC 8760): MD5, SHA-256, SHA-512/256 and their -sess
// variants; qop "auth" or none; RFC 7616 userhash. Client side (challenge -> Authorization) and server
// side (parse and verify). Parsers run on network input and never throw.
import { hash, timingSafeEqual } from 'node:crypto';
import { unquote } from './headers.js';
import { flatten } from '../shared/flat-string.js';
import { loadUdpBatch } from '../transport/native.js';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256', 'SHA-512-256-sess'];

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  qop: readonly string[];
  stale: boolean;
  proxy: boolean;
  /** RFC 7616 3.4.4: the client sends H(username ":" realm) instead of the user name. */
  userhash?: boolean;
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
  /** `username` is H(user ":" realm); the verifier needs the real user name (see userhashOf). */
  userhash?: boolean;
}

const HASH: Record<DigestAlgorithm, string> = {
  MD5: 'md5', 'MD5-sess': 'md5', 'SHA-256': 'sha256', 'SHA-256-sess': 'sha256',
  // SHA-512/256 is its own function (distinct initial values, FIPS 180-4), not a truncated SHA-512.
  'SHA-512-256': 'sha512-256', 'SHA-512-256-sess': 'sha512-256',
};

function canonicalAlgorithm(text: string | undefined): DigestAlgorithm | null {
  if (text === undefined || text === '') return 'MD5'; // RFC 2617: absent means MD5
  for (const a of DIGEST_ALGORITHMS) if (a.length === text.length && a.toUpperCase() === text.toUpperCase()) return a;
  return null;
}

// MD5 from the native addon when it is built (native/md5.c: crypto.hash's per-call set-up cost more
// than the hashing); the same UTF-8 bytes and hex either way.
const nativeMd5 = loadUdpBatch()?.md5Hex;

/** One-shot crypto.hash (about twice as fast as createHash per call); strings hashed as UTF-8. */
function h(algorithm: DigestAlgorithm, data: string): string {
  if (nativeMd5 !== undefined && (algorithm === 'MD5' || algorithm === 'MD5-sess')) return nativeMd5(data);
  return hash(HASH[algorithm], data, 'hex');
}

/** RFC 7616 3.4.4 userhash: H(username ":" realm). */
export function userhashOf(algorithm: DigestAlgorithm, username: string, realm: string): string {
  return h(algorithm, `${username}:${realm}`);
}

/** A quoted-string (escapes `"` and `\`, rare, so checked before any regex). */
function q(value: string): string {
  if (value.indexOf('"') < 0 && value.indexOf('\\') < 0) return `"${value}"`;
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/** Parses `Digest k=v, k="v", ...` into lower-case keys; null if not Digest. Never throws. */
function parseAuthParams(headerValue: string): Record<string, string> | null {
  const text = headerValue.trim();
  if (text.length < 7 || text.slice(0, 6).toLowerCase() !== 'digest' || (text[6] !== ' ' && text[6] !== '\t')) return null;
  const params: Record<string, string> = Object.create(null);
  let i = 7;
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
      // Skip anything up to the next comma (junk after a quoted value).
      const comma = text.indexOf(',', i);
      i = comma < 0 ? n : comma;
    } else {
      let j = text.indexOf(',', i);
      if (j < 0) j = n;
      value = text.slice(i, j).trim();
      i = j;
    }
    if (key && !(key in params)) params[key] = value;
  }
  return params;
}

/** RFC 8187 ext-value `UTF-8''percent-encoded` (RFC 7616 username*); undefined if not decodable. */
function decodeExtValue(value: string): string | undefined {
  const m = /^utf-8'[^']*'(.*)$/i.exec(value);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
}

/** A WWW-Authenticate / Proxy-Authenticate value; null for non-Digest or an unsupported algorithm. */
export function parseChallenge(headerValue: string, proxy: boolean): DigestChallenge | null {
  const p = parseAuthParams(headerValue);
  if (!p || p.nonce === undefined || p.realm === undefined) return null;
  const algorithm = canonicalAlgorithm(p.algorithm);
  if (!algorithm) return null;
  const challenge: DigestChallenge = {
    realm: p.realm,
    nonce: p.nonce,
    algorithm,
    qop: qopList(p.qop),
    stale: (p.stale ?? '').toLowerCase() === 'true',
    proxy,
  };
  if (p.opaque !== undefined) challenge.opaque = p.opaque;
  if ((p.userhash ?? '').toLowerCase() === 'true') challenge.userhash = true;
  return challenge;
}

// Every challenge of a server carries the same qop text: one frozen list for all agents that keep it.
const NO_QOP: readonly string[] = Object.freeze([]);
const qopLists = new Map<string, readonly string[]>();
function qopList(text: string | undefined): readonly string[] {
  if (!text) return NO_QOP;
  let list = qopLists.get(text);
  if (list === undefined) {
    list = Object.freeze(text.split(',').map((v) => v.trim().toLowerCase()).filter(Boolean));
    if (qopLists.size < 16) qopLists.set(text, list);
  }
  return list;
}

/** Header value `Digest realm="..", nonce="..", algorithm=.., qop="auth"[, opaque=".."][, stale=true]`. */
export function formatChallenge(c: Omit<DigestChallenge, 'proxy'>): string {
  let out = `Digest realm=${q(c.realm)}, nonce=${q(c.nonce)}, algorithm=${c.algorithm}`;
  if (c.qop.length > 0) out += `, qop="${c.qop.join(',')}"`;
  if (c.opaque !== undefined) out += `, opaque=${q(c.opaque)}`;
  if (c.stale) out += ', stale=true';
  if (c.userhash) out += ', userhash=true';
  return out;
}

/** nc: 8 lower-case hex digits (RFC 7616 3.4). */
export function formatNc(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** The request-digest (RFC 7616 3.4.1); `username` is the real user name, also under userhash. */
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
  const ha1 = sessionHa1(alg, baseHa1(alg, p.username, p.realm, p.password), p.nonce, p.cnonce);
  return requestDigest(alg, ha1, p.nonce, p.nc, p.cnonce, p.qop, ha2Of(alg, p.method, p.uri));
}

/** H(A1) before -sess: H(username ":" realm ":" password). */
function baseHa1(alg: DigestAlgorithm, username: string, realm: string, password: string): string {
  return h(alg, `${username}:${realm}:${password}`);
}

/** -sess folds the nonce and cnonce into H(A1); other algorithms use it as it is. */
function sessionHa1(alg: DigestAlgorithm, ha1: string, nonce: string, cnonce: string | undefined): string {
  return alg.endsWith('-sess') ? h(alg, `${ha1}:${nonce}:${cnonce ?? ''}`) : ha1;
}

// H(A2) of the last (algorithm, method, URI): every agent's REGISTER shares one Request-URI, so one
// entry saves a hash per challenge and keeps one string for all agents instead of one each.
let lastHa2 = { alg: '', method: '', uri: '', ha2: '' };
function ha2Of(alg: DigestAlgorithm, method: string, uri: string): string {
  const last = lastHa2;
  if (last.alg === alg && last.method === method && last.uri === uri) return last.ha2;
  const ha2 = flatten(h(alg, `${method}:${uri}`));
  lastHa2 = { alg, method, uri, ha2 };
  return ha2;
}

function requestDigest(alg: DigestAlgorithm, ha1: string, nonce: string, nc: string | undefined, cnonce: string | undefined, qop: 'auth' | undefined, ha2: string): string {
  return qop ? h(alg, `${ha1}:${nonce}:${nc ?? ''}:${cnonce ?? ''}:${qop}:${ha2}`) : h(alg, `${ha1}:${nonce}:${ha2}`);
}

/**
 * Authorization / Proxy-Authorization header value answering `ch`: qop=auth when offered (with
 * cnonce and nc), else the RFC 2069 form; cnonce also for -sess without qop; opaque echoed.
 */
export function buildAuthorization(ch: DigestChallenge, username: string, password: string, method: string, uri: string, nc: number, cnonce: string): string {
  return new DigestSigner(username, password).authorization(ch, method, uri, nc, cnonce);
}

/**
 * One identity's Authorization values. An agent re-authenticates every request with the same user,
 * realm and URI (nonce reuse), so everything but nc and cnonce is prepared once per challenge, method
 * and URI: H(A1) (per realm and algorithm), H(A2), the hashed string's fixed ends and the header's
 * fixed parts, all flattened. A request then costs one hash and a few concatenations. The values are
 * exactly buildAuthorization's.
 */
export class DigestSigner {
  private ha1Alg: DigestAlgorithm | '' = '';
  private ha1Realm = '';
  private ha1 = '';
  private preparedFor: DigestChallenge | null = null;
  private preparedMethod = '';
  private preparedUri = '';
  private qop: 'auth' | undefined = undefined;
  private sess = false;
  private ha2 = '';
  /** Non-sess: `H(A1):nonce:` and, with qop, `:auth:H(A2)`; the request digest is hashHead + nc:cnonce + hashTail. */
  private hashHead = '';
  private hashTail = '';
  private head = '';
  private middle = '';
  private tail = '';

  constructor(
    readonly username: string,
    private readonly password: string,
  ) {}

  authorization(ch: DigestChallenge, method: string, uri: string, nc: number, cnonce: string): string {
    if (this.preparedFor !== ch || this.preparedMethod !== method || this.preparedUri !== uri) this.prepare(ch, method, uri);
    const alg = ch.algorithm;
    const qop = this.qop;
    const ncText = formatNc(nc);
    let response: string;
    if (this.sess) {
      const sentCnonce = cnonce; // -sess always sends a cnonce
      response = requestDigest(alg, sessionHa1(alg, this.ha1, ch.nonce, sentCnonce), ch.nonce, ncText, sentCnonce, qop, this.ha2);
    } else {
      response = h(alg, qop ? `${this.hashHead}${ncText}:${cnonce}${this.hashTail}` : this.hashHead + this.ha2);
    }
    let out = this.head + response + this.middle;
    if (qop) out += `, cnonce=${q(cnonce)}, qop=auth, nc=${ncText}`;
    else if (this.sess) out += `, cnonce=${q(cnonce)}`;
    return this.tail ? out + this.tail : out;
  }

  private prepare(ch: DigestChallenge, method: string, uri: string): void {
    const alg = ch.algorithm;
    if (this.ha1Alg !== alg || this.ha1Realm !== ch.realm) {
      this.ha1 = baseHa1(alg, this.username, ch.realm, this.password);
      this.ha1Alg = alg;
      this.ha1Realm = ch.realm;
    }
    this.qop = ch.qop.includes('auth') ? 'auth' : undefined;
    this.sess = alg.endsWith('-sess');
    this.ha2 = ha2Of(alg, method, uri);
    this.hashHead = flatten(`${this.ha1}:${ch.nonce}:`);
    this.hashTail = this.qop ? flatten(`:${this.qop}:${this.ha2}`) : '';
    const sentName = ch.userhash ? userhashOf(alg, this.username, ch.realm) : this.username;
    this.head = flatten(`Digest username=${q(sentName)}, realm=${q(ch.realm)}, nonce=${q(ch.nonce)}, uri=${q(uri)}, response="`);
    this.middle = flatten(`", algorithm=${alg}`);
    this.tail = flatten(`${ch.opaque !== undefined ? `, opaque=${q(ch.opaque)}` : ''}${ch.userhash ? ', userhash=true' : ''}`);
    this.preparedFor = ch;
    this.preparedMethod = method;
    this.preparedUri = uri;
  }
}

/** Server side: an Authorization value; null if not Digest, a required field is missing, or the algorithm is unknown. */
export function parseAuthorization(headerValue: string): DigestAuthorization | null {
  const p = parseAuthParams(headerValue);
  if (!p) return null;
  const username = p.username ?? (p['username*'] !== undefined ? decodeExtValue(p['username*']) : undefined);
  const { realm, nonce, uri, response } = p;
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) return null;
  const algorithm = canonicalAlgorithm(p.algorithm);
  if (!algorithm) return null;
  const a: DigestAuthorization = { username, realm, nonce, uri, response, algorithm };
  if (p.cnonce !== undefined) a.cnonce = p.cnonce;
  if (p.nc !== undefined) a.nc = p.nc;
  if (p.qop !== undefined) a.qop = p.qop;
  if (p.opaque !== undefined) a.opaque = p.opaque;
  if ((p.userhash ?? '').toLowerCase() === 'true') a.userhash = true;
  return a;
}

/**
 * Recomputes the response with `password` and compares in constant time. With userhash, pass the
 * real user name as `username` (the server looks it up by userhashOf). qop other than auth fails.
 */
export function verifyAuthorization(a: DigestAuthorization, password: string, method: string, username = a.username): boolean {
  if (a.qop !== undefined && (a.qop.toLowerCase() !== 'auth' || !a.nc || !a.cnonce)) return false;
  if (a.algorithm.endsWith('-sess') && !a.cnonce) return false;
  const expected = digestResponse({
    algorithm: a.algorithm, username, realm: a.realm, password, method, uri: a.uri, nonce: a.nonce,
    cnonce: a.cnonce, nc: a.nc, qop: a.qop !== undefined ? 'auth' : undefined,
  });
  const given = Buffer.from(a.response.toLowerCase(), 'latin1');
  const want = Buffer.from(expected, 'latin1');
  return given.length === want.length && timingSafeEqual(given, want);
}
