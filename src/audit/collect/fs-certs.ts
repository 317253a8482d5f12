/**
 * Certificates and private keys read as what they are (DER parsed by @peculiar/x509 and Node's
 * crypto), not grepped: key sizes, signature algorithms, names, and whether a key belongs to a CA.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { x509 } from '../../pki/crypto.js';
import type { CertFact } from '../model.js';

const PEM_CERT =
  /-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----[\s\S]*?-----END (?:TRUSTED |X509 )?CERTIFICATE-----/g;
/** A bundle larger than this is reported by its first certificate only (a system bundle holds >100). */
const MAX_PER_FILE = 10;

/** One parsed certificate and its public key (DER SPKI), for matching keys. */
export interface ParsedCert {
  fact: CertFact;
  spki: Buffer;
}

/** The PEM blocks of a file holding certificates. */
export function pemCertificates(text: string): string[] {
  return text.match(PEM_CERT) ?? [];
}

function signatureName(cert: x509.X509Certificate): string {
  const alg = cert.signatureAlgorithm as Algorithm & { hash?: Algorithm };
  const hash = (alg.hash?.name ?? '').replace('-', '').toUpperCase(); // SHA-256 → SHA256
  switch (alg.name) {
    case 'RSASSA-PKCS1-v1_5':
      return `${hash.toLowerCase()}WithRSAEncryption`;
    case 'RSA-PSS':
      return `rsassa-pss-${hash.toLowerCase()}`;
    case 'ECDSA':
      return `ecdsa-with-${hash}`;
    default:
      return alg.name === 'Ed25519' || alg.name === 'EdDSA' ? 'Ed25519' : alg.name;
  }
}

function keyInfo(key: KeyObject): Pick<CertFact, 'keyAlgorithm' | 'keyBits'> {
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return details?.modulusLength
        ? { keyAlgorithm: 'RSA', keyBits: details.modulusLength }
        : { keyAlgorithm: 'RSA' };
    case 'ec': {
      const bits = { prime256v1: 256, secp384r1: 384, secp521r1: 521 }[details?.namedCurve ?? ''];
      return bits ? { keyAlgorithm: 'EC', keyBits: bits } : { keyAlgorithm: 'EC' };
    }
    case 'ed25519':
      return { keyAlgorithm: 'Ed25519', keyBits: 256 };
    default:
      return { keyAlgorithm: 'other' };
  }
}

/** Parses every certificate of a PEM text (the first only for a large bundle). Throws on a malformed block. */
export function parseCertificates(text: string, path: string, role: CertFact['role']): ParsedCert[] {
  const blocks = pemCertificates(text);
  const take = blocks.length > MAX_PER_FILE ? blocks.slice(0, 1) : blocks;
  return take.map((pem) => {
    const cert = new x509.X509Certificate(pem);
    const spki = Buffer.from(cert.publicKey.rawData);
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    const names = san?.names.items ?? [];
    const basic = cert.getExtension(x509.BasicConstraintsExtension);
    return {
      spki,
      fact: {
        path,
        role,
        subject: cert.subject,
        issuer: cert.issuer,
        isCa: basic?.ca === true,
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
        dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
        ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
        ...keyInfo(key),
        signatureAlgorithm: signatureName(cert),
        bundleSize: blocks.length,
      },
    };
  });
}

/** A private key file: its public half (DER SPKI) when it can be read without a passphrase. */
export interface ParsedKey {
  spki?: Buffer;
  encrypted: boolean;
}

/** True when a text holds a PEM private key. */
export function looksLikePrivateKey(text: string): boolean {
  return /-----BEGIN (?:[A-Z]+ )?(?:ENCRYPTED )?PRIVATE KEY-----/.test(text);
}

/** Reads a PEM private key's public half; an encrypted key gives none (and says so). */
export function parsePrivateKey(text: string): ParsedKey {
  const encrypted =
    /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text) || /Proc-Type:\s*4,ENCRYPTED/.test(text);
  if (encrypted) return { encrypted };
  try {
    const pub = createPublicKey(createPrivateKey(text));
    return { spki: pub.export({ format: 'der', type: 'spki' }), encrypted };
  } catch {
    return { encrypted };
  }
}
