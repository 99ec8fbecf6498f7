// Seed messages and deterministic mutations for the SIP parser fuzz test (a few thousand cases) and
// bench/fuzz.ts (millions). Seeds cover what the parser must handle: compact names, folding,
// comma-joined Via, LF-only line ends, IPv6, multi-byte UTF-8 bodies and display names.

/** A typical 200 OK to a REGISTER, about 300 bytes (the parse-timing subject). */
export const OK_200 =
  'SIP/2.0 200 OK\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.12:5060;branch=z9hG4bK6f1e0c3a9b2d4e5f;rport=5060;received=10.0.0.12\r\n' +
  'From: <sip:agent0042@example.net>;tag=5a1c9e03d7b24f68\r\n' +
  'To: <sip:agent0042@example.net>;tag=as6f1e0c3a\r\n' +
  'Call-ID: 0c3a9b2d4e5f6a7b8c9d0e1f2a3b4c5d@10.0.0.12\r\n' +
  'CSeq: 17 REGISTER\r\n' +
  'Contact: <sip:agent0042@10.0.0.12:5060>;expires=3600\r\n' +
  'Server: trunk/1.0\r\n' +
  'Content-Length: 0\r\n\r\n';

/** A 401 with a SHA-256 challenge. */
export const UNAUTHORIZED_401 =
  'SIP/2.0 401 Unauthorized\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.12:5060;branch=z9hG4bK6f1e0c3a9b2d4e5f;rport=5060;received=10.0.0.12\r\n' +
  'From: <sip:agent0042@example.net>;tag=5a1c9e03d7b24f68\r\n' +
  'To: <sip:agent0042@example.net>;tag=as6f1e0c3a\r\n' +
  'Call-ID: 0c3a9b2d4e5f6a7b8c9d0e1f2a3b4c5d@10.0.0.12\r\n' +
  'CSeq: 16 REGISTER\r\n' +
  'WWW-Authenticate: Digest realm="example.net", nonce="ZmFrZS1ub25jZS0xNzAwMDAwMDAw", algorithm=SHA-256, qop="auth", opaque="6f1e"\r\n' +
  'Content-Length: 0\r\n\r\n';

export const SEEDS: string[] = [
  OK_200,
  UNAUTHORIZED_401,
  'SIP/2.0 407 Proxy Authentication Required\r\nv: SIP/2.0/TCP [2001:db8::5]:5060;branch=z9hG4bKp7;rport\r\nf: "Agent \u00e9" <sip:a@b>;tag=1\r\nt: <sip:a@b>\r\ni: x\r\nCSeq: 2 OPTIONS\r\n' +
    'Proxy-Authenticate: Digest realm="r", nonce="n",\r\n  algorithm=MD5-sess, qop="auth,auth-int", stale=TRUE\r\nl: 0\r\n\r\n',
  'OPTIONS sip:a@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx,\r\n SIP/2.0/UDP g;branch=z9hG4bKy\r\nVia: SIP/2.0/UDP k;branch=z9hG4bKz\r\nMax-Forwards: 70\r\nCall-ID: q\r\nCSeq: 1 OPTIONS\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nh\u00e9\u2603!',
  'SIP/2.0 503 Service Unavailable\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\nCall-ID: x\nCSeq: 9 OPTIONS\nRetry-After: 2\n\n',
  'SIP/2.0 423 Interval Too Brief\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK3;received=127.0.0.1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: c\r\nCSeq: 4 REGISTER\r\nMin-Expires: 60\r\nContent-Length: 0\r\n\r\n',
  'REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP [::1]:5060;branch=z9hG4bKr;rport\r\nMax-Forwards: 70\r\nFrom: <sip:agent0001@example.net>;tag=ft\r\nTo: <sip:agent0001@example.net>\r\n' +
    'Call-ID: cid@::1\r\nCSeq: 5 REGISTER\r\nContact: <sip:agent0001@[::1]:5060>;expires=60\r\nExpires: 60\r\n' +
    'Authorization: Digest username="agent0001", realm="example.net", nonce="abc", uri="sip:example.net", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="c0", qop=auth, nc=00000001\r\n' +
    'User-Agent: sipstorm\r\nContent-Length: 0\r\n\r\n',
];

const INSERTS = ['\r\n', '\n', ':', ' ', ',', ';', '"', '\t', '\r\n ', '<', '>', '=', '\\', '\u00e9', '\u2603', '\r\n\r\n', 'Via: x\r\n', 'Content-Length: 99\r\n', 'SIP/2.0 '];
const INSERT_BUFS = INSERTS.map((s) => Buffer.from(s, 'utf8'));

/** Deterministic mutations: byte flips, truncation, duplication, deletion, token insertion, splices. */
export function mutate(seed: Buffer, rand: () => number, others: readonly Buffer[] = []): Buffer {
  const ops = 1 + Math.floor(rand() * 4);
  let buf = seed;
  for (let i = 0; i < ops; i++) {
    const at = Math.floor(rand() * Math.max(1, buf.length));
    switch (Math.floor(rand() * 9)) {
      case 0:
        buf = Buffer.from(buf);
        if (buf.length > 0) buf[at] = Math.floor(rand() * 256);
        break;
      case 1:
        buf = buf.subarray(0, at);
        break;
      case 2:
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + 20), buf.subarray(at)]);
        break;
      case 3:
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + Math.floor(rand() * 10))]);
        break;
      case 4:
        buf = Buffer.concat([buf.subarray(0, at), INSERT_BUFS[Math.floor(rand() * INSERT_BUFS.length)], buf.subarray(at)]);
        break;
      case 5:
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(String(Math.floor(rand() * 1e12))), buf.subarray(at)]);
        break;
      case 6: {
        // Splice the tail of another seed: headers from one message after the start of another.
        const other = others.length > 0 ? others[Math.floor(rand() * others.length)] : buf;
        buf = Buffer.concat([buf.subarray(0, at), other.subarray(Math.floor(rand() * other.length))]);
        break;
      }
      case 7: {
        // Line ends flipped between CRLF and LF.
        const text = buf.toString('latin1');
        buf = Buffer.from(rand() < 0.5 ? text.replace(/\r\n/g, '\n') : text.replace(/\r?\n/g, '\r\n'), 'latin1');
        break;
      }
      default:
        buf = Buffer.concat([buf, buf.subarray(0, at)]);
    }
  }
  return buf;
}

/** Random bytes of length 0..maxLength. */
export function randomBytesOf(rand: () => number, maxLength: number): Buffer {
  const out = Buffer.allocUnsafe(Math.floor(rand() * (maxLength + 1)));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

export { xorshift } from '../../src/shared/seeded-random.js';
