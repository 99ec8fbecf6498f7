// Seed messages and mutations shared by the fuzz test (a few thousand cases) and bench/fuzz.ts (millions).
export const SEEDS: string[] = [
  'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport=5070\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: c@h\r\nCSeq: 7 REGISTER\r\nContact: <sip:a@h:5070>;expires=60\r\nContent-Length: 0\r\n\r\n',
  'SIP/2.0 401 Unauthorized\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:a@b>;tag=1\r\nt: <sip:a@b>\r\ni: x\r\nCSeq: 2 REGISTER\r\nWWW-Authenticate: Digest realm="r", nonce="n", qop="auth", algorithm=MD5\r\nl: 0\r\n\r\n',
  'OPTIONS sip:a@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx,\r\n SIP/2.0/UDP g;branch=z9hG4bKy\r\nCall-ID: q\r\nCSeq: 1 OPTIONS\r\nContent-Length: 5\r\n\r\nhello',
  'SIP/2.0 503 Service Unavailable\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\nCall-ID: x\nCSeq: 9 OPTIONS\nRetry-After: 2\n\n',
];

/** Deterministic mutations of a seed: byte flips, truncation, duplication, deletion, CR/LF/colon insertion. */
export function mutate(seed: Buffer, rand: () => number): Buffer {
  const out = Buffer.from(seed);
  const ops = 1 + Math.floor(rand() * 4);
  let buf = out;
  for (let i = 0; i < ops; i++) {
    const at = Math.floor(rand() * Math.max(1, buf.length));
    switch (Math.floor(rand() * 7)) {
      case 0:
        buf[at] = Math.floor(rand() * 256);
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
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(['\r', '\n', ':', ' ', ',', ';', '"', '\t'][Math.floor(rand() * 8)]), buf.subarray(at)]);
        break;
      case 5:
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(String(Math.floor(rand() * 1e12))), buf.subarray(at)]);
        break;
      default:
        buf = Buffer.concat([buf, buf.subarray(0, at)]);
    }
  }
  return buf;
}

/** xorshift32: reproducible from a seed. */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}
