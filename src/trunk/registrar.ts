// The trunk's brain: one parsed request in, one decision out (a response to send now or later, or
// silence). No sockets here, and time comes from the injected clock, so it is tested without timers.
import type { Clock } from '../shared/clock.js';
import { xorshift } from '../shared/seeded-random.js';
import { buildResponse } from '../sip/builder.js';
import { formatChallenge, parseAuthorization, verifyAuthorization } from '../sip/digest.js';
import { getHeader, getHeaderValues, getParam, parseNameAddr } from '../sip/headers.js';
import type { SipMessage } from '../sip/message.js';
import { newTag } from '../sip/random.js';
import { applySwitches, DEFAULT_SWITCHES, type ResolvedSwitches, type TrunkSwitches } from './config.js';
import { CounterSet } from './counters.js';
import { NonceKeeper } from './nonce.js';
import { TokenBucket } from './token-bucket.js';

export interface Decision {
  /** null: stay silent (loss switch). */
  response: Buffer | null;
  delayMs: number;
}

interface Binding {
  contact: string;
  expiresAtUs: number;
}

const RETRANSMISSION_TTL_US = 32_000_000; // Timer F: a client stops retransmitting by then
// Bounds memory at high rates (~400 B per entry): at 20k requests/s this keeps the last 10 s.
const RETRANSMISSION_CACHE_MAX = 200_000;
const SILENT: Decision = { response: null, delayMs: 0 };

export class Registrar {
  readonly counters = new CounterSet();
  private switches: ResolvedSwitches;
  private windowAnchorUs: number;
  private readonly nonces = new NonceKeeper();
  private readonly bindings = new Map<string, Binding>();
  private aorBuckets = new Map<string, TokenBucket>();
  private globalBucket: TokenBucket | null = null;
  /** branch -> cached final response, in arrival order (so expiry pops from the front). */
  private readonly recent = new Map<string, { response: Buffer | null; atUs: number; dueUs: number }>();
  private random: () => number;

  constructor(
    private readonly clock: Clock,
    private readonly credentials: Map<string, string>,
    private readonly realm: string,
    switches: TrunkSwitches,
    seed = 1,
  ) {
    this.switches = applySwitches(DEFAULT_SWITCHES, switches);
    this.windowAnchorUs = clock.nowUs();
    this.random = xorshift(seed);
    this.resetLimits();
  }

  get config(): ResolvedSwitches {
    return this.switches;
  }

  /** Run-time switch change; a new publish window is anchored at this moment. */
  configure(patch: TrunkSwitches): void {
    this.switches = applySwitches(this.switches, patch);
    if (patch.publishWindow !== undefined) this.windowAnchorUs = this.clock.nowUs();
    if (patch.aorLimit !== undefined || patch.globalLimit !== undefined) this.resetLimits();
  }

