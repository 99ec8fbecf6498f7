// The trunk's brain: one parsed request in, the response bytes out (to send now or after
// `lastDelayMs`), or null for silence. No sockets here, and time comes from the injected clock, so it
// is tested without timers.
//
// Choices worth knowing:
// - An unknown user gets 404 Not Found (not 403), so a wrong credentials file is told apart from a
//   throttle that masquerades as 403.
// - OPTIONS is not challenged unless `optionsAuth`; OPTIONS to the trunk itself (no user part in the
//   Request-URI) is a keep-alive and gets 200 for anyone.
// - One binding per AOR (the last Contact registered wins); `bindings` counts registered AORs.
// - Order of checks: source allowlist, method, global limit, per-AOR limit (AOR = To user), publish
//   window, user, digest (where the concurrent-challenge limit may refuse a new handshake), then the
//   registrar proper. Limits come first: a throttling edge answers before any auth.
// - Retransmissions over UDP (same top Via branch) get the cached answer again and are not counted as
//   new requests; over TCP a client never retransmits (RFC 3261 17.2.2: Timer J = 0), so no cache.
import type { Clock } from '../shared/clock.js';
import { buildResponse } from '../sip/builder.js';
import { formatChallenge, parseAuthorization, verifyAuthorization } from '../sip/digest.js';
import { getHeader, getHeaderValues, parseNameAddr } from '../sip/headers.js';
import type { SipMessage } from '../sip/message.js';
import { newTag } from '../sip/random.js';
import { applySwitches, DEFAULT_SWITCHES, type ResolvedSwitches, type TrunkSwitches } from './config.js';
import { CounterSet } from './counters.js';
import { Faults, type Verdict } from './faults.js';
import { NonceKeeper } from './nonce.js';
import { ResponseCache } from './response-cache.js';
import { TokenStore, type TokenAnswer } from './tokens.js';

interface Binding {
  contact: string;
  expiresAtUs: number;
}

const RETRANSMISSION_TTL_US = 32_000_000; // Timer J = 64*T1: a client stops retransmitting by then
// At 30k requests/s this keeps the last ~8 s (retransmissions at 0.5, 1.5, 3.5, 7.5 s after the first send).
const RESPONSE_CACHE = { slots: 2 ** 18, bytes: 128 * 1024 * 1024, ttlUs: RETRANSMISSION_TTL_US };

const ALLOW = 'Allow: REGISTER, OPTIONS';
const OPTIONS_OK: Verdict = [200, 'OK', [ALLOW, 'Accept: application/sdp', 'Supported: path, outbound']];
const KEEPALIVE_OK: Verdict = [200, 'OK', [ALLOW]];
const NOT_ALLOWED: Verdict = [405, 'Method Not Allowed', [ALLOW]];
const FORBIDDEN: Verdict = [403, 'Forbidden', []];
const NOT_FOUND: Verdict = [404, 'Not Found', []];
const BAD_REQUEST: Verdict = [400, 'Bad Request', []];

export class Registrar {
  readonly counters = new CounterSet();
  /** Delay (ms) to apply to the response the last handle() returned; 0 = send now. */
  lastDelayMs = 0;
  private switches: ResolvedSwitches;
  private readonly faults: Faults;
  private readonly nonces = new NonceKeeper();
  /** Login tokens (POST /token): accepted as the user's digest password while valid. */
  private readonly tokens = new TokenStore();
  private readonly bindings = new Map<string, Binding>();
  /** branch -> answer of recent UDP transactions. */
  private readonly recent = new ResponseCache(RESPONSE_CACHE);
  private dateSecond = -1;
  private dateHeader = '';

  constructor(
    private readonly clock: Clock,
    private readonly credentials: Map<string, string>,
    private readonly realm: string,
    switches: TrunkSwitches,
    seed = 1,
  ) {
    this.switches = applySwitches(DEFAULT_SWITCHES, switches);
    this.faults = new Faults(this.switches, clock.nowUs(), seed);
  }

  get config(): ResolvedSwitches {
    return this.switches;
  }

  /** Run-time switch change (validated first: a bad patch changes nothing). A new publish window is anchored now. */
  configure(patch: TrunkSwitches): void {
    this.tokens.noteWindow(this.publishStartUs(), this.clock.nowUs()); // a window that began revokes tokens even if replaced now
    this.switches = applySwitches(this.switches, patch);
    this.faults.update(this.switches, patch, this.clock.nowUs());
  }

