// The addon's MD5 (native/md5.c), which digest.ts uses for MD5 and MD5-sess when it is built, must give
// node:crypto's answer for every string: UTF-8 of any text, every padding case, the heap path past 1 KiB.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hash } from 'node:crypto';
import { loadUdpBatch, udpBatchUnavailableReason } from '../src/transport/native.js';

// test/udp-batch.test.ts fails CI when the addon did not build; here its absence only skips.
const UNAVAILABLE = udpBatchUnavailableReason();

describe.skipIf(UNAVAILABLE !== undefined)('md5Hex (native)', () => {
  const md5Hex = (text: string) => loadUdpBatch()!.md5Hex(text);
  const reference = (text: string) => hash('md5', text, 'hex');

  it('matches node:crypto on every length around the 55/56/64-byte padding edges and the 1 KiB stack buffer', () => {
    for (let n = 0; n <= 200; n++) expect(md5Hex('a'.repeat(n))).toBe(reference('a'.repeat(n)));
    for (let n = 1000; n <= 1100; n++) expect(md5Hex('b'.repeat(n))).toBe(reference('b'.repeat(n)));
    // Multi-byte characters straddling the stack buffer's end.
    for (let n = 330; n <= 350; n++) expect(md5Hex('€'.repeat(n))).toBe(reference('€'.repeat(n)));
    for (const lone of ['\ud800', 'a\udc00b', '\ud83d\ude00\ud83d']) expect(md5Hex(lone)).toBe(reference(lone));
    expect(md5Hex('')).toBe('d41d8cd98f00b204e9800998ecf8427e'); // RFC 1321 A.5
    expect(md5Hex('message digest')).toBe('f96b697d7cb7938d525a2f31aaf161d0');
  });

  it('matches node:crypto for any text, lone surrogates included (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 800 }), fc.string({ unit: 'grapheme', maxLength: 600 })), (text) => {
        expect(md5Hex(text)).toBe(reference(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects a non-string', () => {
    expect(() => (loadUdpBatch()!.md5Hex as (x: unknown) => string)(42)).toThrow(/expected a string/);
  });
});
