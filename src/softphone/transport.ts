// sip.js's own web transport (SIP over WebSocket, RFC 7118), unchanged on the wire, with three
// additions for measurement: every request sent and every response received is reported (the
// registrar's 401 challenges are consumed inside sip.js and never reach the Registerer's delegate),
// and connect() lends the fleet's ws class to sip.js as the global WebSocket (websocket.ts).
import { Web, type Core } from 'sip.js';
import { withGlobalWebSocket, type SipWebSocket, type WebSocketClass } from './websocket.js';

export interface WireObserver {
  /** A SIP message went onto the WebSocket (requests only: agents never answer). */
  onSend(message: string): void;
  /** A SIP message arrived (CRLF keep-alives excluded). */
  onReceive(message: string): void;
}

/** UserAgentOptions.transportOptions for SoftphoneTransport. */
export interface SoftphoneTransportOptions {
  server: string;
  /** Seconds (sip.js's unit) to wait for the WebSocket to open. */
  connectionTimeout: number;
  traceSip: false;
  keepAliveInterval: number;
  socketClass: WebSocketClass;
  observer: WireObserver;
}

type MessageHandler = (ev: { data: unknown }, ws: unknown) => void;

export class SoftphoneTransport extends Web.Transport {
  private readonly socketClass: WebSocketClass;
  private readonly observer: WireObserver;
  private socket: SipWebSocket | undefined;

  constructor(logger: Core.Logger, options: SoftphoneTransportOptions) {
    super(logger, options);
    this.socketClass = options.socketClass;
    this.observer = options.observer;
  }

  override connect(): Promise<void> {
    const pending = withGlobalWebSocket(this.socketClass, () => super.connect());
    this.socket = (this as unknown as { _ws?: SipWebSocket })._ws;
    return pending;
  }

  /** Why the last socket failed (e.g. "ECONNREFUSED ...", "self-signed certificate"), if it did. */
  socketFailure(): string | undefined {
    return this.socket?.failure;
  }

  override send(message: string): Promise<void> {
    // Only what can go on the wire counts: sip.js also "sends" on a closed socket (and then fails it).
    if (this.isConnected()) this.observer.onSend(message);
    return super.send(message);
  }

  /** Called by the patched message handler below. */
  observeReceive(data: unknown): void {
    if (typeof data === 'string') this.observer.onReceive(data);
    else if (data instanceof ArrayBuffer) this.observer.onReceive(new TextDecoder().decode(data));
  }
}

// onWebSocketMessage is private in sip.js's typings, so it is wrapped on the prototype (once, not per
// agent) instead of overridden in the class body.
const proto = SoftphoneTransport.prototype as unknown as { onWebSocketMessage: MessageHandler; observeReceive(data: unknown): void };
const baseOnMessage = proto.onWebSocketMessage;
proto.onWebSocketMessage = function (this: { observeReceive(data: unknown): void }, ev, ws) {
  this.observeReceive(ev.data);
  baseOnMessage.call(this, ev, ws);
};
