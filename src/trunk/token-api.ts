// POST /token on the trunk's HTTP control API: {user, password} as JSON -> 200 {token, expiresInS},
// 401 {error} (wrong credentials, or tokens refused during the publish window), 429 {error} +
// Retry-After (throttled during the publish window), 400 on a malformed body. The password is compared
// and dropped: it never appears in an answer or a log.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBoundedBody } from './http-body.js';
import type { TokenAnswer } from './tokens.js';

const MAX_BODY_BYTES = 4096;

export interface TokenIssuer {
  issueToken(user: string, password: string): TokenAnswer;
}

export function handleTokenRequest(req: IncomingMessage, res: ServerResponse, issuer: TokenIssuer): void {
  const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(`${JSON.stringify(body)}\n`);
  };
  void readBoundedBody(req, MAX_BODY_BYTES).then((text) => {
    if (text === null) return reply(413, { error: `body over ${MAX_BODY_BYTES} bytes` });
    const parsed = parseCredentials(text);
    if (typeof parsed === 'string') return reply(400, { error: parsed });
    const answer = issuer.issueToken(parsed.user, parsed.password);
    if (answer.status === 200) return reply(200, { token: answer.token, expiresInS: answer.expiresInS });
    if (answer.status === 429) return reply(429, { error: answer.error }, { 'retry-after': String(answer.retryAfterS) });
    reply(401, { error: answer.error }, { 'www-authenticate': 'Bearer realm="sipstorm", error="invalid_token"' });
  });
}

/** {user, password} or the reason it is not one (without echoing the body: it holds a password). */
function parseCredentials(text: string): { user: string; password: string } | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'body must be JSON {"user": "...", "password": "..."}';
  }
  const b = body as { user?: unknown; password?: unknown } | null;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return 'body must be a JSON object {"user", "password"}';
  if (typeof b.user !== 'string' || b.user === '') return 'user must be a non-empty string';
  if (typeof b.password !== 'string') return 'password must be a string';
  return { user: b.user, password: b.password };
}
