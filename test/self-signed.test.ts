// The lab certificate built by hand in DER: Node's own X.509 parser and (where installed) openssl
// read it back, it verifies with its own key, and it names the loopback hosts.
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipBytes, objectId, unsignedInteger } from '../src/trunk/der.js';
import { generateLabCertificate, writeLabCertificate } from '../src/trunk/self-signed.js';
import { hasTool } from './helpers/tools.js';

describe('DER pieces', () => {
  it('encodes object ids and integers as X.690 says', () => {
    expect(objectId('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
    expect(objectId('2.5.29.17').toString('hex')).toBe('0603551d11');
    expect(unsignedInteger(Buffer.from([0x00, 0x00, 0x7f])).toString('hex')).toBe('02017f');
    expect(unsignedInteger(Buffer.from([0x80])).toString('hex')).toBe('02020080');
  });

  it('turns IP literals into their bytes, compressed or not', () => {
    expect(ipBytes('127.0.0.1').toString('hex')).toBe('7f000001');
    expect(ipBytes('::1').toString('hex')).toBe('00000000000000000000000000000001');
    expect(ipBytes('fe80::1:2').toString('hex')).toBe('fe800000000000000000000000010002');
    expect(ipBytes('::ffff:10.1.2.3').toString('hex')).toBe('00000000000000000000ffff0a010203');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.nat(7), fc.nat(8), (groups, from, len) => {
        const expected = Buffer.alloc(16);
        groups.forEach((g, i) => expected.writeUInt16BE(g, i * 2));
        const full = groups.map((g) => g.toString(16)).join(':');
        expect(ipBytes(full)).toEqual(expected);
        // Zero a run and write it as `::`.
        const end = Math.min(8, from + Math.max(2, len));
        const zeroed = groups.map((g, i) => (i >= from && i < end ? 0 : g));
        const compressed = `${zeroed.slice(0, from).map((g) => g.toString(16)).join(':')}::${zeroed.slice(end).map((g) => g.toString(16)).join(':')}`;
        const z = Buffer.alloc(16);
        zeroed.forEach((g, i) => z.writeUInt16BE(g, i * 2));
        expect(ipBytes(compressed)).toEqual(z);
      }),
      { numRuns: 300 },
    );
  });
});

describe('lab certificate', () => {
  it('parses, verifies with its own key, is a CA and names the loopback hosts plus extra ones', () => {
    const { certPem, keyPem } = generateLabCertificate({ hosts: ['sip.lab.test', '10.9.8.7'] });
    const x = new X509Certificate(certPem);
    expect(x.subject).toContain('CN=sipstorm lab');
    expect(x.issuer).toBe(x.subject);
    expect(x.ca).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkIP('::1')).toBeDefined();
    expect(x.checkIP('10.9.8.7')).toBe('10.9.8.7');
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.checkHost('sip.lab.test')).toBe('sip.lab.test');
    expect(x.checkHost('other.test')).toBeUndefined();
    expect(new Date(x.validFrom).getTime()).toBeLessThan(Date.now());
    expect(new Date(x.validTo).getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    // Two certificates never share a serial or a key.
    const y = new X509Certificate(generateLabCertificate().certPem);
    expect(y.serialNumber).not.toBe(x.serialNumber);
    expect(y.publicKey.export({ type: 'spki', format: 'der' })).not.toEqual(x.publicKey.export({ type: 'spki', format: 'der' }));
  });

  it.skipIf(!hasTool('openssl', 'apt-get install openssl'))('openssl verifies it as its own trust anchor for a TLS server', () => {
    const files = writeLabCertificate();
    try {
      const out = execFileSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', files.certPath, files.certPath], { encoding: 'utf8' });
      expect(out.trim()).toBe(`${files.certPath}: OK`);
      const text = execFileSync('openssl', ['x509', '-in', files.certPath, '-noout', '-text'], { encoding: 'utf8' });
      expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
      expect(text).toMatch(/DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    } finally {
      files.remove();
    }
  });

  it('writes the key readable by its owner only, and remove() deletes it', () => {
    const files = writeLabCertificate();
    expect(statSync(files.keyPath).mode & 0o777).toBe(0o600);
    expect(existsSync(files.certPath)).toBe(true);
    files.remove();
    expect(existsSync(files.dir)).toBe(false);
  });
});
