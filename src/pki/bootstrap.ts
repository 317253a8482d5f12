import type { StatePaths } from '../store/paths.js';
import { initCa } from './init-ca.js';
import { type CertRecord, currentRecord } from './index-file.js';
import { issueCertificate } from './issue.js';
import { caExists, issuedFiles, loadIndex, type PassphraseSource } from './store.js';

export interface EnsuredCert {
  record: CertRecord;
  dir: string;
  created: boolean;
}

/** Creates the CA when the state folder has none; returns whether it did. */
export async function ensureCa(paths: StatePaths, passphrase: PassphraseSource): Promise<boolean> {
  if (await caExists(paths)) return false;
  await initCa(paths, {}, passphrase);
  return true;
}

/**
 * Returns the current, unrevoked certificate of a name, issuing it when missing (first-run
 * set-up of `dockward up` and the gateway's default server certificate).
 */
export async function ensureCertificate(
  paths: StatePaths,
  request: { kind: 'server' | 'client'; name: string; sans?: string[]; ou?: string },
  passphrase: PassphraseSource,
): Promise<EnsuredCert> {
  const index = await loadIndex(paths);
  const existing = currentRecord(index, request.name);
  if (
    existing &&
    !existing.revokedAt &&
    existing.kind === request.kind &&
    Date.parse(existing.notAfter) > Date.now()
  ) {
    return { record: existing, dir: issuedFiles(paths, request.name).dir, created: false };
  }
  const res = await issueCertificate(paths, request, passphrase);
  return { record: res.record, dir: res.files.dir, created: true };
}
