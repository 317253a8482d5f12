import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { DockwardError, describeError } from '../errors.js';
import { MODE_PUBLIC_FILE, writeFileAtomic } from '../store/atomic-write.js';
import { KEY_TYPES } from './keys.js';

const isoDate = z.iso.datetime({ offset: true });

export const CaRecordSchema = z.object({
  subject: z.string(),
  serial: z.string(),
  keyType: z.enum(KEY_TYPES),
  encrypted: z.boolean(),
  notBefore: isoDate,
  notAfter: isoDate,
  fingerprint: z.string(),
  createdAt: isoDate,
});

export const CertRecordSchema = z.object({
  name: z.string(),
  kind: z.enum(['server', 'client']),
  serial: z.string(),
  subject: z.string(),
  ou: z.string().optional(),
  sans: z.array(z.string()),
  keyType: z.enum(KEY_TYPES),
  notBefore: isoDate,
  notAfter: isoDate,
  issuedAt: isoDate,
  fingerprint: z.string(),
  /** `current` is the one in `issued/<name>/`; `superseded` is history left by renew. */
  state: z.enum(['current', 'superseded']),
  renewedFrom: z.string().optional(),
  /** Signed from a CSR (`pki sign`): the key lives on the host only, the PKI never had it. */
  keyOnHost: z.boolean().optional(),
  revokedAt: isoDate.optional(),
  revocationReason: z.string().optional(),
});

export const PkiIndexSchema = z.object({
  version: z.literal(1),
  ca: CaRecordSchema,
  crlNumber: z.number().int().nonnegative(),
  certs: z.array(CertRecordSchema),
});

export type CaRecord = z.infer<typeof CaRecordSchema>;
export type CertRecord = z.infer<typeof CertRecordSchema>;
export type PkiIndex = z.infer<typeof PkiIndexSchema>;

export async function readIndex(path: string): Promise<PkiIndex> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    throw new DockwardError(
      'DW_E_STORE_CORRUPT',
      `cannot read the PKI index ${path}: ${describeError(err)}`,
      {
        hint: 'Restore pki/index.json from a backup, or re-create the PKI with `dockward pki init --force`.',
        cause: err,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DockwardError('DW_E_STORE_CORRUPT', `${path} is not valid JSON: ${describeError(err)}`, {
      hint: 'Restore pki/index.json from a backup in pki/backups/.',
      cause: err,
    });
  }
  const parsed = PkiIndexSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DockwardError(
      'DW_E_STORE_CORRUPT',
      `${path} does not match the index schema at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      { hint: 'Restore pki/index.json from a backup in pki/backups/.' },
    );
  }
  return parsed.data;
}

export async function writeIndex(path: string, index: PkiIndex): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(index, null, 2)}\n`, { mode: MODE_PUBLIC_FILE });
}

/** The record a name refers to now (the one whose files are in `issued/<name>/`). */
export function currentRecord(index: PkiIndex, name: string): CertRecord | undefined {
  return index.certs.find((c) => c.name === name && c.state === 'current');
}
