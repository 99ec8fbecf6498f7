// One WebRTC softphone: a sip.js UserAgent + Registerer over its own WebSocket, so the registrar sees
// exactly what a browser softphone sends (Via SIP/2.0/WSS with a random .invalid host, Contact
// ;transport=ws, +sip.instance, sip.js's digest). The agent runs one operation at a time (a REGISTER
// or an unregistration: connect if needed, fetch a token if needed, REGISTER with digest) and reports
// each to its host exactly once, with the same outcome classes and times as the core agent.
//
// sip.js 0.21 limits, and what is done about them here:
// - It needs a global WebSocket: the fleet's ws class is lent to it while it connects (websocket.ts).
// - Its random ids come from Math.random, its branches from only 10^7 values: ids.ts supplies
//   crypto ones (Call-ID, tags, Via host, Contact user, instance id; branches patched once).
// - Its digest is MD5 only (an SHA-256 challenge is refused and ends `auth_failed`): the registrar
//   must offer MD5 to softphones (the embedded trunk's default algorithm).
// - No Timer E (no retransmission): fine on WebSocket, which is reliable. Timer F is 32 s (64*T1,
//   fixed in sip.js), so a silent registrar shows as `timeout` after 32 s.
// - Its PEG grammar rebuilds its constant and bytecode tables on every parse (~0.4 ms CPU per header,
//   several headers per message): that, not memory, bounds agents per process (bench/softphone.ts:
//   ~11 ms CPU per login, ~2.3 ms per re-REGISTER, ~30 KB heap / ~150-200 KB RSS per agent).
import { Registerer, RegistererState, UserAgent, type RegistererOptions } from 'sip.js';
import type { Clock } from '../shared/clock.js';
import type { OutcomeClass } from '../shared/outcome.js';
import { hostForUri, type AgentIdentity } from '../sip/agent.js';
import { installStrongBranches, softphoneIds } from './ids.js';
import { classifyResponse, requestMethod, responseStatus, type SipJsResponse } from './outcome.js';
import { fetchToken, type TokenResult } from './token.js';
import { SoftphoneTransport, type SoftphoneTransportOptions, type WireObserver } from './transport.js';
import type { WebSocketClass } from './websocket.js';

installStrongBranches();

export type SoftphoneOperation = 'REGISTER' | 'unregister';

export interface SoftphoneOutcome {
  kind: SoftphoneOperation;
  cls: OutcomeClass;
  /** SIP status of the final response; 0 when none (timeout, transport error, failed token step). */
  status: number;
  reason: string;
  intendedUs: number;
  /** First REGISTER on the wire; -1 when nothing was sent. */
  sentUs: number;
  doneUs: number;
  /** Retry-After (s) of the response or of the token endpoint, -1 when absent. */
  retryAfterS: number;
  /** Binding lifetime the registrar granted (s), 0 when not registered. */
  grantedExpires: number;
}

/** Settings shared by every agent of a fleet. */
export interface SoftphoneConfig {
  /** ws://host:port/path or wss://... */
  server: string;
  socketClass: WebSocketClass;
  expires: number;
  userAgentString: string;
  connectTimeoutS: number;
  /** POST {user, password} here for a token before registering; the token becomes the digest password. */
  tokenUrl?: string;
  tokenTimeoutMs: number;
}

/** What an agent reports to its fleet. */
export interface SoftphoneHost {
  readonly clock: Clock;
  classify(status: number): OutcomeClass;
  wireSent(method: string, atUs: number): void;
  wireReceived(status: number): void;
  connected(durationUs: number, ok: boolean, reason: string): void;
  tokenFetched(result: TokenResult, durationUs: number): void;
  /** Exactly one call per operation. */
  operationDone(agent: SoftphoneAgent, outcome: SoftphoneOutcome): void;
  /** sip.js's own error-level log lines (no message text: traceSip is off). */
  log(message: string): void;
}

/** Registerer members its typings mark private; `waiting` is RFC 3261 10.2's one-REGISTER-at-a-time flag. */
interface RegistererWaiting {
  readonly waiting: boolean;
  readonly waitingChange: { addListener(listener: (waiting: boolean) => void): void };
}

export class SoftphoneAgent implements WireObserver {
  private ua: UserAgent | null = null;
  private registerer: Registerer | null = null;
  private waitState: RegistererWaiting | null = null;
  private transport: SoftphoneTransport | null = null;
  private contactName = '';
  private token: string | null = null;
  private tokenRefreshAtUs = 0;

  busy = false;
  /** Fleet's pending refresh or retry timer. */
  timer: NodeJS.Timeout | null = null;
  /** The pending timer is a retry after a failure (arrivals for the agent count as dropped meanwhile). */
  retryPending = false;
  /** Consecutive failed REGISTERs (the retry policy's attempt number). */
  failures = 0;

