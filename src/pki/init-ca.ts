import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { DockwardError } from '../errors.js';
import {
  ensureDir,
  fileTimestamp,
  MODE_PRIVATE_DIR,
  MODE_PRIVATE_FILE,
  MODE_PUBLIC_FILE,
  pathExists,
  writeFileAtomic,
} from '../store/atomic-write.js';
import type { StatePaths } from '../store/paths.js';
import {
  createCaCertificate,
  createCrl,
  crlToPem,
  fingerprintSha256,
  normalizeSerial,
} from './certificate.js';
import type { CaRecord, PkiIndex } from './index-file.js';
import { exportPrivateKeyPem, generateKeyPair, type KeyType } from './keys.js';
import { type PassphraseSource, withPkiLock, writeIndex } from './store.js';

export interface InitCaOptions {
  cn?: string;
  keyType?: KeyType;
  days?: number;
  /** Store the CA key encrypted (PKCS#8, AES-256) with a passphrase from `passphrase('new')`. */
  encrypt?: boolean;
  force?: boolean;
  crlDays?: number;
}

export interface InitCaResult {
  ca: CaRecord;
  caCertPath: string;
  caKeyPath: string;
  /** Where the previous PKI was moved when --force replaced it. */
  backupDir?: string;
}

export const DEFAULT_CA_DAYS = 3650;
export const DEFAULT_CRL_DAYS = 30;

export function assertDays(days: number, flag = '--days'): void {
  if (!Number.isInteger(days) || days < 1 || days > 36500) {
    throw new DockwardError(
      'DW_E_DURATION',
      `${flag} must be a whole number of days from 1 to 36500, got ${days}`,
      {
        hint: `Pass for example ${flag} 365.`,
      },
    );
  }
}

/** Creates the CA: key, self-signed certificate, an empty signed CRL and the index. */
export async function initCa(
  paths: StatePaths,
  options: InitCaOptions,
  passphrase: PassphraseSource,
): Promise<InitCaResult> {
  const keyType = options.keyType ?? 'ecdsa-p256';
  const days = options.days ?? DEFAULT_CA_DAYS;
  assertDays(days);
  const cn = options.cn ?? 'dockward CA';
  if (cn.trim().length === 0) throw new DockwardError('DW_E_USAGE', '--cn must not be empty');

  return withPkiLock(
    paths,
    async () => {
      const exists = await pathExists(paths.caCert);
      if (exists && !options.force) {
        throw new DockwardError('DW_E_CA_EXISTS', `a CA exists already in ${paths.pki}`, {
          hint: 'Use `dockward pki list` to see it; `pki init --force` replaces it (the old PKI is kept in pki/backups/).',
        });
      }
      // Ask for the passphrase before anything is moved, so a refusal leaves the PKI untouched.
      let secret: string | undefined;
      if (options.encrypt) {
        secret = await passphrase('new');
        if (!secret) {
          throw new DockwardError('DW_E_PASSPHRASE', '--encrypt needs a passphrase and none was given', {
            hint: 'Set DOCKWARD_CA_PASSPHRASE or run on a terminal to be prompted.',
          });
        }
      }
      const keys = await generateKeyPair(keyType);
      const cert = await createCaCertificate({ cn, keys, keyType, days });
      const keyPem = await exportPrivateKeyPem(keys.privateKey, secret);
      const crl = await createCrl({
        ca: { cert, key: keys.privateKey, keyType },
        entries: [],
        crlNumber: 1,
        days: options.crlDays ?? DEFAULT_CRL_DAYS,
      });

      let backupDir: string | undefined;
      if (exists) backupDir = await moveAsideOldPki(paths);

      await ensureDir(paths.pki, MODE_PRIVATE_DIR);
      await writeFileAtomic(paths.caKey, keyPem, { mode: MODE_PRIVATE_FILE });
      await writeFileAtomic(paths.caCert, cert.toString('pem'), { mode: MODE_PUBLIC_FILE });
      await writeFileAtomic(paths.crl, crlToPem(crl), { mode: MODE_PUBLIC_FILE });
      const now = new Date().toISOString();
      const ca: CaRecord = {
        subject: cert.subject,
        serial: normalizeSerial(cert.serialNumber),
        keyType,
        encrypted: secret !== undefined,
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
        fingerprint: fingerprintSha256(cert),
        createdAt: now,
      };
      const index: PkiIndex = { version: 1, ca, crlNumber: 1, certs: [] };
      await writeIndex(paths.index, index);
      return {
        ca,
        caCertPath: paths.caCert,
        caKeyPath: paths.caKey,
        ...(backupDir ? { backupDir } : {}),
      };
    },
    { creating: true },
  );
}

/** Moves every file of the old PKI (not older backups) into pki/backups/<timestamp>/. */
async function moveAsideOldPki(paths: StatePaths): Promise<string> {
  const target = join(paths.backups, `pki-${fileTimestamp()}`);
  await ensureDir(target, MODE_PRIVATE_DIR);
  for (const entry of await fs.readdir(paths.pki)) {
    if (entry === 'backups') continue;
    await fs.rename(join(paths.pki, entry), join(target, entry));
  }
  return target;
}
