import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { DockwardError, describeError } from '../errors.js';
import {
  ensureDir,
  MODE_PRIVATE_DIR,
  MODE_PRIVATE_FILE,
  MODE_PUBLIC_FILE,
  pathExists,
  writeFileAtomic,
} from '../store/atomic-write.js';
import { withLock } from '../store/lock.js';
import type { StatePaths } from '../store/paths.js';
import type { CaMaterial } from './certificate.js';
import { x509 } from './crypto.js';
import { type PkiIndex, readIndex, writeIndex } from './index-file.js';
import { importPrivateKeyPem, isEncryptedPem } from './keys.js';

/** Where a CA passphrase comes from; the CLI supplies env-or-prompt, tests a constant. */
export type PassphraseSource = (purpose: 'unlock' | 'new') => Promise<string | undefined>;

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function assertValidName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new DockwardError('DW_E_NAME_INVALID', `invalid certificate name "${name}"`, {
      hint: 'Use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (it becomes a folder name).',
    });
  }
}

export async function caExists(paths: StatePaths): Promise<boolean> {
  return pathExists(paths.caCert);
}

export async function requireCa(paths: StatePaths): Promise<void> {
  if (!(await caExists(paths))) {
    throw new DockwardError('DW_E_CA_MISSING', `no CA in ${paths.pki}`, {
      hint: 'Create one first with `dockward pki init` (or pass the right --home).',
    });
  }
}

export async function readCaCertificate(paths: StatePaths): Promise<x509.X509Certificate> {
  await requireCa(paths);
  try {
    return new x509.X509Certificate(await fs.readFile(paths.caCert, 'utf8'));
  } catch (err) {
    throw new DockwardError('DW_E_STORE_CORRUPT', `cannot parse ${paths.caCert}: ${describeError(err)}`, {
      cause: err,
    });
  }
}

/** Loads the CA certificate and unlocks its key (asking the passphrase source when encrypted). */
export async function loadCa(paths: StatePaths, passphrase: PassphraseSource): Promise<CaMaterial> {
  const cert = await readCaCertificate(paths);
  let pem: string;
  try {
    pem = await fs.readFile(paths.caKey, 'utf8');
  } catch (err) {
    throw new DockwardError(
      'DW_E_CA_MISSING',
      `the CA key ${paths.caKey} cannot be read: ${describeError(err)}`,
      {
        hint: 'Run this on the machine that holds the CA key (it is never copied to servers).',
        cause: err,
      },
    );
  }
  const secret = isEncryptedPem(pem) ? await passphrase('unlock') : undefined;
  const { key, type } = await importPrivateKeyPem(pem, secret);
  return { cert, key, keyType: type };
}

export async function loadIndex(paths: StatePaths): Promise<PkiIndex> {
  await requireCa(paths);
  return readIndex(paths.index);
}

/**
 * Runs a read-modify-write of the PKI under the state folder's lock. Only `pki init` may create the
 * state folder; every other change first requires a CA, so a mistyped --home writes nothing.
 */
export async function withPkiLock<T>(
  paths: StatePaths,
  fn: () => Promise<T>,
  options: { creating?: boolean } = {},
): Promise<T> {
  if (options.creating) await ensureDir(paths.home, MODE_PRIVATE_DIR);
  else await requireCa(paths);
  return withLock(paths.lock, fn);
}

export interface IssuedFiles {
  dir: string;
  ca: string;
  cert: string;
  key: string;
}

export function issuedFiles(paths: StatePaths, name: string): IssuedFiles {
  const dir = paths.issuedDir(name);
  return { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

/** Creates `issued/<name>/` and backs up what a previous issue left there (keys stay 0600). */
async function prepareIssuedDir(paths: StatePaths, name: string, backupLabel: string): Promise<IssuedFiles> {
  const files = issuedFiles(paths, name);
  await ensureDir(paths.issued, MODE_PRIVATE_DIR);
  await ensureDir(files.dir, MODE_PRIVATE_DIR);
  if (await pathExists(files.cert)) {
    const backupDir = join(paths.backups, name, backupLabel);
    await ensureDir(backupDir, MODE_PRIVATE_DIR);
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) {
      const src = join(files.dir, f);
      if (await pathExists(src)) {
        await fs.copyFile(src, join(backupDir, f));
        await fs.chmod(join(backupDir, f), f === 'key.pem' ? MODE_PRIVATE_FILE : MODE_PUBLIC_FILE);
      }
    }
  }
  return files;
}

/**
 * Writes `issued/<name>/{ca,cert,key}.pem` (the DOCKER_CERT_PATH layout). Files that exist are
 * first copied to `backups/<name>/` so a renew never loses the previous key.
 */
export async function writeIssued(
  paths: StatePaths,
  name: string,
  pems: { ca: string; cert: string; key: string },
  backupLabel: string,
): Promise<IssuedFiles> {
  const files = await prepareIssuedDir(paths, name, backupLabel);
  // Key first: a cert.pem never points at a key that is not there yet.
  await writeFileAtomic(files.key, pems.key, { mode: MODE_PRIVATE_FILE });
  await writeFileAtomic(files.cert, pems.cert, { mode: MODE_PUBLIC_FILE });
  await writeFileAtomic(files.ca, pems.ca, { mode: MODE_PUBLIC_FILE });
  return files;
}

export { writeIndex };

/**
 * Writes `issued/<name>/{ca,cert}.pem` for a certificate signed from a CSR: the PKI never had its
 * key, so there is no key.pem (a key.pem left by an earlier issue is moved to the backup).
 */
export async function writeIssuedCertificate(
  paths: StatePaths,
  name: string,
  pems: { ca: string; cert: string },
  backupLabel: string,
): Promise<IssuedFiles> {
  const files = await prepareIssuedDir(paths, name, backupLabel);
  // A key that no longer belongs to the current certificate must not sit beside it.
  await fs.rm(files.key, { force: true });
  await writeFileAtomic(files.cert, pems.cert, { mode: MODE_PUBLIC_FILE });
  await writeFileAtomic(files.ca, pems.ca, { mode: MODE_PUBLIC_FILE });
  return files;
}