  // The one operation in flight.
  private opKind: SoftphoneOperation = 'REGISTER';
  private opIntendedUs = 0;
  private opSentUs = -1;
  private opFinal: SipJsResponse | null = null;
  private lastWireStatus = 0;
  private lastWireReason = '';

  constructor(
    readonly index: number,
    readonly identity: AgentIdentity,
    private readonly config: SoftphoneConfig,
    private readonly host: SoftphoneHost,
  ) {}

  get registered(): boolean {
    return this.registerer?.state === RegistererState.Registered;
  }

  get connected(): boolean {
    return this.ua?.isConnected() ?? false;
  }

  /** Starts a REGISTER (the caller checked `busy`). Resolves when it has been reported. */
  register(intendedUs: number): Promise<void> {
    return this.run('REGISTER', intendedUs);
  }

  /** Starts an unregistration (REGISTER with expires=0). */
  unregister(intendedUs: number): Promise<void> {
    return this.run('unregister', intendedUs);
  }

  /**
   * Closes the WebSocket and releases sip.js state, leaving any binding in place (unregister first if
   * wanted). sip.js's stop() would send an unregistration for a registered Registerer, so the socket is
   * closed before it: that REGISTER then fails locally and never reaches the wire (nor the counters).
   */
  async close(): Promise<void> {
    const ua = this.ua;
    this.ua = null;
    this.registerer = null;
    this.waitState = null;
    this.transport = null;
    if (!ua) return;
    try {
      await ua.transport.disconnect();
      await ua.stop();
    } catch {
      // a socket that failed to open has nothing left to close
    }
  }

  private async run(kind: SoftphoneOperation, intendedUs: number): Promise<void> {
    this.busy = true;
    this.opKind = kind;
    this.opIntendedUs = intendedUs;
    this.opSentUs = -1;
    this.opFinal = null;
    this.lastWireStatus = 0;
    this.lastWireReason = '';
    try {
      if (!(await this.connect())) return;
      if (kind === 'REGISTER' && this.config.tokenUrl && !(await this.ensureToken())) return;
      const registerer = this.registerer!;
      if (this.waitState!.waiting) {
        // sip.js's own refresh timer (at 99% of the lifetime) got there first: this arrival is surplus.
        this.finish('dropped', 0, 'REGISTER already in progress', -1);
        return;
      }
      const options = { requestDelegate: { onAccept: this.onFinal, onReject: this.onFinal, onRedirect: this.onFinal } };
      if (kind === 'REGISTER') await registerer.register(options);
      else await registerer.unregister(options);
    } catch (err) {
      if (this.busy) this.finish('transport_error', 0, (err as Error).message, -1);
    }
  }

  /** Opens the WebSocket (first operation, or after it closed). False after reporting the failure. */
  private async connect(): Promise<boolean> {
    if (!this.ua) this.createUserAgent();
    const ua = this.ua!;
    if (ua.isConnected()) return true;
    const clock = this.host.clock;
    const startUs = clock.nowUs();
    try {
      if (ua.state === 'Started') await ua.reconnect();
      else await ua.start();
      this.host.connected(clock.nowUs() - startUs, true, '');
      return true;
    } catch (err) {
      // sip.js reports only "WebSocket closed (code: 1006)"; the socket saw the real cause.
      const reason = `connect: ${this.transport?.socketFailure() ?? (err as Error).message}`;
      this.host.connected(clock.nowUs() - startUs, false, reason);
      this.finish('transport_error', 0, reason, -1);
      return false;
    }
  }

  /** Fetches a token when there is none (or it is about to expire). False after reporting the failure. */
  private async ensureToken(): Promise<boolean> {
    const clock = this.host.clock;
    if (this.token !== null && clock.nowUs() < this.tokenRefreshAtUs) return true;
    const startUs = clock.nowUs();
    const result = await fetchToken(this.config.tokenUrl!, this.identity, this.config.tokenTimeoutMs);
    const nowUs = clock.nowUs();
    this.host.tokenFetched(result, nowUs - startUs);
    if (!result.ok) {
      this.token = null;
      this.finish(result.cls, 0, `token: ${result.reason}`, result.retryAfterS);
      return false;
    }
    this.token = result.token;
    // Renew at 90% of the lifetime, as clients do, so a REGISTER never carries an expiring token.
    this.tokenRefreshAtUs = nowUs + result.expiresInS * 0.9e6;
    // sip.js reads the password when it answers a challenge, so the next REGISTER uses the token.
    this.ua!.configuration.authorizationPassword = result.token;
    return true;
  }

