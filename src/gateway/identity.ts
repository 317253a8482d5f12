import type { PeerCertificate } from 'node:tls';
import { normalizeSerial } from '../pki/serial.js';

/** Who made a request: taken from the verified client certificate only, never from headers. */
export interface Identity {
  cn: string;
  ou: string[];
  serial: string;
  fingerprint: string;
  sans: string[];
}

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/**
 * The identity of a verified peer certificate, or the reason it is not acceptable. OpenSSL has
 * already checked the chain, validity and CRL; this also requires the clientAuth EKU explicitly
 * (a certificate without any EKU would otherwise pass) and a CN.
 */
export function identityOf(cert: PeerCertificate | undefined): { identity: Identity } | { reason: string } {
  if (!cert || Object.keys(cert).length === 0 || !cert.raw) return { reason: 'no client certificate' };
  const eku = (cert as PeerCertificate & { ext_key_usage?: string[] }).ext_key_usage;
  if (!eku?.includes(CLIENT_AUTH_OID))
    return { reason: 'client certificate lacks the clientAuth extended key usage' };
  const cn = asList(cert.subject?.CN)[0];
  if (!cn) return { reason: 'client certificate has no subject CN' };
  return {
    identity: {
      cn,
      ou: asList(cert.subject?.OU),
      serial: normalizeSerial(cert.serialNumber ?? ''),
      fingerprint: (cert.fingerprint256 ?? '').replace(/:/g, '').toLowerCase(),
      sans: cert.subjectaltname ? cert.subjectaltname.split(', ') : [],
    },
  };
}

const VERIFY_ERRORS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_REVOKED: 'certificate revoked',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate is not signed by the gateway CA (untrusted)',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate is not signed by the gateway CA (untrusted)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate is not signed by the gateway CA (untrusted)',
  SELF_SIGNED_CERT_IN_CHAIN: 'certificate chain ends in an untrusted self-signed CA (untrusted)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate (untrusted)',
  CRL_HAS_EXPIRED: 'the gateway CRL has expired: refresh it with `dockward pki crl --refresh`',
  UNABLE_TO_GET_CRL: 'no CRL for the issuing CA',
  INVALID_PURPOSE: 'certificate is not for client authentication (wrong purpose)',
};

/** A readable reason for an OpenSSL verification code, with the code kept for searching. */
export function describeVerifyError(code: string): string {
  const text = VERIFY_ERRORS[code];
  return text ? `${text} (${code})` : `certificate verification failed (${code})`;
}