  /** Forgets counters, bindings, cached answers and limiter state (a fresh trunk for the next sweep step). */
  reset(): void {
    this.counters.reset();
    this.bindings.clear();
    this.recent.clear();
    this.tokens.clear();
    this.faults.resetLimits(this.clock.nowUs());
  }

  /** POST /token: a token for the user's configured credentials, or why not (publish window: tokenFault). */
  issueToken(user: string, password: string): TokenAnswer {
    const now = this.clock.nowUs();
    const s = this.switches;
    const policy = { ttlS: s.tokenTtlS, fault: s.tokenFault, retryAfterS: s.tokenRetryAfterS };
    return this.tokens.issue(user, password, this.credentials.get(user), now, this.faults.activeWindow(now) !== null, policy);
  }

  private publishStartUs(): number {
    return this.switches.publishWindow ? this.faults.windowStartUs() : Infinity;
  }

  bindingCount(): number {
    const now = this.clock.nowUs();
    let n = 0;
    for (const [aor, b] of this.bindings) {
      if (b.expiresAtUs > now) n++;
      else this.bindings.delete(aor);
    }
    return n;
  }

  /**
   * Answers one request that arrived from `source`; `reliable` for TCP. Returns the response bytes
   * (send after `lastDelayMs`) or null to stay silent.
   */
  handle(req: SipMessage, source: { host: string; port: number }, reliable = false): Buffer | null {
    const now = this.clock.nowUs();
    this.lastDelayMs = 0;
    const branch = reliable ? '' : req.viaBranch;
    // undefined: a new transaction; null: a retransmission of a request the loss switch dropped.
    const prior = branch ? this.recent.get(branch, now) : undefined;
    if (prior) {
      this.counters.retransmissionsAbsorbed++;
      return now >= this.recent.hitDueUs ? prior : null;
    }
    const method = req.method;
    if (prior === undefined) this.counters.countRequest(method);
    if (this.faults.lose()) {
      this.counters.dropped++;
      if (branch && prior === undefined) this.recent.set(branch, null, now, now);
      return null;
    }
    const [status, reason, headers] = this.decide(req, method, source.host, now);
    const response = buildResponse(req, status, reason, { toTag: newTag(), received: source, extraHeaders: headers });
    this.counters.countAnswer(method, status, reason);
    const delayMs = this.faults.delayMs();
    this.lastDelayMs = delayMs;
    if (branch) this.recent.set(branch, response, now, now + Math.round(delayMs * 1000));
    return response;
  }

  private decide(req: SipMessage, method: string, sourceHost: string, now: number): Verdict {
    const s = this.switches;
    const refused = this.faults.allowlist(sourceHost);
    if (refused) return refused;
    if (method !== 'REGISTER' && method !== 'OPTIONS') return NOT_ALLOWED;
    const toUser = userOf(getHeader(req, 'to')) ?? '';
    const limited = this.faults.globalLimit(now) ?? this.faults.aorLimit(toUser, now);
    if (limited) return limited;
    const window = this.faults.activeWindow(now);
    const windowed = window !== null && window.methods.includes(method as 'REGISTER' | 'OPTIONS');
    if (windowed && window.mode === 'forbidden') return FORBIDDEN;

    if (method === 'OPTIONS' && userOf(req.requestUri) === undefined) return KEEPALIVE_OK;
    const aor = method === 'REGISTER' ? toUser : (userOf(req.requestUri) ?? '');
    const password = this.credentials.get(aor);
    if (password === undefined) return NOT_FOUND;

    const challenged = s.auth && (method === 'REGISTER' || s.optionsAuth);
    if (challenged || windowed) {
      const verdict = this.authenticate(req, method, password, aor, now, windowed, challenged);
      if (verdict) return verdict;
    }
    return method === 'OPTIONS' ? OPTIONS_OK : this.register(req, aor, now);
  }

