// One simulated user agent: REGISTER (with digest) and OPTIONS from a stable identity.
// The agent is its own TransactionOwner and keeps the state of its single in-flight operation on
// itself, so the hot path allocates no closures (one operation per agent at a time; the dispatcher
// counts an arrival for a busy agent as `dropped`).
import type { Clock } from '../shared/clock.js';
import type { OutcomeClass, SipMethod } from '../shared/outcome.js';
import type { Transport } from '../transport/transport.js';
import { RequestTemplate } from './builder.js';
import { flatten } from '../shared/flat-string.js';
import { DigestSigner, parseChallenge, type DigestChallenge } from './digest.js';
import { getHeader, getHeaderValues, getParam } from './headers.js';
import type { SipMessage } from './message.js';
import { newBranch, newCallId, newTag, randomHex } from './random.js';
import type { ClientTransaction, ClientTransactionLayer, TransactionOwner } from './transaction.js';

export interface AgentIdentity {
  user: string;
  password: string;
  domain: string;
}

/** What an agent needs from the engine that runs it. */
export interface AgentHost {
  readonly transactions: ClientTransactionLayer;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly userAgent: string;
  classify(status: number): OutcomeClass;
  /** Exactly one call per operation. `firstSentUs` is -1 if nothing was sent. */
  operationDone(
    agent: Agent,
    kind: OperationKind,
    cls: OutcomeClass,
    status: number,
    reason: string,
    intendedUs: number,
    firstSentUs: number,
    doneUs: number,
  ): void;
}

/** `unregister` is a REGISTER with Expires: 0; the engine reports it apart from the load. */
export type OperationKind = 'REGISTER' | 'OPTIONS' | 'unregister';

// Digest strength preference when a server offers several challenges (RFC 8760 section 2.4).
const ALGORITHM_RANK: Record<string, number> = {
  'SHA-512-256': 6,
  'SHA-512-256-sess': 5,
  'SHA-256': 4,
  'SHA-256-sess': 3,
  MD5: 2,
  'MD5-sess': 1,
};

export class Agent implements TransactionOwner {
  readonly slot: number;
  readonly aor: string;
  private readonly registerUri: string;
  private readonly registerCallId: string;
  private readonly optionsCallId: string;
  private readonly fromTag = newTag();
  private registerCseq = 0;
  private optionsCseq = 0;

  /** Last digest challenge: reused pre-emptively (nonce reuse) until the server asks again. */
  private challenge: DigestChallenge | null = null;
  private nonceCount = 0;
  private readonly signer: DigestSigner;
  /** `sip:USER@`: finds our binding among the Contacts of a REGISTER's 200. */
  private readonly contactNeedle: string;
  /** Formatted fixed headers per method, for the local address they were made with. */
  private registerTemplate: RequestTemplate | null = null;
  private optionsTemplate: RequestTemplate | null = null;

  registered = false;
  /** Clock time (us) at which the binding should be refreshed; 0 when not registered. */
  refreshAtUs = 0;
  grantedExpires = 0;
  /** The engine's refresh timer handle (0 = none). */
  refreshTimer = 0;
  /** Its messages go to the SIP trace (--trace). */
  traced = false;
  /** Retry-After (seconds) of the last final response, -1 when it had none. */
  lastRetryAfterS = -1;

  // The one operation in flight.
  busy = false;
  private opKind: OperationKind = 'REGISTER';
  private opIntendedUs = 0;
  private opFirstSentUs = -1;
  private opExpires = 0;
  private opFreshChallengeRetried = false;
  private opStaleRetried = false;
  private opIntervalRetried = false;

  constructor(
    readonly index: number,
    readonly identity: AgentIdentity,
    private readonly host: AgentHost,
    /** Requested binding lifetime in seconds. */
    private expires: number,
    /** Refresh when this fraction of the granted lifetime has passed. */
    private readonly refreshFraction = 0.8,
  ) {
    this.slot = index % host.transport.slots;
    this.signer = new DigestSigner(identity.user, identity.password);
    this.contactNeedle = flatten(`sip:${identity.user}@`);
    const domain = hostForUri(identity.domain);
    // Flat now, while the heap is settled before the start: flattening them at the first request
    // would leave garbage and copies for the scavenger in the login burst.
    this.aor = flatten(`sip:${identity.user}@${domain}`);
    this.registerUri = flatten(`sip:${domain}`);
    this.registerCallId = flatten(newCallId(domain));
    this.optionsCallId = flatten(newCallId(domain));
  }

