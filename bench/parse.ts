// Cost of the SIP message layer per call: parse a typical 200 OK and a 401 with WWW-Authenticate,
// build a REGISTER, build a response, compute a digest Authorization, make a branch.
// Standalone: `npm run build && node dist/bench/parse.js`; also printed at the end of `npm run fuzz`.
import { pathToFileURL } from 'node:url';
import { parseSipMessage } from '../src/sip/parser.js';
import { buildRequest, buildResponse } from '../src/sip/builder.js';
import { buildAuthorization, parseChallenge } from '../src/sip/digest.js';
import { getHeader } from '../src/sip/headers.js';
import type { SipMessage } from '../src/sip/message.js';
import { newBranch } from '../src/sip/random.js';
import { OK_200, UNAUTHORIZED_401 } from '../test/helpers/sip-corpus.js';

/** Median of `rounds` timed runs of n calls, in ns per call (the median resists a noisy neighbour). */
function nsPerCall(fn: (i: number) => unknown, n: number, rounds = 5): number {
  for (let i = 0; i < Math.min(n, 50_000); i++) fn(i);
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    samples.push(Number(process.hrtime.bigint() - t0) / n);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(rounds / 2)];
}

export function parseTimings(scale = 1): Array<{ name: string; bytes?: number; ns: number }> {
  const ok = Buffer.from(OK_200);
  const unauthorized = Buffer.from(UNAUTHORIZED_401);
  const n = Math.max(1000, Math.round(200_000 * scale));
  const params = {
    method: 'REGISTER' as const, requestUri: 'sip:example.net', viaProtocol: 'UDP', viaHost: '10.0.0.12', viaPort: 5060,
    branch: 'z9hG4bK6f1e0c3a9b2d4e5f', fromUri: 'sip:agent0042@example.net', fromTag: '5a1c9e03d7b24f68',
    toUri: 'sip:agent0042@example.net', callId: '0c3a9b2d4e5f6a7b8c9d0e1f2a3b4c5d@10.0.0.12', cseq: 17,
    contactUri: 'sip:agent0042@10.0.0.12:5060', expires: 3600, userAgent: 'sipstorm/0.1',
  };
  const request = parseSipMessage(buildRequest(params));
  const challenge = parseChallenge(getHeader((parseSipMessage(unauthorized) as { ok: true; message: SipMessage }).message, 'www-authenticate') ?? '', false);
  if (!request.ok || !challenge) throw new Error('bench fixtures do not parse');
  let sink = 0;
  const rows = [
    { name: 'parse 200 OK', bytes: ok.length, ns: nsPerCall(() => (sink += parseSipMessage(ok).ok ? 1 : 0), n) },
    { name: 'parse 401 + WWW-Authenticate', bytes: unauthorized.length, ns: nsPerCall(() => (sink += parseSipMessage(unauthorized).ok ? 1 : 0), n) },
    { name: 'buildRequest REGISTER', ns: nsPerCall((i) => (sink += buildRequest({ ...params, cseq: i }).length), n) },
    { name: 'buildResponse 200 (received/rport)', ns: nsPerCall(() => (sink += buildResponse(request.message, 200, 'OK', { toTag: 'x', received: { host: '10.0.0.13', port: 5070 } }).length), n) },
    { name: 'buildAuthorization SHA-256 qop=auth', ns: nsPerCall((i) => (sink += buildAuthorization(challenge, 'agent0042', 'secret0042', 'REGISTER', 'sip:example.net', i, 'c0ffee').length), n / 4) },
    { name: 'newBranch', ns: nsPerCall(() => (sink += newBranch().length), n) },
  ];
  if (sink === 0) console.log('');
  return rows;
}

export function printParseTimings(scale = 1): void {
  for (const row of parseTimings(scale)) {
    console.log(`${row.name.padEnd(38)} ${row.bytes ? `${String(row.bytes).padStart(4)} B` : '      '} ${row.ns.toFixed(0).padStart(6)} ns`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) printParseTimings();
