/**
 * Signed chain heads: the gateway signs each head it ships with its own TLS key, so a store
 * writer without that key cannot move a head (and the records it vouches for) unnoticed. The
 * signature covers a canonical byte string of (source, seq, hash, time); the signer's
 * certificate travels with the head, and readers check it against the PKI's CA.
 */
import { createPrivateKey, type KeyObject, sign, verify, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { DockwardError, describeError } from '../errors.js';
import type { ChainHead } from './model.js';

/** What a signer adds to a head. */
export interface HeadSignature {
  /** base64 of the signature over `canonicalHeadBytes`. */
  signature: string;
  /** The signer's certificate (PEM). */
  certificate: string;
}

export type HeadSigner = (head: Pick<ChainHead, 'source' | 'seq' | 'hash' | 'time'>) => HeadSignature;

/** What a reader can say about one stored head. */
export interface HeadSignatureStatus {
  signed: boolean;
  /** The signer certificate's subject CN (signed heads whose certificate parses). */
  cn?: string | null;
  /** True when the signature verifies under the stored certificate's public key. */
  verified?: boolean;
  /** Whether the certificate was issued by the PKI's CA; null when no CA was at hand. */
  chainsToCa?: boolean | null;
  problem?: string;
}

const DOMAIN = 'dockward-chain-head-v1';

/**
 * The bytes a head signature covers: a JSON array with a domain tag, so no other signed
 * dockward object can be replayed as a head and field boundaries are unambiguous.
 */
export function canonicalHeadBytes(head: Pick<ChainHead, 'source' | 'seq' | 'hash' | 'time'>): Buffer {
  return Buffer.from(JSON.stringify([DOMAIN, head.source, head.seq, head.hash, head.time]), 'utf8');
}

/** Ed25519/Ed448 take no digest; RSA and EC sign a SHA-256 digest. */
function digestFor(key: KeyObject): string | null {
  const t = key.asymmetricKeyType;
  return t === 'ed25519' || t === 'ed448' ? null : 'sha256';
}

/** Signs byte strings with the gateway's TLS key; the certificate is the public half. */
export interface KeySigner {
  certificate: string;
  /** base64 of the signature over `bytes`. */
  sign(bytes: Buffer): string;
}

/** A signer from the gateway's TLS certificate and key (PEM files); the key never leaves this closure. */
export async function loadKeySigner(certFile: string, keyFile: string): Promise<KeySigner> {
  let certificate: string;
  let key: KeyObject;
  try {
    certificate = await fs.readFile(certFile, 'utf8');
    key = createPrivateKey(await fs.readFile(keyFile));
    // Fails now, not per head, when the key is not the certificate's.
    const probe = Buffer.from(DOMAIN);
    const cert = new X509Certificate(certificate);
    if (!verify(digestFor(key), probe, cert.publicKey, sign(digestFor(key), probe, key))) {
      throw new Error('the key does not belong to the certificate');
    }
  } catch (err) {
    // The message names the files only: never the key's bytes.
    throw new DockwardError(
      'DW_E_FILE',
      `cannot load the gateway's key ${keyFile} and certificate ${certFile} to sign chain heads: ${describeError(err)}`,
      {
        hint: 'Check --tls-dir (cert.pem, key.pem) or the PKI folder: the gateway signs heads with its TLS key.',
      },
    );
  }
  return { certificate, sign: (bytes) => sign(digestFor(key), bytes, key).toString('base64') };
}

/** A signer of store chain heads from the gateway's TLS certificate and key (PEM files). */
export async function loadHeadSigner(certFile: string, keyFile: string): Promise<HeadSigner> {
  const signer = await loadKeySigner(certFile, keyFile);
  return (head) => ({ signature: signer.sign(canonicalHeadBytes(head)), certificate: signer.certificate });
}

/** Checks a stored head's signature and its certificate against the CA (PEM, when known). */
export function checkHeadSignature(head: ChainHead, caPem?: string): HeadSignatureStatus {
  if (!head.signature) return { signed: false };
  return checkSignedBytes(canonicalHeadBytes(head), head.signature, head.certificate, caPem);
}

/**
 * Checks a signature over `bytes` under the certificate, and the certificate against the CA (PEM,
 * when known): a store head and an audit-log head file line are checked the same way.
 */
export function checkSignedBytes(
  bytes: Buffer,
  signature: string,
  certificate: string | undefined,
  caPem?: string,
): HeadSignatureStatus {
  if (!certificate) {
    return {
      signed: true,
      cn: null,
      verified: false,
      chainsToCa: null,
      problem: 'signed but no certificate stored',
    };
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificate);
  } catch (err) {
    return {
      signed: true,
      cn: null,
      verified: false,
      chainsToCa: null,
      problem: `the stored certificate does not parse: ${describeError(err)}`,
    };
  }
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? null;
  let verified = false;
  try {
    const digest = cert.publicKey.asymmetricKeyType?.startsWith('ed') ? null : 'sha256';
    verified = verify(digest, bytes, cert.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    verified = false; // a malformed signature is one that does not verify
  }
  let chainsToCa: boolean | null = null;
  if (caPem !== undefined) {
    try {
      const ca = new X509Certificate(caPem);
      chainsToCa = cert.checkIssued(ca) && cert.verify(ca.publicKey);
    } catch {
      chainsToCa = false;
    }
  }
  return {
    signed: true,
    cn,
    verified,
    chainsToCa,
    ...(!verified
      ? { problem: 'the chain head signature does not verify: the head was changed in the store' }
      : chainsToCa === false
        ? {
            // Anyone who can write the store can sign with a key of their own: only the CA's
            // certificates count, so a foreign signer fails like a bad signature.
            problem: `the chain head is signed by CN=${cn ?? '?'}, a certificate the PKI's CA did not issue`,
          }
        : {}),
  };
}

/** One line for tables: `signed by CN=gateway, verified, chains to the CA`. */
export function describeHeadSignature(s: HeadSignatureStatus | null | undefined): string {
  if (!s) return 'no head';
  if (!s.signed) return 'unsigned (an older gateway)';
  const ca =
    s.chainsToCa === true
      ? 'chains to the CA'
      : s.chainsToCa === false
        ? 'NOT issued by the CA'
        : 'CA unknown';
  return `signed by CN=${s.cn ?? '?'}, ${s.verified ? 'verified' : 'SIGNATURE INVALID'}, ${ca}`;
}

/** The PKI's CA certificate in the dockward home, or undefined where there is none (a store-only reader). */
export async function readPkiCa(caCertFile: string): Promise<string | undefined> {
  return fs.readFile(caCertFile, 'utf8').catch(() => undefined);
}