  /**
   * null when the request may proceed; otherwise the answer. In a stale-credentials window any
   * Authorization carrying one of our nonces issued before the window start gets 403, even on a
   * method that is not challenged; a request without Authorization, or with a fresh nonce, is not affected.
   */
  private authenticate(req: SipMessage, method: string, password: string, user: string, now: number, staleWindow: boolean, challenged: boolean): Verdict | null {
    const header = getHeader(req, 'authorization');
    // The handshake key: the dialog (Call-ID, which the parser requires), else the AOR.
    const key = req.callId || user;
    if (header === undefined) return challenged ? (this.faults.challengeLimit(key, now) ?? this.challenge(key, now, false)) : null;
    this.faults.challengeAnswered(key);
    const auth = parseAuthorization(header);
    const issued = auth ? this.nonces.issuedAt(auth.nonce) : -1;
    if (staleWindow && issued >= 0 && issued < this.faults.windowStartUs()) return FORBIDDEN;
    if (!challenged) return null;
    if (!auth || issued < 0 || auth.realm !== this.realm || auth.algorithm !== this.switches.algorithm) return this.challenge(key, now, false);
    if (auth.username !== user) return FORBIDDEN;
    if (now - issued > this.switches.nonceTtlMs * 1000) return this.challenge(key, now, true);
    if (verifyAuthorization(auth, password, method)) return null;
    // Not the password: maybe the user's login token. A user who logs in with tokens gets a fresh
    // challenge (401) for a revoked, expired or superseded one, so the client fetches a new token.
    this.tokens.noteWindow(this.publishStartUs(), now);
    const token = this.tokens.check(user, (secret) => verifyAuthorization(auth, secret, method), now);
    return token === 'valid' ? null : token === 'refused' ? this.challenge(key, now, false) : FORBIDDEN;
  }

  /** A 401 (it opens a handshake; a re-challenge of a bad or stale Authorization is never refused). */
  private challenge(key: string, now: number, stale: boolean): Verdict {
    const s = this.switches;
    this.faults.challengeSent(key, now);
    const value = formatChallenge({ realm: this.realm, nonce: this.nonces.issue(now), algorithm: s.algorithm, qop: s.qop ? ['auth'] : [], stale });
    return [401, 'Unauthorized', [`WWW-Authenticate: ${value}`]];
  }

  private register(req: SipMessage, user: string, now: number): Verdict {
    const s = this.switches;
    const contacts = getHeaderValues(req, 'contact');
    const headerExpires = parseExpires(getHeader(req, 'expires'));
    const date = this.date();
    if (contacts.length === 0) {
      // A query: list the current binding.
      const b = this.bindings.get(user);
      const live = b !== undefined && b.expiresAtUs > now;
      return [200, 'OK', live ? [`Contact: <${b.contact}>;expires=${Math.round((b.expiresAtUs - now) / 1e6)}`, date] : [date]];
    }
    const parsed = parseNameAddr(contacts[0]);
    if (!parsed) return BAD_REQUEST;
    // RFC 3261 10.3 step 7: the Contact's expires param wins over the Expires header; default 3600.
    const expires = parseExpires(parsed.params.expires) ?? headerExpires ?? 3600;
    if (expires === 0) {
      this.bindings.delete(user);
      return [200, 'OK', [date]];
    }
    if (parsed.uri === '*') return BAD_REQUEST; // wildcard is only valid with Expires: 0
    if (expires < s.minExpires) return [423, 'Interval Too Brief', [`Min-Expires: ${s.minExpires}`]];
    const granted = Math.min(expires, s.maxExpires);
    this.bindings.set(user, { contact: parsed.uri, expiresAtUs: now + granted * 1e6 });
    return [200, 'OK', [`Contact: <${parsed.uri}>;expires=${granted}`, `Expires: ${granted}`, date]];
  }

  /** RFC 1123 date, rebuilt once per wall-clock second. */
  private date(): string {
    const ms = Date.now();
    const second = Math.floor(ms / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateHeader = `Date: ${new Date(ms).toUTCString()}`;
    }
    return this.dateHeader;
  }
}

function parseExpires(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  return /^\d{1,10}$/.test(t) ? Number(t) : undefined;
}

/**
 * The user part of the SIP URI in a header value (inside <...> when there is one) or a bare URI.
 * indexOf scanning instead of a regex: it runs twice per request. Never throws.
 */
export function userOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const lt = value.indexOf('<');
  let start = lt >= 0 ? lt + 1 : 0;
  while (start < value.length && (value.charCodeAt(start) === 32 || value.charCodeAt(start) === 9)) start++;
  const colon = value.indexOf(':', start);
  if (colon < 0) return undefined;
  const scheme = value.slice(start, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') return undefined;
  let i = colon + 1;
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 64 /* @ */) break;
    if (c === 59 /* ; */ || c === 62 /* > */ || c === 63 /* ? */) return undefined;
  }
  if (i >= value.length || i === colon + 1) return undefined;
  const user = value.slice(colon + 1, i);
  if (user.indexOf('%') < 0) return user;
  try {
    return decodeURIComponent(user);
  } catch {
    return user; // a stray % is not an escape: take the user part as written
  }
}
