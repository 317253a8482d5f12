import type { PeerCertificate } from 'node:tls';
import { describeVerifyError, type Identity, identityOf } from '../identity.js';

/** What OpenSSL concluded about the peer certificate after the handshake. */
export interface PeerVerdict {
  peer: PeerCertificate | undefined;
  authorized: boolean;
  authorizationError: Error | string | null | undefined;
}

/**
 * Stage "identify": the identity of a completed mTLS handshake, or why the connection is
 * refused. OpenSSL checked the chain, validity and CRL; `identityOf` adds the clientAuth EKU and
 * CN; the gateway's own revocation set (reloaded CRL) is checked last.
 */
export function identify(
  verdict: PeerVerdict,
  revoked: ReadonlySet<string>,
): { identity: Identity } | { reason: string; identity?: Identity } {
  if (!verdict.peer?.raw) return { reason: 'no client certificate' };
  if (!verdict.authorized) return { reason: describeVerifyError(String(verdict.authorizationError)) };
  const who = identityOf(verdict.peer);
  if (!('identity' in who)) return who;
  if (revoked.has(who.identity.serial)) {
    return { reason: 'certificate revoked (CERT_REVOKED)', identity: who.identity };
  }
  return who;
}
