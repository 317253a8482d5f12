import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { DockwardError } from '../errors.js';
import { currentRecord } from '../pki/index-file.js';
import { buildLeaf, recordIssued, validateIssue } from '../pki/issue.js';
import { issuedFiles, loadCa, loadIndex, type PassphraseSource, withPkiLock } from '../pki/store.js';
import type { StatePaths } from '../store/paths.js';
import { dockerConfigDir, writeDockerContext } from '../docker/context.js';
import {
  assertFreeName,
  assertHostName,
  certSerial,
  findHost,
  type HostRecord,
  type ProvisionedRecord,
  hostDir,
  loadInventory,
  readCertFiles,
  readClientTls,
  updateInventory,
  writeCertFiles,
} from './inventory.js';
import { type ClientTls, parseEndpoint, type ProbeResult, probeHost } from './probe.js';

export interface AddHostOptions {
  name: string;
  endpoint: string;
  /** Issue `host-NAME` with this OU; ignored when `files` is given. */
  role?: string;
  days?: number;
  files?: { ca: string; cert: string; key: string };
  verify: boolean;
  timeoutMs: number;
  /** How `hosts provision` enrolled it (kept for `hosts renew`). */
  provisioned?: ProvisionedRecord;
}

export interface AddHostResult {
  host: HostRecord;
  probe?: ProbeResult;
}

/** Client certificate material held in memory until the host is verified, and how to keep it. */
interface PendingCert {
  tls: ClientTls;
  certName?: string;
  /** Writes the material to the state folder; returns the host's certDir. */
  commit(): Promise<string>;
}

/**
 * A new `host-NAME` client certificate made in memory (nothing written until `commit`), or the
 * current one when the PKI holds it already (a host removed and added again keeps its certificate).
 */
async function pendingIssued(
  paths: StatePaths,
  options: AddHostOptions,
  passphrase: PassphraseSource,
): Promise<PendingCert> {
  const certName = `host-${options.name}`;
  const { sans, days } = validateIssue({
    kind: 'client',
    name: certName,
    ...(options.role ? { ou: options.role } : {}),
    ...(options.days ? { days: options.days } : {}),
  });
  const existing = currentRecord(await loadIndex(paths), certName);
  if (existing && !existing.revokedAt) {
    if (options.role !== undefined && existing.ou !== options.role) {
      throw new DockwardError(
        'DW_E_CERT_EXISTS',
        `${certName} exists already with role "${existing.ou ?? ''}", not "${options.role}"`,
        { hint: `Revoke it first (dockward pki revoke ${certName}), or add the host without --role.` },
      );
    }
    const dir = issuedFiles(paths, certName).dir;
    return { tls: await readClientTls(dir), certName, commit: async () => dir };
  }
  const ca = await loadCa(paths, passphrase);
  const { record, pems } = await buildLeaf(ca, {
    kind: 'client',
    name: certName,
    sans,
    ou: options.role,
    days,
    keyType: 'ecdsa-p256',
  });
  return {
    tls: pems,
    certName,
    // The same bookkeeping as `pki issue`, done only once the host answered.
    commit: () =>
      withPkiLock(paths, async () => {
        const index = await loadIndex(paths);
        const previous = currentRecord(index, certName);
        if (previous && !previous.revokedAt) {
          throw new DockwardError('DW_E_CERT_EXISTS', `${certName} was issued meanwhile`, {
            hint: 'Run the command again.',
          });
        }
        return (await recordIssued(paths, index, record, pems)).dir;
      }),
  };
}

async function pendingImported(
  paths: StatePaths,
  name: string,
  files: { ca: string; cert: string; key: string },
): Promise<PendingCert> {
  const tls = await readCertFiles(files);
  try {
    new X509Certificate(tls.cert);
    new X509Certificate(tls.ca);
  } catch (err) {
    throw new DockwardError('DW_E_INPUT', `${files.cert} or ${files.ca} is not a PEM certificate`, {
      hint: 'Give --ca and --cert as PEM files (-----BEGIN CERTIFICATE-----), e.g. the ca.pem and cert.pem of a DOCKER_CERT_PATH folder.',
      cause: err,
    });
  }
  return { tls, commit: () => writeCertFiles(paths, name, tls) };
}

