// The one interface the SIP layer sees. Kept small on purpose (compare SIP.js's core Transport:
// protocol + send): the transaction layer picks a slot, the transport picks the socket/connection.

export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

export interface Endpoint {
  host: string; // IP literal, no brackets for IPv6
  port: number;
}

export interface TransportStats {
  /** Datagrams or whole framed messages sent / received. */
  sent: number;
  received: number;
  sendErrors: number;
  /** Stream transports: connections opened after a previous one for the same slot closed. */
  reconnects: number;
  /** Bytes that could not be framed into a message (stream transports) or unreadable datagrams. */
  framingErrors: number;
  /** Stream transports: connection set-up time, connect() to ready (TCP connect / TLS handshake / WS upgrade). */
  connectUs?: ConnectStats;
  /** Stream transports: connections that never became ready, by reason (`ECONNREFUSED`, `tls: self-signed certificate`, `ws: 404 Not Found`). */
  handshakeFailures?: Record<string, number>;
}

/** Connection set-up times in microseconds; `count` = connections that became ready. */
export interface ConnectStats {
  count: number;
  /** Set-ups that failed (the sum of handshakeFailures). */
  failures: number;
  minUs: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  /** The whole distribution: compressed base64 HDR histogram ('' when empty). */
  histogram: string;
}

export interface TransportEvents {
  /** A whole SIP message (a datagram, or one framed message from a stream). `slot` is where it arrived. */
  onMessage(data: Buffer, slot: number, from: Endpoint): void;
  /** Batched transports: a message with its kernel receive time (same base as realClock.nowUs()). */
  onMessageAt?(data: Buffer, slot: number, rxUs: number): void;
  /** A send or connection failed for this slot; the transaction layer turns it into `transport_error`. */
  onSlotError(slot: number, reason: string): void;
}

export interface Transport {
  readonly protocol: TransportProtocol;
  /** Reliable transports get no retransmissions (RFC 3261 17.1.2.2: Timer E only on unreliable). */
  readonly reliable: boolean;
  /** Via transport token: UDP, TCP, TLS, WS, WSS. */
  readonly viaProtocol: string;
  /** How many independent sockets/connections exist; a slot is `agentIndex % slots`. */
  readonly slots: number;
  /** The address to put in Via sent-by / Contact for messages sent on this slot. */
  advertised(slot: number): Endpoint;
  /** Send one whole message. Never throws: failures are reported through onSlotError. */
  send(slot: number, data: Buffer): void;
  stats(): TransportStats;
  close(): Promise<void>;
  /**
   * Batched transports do no I/O on their own: send() queues, flush() sends everything queued
   * (sendmmsg), drain() reads everything waiting (recvmmsg) and reports it through the events.
   */
  readonly batched?: boolean;
  flush?(): void;
  drain?(): number;
}

/** What a `--target` string means: `udp:127.0.0.1:5070`, `tcp:[::1]:5070`, `wss:127.0.0.1:8443/ws`. */
export interface TargetSpec {
  protocol: TransportProtocol;
  host: string; // no brackets
  port: number;
  path?: string; // ws/wss only
  /** Display form, e.g. `udp:[::1]:5070`. */
  text: string;
}
