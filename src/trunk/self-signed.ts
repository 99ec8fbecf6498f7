// A self-signed certificate for the lab (the embedded trunk's TLS/WSS listeners, the bundled
// Kamailio): generated at start, never committed. Pure Node: an EC P-256 key from node:crypto and a
// hand-assembled X.509 v3 TBSCertificate (RFC 5280) signed with ECDSA-SHA256. The certificate is its
// own trust anchor (CA:TRUE), so a client can trust it with `--ca cert.pem` or skip checks with `--insecure`.
import { createHash, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bitString, boolean, explicit, ipBytes, namedBits, objectId, octetString, sequence, set, smallInteger, time, tlv, unsignedInteger, utf8String,
} from './der.js';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

/** Names every lab client may use for a loopback server. */
export const LAB_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

export interface LabCertificateOptions {
  /** DNS names and IP literals for subjectAltName (default LAB_HOSTS; extra ones are added to them). */
  hosts?: string[];
  commonName?: string;
  days?: number;
  now?: Date;
}

export interface LabCertificate {
  certPem: string;
  keyPem: string;
}

export function generateLabCertificate(opts: LabCertificateOptions = {}): LabCertificate {
  const now = opts.now ?? new Date();
  const hosts = [...new Set([...LAB_HOSTS, ...(opts.hosts ?? [])])];
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // The key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method 1); P-256 SPKI
  // is a fixed 26-byte header, then the BIT STRING's 0x00 and the 65-byte point.
  const keyId = createHash('sha1').update(spki.subarray(spki.length - 65)).digest();
  const name = sequence(
    set(sequence(objectId(OID.organization), utf8String('sipstorm'))),
    set(sequence(objectId(OID.commonName), utf8String(opts.commonName ?? 'sipstorm lab'))),
  );
  const algorithm = sequence(objectId(OID.ecdsaWithSha256));
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // positive, at most 20 octets (RFC 5280 4.1.2.2)
  const extension = (oid: string, critical: boolean, value: Buffer): Buffer =>
    sequence(objectId(oid), ...(critical ? [boolean(true)] : []), octetString(value));
  const altNames = hosts.map((h) => (isIP(h) ? tlv(0x87, ipBytes(h)) : tlv(0x82, Buffer.from(h, 'ascii'))));
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(serial),
    algorithm,
    name,
    sequence(time(new Date(now.getTime() - 3_600_000)), time(new Date(now.getTime() + (opts.days ?? 365) * 86_400_000))),
    name,
    spki,
    explicit(
      3,
      sequence(
        extension(OID.basicConstraints, true, sequence(boolean(true))),
        // digitalSignature (0), keyCertSign (5)
        extension(OID.keyUsage, true, namedBits([0, 5])),
        extension(OID.extKeyUsage, false, sequence(objectId(OID.serverAuth), objectId(OID.clientAuth))),
        extension(OID.subjectAltName, false, sequence(...altNames)),
        extension(OID.subjectKeyIdentifier, false, octetString(keyId)),
        extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, keyId))),
      ),
    ),
  );
  const signature = createSign('SHA256').update(tbs).sign(privateKey); // DER ECDSA-Sig-Value
  const der = sequence(tbs, algorithm, bitString(signature));
  return { certPem: pem('CERTIFICATE', der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export interface LabCertificateFiles extends LabCertificate {
  dir: string;
  /** The certificate; also the CA file a client trusts (`--ca`). */
  certPath: string;
  keyPath: string;
  /** Deletes the temp directory (the private key with it). */
  remove(): void;
}

/** A fresh certificate written to a new private temp directory (key file mode 0600). */
export function writeLabCertificate(opts: LabCertificateOptions = {}, parentDir = tmpdir()): LabCertificateFiles {
  const cert = generateLabCertificate(opts);
  const dir = mkdtempSync(join(parentDir, 'sipstorm-cert-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  writeFileSync(keyPath, cert.keyPem, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, cert.certPem);
  return { ...cert, dir, certPath, keyPath, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