  private createUserAgent(): void {
    const ids = softphoneIds();
    const { user, domain } = this.identity;
    const uri = UserAgent.makeURI(`sip:${user}@${hostForUri(domain)}`);
    if (!uri) throw new Error(`agent ${this.index}: "${user}@${domain}" is not a valid SIP URI`);
    const transportOptions: SoftphoneTransportOptions = {
      server: this.config.server,
      connectionTimeout: this.config.connectTimeoutS,
      traceSip: false,
      keepAliveInterval: 0,
      socketClass: this.config.socketClass,
      observer: this,
    };
    const ua = new UserAgent({
      uri,
      authorizationUsername: user,
      authorizationPassword: this.identity.password,
      transportConstructor: SoftphoneTransport,
      transportOptions,
      viaHost: ids.viaHost,
      contactName: ids.contactName,
      sipjsId: ids.sipjsId,
      instanceId: ids.instanceId,
      userAgentString: this.config.userAgentString,
      reconnectionAttempts: 0,
      logBuiltinEnabled: false,
      logConfiguration: false,
      logLevel: 'error',
      logConnector: this.onLog,
    });
    const registerer = new Registerer(ua, {
      expires: this.config.expires,
      logConfiguration: false,
      // The fleet refreshes at its own fraction (< 99%), so sip.js's timer is only a fallback.
      refreshFrequency: 99,
      // Typed as From/To only, but sip.js passes them on as request options, where callId is honoured.
      params: { callId: ids.callId, fromTag: ids.fromTag } as RegistererOptions['params'],
    });
    const waitState = registerer as unknown as RegistererWaiting;
    waitState.waitingChange.addListener(this.onWaitingChange);
    this.waitState = waitState;
    this.ua = ua;
    this.registerer = registerer;
    this.transport = ua.transport as SoftphoneTransport;
    this.contactName = ids.contactName;
  }

  /** WireObserver: a REGISTER left (the first one of the operation is its send time). */
  onSend(message: string): void {
    const method = requestMethod(message);
    if (method === '') return;
    const nowUs = this.host.clock.nowUs();
    if (this.busy && this.opSentUs < 0) this.opSentUs = nowUs;
    this.host.wireSent(method, nowUs);
  }

  /** WireObserver: every response, the 401 challenges sip.js answers by itself included. */
  onReceive(message: string): void {
    const status = responseStatus(message);
    if (status < 0) return;
    this.host.wireReceived(status);
    if (status >= 200) {
      this.lastWireStatus = status;
      const eol = message.indexOf('\r\n');
      this.lastWireReason = message.slice(12, eol < 0 ? undefined : eol);
    }
  }

  private readonly onFinal = (response: { message: SipJsResponse }): void => {
    this.opFinal = response.message;
  };

  /**
   * Every REGISTER path in sip.js ends by toggling `waiting` off, including the ones that do not call
   * the delegate (a 200 without our Contact, the internal re-REGISTER after a 423). A 423 toggles it
   * back on synchronously, so the check runs a microtask later.
   */
  private readonly onWaitingChange = (waiting: boolean): void => {
    if (!waiting) queueMicrotask(this.settle);
  };

  private readonly settle = (): void => {
    if (!this.busy || this.waitState === null || this.waitState.waiting) return;
    const final = this.opFinal;
    if (final) {
      const c = classifyResponse(final, (s) => this.host.classify(s));
      this.finish(c.cls, c.status, c.reason, c.retryAfterS, final);
      return;
    }
    const status = this.lastWireStatus;
    if (status >= 200 && status < 300 && this.opKind === 'REGISTER' && !this.registered) {
      this.finish('malformed', status, 'no binding for our Contact in the 200', -1);
    } else if (status > 0) {
      this.finish(this.host.classify(status), status, this.lastWireReason, -1);
    } else {
      this.finish('transport_error', 0, 'REGISTER ended without a response', -1);
    }
  };

  private finish(cls: OutcomeClass, status: number, reason: string, retryAfterS: number, final?: SipJsResponse): void {
    if (!this.busy) return;
    this.busy = false;
    if (this.opKind === 'REGISTER' && cls === 'auth_failed' && this.config.tokenUrl) this.token = null; // refused: get a new one
    const grantedExpires = cls === 'ok' && this.opKind === 'REGISTER' ? this.grantedExpires(final) : 0;
    this.host.operationDone(this, {
      kind: this.opKind,
      cls,
      status,
      reason,
      intendedUs: this.opIntendedUs,
      sentUs: this.opSentUs,
      doneUs: this.host.clock.nowUs(),
      retryAfterS,
      grantedExpires,
    });
  }

  /** Our Contact's expires param in the 200, else its Expires header, else what we asked for. */
  private grantedExpires(final: SipJsResponse | undefined): number {
    const message = final as (SipJsResponse & { getHeaders?(name: string): string[] }) | undefined;
    for (const contact of message?.getHeaders?.('contact') ?? []) {
      if (!contact.includes(`:${this.contactName}@`)) continue;
      const m = /;\s*expires\s*=\s*(\d+)/i.exec(contact);
      if (m) return Number(m[1]);
    }
    const header = Number.parseInt(message?.getHeader('expires') ?? '', 10);
    return header > 0 ? header : this.config.expires;
  }

  private readonly onLog = (level: string, category: string, _label: string | undefined, content: string): void => {
    if (level === 'error') this.host.log(`${category}: ${content}`);
  };
}