  /**
   * Formats the method's fixed headers now rather than at the first send. Made in the login burst,
   * 10,000 agents' templates (~400 bytes each) were live data every scavenge there had to copy.
   */
  prepare(method: SipMethod): void {
    this.templateFor(method === 'OPTIONS', this.host.transport.advertised(this.slot));
  }

  /** A fresh login: drop the cached challenge so the next REGISTER takes a new one (401 then 200). */
  forgetChallenge(): void {
    this.challenge = null;
    this.nonceCount = 0;
  }

  startRegister(intendedUs: number): void {
    this.begin('REGISTER', intendedUs, this.expires);
  }

  startUnregister(intendedUs: number): void {
    this.begin('unregister', intendedUs, 0);
  }

  startOptions(intendedUs: number): void {
    this.begin('OPTIONS', intendedUs, 0);
  }

  private begin(kind: OperationKind, intendedUs: number, expires: number): void {
    this.busy = true;
    this.opKind = kind;
    this.opIntendedUs = intendedUs;
    this.opFirstSentUs = -1;
    this.opExpires = expires;
    this.opFreshChallengeRetried = false;
    this.opStaleRetried = false;
    this.opIntervalRetried = false;
    this.send();
  }

  /** Sends the current operation's next request (first attempt or a retry: new branch, CSeq + 1). */
  private send(): void {
    const host = this.host;
    const transport = host.transport;
    const local = transport.advertised(this.slot);
    const isOptions = this.opKind === 'OPTIONS';
    const method: SipMethod = isOptions ? 'OPTIONS' : 'REGISTER';
    const requestUri = isOptions ? this.aor : this.registerUri;
    const cseq = isOptions ? ++this.optionsCseq : ++this.registerCseq;
    const branch = newBranch();
    let authorization: { proxy: boolean; value: string } | undefined;
    const challenge = this.challenge;
    if (challenge) {
      const nc = ++this.nonceCount;
      authorization = {
        proxy: challenge.proxy,
        value: this.signer.authorization(challenge, method, requestUri, nc, randomHex(8)),
      };
    }
    const template = this.templateFor(isOptions, local);
    const data = template.build(branch, cseq, isOptions ? undefined : this.opExpires, authorization);
    const tx = host.transactions.start(this, null, this.slot, method, branch, cseq, data);
    if (this.opFirstSentUs < 0) this.opFirstSentUs = tx.sentUs;
  }

  /** The method's template, made again only when the local address changed (a stream reconnect). */
  private templateFor(isOptions: boolean, local: { host: string; port: number }): RequestTemplate {
    const kept = isOptions ? this.optionsTemplate : this.registerTemplate;
    if (kept !== null && kept.viaHost === local.host && kept.viaPort === local.port) return kept;
    const template = new RequestTemplate({
      method: isOptions ? 'OPTIONS' : 'REGISTER',
      requestUri: isOptions ? this.aor : this.registerUri,
      viaProtocol: this.host.transport.viaProtocol,
      viaHost: local.host,
      viaPort: local.port,
      fromUri: this.aor,
      fromTag: this.fromTag,
      toUri: this.aor,
      callId: isOptions ? this.optionsCallId : this.registerCallId,
      contactUri: isOptions ? undefined : this.contactUri(local.host, local.port),
      userAgent: this.host.userAgent,
    });
    if (isOptions) this.optionsTemplate = template;
    else this.registerTemplate = template;
    return template;
  }

  private contactUri(host: string, port: number): string {
    const transport = this.host.transport.protocol;
    // RFC 7118 (and browsers) put transport=ws in the Contact whether the connection is WS or WSS.
    const param = transport === 'udp' ? '' : `;transport=${transport === 'wss' ? 'ws' : transport}`;
    // A stream connection not yet up has no local port: leave it out rather than advertise :0.
    return `sip:${this.identity.user}@${hostForUri(host)}${port > 0 ? `:${port}` : ''}${param}`;
  }