  /** Forgets counters, bindings and limiter state (a fresh trunk for the next sweep step). */
  reset(): void {
    Object.assign(this.counters, new CounterSet());
    this.bindings.clear();
    this.recent.clear();
    this.resetLimits();
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

  handle(req: SipMessage, source: { host: string; port: number }): Decision {
    const now = this.clock.nowUs();
    this.expireRecent(now);
    const cached = req.viaBranch ? this.recent.get(req.viaBranch) : undefined;
    if (cached?.response) {
      this.counters.retransmissionsAbsorbed++;
      // A delayed answer is not yet "sent": the retransmission must not overtake it.
      return now >= cached.dueUs ? { response: cached.response, delayMs: 0 } : SILENT;
    }
    const method = req.method;
    // A retransmission of a request the loss switch dropped is the same transaction, not a new one.
    if (!cached) this.counters.countRequest(method);
    const s = this.switches;
    if (s.lossRate > 0 && this.random() < s.lossRate) {
      this.counters.dropped++;
      if (!cached) this.remember(req.viaBranch, null, now);
      return SILENT;
    }
    if (cached) this.recent.delete(req.viaBranch);
    const [status, reason, headers] = this.decide(req, method, now);
    const response = buildResponse(req, status, reason, { toTag: newTag(), received: source, extraHeaders: headers });
    this.counters.countAnswer(method, status);
    let delayMs = 0;
    if (s.delay) delayMs = s.delay.fixedMs + (s.delay.jitterMs > 0 ? this.random() * s.delay.jitterMs : 0);
    this.remember(req.viaBranch, response, now, now + Math.round(delayMs * 1000));
    return { response, delayMs };
  }

  private decide(req: SipMessage, method: string, now: number): [number, string, string[]] {
    const s = this.switches;
    if (method !== 'REGISTER' && method !== 'OPTIONS') return [405, 'Method Not Allowed', ['Allow: REGISTER, OPTIONS']];
    if (this.globalBucket && !this.globalBucket.take(now)) return [503, 'Service Unavailable', retryAfter(s.globalLimit?.retryAfterS)];
    const user = userOf(getHeader(req, 'from')) ?? '';
    if (s.aorLimit) {
      let bucket = this.aorBuckets.get(user);
      if (!bucket) this.aorBuckets.set(user, (bucket = new TokenBucket(s.aorLimit.rate, s.aorLimit.burst, now)));
      if (!bucket.take(now)) {
        const code = s.aorLimit.code;
        const reason = code === 429 ? 'Too Many Requests' : code === 403 ? 'Forbidden' : 'Service Unavailable';
        return [code, reason, retryAfter(s.aorLimit.retryAfterS)];
      }
    }
    const window = this.activeWindow(now);
    if (window && window.mode === 'forbidden' && window.methods.includes(method)) return [403, 'Forbidden', []];

    // OPTIONS to the server itself (no user part) is a keep-alive / health probe: always 200.
    if (method === 'OPTIONS' && userOf(req.requestUri) === undefined) return [200, 'OK', ['Allow: REGISTER, OPTIONS']];
    const aorUser = method === 'REGISTER' ? (userOf(getHeader(req, 'to')) ?? '') : (userOf(req.requestUri) ?? user);
    const password = this.credentials.get(aorUser);
    if (password === undefined) return [404, 'Not Found', []];

    if (s.auth && (method === 'REGISTER' || s.optionsAuth)) {
      const verdict = this.authenticate(req, method, password, aorUser, now, window?.mode === 'stale-credentials' && window.methods.includes(method));
      if (verdict) return verdict;
    }
    if (method === 'OPTIONS') return [200, 'OK', ['Allow: REGISTER, OPTIONS', 'Accept: application/sdp', 'Supported: path, outbound']];
    return this.register(req, aorUser, now);
  }

  /** null when the request is authenticated; otherwise the answer. */
  private authenticate(req: SipMessage, method: string, password: string, user: string, now: number, staleWindow: boolean): [number, string, string[]] | null {
    const s = this.switches;
    const header = getHeader(req, 'authorization');
    if (header === undefined) return this.challenge(now, false);
    const auth = parseAuthorization(header);
    if (!auth || auth.realm !== this.realm || auth.algorithm !== s.algorithm) return this.challenge(now, false);
    const issued = this.nonces.issuedAt(auth.nonce);
    if (issued < 0) return this.challenge(now, false);
    if (auth.username !== user) return [403, 'Forbidden', []];
    // A nonce from before the publish window: the credentials "went stale" with the publish.
    if (staleWindow && issued < this.windowStartUs()) return [403, 'Forbidden', []];
    if (now - issued > s.nonceTtlMs * 1000) return this.challenge(now, true);
    if (!verifyAuthorization(auth, password, method)) return [403, 'Forbidden', []];
    return null;
  }

  private challenge(now: number, stale: boolean): [number, string, string[]] {
    const s = this.switches;
    const value = formatChallenge({ realm: this.realm, nonce: this.nonces.issue(now), algorithm: s.algorithm, qop: s.qop ? ['auth'] : [], stale });
    return [401, 'Unauthorized', [`WWW-Authenticate: ${value}`]];
  }

  private register(req: SipMessage, user: string, now: number): [number, string, string[]] {
    const s = this.switches;
    const contacts = getHeaderValues(req, 'contact');
    const headerExpires = parseExpires(getHeader(req, 'expires'));
    const date = `Date: ${new Date().toUTCString()}`;
    if (contacts.length === 0) {
      const existing = this.bindings.get(user);
      const extra = existing && existing.expiresAtUs > now ? [`Contact: <${existing.contact}>;expires=${Math.round((existing.expiresAtUs - now) / 1e6)}`] : [];
      return [200, 'OK', [...extra, date]];
    }
    const parsed = parseNameAddr(contacts[0]);
    if (!parsed) return [400, 'Bad Request', []];
    const expires = parseExpires(parsed.params.expires) ?? headerExpires ?? 3600;
    if (expires === 0) {
      this.bindings.delete(user);
      return [200, 'OK', [date]];
    }
    if (expires < s.minExpires) return [423, 'Interval Too Brief', [`Min-Expires: ${s.minExpires}`]];
    const granted = Math.min(expires, s.maxExpires);
    this.bindings.set(user, { contact: parsed.uri, expiresAtUs: now + granted * 1e6 });
    return [200, 'OK', [`Contact: <${parsed.uri}>;expires=${granted}`, `Expires: ${granted}`, date]];
  }

  private activeWindow(now: number) {
    const w = this.switches.publishWindow;
    if (!w) return null;
    const start = this.windowStartUs();
    return now >= start && now < start + w.lengthMs * 1000 ? w : null;
  }

  private windowStartUs(): number {
    return this.windowAnchorUs + (this.switches.publishWindow?.startMs ?? 0) * 1000;
  }

  private resetLimits(): void {
    const now = this.clock.nowUs();
    this.aorBuckets = new Map();
    const g = this.switches.globalLimit;
    this.globalBucket = g ? new TokenBucket(g.rate, g.burst, now) : null;
  }

  private remember(branch: string, response: Buffer | null, now: number, dueUs = now): void {
    if (!branch) return;
    this.recent.set(branch, { response, atUs: now, dueUs });
    if (this.recent.size > RETRANSMISSION_CACHE_MAX) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }

  private expireRecent(now: number): void {
    for (const [branch, entry] of this.recent) {
      if (now - entry.atUs < RETRANSMISSION_TTL_US) break;
      this.recent.delete(branch);
    }
  }
}

function retryAfter(seconds: number | undefined): string[] {
  return seconds !== undefined ? [`Retry-After: ${seconds}`] : [];
}

function parseExpires(text: string | undefined): number | undefined {
  return text !== undefined && /^\d{1,10}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

/** The user part of a SIP URI inside a header value or a bare URI. */
export function userOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /sips?:([^@;>]+)@/i.exec(value);
  return m ? decodeURIComponent(m[1]) : undefined;
}
