import type { CertRecord } from './index-file.js';

export type CertStatus = 'valid' | 'expiring' | 'expired' | 'revoked' | 'not-yet-valid' | 'superseded';

/**
 * Days under which a certificate counts as expiring: the one threshold `pki list`, the audit's
 * cert-expiring rule and `hosts renew` share.
 */
export const EXPIRING_DAYS = 30;
export const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole days left until notAfter (negative once expired). */
export function daysLeft(notAfter: string | Date, now: Date = new Date()): number {
  const end = typeof notAfter === 'string' ? Date.parse(notAfter) : notAfter.getTime();
  return Math.floor((end - now.getTime()) / DAY_MS);
}

export function certStatus(
  record: CertRecord,
  now: Date = new Date(),
  expiringDays = EXPIRING_DAYS,
): CertStatus {
  if (record.revokedAt) return 'revoked';
  if (record.state === 'superseded') return 'superseded';
  const t = now.getTime();
  if (Date.parse(record.notBefore) > t) return 'not-yet-valid';
  if (Date.parse(record.notAfter) <= t) return 'expired';
  if (Date.parse(record.notAfter) - t < expiringDays * DAY_MS) return 'expiring';
  return 'valid';
}

/** Parses `30d`, `12h`, `2w` or a bare number of days into milliseconds; undefined when malformed. */
export function parseWindow(text: string): number | undefined {
  const m = /^(\d+)\s*([dhw]?)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] === 'h' ? 3600e3 : m[2] === 'w' ? 7 * DAY_MS : DAY_MS;
  return n * unit;
}