  onTransactionResponse(_tx: ClientTransaction, msg: SipMessage): void {
    const status = msg.status;
    if ((status === 401 || status === 407) && this.retryAfterChallenge(msg, status === 407)) return;
    if (status === 423 && this.opExpires > 0 && !this.opIntervalRetried) {
      const minExpires = Number.parseInt(getHeader(msg, 'min-expires') ?? '', 10);
      if (minExpires > 0) {
        this.opIntervalRetried = true;
        this.expires = Math.max(this.expires, minExpires);
        this.opExpires = minExpires > this.opExpires ? minExpires : this.opExpires;
        this.send();
        return;
      }
    }
    // Only rejections carry a Retry-After worth honouring (429/503, some 403s).
    this.lastRetryAfterS = status >= 300 ? retryAfterOf(msg) : -1;
    let cls = this.host.classify(status);
    if ((status === 401 || status === 407) && cls === 'client_error') cls = 'auth_failed';
    if (status >= 200 && status < 300 && this.opKind !== 'OPTIONS') this.applyRegistration(msg);
    this.finish(cls, status, msg.reason);
  }

  onTransactionTimeout(_tx: ClientTransaction): void {
    this.lastRetryAfterS = -1;
    this.finish('timeout', 0, '');
  }

  onTransactionError(_tx: ClientTransaction, reason: string, malformed: boolean): void {
    this.lastRetryAfterS = -1;
    this.finish(malformed ? 'malformed' : 'transport_error', 0, reason);
  }

  /**
   * RFC 3261 22.2 / RFC 7616: a first challenge (or one answering our reused nonce) is answered once;
   * `stale=true` earns one more silent retry with the new nonce; anything else is `auth_failed`.
   */
  private retryAfterChallenge(msg: SipMessage, proxy: boolean): boolean {
    const challenge = pickChallenge(getHeaderValues(msg, proxy ? 'proxy-authenticate' : 'www-authenticate'), proxy);
    if (!challenge) return false;
    if (!this.opFreshChallengeRetried) {
      this.opFreshChallengeRetried = true;
    } else if (challenge.stale && !this.opStaleRetried) {
      this.opStaleRetried = true;
    } else {
      return false;
    }
    this.adopt(challenge);
    this.send();
    return true;
  }

  private adopt(challenge: DigestChallenge): void {
    this.challenge = challenge;
    this.nonceCount = 0;
  }

  private applyRegistration(msg: SipMessage): void {
    if (this.opExpires === 0) {
      this.registered = false;
      this.refreshAtUs = 0;
      this.grantedExpires = 0;
      return;
    }
    const granted = grantedExpires(msg, this.contactNeedle) ?? this.opExpires;
    this.registered = granted > 0;
    this.grantedExpires = granted;
    const now = this.host.transactions.eventUs;
    this.refreshAtUs = this.registered ? now + Math.round(granted * this.refreshFraction * 1e6) : 0;
  }

  private finish(cls: OutcomeClass, status: number, reason: string): void {
    this.busy = false;
    // The event's own time: a batched transport reads responses after they arrived.
    this.host.operationDone(this, this.opKind, cls, status, reason, this.opIntendedUs, this.opFirstSentUs, this.host.transactions.eventUs);
  }
}

function pickChallenge(values: string[], proxy: boolean): DigestChallenge | null {
  let best: DigestChallenge | null = null;
  for (const value of values) {
    const parsed = parseChallenge(value, proxy);
    if (parsed && (!best || (ALGORITHM_RANK[parsed.algorithm] ?? 0) > (ALGORITHM_RANK[best.algorithm] ?? 0))) best = parsed;
  }
  return best;
}

/** The lifetime the registrar granted: our Contact's expires param, else the Expires header (exported for tests). */
export function grantedExpires(msg: SipMessage, contactNeedle: string): number | undefined {
  // A registrar answering one REGISTER usually returns one Contact line holding our binding: read it
  // without splitting lists (the general path below costs ~2 us per response in the steady state).
  const first = getHeader(msg, 'contact');
  if (first !== undefined && first.indexOf(',') < 0 && first.includes(contactNeedle)) {
    const value = getParam(first, 'expires');
    if (value !== undefined && isDigits(value)) return Number(value);
  }
  for (const contact of getHeaderValues(msg, 'contact')) {
    if (!contact.includes(contactNeedle)) continue;
    const value = getParam(contact, 'expires');
    if (value !== undefined && isDigits(value)) return Number(value);
  }
  const header = getHeader(msg, 'expires')?.trim();
  return header !== undefined && isDigits(header) ? Number(header) : undefined;
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Retry-After delta-seconds (RFC 3261 20.33: digits, then an optional comment and params); -1 when absent. */
function retryAfterOf(msg: SipMessage): number {
  const value = getHeader(msg, 'retry-after');
  if (value === undefined) return -1;
  const m = /^\s*(\d+)/.exec(value);
  return m ? Number(m[1]) : -1;
}

/** IPv6 literals go in brackets inside a SIP URI. */
export function hostForUri(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
