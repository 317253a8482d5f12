import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DockwardError } from '../errors.js';
import { normalizeSerial } from '../pki/certificate.js';
import { assertValidName } from '../pki/store.js';
import {
  backupFile,
  ensureDir,
  MODE_PRIVATE_DIR,
  MODE_PRIVATE_FILE,
  writeFileAtomic,
} from '../store/atomic-write.js';
import { withLock } from '../store/lock.js';
import type { StatePaths } from '../store/paths.js';
import type { ClientTls } from './probe.js';

/** Where a copy of a host's certificate files went, and which certificate (serial) it holds. */
const CopySchema = z.object({ serial: z.string(), writtenAt: z.string() });

/**
 * How `hosts provision` enrolled a host: what `hosts renew` needs to rotate its server certificate
 * over SSH again (a new key and CSR made on the host), and in which mode it serves.
 */
const ProvisionedSchema = z.object({
  ssh: z.object({
    target: z.string(),
    knownHosts: z.string().optional(),
    identity: z.string().optional(),
    port: z.number().int().optional(),
  }),
  /** `native`: dockerd serves TLS itself; `gateway`: dockward's gateway service serves it. */
  mode: z.enum(['native', 'gateway']),
  /** The PKI name of the host-held server certificate. */
  serverCert: z.string(),
  /** The SANs asked for, beyond the ones `host request` adds itself. */
  sans: z.array(z.string()),
  /** The TLS port on the host. */
  port: z.number().int(),
});

const HostSchema = z.object({
  name: z.string(),
  endpoint: z.string(),
  /** Folder with ca.pem, cert.pem, key.pem (DOCKER_CERT_PATH layout). */
  certDir: z.string(),
  /** `issued`: a PKI certificate named `certName` (renewals land in place); `files`: copied in. */
  certSource: z.enum(['issued', 'files']),
  certName: z.string().optional(),
  role: z.string().optional(),
  addedAt: z.string(),
  verified: z.boolean(),
  server: z.object({ subject: z.string(), sans: z.array(z.string()), notAfter: z.string() }).optional(),
  /** Docker contexts `hosts context` wrote: copies of the cert files that `renew` must rewrite. */
  contexts: z.array(CopySchema.extend({ name: z.string(), dockerConfig: z.string() })).optional(),
  /** CI bundles `hosts bundle` wrote: copies that `renew` must rewrite too. */
  bundles: z.array(CopySchema.extend({ path: z.string(), format: z.enum(['tar', 'env']) })).optional(),
  /** Set by `hosts provision`; absent for hosts added with `hosts add`. */
  provisioned: ProvisionedSchema.optional(),
});

const InventorySchema = z.object({ version: z.literal(1), hosts: z.array(HostSchema) });

export type HostRecord = z.infer<typeof HostSchema>;
export type ProvisionedRecord = z.infer<typeof ProvisionedSchema>;
export type Inventory = z.infer<typeof InventorySchema>;

/** The folder a host's copied certificate files live in. */
export function hostDir(paths: StatePaths, name: string): string {
  return join(paths.home, 'hosts', name);
}

/** Reads hosts.json; a missing file is an empty inventory, a malformed one DW_E_STORE_CORRUPT. */
export async function loadInventory(paths: StatePaths): Promise<Inventory> {
  let text: string;
  try {
    text = await fs.readFile(paths.hosts, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, hosts: [] };
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DockwardError('DW_E_STORE_CORRUPT', `${paths.hosts} is not JSON`, {
      hint: `Restore ${paths.hosts} from its latest copy in ${paths.backups}, or remove it and add the hosts again.`,
      cause: err,
    });
  }
  const parsed = InventorySchema.safeParse(raw);
  if (!parsed.success) {
    throw new DockwardError('DW_E_STORE_CORRUPT', `${paths.hosts} does not match its schema`, {
      hint: `Fix or remove ${paths.hosts}: ${parsed.error.issues[0]?.message ?? ''}`,
      cause: parsed.error,
    });
  }
  return parsed.data;
}

