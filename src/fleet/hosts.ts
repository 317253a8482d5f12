import { promises as fs } from 'node:fs';
import { issueCertificate } from '../pki/issue.js';
import { issuedFiles, type PassphraseSource } from '../pki/store.js';
import { isDockwardError } from '../errors.js';
import type { StatePaths } from '../store/paths.js';
import {
  assertFreeName,
  assertHostName,
  copyCertFiles,
  findHost,
  type HostRecord,
  hostDir,
  loadInventory,
  readClientTls,
  updateInventory,
} from './inventory.js';
import { parseEndpoint, type ProbeResult, probeHost } from './probe.js';

export interface AddHostOptions {
  name: string;
  endpoint: string;
  /** Issue `host-NAME` with this OU; ignored when `files` is given. */
  role?: string;
  days?: number;
  files?: { ca: string; cert: string; key: string };
  verify: boolean;
  timeoutMs: number;
}

export interface AddHostResult {
  host: HostRecord;
  probe?: ProbeResult;
}

/**
 * Adds a host: issues (or copies in) its client certificate, verifies the first connection
 * (TLS /_ping + /version) unless `verify` is false, and records the server certificate.
 */
export async function addHost(
  paths: StatePaths,
  options: AddHostOptions,
  passphrase: PassphraseSource,
): Promise<AddHostResult> {
  assertHostName(options.name);
  parseEndpoint(options.endpoint);
  assertFreeName(await loadInventory(paths), options.name);

  let certDir: string;
  let certName: string | undefined;
  if (options.files) {
    certDir = await copyCertFiles(paths, options.name, options.files);
  } else {
    certName = `host-${options.name}`;
    try {
      const issued = await issueCertificate(
        paths,
        {
          kind: 'client',
          name: certName,
          ...(options.role ? { ou: options.role } : {}),
          ...(options.days ? { days: options.days } : {}),
        },
        passphrase,
      );
      certDir = issued.files.dir;
    } catch (err) {
      // A retry after a refused (unreachable) add finds the certificate issued then: reuse it.
      if (!isDockwardError(err) || err.code !== 'DW_E_CERT_EXISTS') throw err;
      certDir = issuedFiles(paths, certName).dir;
    }
  }

  let probe: ProbeResult | undefined;
  if (options.verify) {
    try {
      probe = await probeHost(options.endpoint, await readClientTls(certDir), options.timeoutMs);
    } catch (err) {
      // Copied files belong to this host only; an issued certificate stays in the PKI (revocable).
      if (options.files) await fs.rm(certDir, { recursive: true, force: true });
      throw err;
    }
  }
  const host: HostRecord = {
    name: options.name,
    endpoint: options.endpoint,
    certDir,
    certSource: options.files ? 'files' : 'issued',
    ...(certName ? { certName } : {}),
    ...(options.role && !options.files ? { role: options.role } : {}),
    addedAt: new Date().toISOString(),
    verified: probe !== undefined,
    ...(probe ? { server: probe.server } : {}),
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
