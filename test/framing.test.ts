import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamFramer } from '../src/transport/framing.js';

function response(status: number, branch: string, body = '', lengthHeader: 'long' | 'compact' | 'none' = 'long'): Buffer {
  const bytes = Buffer.from(body, 'utf8');
  const cl = lengthHeader === 'long' ? `Content-Length: ${bytes.length}\r\n` : lengthHeader === 'compact' ? `l:${bytes.length}\r\n` : '';
  return Buffer.concat([
    Buffer.from(
      `SIP/2.0 ${status} Reason\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=${branch}\r\nCSeq: 1 OPTIONS\r\nCall-ID: x@y\r\n${cl}\r\n`,
    ),
    bytes,
  ]);
}

function drain(f: StreamFramer): string[] {
  const out: string[] = [];
  for (let m = f.next(), n = 0; m !== null && n < 10_000; m = f.next(), n++) out.push(m.toString('latin1'));
  return out;
}

const A = response(200, 'z9hG4bKa', 'héllo wörld ✓'); // multi-byte: Content-Length counts bytes
const B = response(100, 'z9hG4bKb', '', 'none'); // stream without Content-Length => 0 body
const C = response(401, 'z9hG4bKc', 'v=0\r\n\r\nbody with blank line', 'compact');
const REQ = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKr\r\ncontent-length : 3\r\n\r\nabc');

describe('StreamFramer', () => {
  it('returns three messages pushed in one chunk, bodies cut by bytes', () => {
    const f = new StreamFramer();
    f.push(Buffer.concat([A, B, C]));
    expect(drain(f)).toEqual([A, B, C].map((b) => b.toString('latin1')));
    expect(f.errors).toBe(0);
    expect(f.buffered).toBe(0);
  });

  it('waits for the rest of half a message, also when the split is inside the headers', () => {
    for (const cut of [1, 10, A.indexOf('\r\n\r\n') + 2, A.length - 5]) {
      const f = new StreamFramer();
      f.push(A.subarray(0, cut));
      expect(f.next()).toBeNull();
      f.push(A.subarray(cut));
      expect(f.next()?.equals(A)).toBe(true);
      expect(f.next()).toBeNull();
    }
  });

  it('handles requests, a spaced header name, and CRLF keep-alives between messages', () => {
    const f = new StreamFramer();
    f.push(Buffer.concat([Buffer.from('\r\n\r\n'), REQ, Buffer.from('\r\n'), A, Buffer.from('\r\n\r\n')]));
    expect(drain(f)).toEqual([REQ.toString('latin1'), A.toString('latin1')]);
    expect(f.errors).toBe(0);
    expect(f.buffered).toBe(0);
  });

  it('skips garbage before a message, counting one error per run of garbage', () => {
    const f = new StreamFramer();
    f.push(Buffer.concat([Buffer.from('hello there\r\nmore junk\r\n'), A]));
    expect(drain(f)).toEqual([A.toString('latin1')]);
    expect(f.errors).toBe(1);
  });

  it('drops a message with an unreadable Content-Length and resyncs on the next one', () => {
    const bad = Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 12x\r\n\r\nsome body\r\n');
    const f = new StreamFramer();
    f.push(Buffer.concat([bad, B]));
    expect(drain(f)).toEqual([B.toString('latin1')]);
    expect(f.errors).toBe(1);
  });

  it('rejects conflicting Content-Length values', () => {
    const f = new StreamFramer();
    f.push(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 1\r\nl: 2\r\n\r\n'));
    f.push(B);
    expect(drain(f)).toEqual([B.toString('latin1')]);
    expect(f.errors).toBe(1);
  });

  it('skips an oversized message whole, even when its body arrives later', () => {
    const big = response(200, 'z9hG4bKbig', 'x'.repeat(5000));
    const f = new StreamFramer(1024);
    f.push(big.subarray(0, 300));
    expect(f.next()).toBeNull();
    f.push(big.subarray(300, 2000));
    expect(f.next()).toBeNull();
    f.push(Buffer.concat([big.subarray(2000), A]));
    expect(drain(f)).toEqual([A.toString('latin1')]);
    expect(f.errors).toBe(1);
  });

  it('gives up on headers that never end, bounded by the maximum size', () => {
    const f = new StreamFramer(256);
    f.push(Buffer.from('SIP/2.0 200 OK\r\n'));
    for (let i = 0; i < 20; i++) f.push(Buffer.from(`X-Filler-${i}: ${'y'.repeat(30)}\r\n`));
    expect(f.next()).toBeNull();
    expect(f.errors).toBe(1);
    expect(f.buffered).toBeLessThan(256);
    f.push(Buffer.from('X-Last: 1\r\n\r\n'));
    f.push(A);
    expect(drain(f)).toEqual([A.toString('latin1')]);
    expect(f.errors).toBe(1);
  });

  it('never throws and never loops on random bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), (chunks) => {
        const f = new StreamFramer(512);
        let total = 0;
        for (const c of chunks) {
          f.push(Buffer.from(c));
          total += drain(f).length;
        }
        return total >= 0 && f.buffered <= 512 + 200;
      }),
      { numRuns: 500 },
    );
  });

  it('any split of a stream of messages yields the same messages (property)', () => {
    const message = fc
      .record({
        status: fc.integer({ min: 100, max: 699 }),
        body: fc.string({ unit: 'grapheme', maxLength: 40 }),
        header: fc.constantFrom('long' as const, 'compact' as const, 'none' as const),
        keepAlive: fc.constantFrom('', '\r\n', '\r\n\r\n'),
        branch: fc.stringMatching(/^[a-zA-Z0-9]{1,12}$/),
      })
      .map((m) =>
        // Without Content-Length a stream message has no body (RFC 3261 18.3).
        ({ bytes: response(m.status, `z9hG4bK${m.branch}`, m.header === 'none' ? '' : m.body, m.header), keepAlive: m.keepAlive }),
      );
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 30 }), (msgs, cutSeeds) => {
        const stream = Buffer.concat(msgs.flatMap((m) => [Buffer.from(m.keepAlive), m.bytes]));
        const cuts = [...new Set(cutSeeds.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const f = new StreamFramer();
        const got: string[] = [];
        let prev = 0;
        for (const cut of [...cuts, stream.length]) {
          f.push(stream.subarray(prev, cut));
          prev = cut;
          got.push(...drain(f));
        }
        expect(got).toEqual(msgs.map((m) => m.bytes.toString('latin1')));
        expect(f.errors).toBe(0);
        expect(f.buffered).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('reset() forgets a half message (new connection)', () => {
    const f = new StreamFramer();
    f.push(A.subarray(0, 40));
    f.reset();
    f.push(B);
    expect(drain(f)).toEqual([B.toString('latin1')]);
    expect(f.errors).toBe(0);
  });
});