async function saveInventory(paths: StatePaths, inv: Inventory): Promise<void> {
  await ensureDir(paths.home, MODE_PRIVATE_DIR);
  // The previous inventory stays in the backups folder: a bad edit can be undone.
  await backupFile(paths.hosts, paths.backups);
  await writeFileAtomic(paths.hosts, `${JSON.stringify(inv, null, 2)}\n`, { mode: MODE_PRIVATE_FILE });
}

/** Runs a read-modify-write of hosts.json under the state folder lock. */
export async function updateInventory<T>(
  paths: StatePaths,
  fn: (inv: Inventory) => Promise<T> | T,
): Promise<T> {
  await ensureDir(paths.home, MODE_PRIVATE_DIR);
  return withLock(paths.lock, async () => {
    const inv = await loadInventory(paths);
    const res = await fn(inv);
    await saveInventory(paths, inv);
    return res;
  });
}

/** Validates a host name: the PKI name rules (it becomes `host-NAME`) and a docker context name. */
export function assertHostName(name: string): void {
  assertValidName(name);
  if (name.length < 2 || name === 'default') {
    throw new DockwardError('DW_E_NAME_INVALID', `"${name}" cannot be a host name`, {
      hint: 'Use at least two characters, and not "default" (the docker CLI reserves it).',
    });
  }
}

/** The host record, or DW_E_HOST_UNKNOWN. */
export function findHost(inv: Inventory, name: string): HostRecord {
  const h = inv.hosts.find((x) => x.name === name);
  if (!h) {
    throw new DockwardError('DW_E_HOST_UNKNOWN', `no host "${name}" in the inventory`, {
      hint: 'Run `dockward hosts list` to see the names, or `dockward hosts add` it.',
    });
  }
  return h;
}

/** DW_E_HOST_EXISTS when the name is taken. */
export function assertFreeName(inv: Inventory, name: string): void {
  if (inv.hosts.some((x) => x.name === name)) {
    throw new DockwardError('DW_E_HOST_EXISTS', `a host named "${name}" exists already`, {
      hint: 'Pick another name, or `dockward hosts remove` the old one first.',
    });
  }
}

/** Reads a host's ca/cert/key PEM files. */
export async function readClientTls(certDir: string): Promise<ClientTls> {
  const read = (f: string) =>
    fs.readFile(join(certDir, f), 'utf8').catch((err: unknown) => {
      throw new DockwardError('DW_E_FILE', `cannot read ${join(certDir, f)}`, {
        hint: "The host's certificate files are missing or unreadable: run dockward hosts remove NAME, then hosts add it again.",
        cause: err,
      });
    });
  return { ca: await read('ca.pem'), cert: await read('cert.pem'), key: await read('key.pem') };
}

/** Reads existing certificate files (an import) into memory; DW_E_FILE names the one that fails. */
export async function readCertFiles(files: { ca: string; cert: string; key: string }): Promise<ClientTls> {
  const read = (f: string) =>
    fs.readFile(f, 'utf8').catch((err: unknown) => {
      throw new DockwardError('DW_E_FILE', `cannot read ${f}`, {
        hint: 'Check the --ca/--cert/--key paths and that this user may read them.',
        cause: err,
      });
    });
  return { ca: await read(files.ca), cert: await read(files.cert), key: await read(files.key) };
}

/** Writes a host's own copy of imported certificate files into `hosts/NAME/` (0700 folder, 0600 files). */
export async function writeCertFiles(paths: StatePaths, name: string, tls: ClientTls): Promise<string> {
  const dir = hostDir(paths, name);
  await ensureDir(join(paths.home, 'hosts'), MODE_PRIVATE_DIR);
  await ensureDir(dir, MODE_PRIVATE_DIR);
  // Key first: a cert.pem never points at a key that is not there yet.
  await writeFileAtomic(join(dir, 'key.pem'), tls.key, { mode: MODE_PRIVATE_FILE });
  await writeFileAtomic(join(dir, 'cert.pem'), tls.cert, { mode: MODE_PRIVATE_FILE });
  await writeFileAtomic(join(dir, 'ca.pem'), tls.ca, { mode: MODE_PRIVATE_FILE });
  return dir;
}

/** The serial of a PEM certificate, in the PKI index's spelling (lower-case hex, no leading 00). */
export function certSerial(certPem: string): string {
  return normalizeSerial(new X509Certificate(certPem).serialNumber);
}
