import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactCredentials } from '../src/shared/redact.js';

/** Secrets as they come: letters, digits and the punctuation passwords and tokens use (no separators). */
const secretArb = fc.stringMatching(/^[A-Za-z0-9!#$%*+./:=@^_~-]{6,24}$/).filter((s) => !s.startsWith('-') && !s.includes(REDACTED));

/** Places a credential can sit in command output, an RPC answer or an error message. */
const TEMPLATES: ((s: string) => string)[] = [
  (s) => `password=${s}`,
  (s) => `db_password: ${s} next`,
  (s) => `{"password":"${s}","user":"bob"}`,
  (s) => `export API_KEY='${s}'`,
  (s) => `https://api/x?access_token=${s}&page=2`,
  (s) => `Authorization: Digest username="alice", realm="r", nonce="${s}", uri="sip:r", response="${s}"`,
  (s) => `Proxy-Authorization: Bearer ${s}`,
  (s) => `curl -H 'authorization: Basic ${s}' http://127.0.0.1/`,
  (s) => `WWW-Authenticate: Digest realm="r", nonce="${s}", qop="auth"`,
  (s) => `mysql --password ${s} -u root`,
  (s) => `client_secret = "${s}"`,
  (s) => `{"result": {"nonce": "${s}"}}`,
];

describe('redactCredentials', () => {
  it('blanks values and keeps keys and layout', () => {
    expect(redactCredentials('user=bob password=hunter2 port=5060')).toBe(`user=bob password=${REDACTED} port=5060`);
    expect(redactCredentials('{"password": "hunter2", "n": 1}')).toBe(`{"password": "${REDACTED}", "n": 1}`);
    expect(redactCredentials('Authorization: Digest username="a", nonce="n", response="r"\nnext line')).toBe(`Authorization: ${REDACTED}\nnext line`);
    expect(redactCredentials('WWW-Authenticate: Digest realm="sipstorm", nonce="abc123", qop="auth"')).toBe(
      `WWW-Authenticate: Digest realm="sipstorm", nonce="${REDACTED}", qop="auth"`,
    );
    expect(redactCredentials('http://admin:s3cret@127.0.0.1:8080/RPC')).toBe(`http://admin:${REDACTED}@127.0.0.1:8080/RPC`);
    expect(redactCredentials('kamcmd --password hunter2 stats')).toBe(`kamcmd --password ${REDACTED} stats`);
  });

  it('leaves ordinary output alone', () => {
    for (const text of ['tokens=5 rate=10/s', 'authorization failed: 403 Forbidden', 'Bearer realm="api"', 'SIP/2.0 200 OK\r\nCSeq: 2 REGISTER\r\n', 'restarted kamailio in 1.2 s', '']) {
      expect(redactCredentials(text)).toBe(text);
    }
  });

  it('never lets a secret through, wherever it sits (property)', () => {
    fc.assert(
      fc.property(secretArb, fc.constantFrom(...TEMPLATES), fc.string({ maxLength: 30 }).map((s) => s.replace(/[^a-z ]/g, '')), (secret, template, noise) => {
        const out = redactCredentials(`${noise}\n${template(secret)}\n${noise}`);
        expect(out).not.toContain(secret);
        expect(out).toContain(REDACTED);
      }),
      { numRuns: 1000 },
    );
  });

  it('is idempotent, and text without secret words passes unchanged (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TEMPLATES), secretArb, (template, secret) => {
        const once = redactCredentials(template(secret));
        expect(redactCredentials(once)).toBe(once);
      }),
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9 =:,\n]{0,200}$/), (text) => {
        // random text that happens to spell a secret word is not "ordinary": skip it
        fc.pre(!/pass|pwd|secret|token|key|nonce|response|opaque|authorization|bearer/i.test(text));
        expect(redactCredentials(text)).toBe(text);
      }),
    );
  });
});