/**
 * Adds a host: makes (or reads) its client certificate in memory, verifies the first connection
 * (TLS /_ping + /version) unless `verify` is false, and only then writes the certificate and the
 * inventory entry. A refused host leaves the state folder as it was.
 */
export async function addHost(
  paths: StatePaths,
  options: AddHostOptions,
  passphrase: PassphraseSource,
): Promise<AddHostResult> {
  assertHostName(options.name);
  parseEndpoint(options.endpoint);
  assertFreeName(await loadInventory(paths), options.name);

  const pending = options.files
    ? await pendingImported(paths, options.name, options.files)
    : await pendingIssued(paths, options, passphrase);
  const probe = options.verify
    ? await probeHost(options.endpoint, pending.tls, options.timeoutMs)
    : undefined;

  const certDir = await pending.commit();
  const host: HostRecord = {
    name: options.name,
    endpoint: options.endpoint,
    certDir,
    certSource: options.files ? 'files' : 'issued',
    ...(pending.certName ? { certName: pending.certName } : {}),
    ...(options.role && !options.files ? { role: options.role } : {}),
    addedAt: new Date().toISOString(),
    verified: probe !== undefined,
    ...(probe ? { server: probe.server } : {}),
    ...(options.provisioned ? { provisioned: options.provisioned } : {}),
  };
  await updateInventory(paths, (inv) => {
    assertFreeName(inv, options.name);
    inv.hosts.push(host);
  });
  return { host, ...(probe ? { probe } : {}) };
}

/** Removes a host from the inventory and deletes its copied certificate files. */
export async function removeHost(paths: StatePaths, name: string): Promise<HostRecord> {
  const removed = await updateInventory(paths, (inv) => {
    const h = findHost(inv, name);
    inv.hosts = inv.hosts.filter((x) => x !== h);
    return h;
  });
  if (removed.certSource === 'files') await fs.rm(hostDir(paths, name), { recursive: true, force: true });
  return removed;
}

/** Renames a host; copied certificate files move with it, an issued certificate keeps its name. */
export async function renameHost(paths: StatePaths, from: string, to: string): Promise<HostRecord> {
  assertHostName(to);
  return updateInventory(paths, async (inv) => {
    const h = findHost(inv, from);
    assertFreeName(inv, to);
    if (h.certSource === 'files') {
      const dir = hostDir(paths, to);
      await fs.rename(h.certDir, dir);
      h.certDir = dir;
    }
    h.name = to;
    return h;
  });
}

export interface HostContextResult {
  name: string;
  dockerConfig: string;
  metaPath: string;
  tlsDir: string;
  serial: string;
}

/**
 * Writes the docker context NAME for a host and records it in hosts.json, so `hosts renew` can
 * rewrite the certificate copies the context holds.
 */
export async function writeHostContext(
  paths: StatePaths,
  name: string,
  options: { dockerConfig?: string } = {},
): Promise<HostContextResult> {
  const dockerConfig = options.dockerConfig ?? dockerConfigDir();
  return updateInventory(paths, async (inv) => {
    const h = findHost(inv, name);
    const serial = certSerial((await readClientTls(h.certDir)).cert);
    const res = await writeDockerContext({
      name: h.name,
      host: h.endpoint,
      certDir: h.certDir,
      description: `dockward host ${h.name}`,
      dockerConfig,
    });
    const entry = { name: h.name, dockerConfig, serial, writtenAt: new Date().toISOString() };
    h.contexts = [
      ...(h.contexts ?? []).filter((c) => !(c.name === entry.name && c.dockerConfig === dockerConfig)),
      entry,
    ];
    return { name: h.name, dockerConfig, ...res, serial };
  });
}
