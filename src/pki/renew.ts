import { DockwardError } from '../errors.js';
import type { StatePaths } from '../store/paths.js';
import { type CertRecord, currentRecord } from './index-file.js';
import { buildLeaf } from './issue.js';
import { parseSan } from './san.js';
import { DAY_MS } from './status.js';
import { loadCa, loadIndex, type PassphraseSource, withPkiLock, writeIndex, writeIssued } from './store.js';

export interface RenewOptions {
  /** One name, or undefined for every current certificate (then `withinMs` is required). */
  name?: string;
  /** Renew only certificates whose notAfter falls within this window from now. */
  withinMs?: number;
  /** Validity of the new certificate; default: the same length as the one it replaces. */
  days?: number;
}

export interface RenewResult {
  renewed: { name: string; oldSerial: string; record: CertRecord }[];
  skipped: { name: string; reason: string }[];
}

/**
 * `pki renew`: a new key and certificate with the same subject, OU, SANs and kind. The old record
 * stays in the index as `superseded` (not revoked: clients may roll over); its files are backed up.
 */
export async function renewCertificates(
  paths: StatePaths,
  options: RenewOptions,
  passphrase: PassphraseSource,
): Promise<RenewResult> {
  if (!options.name && options.withinMs === undefined) {
    throw new DockwardError('DW_E_USAGE', 'renew needs a NAME or --within WINDOW', {
      hint: 'Run `dockward pki renew NAME`, or `dockward pki renew --within 30d` to renew all that expire soon.',
    });
  }
  return withPkiLock(paths, async () => {
    const index = await loadIndex(paths);
    let candidates: CertRecord[];
    if (options.name) {
      const record = currentRecord(index, options.name);
      if (!record) {
        throw new DockwardError('DW_E_CERT_UNKNOWN', `no certificate named "${options.name}"`, {
          hint: 'See the names with `dockward pki list`.',
        });
      }
      candidates = [record];
    } else {
      candidates = index.certs.filter((c) => c.state === 'current');
    }
    const result: RenewResult = { renewed: [], skipped: [] };
    const now = Date.now();
    const due = candidates.filter((c) => {
      if (c.revokedAt && !options.name) {
        result.skipped.push({ name: c.name, reason: 'revoked' });
        return false;
      }
      if (c.keyOnHost) {
        // A new key would have to be made here and copied to the host: exactly what CSR enrolment avoids.
        result.skipped.push({
          name: c.name,
          reason:
            'its key is on the host: run `dockward host request` there and `dockward pki sign --replace`',
        });
        return false;
      }
      if (options.withinMs !== undefined && Date.parse(c.notAfter) - now > options.withinMs) {
        result.skipped.push({
          name: c.name,
          reason: `expires ${c.notAfter.slice(0, 10)}, outside the window`,
        });
        return false;
      }
      return true;
    });
    if (due.length === 0) return result;
    const ca = await loadCa(paths, passphrase);
    for (const old of due) {
      const days =
        options.days ??
        Math.max(1, Math.round((Date.parse(old.notAfter) - Date.parse(old.notBefore)) / DAY_MS));
      const { record, pems } = await buildLeaf(ca, {
        kind: old.kind,
        name: old.name,
        sans: old.sans.map((s) => parseSan(s)),
        ou: old.ou,
        days,
        keyType: old.keyType,
      });
      record.renewedFrom = old.serial;
      old.state = 'superseded';
      await writeIssued(paths, old.name, pems, old.serial);
      index.certs.push(record);
      // Saved after each certificate so an interruption never loses the record of a written key.
      await writeIndex(paths.index, index);
      result.renewed.push({ name: old.name, oldSerial: old.serial, record });
    }
    return result;
  });
}
