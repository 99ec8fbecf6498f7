// The lifetime an agent reads from a REGISTER's 200: its own Contact's expires param, else Expires.
// Registrars return every binding of the AoR, in one line or many, long or compact form.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { grantedExpires } from '../src/sip/agent.js';
import { parseSipMessage } from '../src/sip/parser.js';
import type { SipMessage } from '../src/sip/message.js';

const NEEDLE = 'sip:agent7@';

function response(headerLines: string[]): SipMessage {
  const text =
    'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n' +
    headerLines.map((l) => `${l}\r\n`).join('') +
    'Content-Length: 0\r\n\r\n';
  const parsed = parseSipMessage(Buffer.from(text));
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.message;
}

interface Binding {
  ours: boolean;
  /** undefined: no expires param; a string: the param's raw value (maybe not digits). */
  expires: string | undefined;
  port: number;
}

const binding = fc.record({
  ours: fc.boolean(),
  expires: fc.option(fc.oneof(fc.nat({ max: 86400 }).map(String), fc.constantFrom('', 'x1', '-5')), { nil: undefined }),
  port: fc.integer({ min: 1024, max: 65535 }),
});

function contactText(b: Binding): string {
  const user = b.ours ? 'agent7' : 'agent70x';
  return `<sip:${user}@127.0.0.1:${b.port}>${b.expires === undefined ? '' : `;expires=${b.expires}`}`;
}

/** The rule, stated over the bindings in order. */
function expected(bindings: Binding[], expiresHeader: string | undefined): number | undefined {
  for (const b of bindings) if (b.ours && b.expires !== undefined && /^\d+$/.test(b.expires)) return Number(b.expires);
  return expiresHeader !== undefined && /^\d+$/.test(expiresHeader) ? Number(expiresHeader) : undefined;
}

describe('grantedExpires', () => {
  it('takes our binding among many, in any layout, else the Expires header (property)', () => {
    fc.assert(
      fc.property(
        fc.array(binding, { maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 5, maxLength: 5 }),
        fc.boolean(),
        fc.option(fc.oneof(fc.nat({ max: 7200 }).map(String), fc.constant('soon')), { nil: undefined }),
        (bindings, groupSizes, compact, expiresHeader) => {
          // Bindings split into lines of 1-3 comma-joined contacts.
          const lines: string[] = [];
          let i = 0;
          for (let g = 0; i < bindings.length; g++) {
            const take = groupSizes[g % groupSizes.length];
            lines.push(`${compact ? 'm' : 'Contact'}: ${bindings.slice(i, i + take).map(contactText).join(', ')}`);
            i += take;
          }
          if (expiresHeader !== undefined) lines.push(`Expires: ${expiresHeader}`);
          expect(grantedExpires(response(lines), NEEDLE)).toBe(expected(bindings, expiresHeader));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads the one-line answer of a registrar with one binding', () => {
    expect(grantedExpires(response(['Contact: <sip:agent7@127.0.0.1:40000>;expires=120']), NEEDLE)).toBe(120);
    expect(grantedExpires(response(['Contact: <sip:agent7@127.0.0.1:40000>', 'Expires: 60']), NEEDLE)).toBe(60);
    // Our binding's param is not a number: the later binding of ours that has one counts.
    expect(
      grantedExpires(response(['Contact: <sip:agent7@127.0.0.1:40000>;expires=x', 'Contact: <sip:agent7@127.0.0.1:40001>;expires=30']), NEEDLE),
    ).toBe(30);
    expect(grantedExpires(response(['Contact: <sip:other@127.0.0.1:40000>;expires=99']), NEEDLE)).toBeUndefined();
  });
});
