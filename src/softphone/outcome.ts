// Turning what sip.js reports into the core's outcome classes.
//
// sip.js hands the Registerer's delegate a response for everything, including events that were not
// responses: a transaction timeout (Timer F) becomes a made-up "408 Request Timeout" and a transport
// failure a made-up "503 Service Unavailable" (RFC 3261 8.1.3.1). Those carry no wire text (their
// `data` is undefined), which is how they are told apart from a real 408/503 from the registrar.
import type { OutcomeClass } from '../shared/outcome.js';

/** The parts of a sip.js IncomingResponseMessage that matter here. */
export interface SipJsResponse {
  statusCode?: number;
  reasonPhrase?: string;
  data?: string;
  getHeader(name: string): string | undefined;
}

export interface ClassifiedResponse {
  cls: OutcomeClass;
  /** 0 for the made-up timeout / transport-error responses (nothing came back). */
  status: number;
  reason: string;
  /** Retry-After in seconds, -1 when absent. */
  retryAfterS: number;
}

export function classifyResponse(message: SipJsResponse, classify: (status: number) => OutcomeClass): ClassifiedResponse {
  const status = message.statusCode ?? 0;
  const reason = message.reasonPhrase ?? '';
  if (message.data === undefined) {
    if (status === 408) return { cls: 'timeout', status: 0, reason: '', retryAfterS: -1 };
    return { cls: 'transport_error', status: 0, reason: reason || 'transport error', retryAfterS: -1 };
  }
  let cls = classify(status);
  // sip.js answers one challenge per request; a 401/407 reaching the delegate came after credentials
  // were sent (or carried a challenge sip.js cannot answer, e.g. a digest algorithm other than MD5).
  if ((status === 401 || status === 407) && cls === 'client_error') cls = 'auth_failed';
  return { cls, status, reason, retryAfterS: status >= 300 ? retryAfterSeconds(message.getHeader('retry-after')) : -1 };
}

/** Retry-After delta-seconds (RFC 3261 20.33: digits, then an optional comment and params); -1 when absent. */
export function retryAfterSeconds(value: string | undefined | null): number {
  if (value === undefined || value === null) return -1;
  const m = /^\s*(\d+)/.exec(value);
  return m ? Number(m[1]) : -1;
}

/** Status code of a SIP response's first line ("SIP/2.0 401 Unauthorized"), -1 for a request or garbage. */
export function responseStatus(message: string): number {
  if (!message.startsWith('SIP/2.0 ')) return -1;
  const code = Number.parseInt(message.slice(8, 11), 10);
  return code >= 100 && code < 700 ? code : -1;
}

/** The method of a request's first line ("REGISTER sip:... SIP/2.0"), '' for anything else. */
export function requestMethod(message: string): string {
  const space = message.indexOf(' ');
  return space > 0 && !message.startsWith('SIP/') ? message.slice(0, space) : '';
}
