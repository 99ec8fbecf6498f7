import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSipMessage } from '../src/sip/parser.js';
import { parseChallenge, parseAuthorization } from '../src/sip/digest.js';
import { getHeaderValues, getParam, parseNameAddr } from '../src/sip/headers.js';
import { SEEDS, mutate, xorshift } from './fuzz-corpus.js';

function parseEverything(buf: Buffer): void {
  const r = parseSipMessage(buf);
  if (r.ok) {
    for (const name of ['via', 'contact', 'www-authenticate']) for (const v of getHeaderValues(r.message, name)) {
      getParam(v, 'branch');
      parseNameAddr(v);
      parseChallenge(v, false);
      parseAuthorization(v);
    }
  } else {
    expect(typeof r.kind).toBe('string');
  }
}

describe('the receive path never throws', () => {
  it('on random bytes (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => parseEverything(Buffer.from(bytes))), { numRuns: 2000 });
  });

  it('on random text shaped like SIP (property)', () => {
    const line = fc.string({ maxLength: 80 });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.constantFrom('\r\n', '\n'), (lines, eol) => parseEverything(Buffer.from(`SIP/2.0 200 OK${eol}${lines.join(eol)}${eol}${eol}`))),
      { numRuns: 1000 },
    );
  });

  it('on 4,000 mutations of valid messages', () => {
    const rand = xorshift(1234);
    const seeds = SEEDS.map((s) => Buffer.from(s));
    let parsed = 0;
    for (let i = 0; i < 4000; i++) {
      const buf = mutate(seeds[i % seeds.length], rand);
      if (parseSipMessage(buf).ok) parsed++;
      parseEverything(buf);
    }
    // Many mutations leave a valid message; many do not: both paths ran.
    expect(parsed).toBeGreaterThan(100);
    expect(parsed).toBeLessThan(4000);
  });
});
