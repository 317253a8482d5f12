import { DockwardError } from '../errors.js';
import { MODE_PUBLIC_FILE, writeFileAtomic } from '../store/atomic-write.js';
import type { StatePaths } from '../store/paths.js';
import { type CaMaterial, createCrl, crlToPem, normalizeSerial } from './certificate.js';
import { x509 } from './crypto.js';
import { DEFAULT_CRL_DAYS } from './init-ca.js';
import { type CertRecord, currentRecord, type PkiIndex } from './index-file.js';
import { loadCa, loadIndex, type PassphraseSource, withPkiLock, writeIndex } from './store.js';

export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export function parseReason(value: string): RevocationReason {
  if ((REVOCATION_REASONS as readonly string[]).includes(value)) return value as RevocationReason;
  throw new DockwardError('DW_E_USAGE', `unknown revocation reason "${value}"`, {
    hint: `Use one of: ${REVOCATION_REASONS.join(', ')}.`,
  });
}

export interface RevokeOptions {
  name: string;
  /** Revoke this serial of the name's history (e.g. the certificate a renew superseded). */
  serial?: string;
  reason?: RevocationReason;
  crlDays?: number;
}

export interface CrlResult {
  path: string;
  crlNumber: number;
  nextUpdate: string;
  revoked: { serial: string; name: string; revokedAt: string; reason: string }[];
}

/** Marks a certificate revoked in the index and re-signs `pki/crl.pem`. */
export async function revokeCertificate(
  paths: StatePaths,
  options: RevokeOptions,
  passphrase: PassphraseSource,
): Promise<{ record: CertRecord; crl: CrlResult }> {
  return withPkiLock(paths, async () => {
    const index = await loadIndex(paths);
    const record = findForRevoke(index, options);
    if (record.revokedAt) {
      throw new DockwardError(
        'DW_E_CERT_REVOKED',
        `"${record.name}" (serial ${record.serial}) is revoked already`,
        {
          hint: 'See `dockward pki crl` for the revoked certificates.',
        },
      );
    }
    const ca = await loadCa(paths, passphrase);
    record.revokedAt = new Date().toISOString();
    record.revocationReason = options.reason ?? 'unspecified';
    const crl = await writeCrl(paths, index, ca, options.crlDays);
    await writeIndex(paths.index, index);
    return { record, crl };
  });
}

function findForRevoke(index: PkiIndex, options: RevokeOptions): CertRecord {
  if (options.serial) {
    const serial = normalizeSerial(options.serial.replace(/:/g, ''));
    const record = index.certs.find((c) => c.name === options.name && c.serial === serial);
    if (!record) {
      throw new DockwardError('DW_E_CERT_UNKNOWN', `no certificate "${options.name}" with serial ${serial}`, {
        hint: `List its history with \`dockward pki inspect ${options.name}\`.`,
      });
    }
    return record;
  }
  const record = currentRecord(index, options.name);
  if (!record) {
    throw new DockwardError('DW_E_CERT_UNKNOWN', `no certificate named "${options.name}"`, {
      hint: 'See the names with `dockward pki list`.',
    });
  }
  return record;
}

/** Re-signs the CRL from the index (bumping its number) without revoking anything: `pki crl --refresh`. */
export async function refreshCrl(
  paths: StatePaths,
  passphrase: PassphraseSource,
  crlDays?: number,
): Promise<CrlResult> {
  return withPkiLock(paths, async () => {
    const index = await loadIndex(paths);
    const ca = await loadCa(paths, passphrase);
    const crl = await writeCrl(paths, index, ca, crlDays);
    await writeIndex(paths.index, index);
    return crl;
  });
}

async function writeCrl(
  paths: StatePaths,
  index: PkiIndex,
  ca: CaMaterial,
  crlDays?: number,
): Promise<CrlResult> {
  const revoked = index.certs.filter((c) => c.revokedAt);
  index.crlNumber += 1;
  const crl = await createCrl({
    ca,
    crlNumber: index.crlNumber,
    days: crlDays ?? DEFAULT_CRL_DAYS,
    entries: revoked.map((c) => ({
      serial: c.serial,
      revokedAt: new Date(c.revokedAt!),
      reason: x509.X509CrlReason[(c.revocationReason ?? 'unspecified') as RevocationReason],
    })),
  });
  await writeFileAtomic(paths.crl, crlToPem(crl), { mode: MODE_PUBLIC_FILE });
  return {
    path: paths.crl,
    crlNumber: index.crlNumber,
    nextUpdate: crl.nextUpdate?.toISOString() ?? '',
    revoked: revoked.map((c) => ({
      serial: c.serial,
      name: c.name,
      revokedAt: c.revokedAt!,
      reason: c.revocationReason ?? 'unspecified',
    })),
  };
}
