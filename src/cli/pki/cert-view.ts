import type { CertView } from '../../pki/inventory.js';

/** How `pki list` and `pki inspect` show certificates. */
export const CERT_HEADERS = ['NAME', 'KIND', 'SERIAL', 'SANS', 'NOT AFTER', 'DAYS LEFT', 'STATUS'] as const;

export function certRow(c: CertView): string[] {
  return [
    c.name,
    c.ou ? `${c.kind}/${c.ou}` : c.kind,
    c.serial,
    c.sans.join(',') || '-',
    c.notAfter.slice(0, 10),
    String(c.daysLeft),
    c.status,
  ];
}

export function describeCert(c: CertView): string {
  const rows: [string, string][] = [
    ['name', c.name],
    ['kind', c.kind],
    ['subject', c.subject],
    ['serial', c.serial],
    ['key type', c.keyType],
    ['SANs', c.sans.join(', ') || '-'],
    ['not before', c.notBefore],
    ['not after', c.notAfter],
    ['days left', String(c.daysLeft)],
    ['status', c.status],
    ['sha256', c.fingerprint],
  ];
  if (c.revokedAt) rows.push(['revoked', `${c.revokedAt} (${c.revocationReason ?? 'unspecified'})`]);
  if (c.renewedFrom) rows.push(['renewed from', c.renewedFrom]);
  if (c.path) rows.push(['files', c.path]);
  return rows.map(([k, v]) => `${k.padEnd(13)}${v}`).join('\n');
}
