import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import { x509 } from './crypto.js';
import { type KeyType, signingAlgorithm } from './keys.js';
import type { San } from './san.js';
import { DAY_MS } from './status.js';

/** Clock skew allowance: a certificate is valid from a few minutes before it was made. */
export const BACKDATE_MS = 5 * 60 * 1000;

/**
 * A random positive 128-bit serial (RFC 5280 allows 20 octets; CA/B asks for 64 random bits).
 * The top bit is cleared so the DER INTEGER stays positive in 16 octets.
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01; // keep the DER minimal: no leading zero octet
  return bytes.toString('hex');
}

export function validityWindow(days: number, now: Date = new Date()): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}

export interface CaMaterial {
  cert: x509.X509Certificate;
  key: CryptoKey;
  keyType: KeyType;
}

export async function createCaCertificate(params: {
  cn: string;
  keys: CryptoKeyPair;
  keyType: KeyType;
  days: number;
  now?: Date;
}): Promise<x509.X509Certificate> {
  const { notBefore, notAfter } = validityWindow(params.days, params.now);
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [params.cn] }],
    notBefore,
    notAfter,
    keys: params.keys,
    signingAlgorithm: signingAlgorithm(params.keyType),
    extensions: [
      // pathLen 0: this CA signs leaf certificates only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(params.keys.publicKey),
    ],
  });
}

export interface LeafParams {
  kind: 'server' | 'client';
  cn: string;
  ou?: string | undefined;
  sans: readonly San[];
  publicKey: CryptoKey;
  leafKeyType: KeyType;
  days: number;
  ca: CaMaterial;
  now?: Date;
}

export async function createLeafCertificate(params: LeafParams): Promise<x509.X509Certificate> {
  const { notBefore, notAfter } = validityWindow(params.days, params.now);
  const subject: x509.JsonName = [{ CN: [params.cn] }];
  if (params.ou) subject.push({ OU: [params.ou] });
  // RSA keys may be used for key transport in TLS 1.2 RSA kex; ECDSA keys only sign.
  const usages =
    params.leafKeyType === 'ecdsa-p256'
      ? x509.KeyUsageFlags.digitalSignature
      : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    new x509.ExtendedKeyUsageExtension(
      [params.kind === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(params.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(params.ca.cert.publicKey),
  ];
  if (params.sans.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        params.sans.map(
          (s): x509.JsonGeneralName => ({ type: s.type === 'dns' ? 'dns' : 'ip', value: s.value }),
        ),
        false,
      ),
    );
  }
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: params.ca.cert.subjectName,
    notBefore,
    notAfter,
    publicKey: params.publicKey,
    signingKey: params.ca.key,
    signingAlgorithm: signingAlgorithm(params.ca.keyType),
    extensions,
  });
}

export interface RevokedEntry {
  serial: string;
  revokedAt: Date;
  reason: x509.X509CrlReason;
}

export async function createCrl(params: {
  ca: CaMaterial;
  entries: readonly RevokedEntry[];
  crlNumber: number;
  days: number;
  now?: Date;
}): Promise<x509.X509Crl> {
  const now = params.now ?? new Date();
  return x509.X509CrlGenerator.create({
    issuer: params.ca.cert.subjectName,
    thisUpdate: new Date(now.getTime() - BACKDATE_MS),
    nextUpdate: new Date(now.getTime() + params.days * DAY_MS),
    signingKey: params.ca.key,
    signingAlgorithm: signingAlgorithm(params.ca.keyType),
    entries: params.entries.map((e) => ({
      serialNumber: e.serial,
      revocationDate: e.revokedAt,
      reason: e.reason,
    })),
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(params.ca.cert.publicKey),
      new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(params.crlNumber))),
    ],
  });
}

export function fingerprintSha256(cert: x509.X509Certificate): string {
  return createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex');
}

/** Lower-case hex serial without leading zero octets, as openssl and the index print it. */
export { normalizeSerial } from './serial.js';

/** SANs of a parsed certificate as `DNS:x` / `IP:y` strings. */
export function sansOf(cert: x509.X509Certificate): string[] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (!ext) return [];
  return ext.names.items.map(
    (n) => `${n.type === 'ip' ? 'IP' : n.type === 'dns' ? 'DNS' : n.type}:${n.value}`,
  );
}

/** PEM of a CRL with the `X509 CRL` label that openssl and Node's `tls` expect. */
export function crlToPem(crl: x509.X509Crl): string {
  return `${x509.PemConverter.encode(crl.rawData, 'X509 CRL')}\n`;
}
