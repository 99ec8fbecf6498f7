import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeUtf8 } from '../src/shared/slab-encoder.js';

describe('encodeUtf8 (slab-backed request encoding)', () => {
  it('gives the bytes Buffer.from gives, and earlier results never change (property)', () => {
    fc.assert(
      fc.property(
        // Sizes from empty to past the own-Buffer limit; any UTF-16 text, lone surrogates included.
        fc.array(fc.oneof(fc.string({ maxLength: 700 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', minLength: 5000, maxLength: 6000 })), {
          minLength: 1,
          maxLength: 60,
        }),
        (texts) => {
          const kept = texts.map((t) => ({ t, b: encodeUtf8(t) }));
          for (const { t, b } of kept) expect(b.equals(Buffer.from(t, 'utf8'))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('moves to a new slab when one is full, leaving earlier messages intact', () => {
    // 256 KiB slabs: 2,000 messages of ~650 bytes span several of them.
    const messages = Array.from({ length: 2000 }, (_, i) => `REGISTER sip:example.com SIP/2.0\r\nCSeq: ${i} REGISTER\r\n${'x'.repeat(600)}\r\n\r\n`);
    const encoded = messages.map(encodeUtf8);
    const slabs = new Set(encoded.map((b) => b.buffer));
    expect(slabs.size).toBeGreaterThan(2);
    encoded.forEach((b, i) => expect(b.toString('utf8')).toBe(messages[i]));
    // Each message starts word-aligned, and none overlaps the next in the same slab.
    for (let i = 1; i < encoded.length; i++) {
      expect(encoded[i].byteOffset % 8).toBe(0);
      if (encoded[i].buffer === encoded[i - 1].buffer) expect(encoded[i].byteOffset).toBeGreaterThanOrEqual(encoded[i - 1].byteOffset + encoded[i - 1].length);
    }
  });
});
