import { DockwardError } from '../errors.js';
import type { StatePaths } from '../store/paths.js';
import { type CaMaterial, createLeafCertificate, fingerprintSha256, normalizeSerial } from './certificate.js';
import { assertDays } from './init-ca.js';
import { type CertRecord, currentRecord, type PkiIndex } from './index-file.js';
import { exportPrivateKeyPem, generateKeyPair, type KeyType } from './keys.js';
import { formatSan, parseSans, type San } from './san.js';
import {
  assertValidName,
  type IssuedFiles,
  loadCa,
  loadIndex,
  type PassphraseSource,
  withPkiLock,
  writeIndex,
  writeIssued,
} from './store.js';

export type CertKind = 'server' | 'client';

export const DEFAULT_DAYS: Record<CertKind, number> = { server: 365, client: 90 };

export interface IssueOptions {
  kind: CertKind;
  name: string;
  /** `DNS:x` / `IP:y` (or bare values); required for a server certificate. */
  sans?: readonly string[];
  /** Organizational unit: the role a client certificate carries (readonly, operator, admin). */
  ou?: string;
  days?: number;
  keyType?: KeyType;
}

export interface IssueResult {
  record: CertRecord;
  files: IssuedFiles;
}

const OU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/;

/** Validates everything about an issue request before any key is made or file touched. */
export function validateIssue(options: IssueOptions): { sans: San[]; days: number } {
  assertValidName(options.name);
  const days = options.days ?? DEFAULT_DAYS[options.kind];
  assertDays(days);
  const sans = parseSans(options.sans ?? []);
  if (options.kind === 'server' && sans.length === 0) {
    throw new DockwardError(
      'DW_E_SAN_INVALID',
      `server certificate "${options.name}" needs at least one --san`,
      {
        hint: 'TLS clients (the docker CLI) ignore the CN: pass --san DNS:host.example.com --san IP:192.0.2.10.',
      },
    );
  }
  if (options.ou !== undefined && !OU_PATTERN.test(options.ou)) {
    throw new DockwardError('DW_E_USAGE', `invalid --ou "${options.ou}"`, {
      hint: 'Use a role name of letters, digits, " ", ".", "_" or "-" (e.g. --ou operator).',
    });
  }
  return { sans, days };
}

/** Makes a key and certificate for the request and the index record describing it (no I/O). */
export async function buildLeaf(
  ca: CaMaterial,
  request: {
    kind: CertKind;
    name: string;
    sans: readonly San[];
    ou?: string | undefined;
    days: number;
    keyType: KeyType;
  },
): Promise<{ record: CertRecord; pems: { ca: string; cert: string; key: string } }> {
  const keys = await generateKeyPair(request.keyType);
  const cert = await createLeafCertificate({
    kind: request.kind,
    cn: request.name,
    ou: request.ou,
    sans: request.sans,
    publicKey: keys.publicKey,
    leafKeyType: request.keyType,
    days: request.days,
    ca,
  });
  const record: CertRecord = {
    name: request.name,
    kind: request.kind,
    serial: normalizeSerial(cert.serialNumber),
    subject: cert.subject,
    ...(request.ou ? { ou: request.ou } : {}),
    sans: request.sans.map(formatSan),
    keyType: request.keyType,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    issuedAt: new Date().toISOString(),
    fingerprint: fingerprintSha256(cert),
    state: 'current',
  };
  return {
    record,
    pems: {
      ca: ca.cert.toString('pem'),
      cert: cert.toString('pem'),
      key: await exportPrivateKeyPem(keys.privateKey),
    },
  };
}

/** `pki issue server|client NAME`: a new key and certificate in `issued/NAME/`, recorded in the index. */
export async function issueCertificate(
  paths: StatePaths,
  options: IssueOptions,
  passphrase: PassphraseSource,
): Promise<IssueResult> {
  const { sans, days } = validateIssue(options);
  return withPkiLock(paths, async () => {
    const index = await loadIndex(paths);
    assertNameFree(index, options.name);
    const ca = await loadCa(paths, passphrase);
    const { record, pems } = await buildLeaf(ca, {
      kind: options.kind,
      name: options.name,
      sans,
      ou: options.ou,
      days,
      keyType: options.keyType ?? 'ecdsa-p256',
    });
    return { record, files: await recordIssued(paths, index, record, pems) };
  });
}

/**
 * Saves a built certificate and records it in the index (caller holds the PKI lock and has
 * checked the name is free). A revoked certificate of the same name becomes history; its files
 * are backed up by writeIssued.
 */
export async function recordIssued(
  paths: StatePaths,
  index: PkiIndex,
  record: CertRecord,
  pems: Parameters<typeof writeIssued>[2],
): Promise<Awaited<ReturnType<typeof writeIssued>>> {
  const previous = currentRecord(index, record.name);
  if (previous) previous.state = 'superseded';
  const files = await writeIssued(paths, record.name, pems, previous?.serial ?? 'previous');
  index.certs.push(record);
  await writeIndex(paths.index, index);
  return files;
}

function assertNameFree(index: PkiIndex, name: string): void {
  const existing = currentRecord(index, name);
  if (existing && !existing.revokedAt) {
    throw new DockwardError(
      'DW_E_CERT_EXISTS',
      `a ${existing.kind} certificate named "${name}" exists already`,
      {
        hint: `Use \`dockward pki renew ${name}\` for a new key and certificate, or revoke it first.`,
      },
    );
  }
}
