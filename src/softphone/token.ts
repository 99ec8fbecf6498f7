// The token step of a WebRTC softphone: before (re)registering, it trades the agent's credentials for a
// short-lived token over HTTP, and the token is what it authenticates the REGISTER with.
//
// Where the token goes: the SIP digest password (UserAgentOptions.authorizationPassword). That is what
// the embedded trunk can verify without a new SIP extension (it accepts a valid token as the digest
// password of its user; src/trunk/tokens.ts), and what WebRTC platforms that mint per-session SIP
// passwords do. The wire protocol: POST {user, password} as JSON -> 200 {token, expiresInS}; 401 when
// the credentials (or, during a publish, every token) are refused; 429 + Retry-After when throttled.
import type { OutcomeClass } from '../shared/outcome.js';
import { retryAfterSeconds } from './outcome.js';

export interface TokenCredentials {
  user: string;
  password: string;
}

export type TokenResult =
  | { ok: true; token: string; expiresInS: number; status: number }
  | {
      ok: false;
      cls: OutcomeClass;
      /** HTTP status, 0 when none came back. */
      status: number;
      /** Short, credential-free reason for logs and counters ("HTTP 429", "timeout", "ECONNREFUSED"). */
      reason: string;
      /** Retry-After seconds, -1 when absent. */
      retryAfterS: number;
    };

/** Status -> class, the same taxonomy as SIP: 401/403 refused credentials, 429 throttled, 503 overload. */
export function classifyTokenStatus(status: number): OutcomeClass {
  if (status === 401 || status === 403) return 'auth_failed';
  if (status === 429) return 'throttled';
  if (status === 503) return 'overload';
  if (status >= 400 && status < 500) return 'client_error';
  if (status >= 500) return 'server_error';
  return 'malformed';
}

/** One POST to the token endpoint. Never throws; the password is sent in the body, never logged. */
export async function fetchToken(url: string, credentials: TokenCredentials, timeoutMs = 5000): Promise<TokenResult> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: credentials.user, password: credentials.password }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return { ok: false, cls: 'timeout', status: 0, reason: 'timeout', retryAfterS: -1 };
    return { ok: false, cls: 'transport_error', status: 0, reason: e.cause?.code ?? e.message, retryAfterS: -1 };
  }
  const status = response.status;
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (status === 200) {
    const b = body as { token?: unknown; expiresInS?: unknown } | undefined;
    if (typeof b?.token === 'string' && b.token !== '' && typeof b.expiresInS === 'number' && b.expiresInS > 0) {
      return { ok: true, token: b.token, expiresInS: b.expiresInS, status };
    }
    return { ok: false, cls: 'malformed', status, reason: 'token response without token/expiresInS', retryAfterS: -1 };
  }
  return { ok: false, cls: classifyTokenStatus(status), status, reason: `HTTP ${status}`, retryAfterS: retryAfterSeconds(response.headers.get('retry-after')) };
}
