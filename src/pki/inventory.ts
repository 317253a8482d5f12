import { DockwardError } from '../errors.js';
import type { StatePaths } from '../store/paths.js';
import type { CaRecord, CertRecord } from './index-file.js';
import { issuedFiles, loadIndex } from './store.js';
import { type CertStatus, certStatus, daysLeft } from './status.js';

export interface CertView {
  name: string;
  kind: 'server' | 'client' | 'ca';
  serial: string;
  subject: string;
  ou?: string;
  sans: string[];
  keyType: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  status: CertStatus;
  revokedAt?: string;
  revocationReason?: string;
  renewedFrom?: string;
  fingerprint: string;
  path?: string;
}

export function viewOf(record: CertRecord, paths: StatePaths, now: Date): CertView {
  return {
    name: record.name,
    kind: record.kind,
    serial: record.serial,
    subject: record.subject,
    ...(record.ou ? { ou: record.ou } : {}),
    sans: record.sans,
    keyType: record.keyType,
    notBefore: record.notBefore,
    notAfter: record.notAfter,
    daysLeft: daysLeft(record.notAfter, now),
    status: certStatus(record, now),
    ...(record.revokedAt ? { revokedAt: record.revokedAt } : {}),
    ...(record.revocationReason ? { revocationReason: record.revocationReason } : {}),
    ...(record.renewedFrom ? { renewedFrom: record.renewedFrom } : {}),
    fingerprint: record.fingerprint,
    ...(record.state === 'current' ? { path: issuedFiles(paths, record.name).dir } : {}),
  };
}

function caView(ca: CaRecord, paths: StatePaths, now: Date): CertView {
  const fake: CertRecord = {
    name: 'ca',
    kind: 'client',
    serial: ca.serial,
    subject: ca.subject,
    sans: [],
    keyType: ca.keyType,
    notBefore: ca.notBefore,
    notAfter: ca.notAfter,
    issuedAt: ca.createdAt,
    fingerprint: ca.fingerprint,
    state: 'current',
  };
  return { ...viewOf(fake, paths, now), kind: 'ca', path: paths.caCert };
}

/** `pki list`: the CA and every current certificate (with `all`, the renewed history too). */
export async function listCertificates(
  paths: StatePaths,
  options: { all?: boolean; now?: Date } = {},
): Promise<{ ca: CertView & { encrypted: boolean }; certs: CertView[] }> {
  const now = options.now ?? new Date();
  const index = await loadIndex(paths);
  const certs = index.certs
    .filter((c) => options.all || c.state === 'current')
    .map((c) => viewOf(c, paths, now));
  return { ca: { ...caView(index.ca, paths, now), encrypted: index.ca.encrypted }, certs };
}

/** `pki inspect NAME`: the current certificate of a name and its history, newest first. */
export async function inspectCertificate(
  paths: StatePaths,
  name: string,
  now: Date = new Date(),
): Promise<{ current: CertView; history: CertView[] }> {
  const index = await loadIndex(paths);
  if (name === 'ca') return { current: caView(index.ca, paths, now), history: [] };
  const all = index.certs.filter((c) => c.name === name);
  const current = all.find((c) => c.state === 'current');
  if (!current) {
    throw new DockwardError('DW_E_CERT_UNKNOWN', `no certificate named "${name}"`, {
      hint: 'See the names with `dockward pki list`.',
    });
  }
  return {
    current: viewOf(current, paths, now),
    history: all
      .filter((c) => c !== current)
      .reverse()
      .map((c) => viewOf(c, paths, now)),
  };
}

/** `pki crl`: what the CRL lists, from the index. */
export async function listRevoked(paths: StatePaths): Promise<{
  path: string;
  crlNumber: number;
  revoked: { name: string; serial: string; revokedAt: string; reason: string }[];
}> {
  const index = await loadIndex(paths);
  const revoked = index.certs.flatMap((c) =>
    c.revokedAt
      ? [{ name: c.name, serial: c.serial, revokedAt: c.revokedAt, reason: c.revocationReason ?? '' }]
      : [],
  );
  return { path: paths.crl, crlNumber: index.crlNumber, revoked };
}
